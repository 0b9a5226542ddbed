"""Golden files (beangulp rules): every input of every adapter folder against its expected output or error.

- Each input has exactly one of ``.expected.json`` / ``.error.json``, and no JSON is orphaned.
- No file is identified by two adapters; a file identified by an adapter lives in that adapter's folder.
- A file with expected output is identified by its adapter and parses to exactly that output.
- A file with an expected error is rejected by its adapter's ``parse`` with that error type and location
  (and is identified unless the error file says ``"identified": false``); ``info`` on it raises nothing but a
  ``SettlementFileError``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from adapters import ADAPTERS
from adapters import detect
from adapters.errors import SettlementFileError
from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import ERROR_SUFFIX
from tests.adapters.adapter_golden import EXPECTED_SUFFIX
from tests.adapters.adapter_golden import error_path
from tests.adapters.adapter_golden import expected_path
from tests.adapters.adapter_golden import input_files
from tests.adapters.adapter_golden import parsed_document

FILES = input_files()


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _claims(path: Path) -> list[str]:
    return [name for name, cls in ADAPTERS.items() if cls().identify(path)]


def test_there_are_golden_files_for_every_adapter() -> None:
    folders = {path.parent.name for path in FILES}
    assert folders == set(ADAPTERS)
    for name in ADAPTERS:
        kinds = {expected_path(p).exists() for p in FILES if p.parent.name == name}
        assert kinds == {True, False}, f"{name} needs normal and broken files"


def test_no_expectation_without_its_input() -> None:
    for folder in DATA_DIR.iterdir():
        for json_file in folder.glob("*.json"):
            input_name = json_file.name.removesuffix(EXPECTED_SUFFIX).removesuffix(ERROR_SUFFIX)
            assert (folder / input_name).is_file(), f"{json_file} has no input file"


@pytest.mark.parametrize("path", FILES, ids=_id)
def test_golden_file(path: Path) -> None:
    name = path.parent.name
    has_expected, has_error = expected_path(path).exists(), error_path(path).exists()
    assert has_expected != has_error, "an input needs exactly one of .expected.json and .error.json"
    claims = _claims(path)
    assert len(claims) <= 1, f"identified by several adapters: {claims}"
    if has_expected:
        expected = json.loads(expected_path(path).read_text(encoding="utf-8"))
        assert claims == [name], "a file with expected output must be identified by its adapter"
        assert detect(path).name == name
        actual = parsed_document(name, path)
        assert actual["info"] == expected["info"]
        assert actual["archive_name"] == expected["archive_name"]
        assert len(actual["records"]) == len(expected["records"])
        for got, want in zip(actual["records"], expected["records"], strict=True):
            assert got == want
        return
    expected = json.loads(error_path(path).read_text(encoding="utf-8"))
    assert claims == ([name] if expected.get("identified", True) else [])
    adapter = ADAPTERS[name]()
    with pytest.raises(SettlementFileError) as caught:
        for _ in adapter.parse(path):
            pass
    err = caught.value
    assert type(err).__name__ == expected["error"]
    assert (err.line_no, err.record_type, err.field) == (
        expected["line_no"],
        expected["record_type"],
        expected["field"],
    )
    assert err.path == str(path)
    assert err.adapter == name
    assert str(err)  # renders without failing
    with contextlib.suppress(SettlementFileError):  # info may reject the file too, but only like this
        adapter.info(path)
