"""Rewrite the adapters' ``.expected.json`` / ``.error.json`` files from what the parsers produce now.

Usage::

    .venv/bin/python tests/adapters/regen.py [--force] [--adapter NAME] [FILE ...]

Without ``--force`` it only reports which files would change and exits 1 if any would (beangulp's
``generate`` refuses to overwrite too). An expected file is the spec's word, not the parser's: read every
difference before forcing it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from adapters import ADAPTERS
from adapters.errors import SettlementFileError
from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import dumps
from tests.adapters.adapter_golden import error_document
from tests.adapters.adapter_golden import error_path
from tests.adapters.adapter_golden import expected_path
from tests.adapters.adapter_golden import input_files
from tests.adapters.adapter_golden import parsed_document


def regenerate(path: Path) -> tuple[Path, str, Path | None]:
    """(file to write, its content, stale file to delete) for one input."""
    adapter_name = path.parent.name
    identified = ADAPTERS[adapter_name]().identify(path)
    try:
        document = parsed_document(adapter_name, path)
    except SettlementFileError as err:
        text = json.dumps(error_document(err, identified), sort_keys=True) + "\n"
        return error_path(path), text, expected_path(path)
    return expected_path(path), dumps(document), error_path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="inputs (default: every input of every adapter)")
    parser.add_argument("--adapter", choices=sorted(ADAPTERS), help="only this adapter's folder")
    parser.add_argument("--force", action="store_true", help="overwrite existing expected files")
    args = parser.parse_args(argv)
    files = [p.resolve() for p in args.files] or input_files()
    if args.adapter:
        files = [p for p in files if p.parent == DATA_DIR / args.adapter]
    changes = 0
    for path in files:
        target, text, stale = regenerate(path)
        if target.exists() and target.read_text(encoding="utf-8") == text and not (stale and stale.exists()):
            continue
        changes += 1
        if not args.force and (target.exists() or (stale and stale.exists())):
            print(f"would change: {target.relative_to(DATA_DIR)}")
            continue
        target.write_text(text, encoding="utf-8")
        if stale and stale.exists():
            stale.unlink()
        print(f"wrote: {target.relative_to(DATA_DIR)}")
    if changes and not args.force:
        print(f"{changes} file(s) differ; rerun with --force to overwrite", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
