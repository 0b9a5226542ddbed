"""Odd inputs (the ``crashers/`` folder and hypothesis fuzzing): only ``SettlementFileError`` may escape.

``identify`` must return a bool and never raise; ``parse`` and ``info`` either succeed or raise a
``SettlementFileError``, never an ``IndexError``, ``UnicodeDecodeError``, ``ValueError`` …
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from adapters import ADAPTERS
from adapters.errors import SettlementFileError
from tests.adapters.adapter_golden import CRASHERS_DIR
from tests.adapters.adapter_golden import DATA_DIR

CRASHERS = sorted(p for p in CRASHERS_DIR.iterdir() if p.is_file())
SEEDS = {
    "fixed120": (DATA_DIR / "fixed120" / "20261128_daily.txt").read_bytes(),
    "mizuho120": (DATA_DIR / "mizuho120" / "20261128_daily.txt").read_bytes(),
    "dsk_csv": (DATA_DIR / "dsk_csv" / "20261128_daily.csv").read_bytes(),
    "zengin_transfer": (DATA_DIR / "zengin_transfer" / "several-accounts-no-line-breaks.dat").read_bytes(),
    "zengin_statement": (DATA_DIR / "zengin_statement" / "20261204_statement.txt").read_bytes(),
    "bank_counter": (DATA_DIR / "bank_counter" / "20261204_counter.csv").read_bytes(),
}


def exercise(path: Path) -> None:
    """Run every adapter over ``path`` the way the ingest service does."""
    for cls in ADAPTERS.values():
        adapter = cls()
        assert adapter.identify(path) in (True, False)
        try:
            for _ in adapter.parse(path):
                pass
        except SettlementFileError as err:
            str(err)
        try:
            adapter.info(path)
            adapter.archive_name(path)
        except SettlementFileError:
            pass


def test_there_are_crashers() -> None:
    assert len(CRASHERS) >= 10


@pytest.mark.parametrize("path", CRASHERS, ids=lambda p: p.name)
def test_crasher(path: Path) -> None:
    exercise(path)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "input"


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A golden file with a few bytes changed, inserted or removed, or cut short."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if action == "set" and data:
            data[position] = draw(st.integers(min_value=0, max_value=255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=3))
        elif action == "delete":
            del data[position : position + draw(st.integers(min_value=1, max_value=3))]
        else:
            del data[position:]
    return bytes(data)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated())
def test_mutated_golden_files_raise_only_settlement_errors(fuzz_file: Path, data: bytes) -> None:
    fuzz_file.write_bytes(data)
    exercise(fuzz_file)


@settings(max_examples=200, deadline=None, database=None)
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.builds(
            lambda prefix, rest: prefix + rest,
            st.sampled_from([b"1", b"101", b"103", b"2", "種別".encode()]),
            st.binary(max_size=400),
        ),
    )
)
def test_random_bytes_raise_only_settlement_errors(fuzz_file: Path, data: bytes) -> None:
    fuzz_file.write_bytes(data)
    exercise(fuzz_file)
