"""The inbox scan: complete files only, filed into processed/ or rejected/, never overwritten, crash-safe."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from gateway import jobs
from gateway.context import Context
from gateway.intake import inbox
from gateway.runtime import Runtime
from tests.conftest import JST
from tests.jobs.conftest import FakeIngest
from tests.jobs.conftest import run_rows

T0 = 1_800_000_000.0  # the scans' "now" (epoch seconds); files' mtimes are whatever the disk says


@pytest.fixture
def box(settings) -> Path:  # type: ignore[no-untyped-def]
    path = Path(settings.inbox_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def drop(box: Path, name: str, data: bytes = b"fixed120 data\n", *, marker: bool = False) -> Path:
    path = box / name
    path.write_bytes(data)
    if marker:
        (box / (name + ".done")).write_bytes(b"")
    return path


def scan(ctx: Context, now: float = T0) -> dict[str, int]:
    return inbox.scan(ctx, now=now)


def zero(**counts: int) -> dict[str, int]:
    return {**inbox.counts_template(), **counts}


def test_a_file_with_a_done_marker_is_ingested_at_once(
    ctx: Context, box: Path, fake_ingest: FakeIngest
) -> None:
    drop(box, "20261127.txt", marker=True)
    assert scan(ctx) == zero(seen=1, ingested=1)
    assert (box / "processed" / "20261127.txt").read_bytes() == b"fixed120 data\n"
    assert not (box / "20261127.txt").exists()
    assert not (box / "20261127.txt.done").exists()
    (call,) = fake_ingest.calls
    assert (call["source"], call["original_name"]) == ("inbox", "20261127.txt")


def test_without_a_marker_a_file_waits_until_two_scans_saw_it_unchanged(
    ctx: Context, box: Path, fake_ingest: FakeIngest
) -> None:
    path = drop(box, "a.csv", b"part one,")
    assert scan(ctx, T0) == zero(seen=1, waiting=1)
    with path.open("ab") as fh:  # the copy goes on
        fh.write(b"part two\n")
    assert scan(ctx, T0 + 60) == zero(seen=1, waiting=1)
    assert scan(ctx, T0 + 70) == zero(seen=1, waiting=1)  # unchanged, but for 10 s only
    assert fake_ingest.calls == []
    assert scan(ctx, T0 + 90) == zero(seen=1, ingested=1)
    assert fake_ingest.calls[0]["data"] == b"part one,part two\n"
    assert (box / "processed" / "a.csv").exists()


def test_the_observations_survive_a_restart_and_a_lost_state_only_delays(
    runtime: Runtime, box: Path, fake_ingest: FakeIngest
) -> None:
    from gateway.context import SYSTEM

    drop(box, "a.csv")
    with runtime.context(SYSTEM) as first:
        assert scan(first, T0) == zero(seen=1, waiting=1)
    state = json.loads((box / ".state" / "inbox.json").read_text())
    assert set(state["files"]) == {"a.csv"}
    # A new process: the state file, not memory, says the file was seen before.
    with runtime.context(SYSTEM) as second:
        (box / ".state" / "inbox.json").unlink()
        assert scan(second, T0 + 60) == zero(seen=1, waiting=1)
        assert scan(second, T0 + 120) == zero(seen=1, ingested=1)
    (box / ".state" / "inbox.json").write_text("{not json")
    drop(box, "b.csv", b"other")
    with runtime.context(SYSTEM) as third:
        assert scan(third, T0 + 180) == zero(seen=1, waiting=1)


def test_an_empty_file_is_never_complete_without_a_marker(
    ctx: Context, box: Path, fake_ingest: FakeIngest
) -> None:
    drop(box, "empty.txt", b"")
    assert scan(ctx, T0) == zero(seen=1, waiting=1)
    assert scan(ctx, T0 + 600) == zero(seen=1, waiting=1)
    assert fake_ingest.calls == []


@pytest.mark.parametrize(
    "name", [".hidden", "upload.part", "upload.TMP", "x.filepart", "x.crdownload", "x.partial", "~$sheet.csv"]
)
def test_hidden_and_partial_files_are_ignored(
    ctx: Context, box: Path, fake_ingest: FakeIngest, name: str
) -> None:
    drop(box, name, marker=True)
    assert scan(ctx) == zero()
    assert (box / name).exists()
    assert fake_ingest.calls == []


def test_folders_links_and_lone_markers_are_ignored(
    ctx: Context, box: Path, fake_ingest: FakeIngest, tmp_path: Path
) -> None:
    (box / "agent-a").mkdir()
    drop(box / "agent-a", "inner.txt", marker=True)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    (box / "link.txt").symlink_to(outside)
    (box / "link.txt.done").write_bytes(b"")
    (box / "nothing.txt.done").write_bytes(b"")
    assert scan(ctx) == zero()
    assert fake_ingest.calls == []
    assert (box / "agent-a" / "inner.txt").exists()
    assert (box / "nothing.txt.done").exists()


def test_a_rejected_file_goes_to_rejected_with_its_located_error(
    ctx: Context, box: Path, fake_ingest: FakeIngest
) -> None:
    drop(box, "bad.txt", b"BAD content", marker=True)
    assert scan(ctx) == zero(seen=1, rejected=1)
    assert (box / "rejected" / "bad.txt").read_bytes() == b"BAD content"
    error = (box / "rejected" / "bad.txt.error.txt").read_text(encoding="utf-8")
    assert error.splitlines()[0] == "bad.txt:2: field amount: not a number"
    assert "line: 2" in error
    assert "field: amount" in error
    assert "rejected at: 2026-11-27T10:00:00+09:00" in error  # the context's (pinned) clock
    assert not list(box.glob("bad.txt*"))


def test_a_duplicate_goes_to_processed(ctx: Context, box: Path, fake_ingest: FakeIngest) -> None:
    drop(box, "a.txt", b"same", marker=True)
    scan(ctx)
    drop(box, "a-again.txt", b"same", marker=True)
    assert scan(ctx) == zero(seen=1, duplicates=1)
    assert (box / "processed" / "a-again.txt").exists()


def test_nothing_in_processed_or_rejected_is_ever_overwritten(
    ctx: Context, box: Path, fake_ingest: FakeIngest
) -> None:
    for folder in ("processed", "rejected"):
        (box / folder).mkdir(exist_ok=True)
    (box / "processed" / "day.csv").write_bytes(b"older")
    (box / "processed" / "day.1.csv").write_bytes(b"older still")
    (box / "rejected" / "bad.csv").write_bytes(b"old bad")
    (box / "rejected" / "bad.1.csv.error.txt").write_text("an error file without its data file")
    drop(box, "day.csv", b"newer", marker=True)
    drop(box, "bad.csv", b"BAD new", marker=True)
    assert scan(ctx) == zero(seen=2, ingested=1, rejected=1)
    assert (box / "processed" / "day.csv").read_bytes() == b"older"
    assert (box / "processed" / "day.1.csv").read_bytes() == b"older still"
    assert (box / "processed" / "day.2.csv").read_bytes() == b"newer"
    assert (box / "rejected" / "bad.csv").read_bytes() == b"old bad"
    assert (box / "rejected" / "bad.1.csv.error.txt").read_text() == "an error file without its data file"
    assert (box / "rejected" / "bad.2.csv").read_bytes() == b"BAD new"
    assert (box / "rejected" / "bad.2.csv.error.txt").exists()


def test_a_crash_between_ingest_and_move_loses_and_double_counts_nothing(
    ctx: Context, box: Path, fake_ingest: FakeIngest, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(box, "a.txt", b"payments", marker=False)
    assert scan(ctx, T0) == zero(seen=1, waiting=1)

    def crash(path: Path, target: Path) -> bool:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(inbox, "_place", crash)
        assert scan(ctx, T0 + 60) == zero(seen=1, failed=1)
    assert (box / "a.txt").exists()
    assert list(fake_ingest.stored.values()) == ["a.txt"]
    # After the "restart": ingested again, known by its SHA-256, filed into processed/.
    assert scan(ctx, T0 + 120) == zero(seen=1, duplicates=1)
    assert (box / "processed" / "a.txt").read_bytes() == b"payments"
    assert len(fake_ingest.stored) == 1
    assert [c["name"] for c in fake_ingest.calls] == ["a.txt", "a.txt"]


def test_a_crash_after_the_marker_went_still_ends_in_processed(
    ctx: Context, box: Path, fake_ingest: FakeIngest, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop(box, "m.txt", b"marked", marker=True)
    with monkeypatch.context() as m:
        m.setattr(inbox, "_place", lambda path, target: (_ for _ in ()).throw(OSError("crash")))
        assert scan(ctx, T0) == zero(seen=1, failed=1)
    assert not (box / "m.txt.done").exists()
    # The marker is gone; the observation from the crashed scan makes the file complete after settling.
    assert scan(ctx, T0 + 10) == zero(seen=1, waiting=1)
    assert scan(ctx, T0 + 60) == zero(seen=1, duplicates=1)
    assert (box / "processed" / "m.txt").exists()


def test_an_ingest_that_raises_leaves_the_file_and_fails_the_job_run(
    runtime: Runtime, box: Path, fake_ingest: FakeIngest, db_url: str
) -> None:
    drop(box, "ok.txt", b"fine", marker=True)
    drop(box, "boom.txt", b"explodes", marker=True)
    fake_ingest.fail_on.add("boom.txt")
    assert (
        jobs.run_job(runtime, "inbox", jobs.scheduled_time(jobs.trigger_for("*/5 * * * *"), runtime.clock()))
        is None
    )
    (row,) = run_rows(db_url, "inbox")
    assert row["outcome"] == "failed"
    assert row["counts"] == zero(seen=2, ingested=1, failed=1)
    assert "could not be ingested" in row["error"]
    assert (box / "boom.txt").exists()
    assert (box / "boom.txt.done").exists()
    assert (box / "processed" / "ok.txt").exists()


def test_the_inbox_job_records_its_counts(
    runtime: Runtime, box: Path, fake_ingest: FakeIngest, db_url: str
) -> None:
    drop(box, "one.txt", b"1", marker=True)
    drop(box, "two.txt", b"BAD 2", marker=True)
    drop(box, "three.txt", b"3")
    slot = runtime.clock().astimezone(JST).replace(minute=5, second=0)
    assert jobs.run_job(runtime, "inbox", slot) == zero(seen=3, ingested=1, rejected=1, waiting=1)
    (row,) = run_rows(db_url, "inbox")
    assert (row["outcome"], row["counts"]["ingested"], row["fire_time"]) == ("ok", 1, slot)


def test_a_second_scan_while_one_runs_does_nothing(ctx: Context, box: Path, fake_ingest: FakeIngest) -> None:
    drop(box, "a.txt", marker=True)
    (box / ".state").mkdir()
    fd = os.open(box / ".state" / "lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert scan(ctx) == zero(busy=1)
    finally:
        os.close(fd)
    assert scan(ctx) == zero(seen=1, ingested=1)


def test_scan_uses_the_wall_clock_by_default(ctx: Context, box: Path, fake_ingest: FakeIngest) -> None:
    path = drop(box, "old.txt")
    old = time.time() - 3600
    os.utime(path, (old, old))
    assert inbox.scan(ctx) == zero(seen=1, waiting=1)
    assert inbox.scan(ctx, settle_seconds=0) == zero(seen=1, ingested=1)
