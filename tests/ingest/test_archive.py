"""The archive of originals: sealed, content-addressed, never overwritten, returned byte for byte."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import pytest

from gateway.crypto import DecryptionError
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.intake import archive
from gateway.intake import ingest
from tests.ingest.conftest import ADAPTER_DATA


def test_multi_mib_original_round_trips_byte_for_byte(ctx, tmp_path):
    data = os.urandom(3 * (1 << 20) + 12345)  # several 1 MiB segments and a partial one
    path = tmp_path / "big.bin"
    path.write_bytes(data)

    stored = archive.archive_file(ctx, path)

    sha = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.created) == (sha, len(data), True)
    assert stored.path == tmp_path / "archive" / sha[:2] / f"{sha}.kga"
    assert b"".join(archive.read_original(ctx, sha)) == data
    sealed = stored.path.read_bytes()
    assert data[:4096] not in sealed and data[-4096:] not in sealed
    assert not list(stored.path.parent.glob(".incoming-*")) and not list(
        (tmp_path / "archive").glob(".incoming-*")
    )


def test_empty_original_round_trips(ctx):
    stored = archive.archive_bytes(ctx, b"")
    assert stored.sha256 == hashlib.sha256(b"").hexdigest()
    assert b"".join(archive.read_original(ctx, stored.sha256)) == b""


def test_an_archived_original_is_never_overwritten(ctx, tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"same bytes")
    first = archive.archive_file(ctx, path)
    sealed = first.path.read_bytes()
    mtime = first.path.stat().st_mtime_ns

    again = archive.archive_file(ctx, path)

    assert again.created is False and again.path == first.path
    assert first.path.read_bytes() == sealed and first.path.stat().st_mtime_ns == mtime


def test_bank_file_archive_holds_no_clear_text_remitter_name(ctx):
    path = ADAPTER_DATA / "zengin_transfer" / "20261204_transfer.txt"
    raw = path.read_bytes()
    name = "ﾔﾏﾀﾞ ﾀﾛｳ".encode("cp932")
    assert name in raw  # the original carries a person's name…
    result = ingest.ingest_file(ctx, path)
    sealed = archive.archive_path(ctx, result.sha256).read_bytes()
    assert name not in sealed and "ﾔﾏﾀﾞ".encode() not in sealed  # …the archive does not
    assert b"".join(archive.read_original(ctx, result.sha256)) == raw


def test_unknown_and_malformed_hashes(ctx):
    with pytest.raises(NotFound):
        archive.read_original(ctx, "0" * 64)
    with pytest.raises(InvalidInput):
        archive.read_original(ctx, "../../etc/passwd")


def test_a_tampered_archive_does_not_decrypt(ctx, tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"x" * 5000)
    stored = archive.archive_file(ctx, path)
    sealed = bytearray(stored.path.read_bytes())
    sealed[100] ^= 1
    stored.path.write_bytes(bytes(sealed))
    with pytest.raises(DecryptionError):
        b"".join(archive.read_original(ctx, stored.sha256))


def test_a_dead_writers_temporary_file_is_removed_a_live_ones_is_not(ctx):
    root = Path(ctx.settings.archive_dir)
    root.mkdir(parents=True, exist_ok=True)
    live, dead = root / ".incoming-live.kga", root / ".incoming-dead.kga"
    live.write_bytes(b"half")
    dead.write_bytes(b"half")
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a writer still at work holds its lock
        archive.archive_bytes(ctx, b"another original")
        assert live.exists() and not dead.exists()
    finally:
        os.close(fd)
    archive.archive_bytes(ctx, b"a third original")
    assert not live.exists()


def test_writers_at_work_never_lose_their_file_to_anothers_sweep(ctx):
    """Each archiving sweeps the temporary files it can lock: a live writer's must stay locked from
    creation to link (the probe's 500s: a lock released when the data file was closed, before the link)."""
    from concurrent.futures import ThreadPoolExecutor

    def archive_many(worker: int) -> list[archive.Archived]:
        return [archive.archive_bytes(ctx, f"original {worker}-{i}".encode() * 50) for i in range(40)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        done = [a for batch in pool.map(archive_many, range(8)) for a in batch]
    assert len(done) == 320 and all(a.created and a.path.exists() for a in done)
    assert not list(Path(ctx.settings.archive_dir).glob(".incoming-*"))
