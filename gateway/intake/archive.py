"""The archive of ingested originals: sealed, content-addressed by SHA-256, never overwritten.

Every settlement file (and every agent post body) is stored here *before* it is parsed, so what the gateway
was given can always be produced byte for byte (``gateway settlements original SHA256 -o FILE``). The file
is read once: the same pass hashes it and seals it to the archive public key (``Keyring.archive_writer``:
AES-GCM in 1 MiB segments), so the public process can archive what agents post without being able to read
it back. Layout: ``GATEWAY_ARCHIVE_DIR/<sha[:2]>/<sha>.kga``. A new original is written to a temporary name,
flushed to disk and linked into place only if no original of that hash exists yet.

The writer holds an exclusive ``flock`` on its temporary file from before it gets its ``.incoming-``
name until after it is linked into place. A process killed while writing leaves the file behind but not
the lock (the kernel drops it), so the next archiving removes every temporary file it can lock: one left
by a dead writer, never one being written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.context import Context
from gateway.context import mutation
from gateway.crypto import DecryptionError
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.faults import crash_point

CHUNK = 1 << 20
SUFFIX = ".kga"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Archived:
    """An original in the archive."""

    sha256: str
    size: int
    path: Path
    created: bool
    """False when an original with this hash was already archived (nothing was written)."""


def archive_root(ctx: Context) -> Path:
    return Path(ctx.settings.archive_dir)


def archive_path(ctx: Context, sha256: str) -> Path:
    """Where the original with this SHA-256 (lower-case hex) is, or would be, archived."""
    if not _SHA256.fullmatch(sha256):
        raise InvalidInput("not a SHA-256 (64 lower-case hex digits)", field="sha256")
    return archive_root(ctx) / sha256[:2] / f"{sha256}{SUFFIX}"


def archive_file(ctx: Context, path: Path) -> Archived:
    """Hash and seal the file at ``path`` in one pass; see :func:`archive_chunks`."""

    def chunks() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                yield block

    return archive_chunks(ctx, chunks())


def archive_bytes(ctx: Context, data: bytes) -> Archived:
    return archive_chunks(ctx, (data[i : i + CHUNK] for i in range(0, max(len(data), 1), CHUNK)))


def archive_chunks(ctx: Context, chunks: Iterable[bytes]) -> Archived:
    """Seal a byte stream into the archive under its SHA-256 (computed on the way).

    The sealed copy goes to a temporary file in the archive directory, is fsynced, then hard-linked to its
    final name — which fails if that name exists, so an archived original is never replaced, even by two
    processes archiving the same file at once.
    """
    root = archive_root(ctx)
    root.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(root)
    digest = hashlib.sha256()
    size = 0
    # Created under a name the sweeper leaves alone, locked, then renamed: an ``.incoming-`` file is locked
    # from the moment it has that name. A second descriptor keeps the lock until the very end (closing the
    # one the data is written through would release it before the link).
    fd, creating = tempfile.mkstemp(prefix=_CREATING, suffix=SUFFIX, dir=root)
    fcntl.flock(fd, fcntl.LOCK_EX)
    lock = os.dup(fd)
    tmp = Path(creating).with_name(_INCOMING + Path(creating).name.removeprefix(_CREATING))
    os.rename(creating, tmp)
    try:
        with os.fdopen(fd, "wb") as out:
            writer = ctx.keys.archive_writer(out)
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
            crash_point("archive.before_link")
        sha = digest.hexdigest()
        final = archive_path(ctx, sha)
        if final.exists():
            return Archived(sha, size, final, created=False)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(tmp, final)
        except FileExistsError:
            return Archived(sha, size, final, created=False)
        except OSError:  # a file system without hard links: rename, after the existence check above
            os.replace(tmp, final)
        crash_point("archive.after_link")
        _fsync_dir(final.parent)
        return Archived(sha, size, final, created=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        os.close(lock)


_INCOMING = ".incoming-"
_CREATING = ".creating-"
#: A ``.creating-`` file older than this was left by a writer killed between creating and renaming it.
_CREATING_STALE_SECONDS = 600.0


def _remove_abandoned(root: Path) -> None:
    """Delete the temporary files of writers that died: those whose lock can be taken (and the rare file a
    writer died with before locking it, once it is old)."""
    now = time.time()
    for path in root.glob(f"{_CREATING}*"):
        with contextlib.suppress(FileNotFoundError):
            if now - path.stat().st_mtime > _CREATING_STALE_SECONDS:
                path.unlink()
    for path in root.glob(f"{_INCOMING}*"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:  # finished meanwhile
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # being written
            continue
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        finally:
            os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def has_original(ctx: Context, sha256: str) -> bool:
    return archive_path(ctx, sha256.lower()).exists()


def read_original(ctx: Context, sha256: str) -> Iterator[bytes]:
    """Yield the archived original's bytes; the last chunk is followed by a check of the SHA-256.

    Raises:
        InvalidInput: ``sha256`` is not 64 hex digits.
        NotFound: nothing archived under that hash.
        DecryptionError: the archive file is damaged, was sealed under another key, or its content does not
            hash to its name (raised after the last chunk: write to a temporary file and keep it only when
            the iteration completes).
    """
    path = archive_path(ctx, sha256.strip().lower())
    if not path.exists():
        raise NotFound(f"no archived original with SHA-256 {sha256}", field="sha256")
    return _read(ctx, path, sha256.strip().lower())


def _read(ctx: Context, path: Path, sha256: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in ctx.keys.archive_reader(f):
            digest.update(chunk)
            yield chunk
    if digest.hexdigest() != sha256:
        raise DecryptionError(f"archived original {sha256} does not hash to its name")


@mutation("settlement_file.original")
def open_original(
    ctx: Context, sha256: str, *, file_id: int | None = None, name: str | None = None
) -> Iterator[bytes]:
    """Log a staff download of an archived original in the audit trail, then return its bytes (see
    :func:`read_original`; the existence check happens here, before anything is logged as sent).

    Raises:
        NotFound: nothing archived under that hash (key ``settlement.original_missing``).
    """
    if not has_original(ctx, sha256):
        raise NotFound(
            f"no archived original with SHA-256 {sha256}",
            field="sha256",
            key="settlement.original_missing",
            params={},
        )
    ctx.record("settlement_file.original", "settlement_file", file_id, sha256=sha256, file=name)
    return read_original(ctx, sha256)
