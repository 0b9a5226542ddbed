"""Shared files are found relative to the repository and their absence fails a test (issue 9: a test read
the public DSK sample from an absolute path and skipped where it was absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_files import PUBLIC_SAMPLE
from tests.shared_files import SHARED_DIR
from tests.shared_files import shared_file

TESTS = Path(__file__).resolve().parents[1]
ABSOLUTE = ('"/' + "work/", "'/" + "work/")


def test_the_shared_folder_is_beside_the_repository():
    assert TESTS.parent.parent / "shared" == SHARED_DIR
    assert shared_file(PUBLIC_SAMPLE).read_bytes().count(b"\n") >= 16


def test_a_missing_shared_file_fails_the_test_instead_of_skipping_it():
    with pytest.raises(pytest.fail.Exception, match="missing"):
        shared_file(SHARED_DIR / "no-such-file.csv")


def test_no_test_reads_a_machine_specific_absolute_path():
    offenders = [
        f"{path.relative_to(TESTS)}:{n}"
        for path in TESTS.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(quoted in line for quoted in ABSOLUTE)
    ]
    assert offenders == []
