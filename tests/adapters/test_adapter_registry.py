"""The registry, lazy loading and detection (django-payments and beangulp rules)."""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from typing import Literal

import pytest

import adapters
from adapters import ADAPTERS
from adapters import detect
from adapters import get_adapter
from adapters import load_adapters
from adapters.base import Adapter
from adapters.errors import AmbiguousFileFormat
from adapters.errors import UnknownAdapter
from adapters.errors import UnknownFileFormat
from adapters.records import PaymentRecord
from tests.adapters.adapter_golden import DATA_DIR

NORMAL_FILES = {
    "fixed120": DATA_DIR / "fixed120" / "20261128_daily.txt",
    "mizuho120": DATA_DIR / "mizuho120" / "20261128_daily.txt",
    "dsk_csv": DATA_DIR / "dsk_csv" / "20261128_daily.csv",
    "zengin_transfer": DATA_DIR / "zengin_transfer" / "20261204_transfer.txt",
    "zengin_statement": DATA_DIR / "zengin_statement" / "20261204_statement.txt",
}


class Greedy(Adapter):
    """Claims every file; for ambiguity tests."""

    name: ClassVar[str] = "greedy"
    kind: ClassVar[Literal["payment", "bank"]] = "payment"

    def __init__(self, label: str = "") -> None:
        self.label = label

    def identify(self, path: Path) -> bool:
        return True

    def parse(self, path: Path) -> Iterator[PaymentRecord]:
        yield from ()


def test_builtins_are_registered_under_their_names() -> None:
    assert sorted(ADAPTERS) == [
        "bank_counter",
        "dsk_csv",
        "fixed120",
        "mizuho120",
        "zengin_statement",
        "zengin_transfer",
    ]
    for name, cls in ADAPTERS.items():
        assert cls.name == name
        assert issubclass(cls, Adapter)
        assert cls.__name__ == "Adapter"  # each format module exposes `Adapter`
    assert {cls.kind for cls in ADAPTERS.values()} == {"payment", "bank"}


def test_get_adapter_returns_an_instance() -> None:
    adapter = get_adapter("dsk_csv")
    assert isinstance(adapter, ADAPTERS["dsk_csv"])


def test_unknown_adapter_names_the_available_ones() -> None:
    with pytest.raises(UnknownFileFormat) as caught:
        get_adapter("sagawa120")
    assert isinstance(caught.value, UnknownAdapter)
    assert caught.value.name == "sagawa120"
    assert caught.value.available == sorted(ADAPTERS)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("adapters.fixed120.Adapter", "fixed120"),
        ("adapters.zengin_statement", "zengin_statement"),
        ("zengin_transfer", "zengin_transfer"),
        (f"{__name__}.Greedy", "greedy"),
    ],
)
def test_load_adapters_by_dotted_path(path: str, expected: str) -> None:
    (adapter,) = load_adapters([(path, {})])
    assert adapter.name == expected


def test_load_adapters_passes_kwargs_and_keeps_order() -> None:
    loaded = load_adapters(
        [(f"{__name__}.Greedy", {"label": "x"}), ("adapters.dsk_csv", {"encoding": "cp932"})]
    )
    assert [a.name for a in loaded] == ["greedy", "dsk_csv"]
    assert loaded[0].label == "x"  # type: ignore[attr-defined]
    assert loaded[1].encoding == "cp932"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("adapters.nonexistent.Adapter", ImportError),
        ("adapters.fixed120.Nope", ImportError),
        ("adapters.records.PaymentRecord", ImportError),  # not an Adapter
        ("adapters.records", ImportError),  # a module without `Adapter`
        ("nope", UnknownAdapter),
    ],
)
def test_load_adapters_rejects_bad_paths(path: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        load_adapters([(path, {})])


def test_load_adapters_rejects_unknown_kwargs() -> None:
    with pytest.raises(TypeError):
        load_adapters([("adapters.fixed120", {"colour": "blue"})])


@pytest.mark.parametrize(("name", "path"), NORMAL_FILES.items())
def test_detect_picks_the_one_adapter(name: str, path: Path) -> None:
    assert detect(path).name == name
    assert detect(path, [get_adapter(name)]).name == name


def test_detect_unknown_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("nothing to see\n")
    with pytest.raises(UnknownFileFormat) as caught:
        detect(path)
    assert caught.value.path == str(path)


def test_detect_limited_to_the_configured_adapters() -> None:
    with pytest.raises(UnknownFileFormat):
        detect(NORMAL_FILES["fixed120"], [get_adapter("dsk_csv"), get_adapter("zengin_transfer")])


def test_detect_ambiguous_names_both_candidates() -> None:
    with pytest.raises(AmbiguousFileFormat) as caught:
        detect(NORMAL_FILES["fixed120"], [get_adapter("fixed120"), Greedy()])
    assert caught.value.candidates == ["fixed120", "greedy"]


def test_base_defaults(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"")
    adapter = Greedy()
    info = adapter.info(path)
    assert (info.adapter, info.kind, info.agent_code, info.created_on) == ("greedy", "payment", None, None)
    assert adapter.archive_name(path) is None  # no creation date, no tidy name


def test_adapter_protocol_is_abstract() -> None:
    with pytest.raises(TypeError):
        Adapter()  # type: ignore[abstract]


@pytest.mark.parametrize(
    "module",
    [
        "adapters",
        "adapters.errors",
        "adapters.records",
        "adapters.fixedwidth",
        "adapters.fixed120",
        "adapters.profiles",
        "adapters.dsk_csv",
        "adapters._zengin",
        "adapters.zengin_transfer",
        "adapters.zengin_statement",
    ],
)
def test_doctests(module: str) -> None:
    """The adapters package is outside the doctest paths, so its examples run here."""
    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    )
    assert result.failed == 0


def test_pure_package_imports_no_framework() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(adapters.__file__).parent.glob("*.py"))
    for banned in ("flask", "sqlalchemy", "sqlmodel", "gateway"):
        assert f"import {banned}" not in source and f"from {banned}" not in source
