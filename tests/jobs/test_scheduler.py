"""gateway.jobs: one run per (job, slot) across schedulers and processes, outcomes recorded, the scheduler
survives failures, Asia/Tokyo crontab."""

from __future__ import annotations

import datetime
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from gateway import jobs
from gateway.config import load_settings
from gateway.context import Context
from gateway.db import get_engine
from gateway.errors import ConfigError
from gateway.runtime import Runtime
from tests.conftest import JST
from tests.jobs.conftest import run_rows

UTC = datetime.UTC
ROOT = Path(__file__).resolve().parents[2]


def tokyo(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=JST)


class Counter:
    def __init__(self, sleep: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.calls = 0
        self.sleep = sleep

    def __call__(self, ctx: Context) -> dict[str, Any]:
        with self.lock:
            self.calls += 1
        time.sleep(self.sleep)
        return {"done": 1}


def second_runtime(overrides: dict[str, Any], **changes: Any) -> Runtime:
    """Another process's runtime on the same database (own Settings, own Runtime object)."""
    return Runtime.load(load_settings(environ={}, overrides={**overrides, **changes}))


# -- the slot


@pytest.mark.parametrize(
    ("crontab", "now", "slot"),
    [
        ("*/5 * * * *", tokyo(2026, 11, 27, 10, 7, 31), tokyo(2026, 11, 27, 10, 5)),
        ("*/5 * * * *", tokyo(2026, 11, 27, 10, 5, 0), tokyo(2026, 11, 27, 10, 5)),
        ("0 * * * *", tokyo(2026, 11, 27, 10, 59, 59), tokyo(2026, 11, 27, 10, 0)),
        # 07:00 in Japan is 22:00 UTC the day before: the crontab is read in Japan time.
        ("0 7 * * *", tokyo(2026, 11, 27, 6, 59), tokyo(2026, 11, 26, 7, 0)),
        ("0 0 1 1 *", tokyo(2026, 11, 27, 10, 0), tokyo(2026, 1, 1, 0, 0)),
    ],
)
def test_scheduled_time_is_the_latest_slot_in_japan_time(
    crontab: str, now: datetime.datetime, slot: datetime.datetime
) -> None:
    trigger = CronTrigger.from_crontab(crontab, timezone="Asia/Tokyo")
    got = jobs.scheduled_time(trigger, now.astimezone(UTC))
    assert got == slot
    assert got.utcoffset() == datetime.timedelta(0)


def test_every_process_computes_the_same_slot_whatever_its_delay() -> None:
    trigger = jobs.trigger_for("*/5 * * * *")
    slot = tokyo(2026, 11, 27, 10, 5)
    readings = [slot + datetime.timedelta(seconds=s) for s in (0, 0.4, 3, 59, 299)]
    assert {jobs.scheduled_time(trigger, r) for r in readings} == {slot}


# -- one run per firing


def test_two_runtimes_firing_the_same_slot_run_the_job_once(
    runtime: Runtime, overrides: dict[str, Any], db_url: str
) -> None:
    body = Counter(sleep=0.3)
    jobs.register("test_once", "schedule_inbox")(body)
    other = second_runtime(overrides)
    slot = tokyo(2026, 11, 27, 10, 5)
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def fire(i: int, rt: Runtime) -> None:
        barrier.wait()
        results[i] = jobs.run_job(rt, "test_once", slot)

    threads = [threading.Thread(target=fire, args=(i, rt)) for i, rt in enumerate((runtime, other))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert body.calls == 1
    assert sorted(results.values(), key=str) == [None, {"done": 1}]
    rows = run_rows(db_url, "test_once")
    assert len(rows) == 1
    assert rows[0]["outcome"] == "ok"
    assert rows[0]["counts"] == {"done": 1}
    assert rows[0]["fire_time"] == slot
    assert rows[0]["finished_at"] >= rows[0]["started_at"]


CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from gateway import jobs
    from gateway.config import load_settings
    from gateway.runtime import Runtime
    import datetime

    args = json.loads(sys.argv[1])

    def body(ctx):
        with open(args["log"], "a") as fh:
            fh.write(f"{os.getpid()}\\n")
        time.sleep(0.5)
        return {"pid": os.getpid()}

    jobs.register("test_procs", "schedule_inbox")(body)
    rt = Runtime.load(load_settings(environ={}, overrides=args["overrides"]))
    slot = datetime.datetime.fromisoformat(args["slot"])
    while time.time() < args["start_at"]:
        time.sleep(0.005)
    print(json.dumps(jobs.run_job(rt, "test_procs", slot)))
    """
)


def test_two_processes_firing_the_same_slot_run_the_job_once(
    runtime: Runtime, overrides: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "body.log"
    args = {
        "overrides": overrides,
        "log": str(log),
        "slot": tokyo(2026, 11, 27, 11, 0).isoformat(),
        "start_at": time.time() + 3.0,
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, json.dumps(args)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    printed = sorted(json.loads(out.strip().splitlines()[-1]) is None for out, _ in outputs)
    assert printed == [False, True]
    assert len(log.read_text().splitlines()) == 1
    rows = run_rows(db_url, "test_procs")
    assert [(r["outcome"], r["fire_time"]) for r in rows] == [("ok", tokyo(2026, 11, 27, 11, 0))]
    assert rows[0]["host"].endswith(f":{rows[0]['counts']['pid']}")


def _wait_until(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _quiet_moment() -> datetime.datetime:
    """A moment ~1 s ahead that is not close to a minute boundary (both schedulers share its slot)."""
    while True:
        at = datetime.datetime.now(UTC) + datetime.timedelta(seconds=1)
        if 2 <= at.second <= 50:
            return at
        time.sleep(0.5)


def test_two_schedulers_on_one_database_run_a_firing_once(
    runtime: Runtime, overrides: dict[str, Any], db_url: str
) -> None:
    body = Counter(sleep=0.3)
    jobs.register("test_sched", "schedule_inbox")(body)
    pair = [second_runtime(overrides, schedule_inbox="* * * * *") for _ in range(2)]
    assert pair[0] is not pair[1]
    schedulers = [jobs.build_scheduler(rt, only=["test_sched"]) for rt in pair]
    at = _quiet_moment()
    try:
        for s in schedulers:
            s.start(paused=True)
            s.modify_job("test_sched", next_run_time=at)
        for s in schedulers:
            s.resume()
        assert _wait_until(lambda: len(run_rows(db_url, "test_sched")) == 1 and body.calls == 1)
        time.sleep(1.0)  # the loser's claim has happened by now
    finally:
        for s in schedulers:
            s.shutdown(wait=True)
    rows = run_rows(db_url, "test_sched")
    assert body.calls == 1
    assert len(rows) == 1
    assert rows[0]["outcome"] == "ok"
    assert rows[0]["fire_time"] == at.replace(second=0, microsecond=0)


# -- outcomes


def test_a_failed_run_records_the_error_and_the_next_firing_runs_again(runtime: Runtime, db_url: str) -> None:
    attempts: list[int] = []

    def flaky(ctx: Context) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("agent server said no")
        return {"files": 2}

    jobs.register("test_flaky", "schedule_inbox")(flaky)
    assert jobs.run_job(runtime, "test_flaky", tokyo(2026, 11, 27, 10, 0)) is None
    assert jobs.run_job(runtime, "test_flaky", tokyo(2026, 11, 27, 10, 5)) == {"files": 2}
    rows = run_rows(db_url, "test_flaky")
    assert [(r["outcome"], r["counts"]) for r in rows] == [("failed", {}), ("ok", {"files": 2})]
    assert "RuntimeError" in rows[0]["error"]
    assert rows[0]["finished_at"] is not None
    assert rows[1]["error"] is None


def test_a_job_error_keeps_the_counts_of_the_work_done(runtime: Runtime, db_url: str) -> None:
    def partial(ctx: Context) -> dict[str, Any]:
        raise jobs.JobError("source b failed", {"accepted": 3, "failed": 1})

    jobs.register("test_partial", "schedule_inbox")(partial)
    jobs.run_job(runtime, "test_partial", tokyo(2026, 11, 27, 10, 0))
    (row,) = run_rows(db_url, "test_partial")
    assert (row["outcome"], row["counts"]) == ("failed", {"accepted": 3, "failed": 1})
    assert "source b failed" in row["error"]


def test_the_scheduler_keeps_running_after_a_failing_job(
    runtime: Runtime, overrides: dict[str, Any], db_url: str
) -> None:
    calls: list[int] = []

    def broken(ctx: Context) -> dict[str, Any]:
        calls.append(1)
        raise ValueError("boom")

    jobs.register("test_broken", "schedule_inbox")(broken)
    rt = second_runtime(overrides, schedule_inbox="* * * * *")
    scheduler = jobs.build_scheduler(rt, only=["test_broken"])
    at = _quiet_moment()
    try:
        scheduler.start(paused=True)
        scheduler.modify_job("test_broken", next_run_time=at)
        scheduler.resume()
        assert _wait_until(lambda: [r["outcome"] for r in run_rows(db_url, "test_broken")] == ["failed"])
        assert scheduler.running
        job = scheduler.get_job("test_broken")
        assert job is not None
        assert job.next_run_time > at
    finally:
        scheduler.shutdown(wait=True)
    assert calls == [1]


def test_a_run_still_going_is_not_overlapped_and_a_stale_one_is_abandoned(
    runtime: Runtime, db_url: str
) -> None:
    body = Counter()
    jobs.register("test_long", "schedule_inbox", max_runtime=datetime.timedelta(minutes=30))(body)
    table = jobs.RUNS
    now = datetime.datetime.now(UTC)
    with get_engine(db_url).begin() as conn:
        conn.execute(
            sa.insert(table).values(
                job="test_long",
                fire_time=tokyo(2026, 11, 27, 9, 0),
                host="other-host:1",
                started_at=now - datetime.timedelta(minutes=10),
                outcome="running",
                counts={},
            )
        )
    assert jobs.run_job(runtime, "test_long", tokyo(2026, 11, 27, 9, 5)) is None
    assert body.calls == 0
    with get_engine(db_url).begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.fire_time == tokyo(2026, 11, 27, 9, 0))
            .values(started_at=now - datetime.timedelta(minutes=31))
        )
    assert jobs.run_job(runtime, "test_long", tokyo(2026, 11, 27, 9, 10)) == {"done": 1}
    rows = run_rows(db_url, "test_long")
    assert [r["outcome"] for r in rows] == ["abandoned", "skipped", "ok"]
    assert "still running" in rows[1]["error"]
    assert rows[0]["finished_at"] is not None


def test_a_run_of_a_process_that_died_is_abandoned_at_once(runtime: Runtime, db_url: str) -> None:
    body = Counter()
    jobs.register("test_dead", "schedule_inbox")(body)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    with get_engine(db_url).begin() as conn:
        conn.execute(
            sa.insert(jobs.RUNS).values(
                job="test_dead",
                fire_time=tokyo(2026, 11, 27, 9, 0),
                host=f"{socket.gethostname()}:{child.pid}",
                started_at=datetime.datetime.now(UTC),
                outcome="running",
                counts={},
            )
        )
    assert jobs.run_job(runtime, "test_dead", tokyo(2026, 11, 27, 9, 5)) == {"done": 1}
    assert [r["outcome"] for r in run_rows(db_url, "test_dead")] == ["abandoned", "ok"]


def test_counts_that_json_cannot_hold_are_stored_as_text(runtime: Runtime, db_url: str) -> None:
    jobs.register("test_odd", "schedule_inbox")(lambda ctx: {"day": datetime.date(2026, 11, 27)})
    assert jobs.run_job(runtime, "test_odd", tokyo(2026, 11, 27, 9, 0)) == {"day": "2026-11-27"}
    assert run_rows(db_url, "test_odd")[0]["outcome"] == "ok"


# -- the scheduler itself


def test_the_scheduler_has_inbox_and_fetch_on_their_tokyo_crontabs(runtime: Runtime) -> None:
    scheduler = jobs.build_scheduler(runtime)
    by_id = {job.id: job for job in scheduler.get_jobs()}
    assert {"inbox", "fetch"} <= set(by_id)
    for name, setting in (("inbox", "schedule_inbox"), ("fetch", "schedule_fetch")):
        job = by_id[name]
        assert jobs.JOBS[name].setting == setting
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert (job.coalesce, job.max_instances) == (True, 1)
    # "0 * * * *" from 10:00:30 Japan time: next at 11:00 Japan time.
    nxt = by_id["fetch"].trigger.get_next_fire_time(None, tokyo(2026, 11, 27, 10, 0, 30))
    assert nxt == tokyo(2026, 11, 27, 11, 0)


def test_an_empty_schedule_leaves_the_job_out(overrides: dict[str, Any]) -> None:
    rt = second_runtime(overrides, schedule_fetch="")
    assert "fetch" not in {job.id for job in jobs.build_scheduler(rt).get_jobs()}


def test_a_bad_crontab_is_a_config_error_naming_the_setting(overrides: dict[str, Any]) -> None:
    rt = second_runtime(overrides, schedule_inbox="every five minutes")
    with pytest.raises(ConfigError) as info:
        jobs.build_scheduler(rt)
    assert "SCHEDULE_INBOX" in info.value.message
