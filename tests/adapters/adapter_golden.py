"""Golden-file helpers shared by the adapter tests, ``regen.py`` and ``make_golden_inputs.py``.

Layout (beangulp/moov style): ``tests/data/adapters/<adapter>/<file>`` with ``<file>.expected.json`` (the
file parses; FileInfo, archive name and records) or ``<file>.error.json`` (the file is rejected; error type
and location) beside it. ``tests/data/adapters/crashers/`` holds odd inputs without expectations.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters import ADAPTERS
from adapters.errors import SettlementFileError
from adapters.records import to_jsonable

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "adapters"
CRASHERS_DIR = DATA_DIR / "crashers"
EXPECTED_SUFFIX = ".expected.json"
ERROR_SUFFIX = ".error.json"
ERROR_KEYS = ("error", "line_no", "record_type", "field")
"""What an ``.error.json`` pins down (``identified`` is optional and defaults to true)."""


def input_files() -> list[Path]:
    """Every input file of every adapter folder (not the JSON, README or crashers)."""
    files = []
    for folder in sorted(DATA_DIR.iterdir()):
        if folder.is_dir() and folder.name in ADAPTERS:
            files += [
                p
                for p in sorted(folder.iterdir())
                if p.is_file() and not p.name.endswith(".json") and p.name != "README.md"
            ]
    return files


def expected_path(path: Path) -> Path:
    return path.with_name(path.name + EXPECTED_SUFFIX)


def error_path(path: Path) -> Path:
    return path.with_name(path.name + ERROR_SUFFIX)


def dumps(document: dict[str, Any]) -> str:
    """JSON with sorted keys and one record per line, so that a failing comparison diffs readably."""
    head = {key: value for key, value in document.items() if key != "records"}
    lines = [json.dumps(record, sort_keys=True, ensure_ascii=False) for record in document.get("records", [])]
    text = json.dumps(head, sort_keys=True, ensure_ascii=False)[:-1]
    body = ",\n".join(lines)
    return f'{text}, "records": [\n{body}\n]}}\n' if lines else f'{text}, "records": []}}\n'


def parsed_document(adapter_name: str, path: Path) -> dict[str, Any]:
    """What the adapter makes of a file, in the ``.expected.json`` shape (raises on a rejected file)."""
    adapter = ADAPTERS[adapter_name]()
    records = [to_jsonable(record) for record in adapter.parse(path)]  # first: its error is the file's
    return {
        "archive_name": adapter.archive_name(path),
        "info": to_jsonable(adapter.info(path)),
        "records": records,
    }


def error_document(err: SettlementFileError, identified: bool = True) -> dict[str, Any]:
    """An error in the ``.error.json`` shape."""
    document: dict[str, Any] = {"error": type(err).__name__}
    document |= {key: getattr(err, key) for key in ERROR_KEYS[1:]}
    if not identified:
        document["identified"] = False
    return document
