"""The inbox: settlement files dropped into ``GATEWAY_INBOX_DIR`` are ingested once they are complete.

A file is complete when a marker ``<name>.done`` exists beside it, or when its size and modification time
were the same at two scans at least :data:`SETTLE_SECONDS` apart (a file being copied keeps changing). The
previous scan's observations live in ``.state/inbox.json`` inside the inbox, so a restart never mistakes a
half-written file for a complete one: after a restart every file is observed again before it is taken.

Each complete file goes through :func:`gateway.intake.ingest.ingest_file` (``source="inbox"``), then moves
to ``processed/`` (accepted, or already known: ``duplicate_file``) or ``rejected/`` with
``<name>.error.txt`` beside it. Nothing there is ever overwritten: a name already taken gets a counter
(``data.1.csv``). Ignored: dotfiles, subfolders, symbolic links, partial-upload names (``*.part``,
``*.tmp``, ``*.filepart``, ``*.crdownload``, ``*.partial``, ``~$*``) and the ``*.done`` markers themselves.

Crash safety: ingest is idempotent by SHA-256, and a file leaves the inbox only after its ingest committed.
A crash between ingest and move leaves the file (and its observation) in place; the next scan ingests it
again, gets ``duplicate_file`` and moves it to ``processed/`` — nothing is lost or counted twice. Scans of
the same inbox never overlap (an exclusive lock on ``.state/lock``).
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.errors import SettlementFileError
from gateway.context import Context
from gateway.errors import GatewayError
from gateway.intake import ingest
from gateway.models.base import JST

log = logging.getLogger("gateway.inbox")

MARKER_SUFFIX = ".done"
PROCESSED = "processed"
REJECTED = "rejected"
STATE_DIR = ".state"
STATE_FILE = "inbox.json"
#: Minimum time between the two scans that saw the same size and modification time.
SETTLE_SECONDS = 30.0
#: Names that uploaders and browsers use while a file is still being written.
PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart", ".crdownload", ".partial")
ACCEPTED_STATUSES = ("accepted", "duplicate_file")


@dataclass(frozen=True)
class Observation:
    """What a scan saw of a file: size and modification time, and since when (epoch seconds)."""

    size: int
    mtime_ns: int
    since: float


def counts_template() -> dict[str, int]:
    return {"seen": 0, "ingested": 0, "duplicates": 0, "rejected": 0, "waiting": 0, "failed": 0, "busy": 0}


def is_candidate(name: str) -> bool:
    """Whether a name in the inbox is a settlement file to consider (not a marker, partial or hidden file)."""
    lowered = name.lower()
    return not (
        name.startswith((".", "~$")) or lowered.endswith(PARTIAL_SUFFIXES) or lowered.endswith(MARKER_SUFFIX)
    )


def scan(
    ctx: Context,
    inbox: Path | None = None,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    now: float | None = None,
) -> dict[str, int]:
    """Ingest every complete file in the inbox and file it away.

    Args:
        ctx: the service context (the scheduler's, or the operator's).
        inbox: the folder; default ``GATEWAY_INBOX_DIR``.
        settle_seconds: how long size and modification time must stay unchanged (without a marker).
        now: the current epoch time (tests).

    Returns:
        counts ``seen`` (candidate files), ``ingested`` (accepted), ``duplicates`` (already known),
        ``rejected``, ``waiting`` (not complete yet), ``failed`` (ingest raised; the file stays for the
        next scan) and ``busy`` (1 when another scan held the inbox and this one did nothing).
    """
    inbox = Path(ctx.settings.inbox_dir) if inbox is None else Path(inbox)
    for sub in ("", PROCESSED, REJECTED, STATE_DIR):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    counts = counts_template()
    with _exclusive(inbox / STATE_DIR / "lock") as held:
        if not held:
            log.info("inbox %s: another scan is running", inbox)
            counts["busy"] = 1
            return counts
        _scan_locked(ctx, inbox, counts, settle_seconds, time.time() if now is None else now)
    return counts


def _scan_locked(ctx: Context, inbox: Path, counts: dict[str, int], settle: float, now: float) -> None:
    state_path = inbox / STATE_DIR / STATE_FILE
    previous = _load_state(state_path)
    current: dict[str, Observation] = {}
    ready: list[tuple[Path, Path | None]] = []
    for entry in sorted(os.scandir(inbox), key=lambda e: e.name):
        if not entry.is_file(follow_symlinks=False) or not is_candidate(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # removed by its writer since the listing
            continue
        counts["seen"] += 1
        before = previous.get(entry.name)
        unchanged = before is not None and (before.size, before.mtime_ns) == (st.st_size, st.st_mtime_ns)
        seen = before if before is not None and unchanged else Observation(st.st_size, st.st_mtime_ns, now)
        current[entry.name] = seen
        marker_path = inbox / (entry.name + MARKER_SUFFIX)
        if marker_path.is_file():
            ready.append((Path(entry.path), marker_path))
        elif st.st_size > 0 and unchanged and now - seen.since >= settle:
            # An empty file is never complete without a marker: its writer may just have created it.
            ready.append((Path(entry.path), None))
        else:
            counts["waiting"] += 1
    # Save the observations before taking any file, so a crash mid-scan still counts this scan.
    _save_state(state_path, current)
    for path, marker in ready:
        try:
            status = _take(ctx, inbox, path, marker)
        except Exception:
            log.exception("inbox: %s could not be ingested; it stays for the next scan", path.name)
            counts["failed"] += 1
            continue
        current.pop(path.name, None)
        counts[{"accepted": "ingested", "duplicate_file": "duplicates", "rejected": "rejected"}[status]] += 1
    _save_state(state_path, current)


def _take(ctx: Context, inbox: Path, path: Path, marker: Path | None) -> str:
    """Ingest one complete file, then move it out of the inbox; return the ingest status."""
    doc = ingest_document(ctx, path, source="inbox", original_name=path.name)
    status = doc.get("status")
    if status not in (*ACCEPTED_STATUSES, "rejected"):
        raise ValueError(f"ingest returned an unknown status {status!r} for {path.name}")
    # The marker goes before the file: a crash in between leaves the file without its marker, and the next
    # scans take it by its stable size (a stale marker could make a later file of that name look complete).
    if marker is not None:
        marker.unlink(missing_ok=True)
    if status == "rejected":
        target = _move_rejected(inbox / REJECTED, path, error_text(path.name, doc, ctx.now()))
    else:
        target = _move_to(inbox / PROCESSED, path)
    log.info("inbox: %s %s, moved to %s", path.name, status, target.relative_to(inbox))
    return str(status)


def ingest_document(ctx: Context, path: Path, **options: Any) -> dict[str, Any]:
    """:func:`~gateway.intake.ingest.ingest_file` with its result as JSON (``FileResult.as_json()``).

    A refusal raised instead of returned (an unknown agent or adapter, a settlement-file error) is turned
    into the ``rejected`` document, so the caller files it away like any rejected file. Server-side errors
    (database down, configuration) propagate.
    """
    try:
        result = ingest.ingest_file(ctx, path, **options)
    except (SettlementFileError, GatewayError) as ex:
        if isinstance(ex, GatewayError) and ex.status >= 500:
            raise
        return _rejection(options.get("original_name") or path.name, ex)
    doc: dict[str, Any] = result.as_json()
    return doc


def _rejection(name: str, ex: Exception) -> dict[str, Any]:
    """A ``FileResult``-shaped document for a refusal that ingest raised."""
    line = getattr(ex, "line_no", None) or getattr(ex, "line", None)
    message = getattr(ex, "message", None) or str(ex)
    return {
        "file": name,
        "adapter": None,
        "status": "rejected",
        "sha256": None,
        "records": 0,
        "new_records": 0,
        "duplicate_records": 0,
        "amount": 0,
        "counts_by_kind": {},
        "amounts_by_kind": {},
        "error": {"line": line, "field": getattr(ex, "field", None), "message": message},
    }


# -- moving files without overwriting


def _candidates(folder: Path, name: str) -> Iterator[Path]:
    """``name``, then ``stem.1.suffix``, ``stem.2.suffix`` … in ``folder``."""
    yield folder / name
    stem, suffix = os.path.splitext(name)
    if not stem:  # ".csv"-like names cannot reach here (dotfiles are ignored), but stay total
        stem, suffix = name, ""
    n = 1
    while True:
        yield folder / f"{stem}.{n}{suffix}"
        n += 1


def _move_to(folder: Path, path: Path) -> Path:
    """Move ``path`` into ``folder`` under a name not taken yet; return where it went."""
    for target in _candidates(folder, path.name):
        if _place(path, target):
            return target
    raise AssertionError("unreachable")  # pragma: no cover


def _move_rejected(folder: Path, path: Path, text: str) -> Path:
    """Move a rejected file into ``folder`` with ``<name>.error.txt`` (``text``) beside it, written first."""
    for target in _candidates(folder, path.name):
        error_path = target.with_name(target.name + ".error.txt")
        if target.exists():
            continue
        try:
            with open(error_path, "x", encoding="utf-8") as fh:
                fh.write(text)
        except FileExistsError:
            continue
        if _place(path, target):
            return target
        error_path.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _place(path: Path, target: Path) -> bool:
    """Move ``path`` to ``target`` unless ``target`` exists; False when it does."""
    try:
        # A hard link fails when the target exists: no window in which another file could be overwritten.
        os.link(path, target)
    except FileExistsError:
        return False
    except OSError as ex:
        if ex.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A share without hard links: the scan lock keeps other scanners out of this short window.
        if target.exists():
            return False
        os.rename(path, target)
        return True
    path.unlink()
    return True


def located(name: str, error: dict[str, Any]) -> str:
    """``file:line: field F: message``; a message that already names the file (the adapters') as it is."""
    message = str(error.get("message") or "rejected")
    if name in message:
        return message
    where = ":".join(str(p) for p in (name, error.get("line")) if p is not None)
    field = f" field {error['field']}:" if error.get("field") else ""
    return f"{where}:{field} {message}"


def error_text(name: str, doc: dict[str, Any], at: datetime.datetime) -> str:
    """The located error of a rejected file, for the ``.error.txt`` beside it."""
    error = doc.get("error") or {}
    lines = [
        located(name, error),
        "",
        f"file: {name}",
        f"sha256: {doc.get('sha256') or '-'}",
        f"adapter: {doc.get('adapter') or '-'}",
        f"line: {error.get('line') if error.get('line') is not None else '-'}",
        f"field: {error.get('field') or '-'}",
        f"message: {error.get('message') or '-'}",
        f"rejected at: {at.astimezone(JST).isoformat(timespec='seconds')}",
        "",
        "Nothing from this file was stored. Fix the file (or ask its sender for a corrected one) and drop",
        "the corrected file into the inbox again.",
        "",
    ]
    return "\n".join(lines)


# -- state and lock


def _load_state(path: Path) -> dict[str, Observation]:
    """The previous scan's observations; an unreadable state means every file is observed afresh."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {
            str(name): Observation(int(o["size"]), int(o["mtime_ns"]), float(o["since"]))
            for name, o in raw["files"].items()
        }
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("inbox state %s is unreadable; every file waits for one more scan", path)
        return {}


def _save_state(path: Path, files: dict[str, Observation]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    payload = {"version": 1, "files": {name: asdict(o) for name, o in sorted(files.items())}}
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    os.replace(tmp, path)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (True), or yield False at once when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
