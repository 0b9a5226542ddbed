"""Scheduled jobs (APScheduler 3, Asia/Tokyo) and the run records that keep them single.

Every gateway process may run a scheduler (``gateway serve``, each gunicorn worker, a second host on the
same PostgreSQL). Before a job does anything it inserts a ``job_runs`` row unique on (job, fire time); the
process whose insert wins runs the job, every other process skips that firing. The fire time is the
trigger's own slot (the latest crontab time at or before "now"), never the process's clock reading, so every
process computes the same key for the same slot.

A run that is still going when the next slot comes (a long ingest) is not overlapped by another process: the
next slot's row is written with outcome ``skipped``. A ``running`` row older than the job's ``max_runtime``
is taken for a dead process and marked ``abandoned``.

Each run records start, end, outcome (``running``, ``ok``, ``failed``, ``skipped``, ``abandoned``), counts
and the error, visible through ``GET /api/v1/jobs/runs``. A failing job never stops the scheduler.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import socket
import traceback
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from gateway.context import SYSTEM
from gateway.context import Context
from gateway.db import get_engine
from gateway.db import sqlite_immediate
from gateway.errors import ConfigError
from gateway.models import JobRun
from gateway.models.base import table_of
from gateway.models.base import utcnow
from gateway.runtime import Runtime

log = logging.getLogger("gateway.jobs")
JobFunction = Callable[[Context], dict[str, Any]]
TIMEZONE = "Asia/Tokyo"
OUTCOMES = ("running", "ok", "failed", "skipped", "abandoned")
DEFAULT_MAX_RUNTIME = datetime.timedelta(hours=2)
RUNS = table_of(JobRun)
#: How far back :func:`scheduled_time` looks for the slot, widening step by step (a yearly crontab still
#: resolves; a per-minute one costs two trigger evaluations).
_WINDOWS = tuple(
    datetime.timedelta(seconds=s) for s in (120, 3_600, 86_400, 32 * 86_400, 400 * 86_400, 1_500 * 86_400)
)


class JobError(Exception):
    """Raised by a job body that did part of its work: the run is recorded ``failed`` with these counts."""

    def __init__(self, message: str, counts: dict[str, Any]) -> None:
        super().__init__(message)
        self.counts = counts


@dataclass(frozen=True)
class JobSpec:
    name: str
    setting: str
    """The Settings attribute holding the crontab expression (empty string: not scheduled)."""
    run: JobFunction
    max_runtime: datetime.timedelta = DEFAULT_MAX_RUNTIME
    """After this long a ``running`` row is taken for a dead process, and the job may run again."""


JOBS: dict[str, JobSpec] = {}


def register(
    name: str, setting: str, *, max_runtime: datetime.timedelta = DEFAULT_MAX_RUNTIME
) -> Callable[[JobFunction], JobFunction]:
    """Declare a job; its schedule is the crontab string in ``Settings.<setting>`` (Japan time)."""
    if len(name) > 32:
        raise ValueError(f"job name {name!r} is longer than 32 characters")

    def decorate(fn: JobFunction) -> JobFunction:
        JOBS[name] = JobSpec(name, setting, fn, max_runtime)
        return fn

    return decorate


def _host() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def _died(host: str) -> bool:
    """Whether ``host`` names a process on this machine that no longer exists (a killed worker)."""
    name, _, pid = host.rpartition(":")
    if name != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def claim_run(runtime: Runtime, job: str, fire_time: datetime.datetime) -> int | None:
    """Insert the run row for this firing; return its id when this process should run the job.

    Returns None when another process already took the firing, or when a run of the same job is still
    going (then the row is written as ``skipped``, so the API shows why nothing ran).
    """
    table = RUNS
    now = utcnow()
    spec = JOBS.get(job)
    max_runtime = spec.max_runtime if spec else DEFAULT_MAX_RUNTIME
    # BEGIN IMMEDIATE on SQLite: this transaction reads then writes, and a deferred one could fail on the
    # upgrade to a write lock instead of waiting for it.
    token = sqlite_immediate.set(True)
    try:
        with get_engine(runtime.settings.database_url).begin() as conn:
            running = conn.execute(
                sa.select(table.c.id, table.c.started_at, table.c.host).where(
                    table.c.job == job, table.c.outcome == "running"
                )
            ).all()
            dead = [r.id for r in running if r.started_at <= now - max_runtime or _died(r.host)]
            live = [r.id for r in running if r.id not in dead]
            if dead:
                conn.execute(
                    sa.update(table)
                    .where(table.c.id.in_(dead))
                    .values(
                        outcome="abandoned",
                        finished_at=now,
                        error=f"no end recorded: the process died or ran longer than {max_runtime}",
                    )
                )
            values: dict[str, Any] = {
                "job": job,
                "fire_time": fire_time.astimezone(datetime.UTC),
                "host": _host(),
                "started_at": now,
                "outcome": "running",
                "counts": {},
            }
            if live:
                values.update(
                    outcome="skipped", finished_at=now, error=f"run {live[0]} of {job} is still running"
                )
            result = conn.execute(sa.insert(table).values(**values))
            run_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    except sa.exc.IntegrityError:
        return None
    finally:
        sqlite_immediate.reset(token)
    if live:
        log.warning("job %s at %s skipped: run %s still running", job, fire_time.isoformat(), live[0])
        return None
    return run_id


def finish_run(
    runtime: Runtime, run_id: int, outcome: str, counts: dict[str, Any], error: str | None
) -> None:
    """Record the end of a run."""
    table = RUNS
    with get_engine(runtime.settings.database_url).begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.id == run_id)
            .values(finished_at=utcnow(), outcome=outcome, counts=counts, error=error)
        )


def _jsonable(counts: dict[str, Any] | None) -> dict[str, Any]:
    """The counts as stored (JSON); a value JSON cannot hold becomes its text, so the end is recorded."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(counts or {}), default=str))
    return loaded


def _describe(ex: BaseException) -> str:
    return "".join(traceback.format_exception_only(ex)).strip()[:4000]


def run_job(runtime: Runtime, name: str, fire_time: datetime.datetime | None = None) -> dict[str, Any] | None:
    """Run one firing of a job unless another process has it; return its counts (None if skipped/failed).

    ``fire_time`` is the slot (see :func:`scheduled_time`); without it, the current second (a manual run).
    A failure is recorded with outcome ``failed`` and the error, and logged; it is not raised.
    """
    spec = JOBS[name]
    fire_time = (fire_time or utcnow()).replace(microsecond=0)
    run_id = claim_run(runtime, name, fire_time)
    if run_id is None:
        log.info("job %s at %s already taken by another process", name, fire_time.isoformat())
        return None
    outcome, counts, error = "failed", {}, None
    try:
        with runtime.context(SYSTEM) as ctx:
            counts = _jsonable(spec.run(ctx))
        outcome = "ok"
    except JobError as ex:
        log.error("job %s failed: %s", name, ex)
        counts, error = _jsonable(ex.counts), _describe(ex)
    except Exception as ex:  # a failed run is recorded, and the scheduler keeps going
        log.exception("job %s failed", name)
        error = _describe(ex)
    except BaseException as ex:  # SystemExit/KeyboardInterrupt: record, then let it through
        finish_run(runtime, run_id, "failed", {}, _describe(ex) or type(ex).__name__)
        raise
    try:
        finish_run(runtime, run_id, outcome, counts, error)
    except Exception:  # the database went away; the row stays "running" until it counts as abandoned
        log.exception("job %s: could not record the end of run %s", name, run_id)
    return counts if outcome == "ok" else None


def scheduled_time(trigger: CronTrigger, now: datetime.datetime) -> datetime.datetime:
    """The latest firing of ``trigger`` at or before ``now``.

    Every process that fires for a slot computes the same value (its own clock has reached the slot, or it
    would not have fired), so (job, fire time) identifies the slot whatever the process and its delay.
    """
    for window in _WINDOWS:
        fire = trigger.get_next_fire_time(None, now - window)
        last = None
        while fire is not None and fire <= now:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + datetime.timedelta(seconds=1))
        if last is not None:
            slot: datetime.datetime = last.astimezone(datetime.UTC)
            return slot
    # A trigger with no firing in four years: there is no slot to share, so the run is keyed on this minute.
    return now.replace(second=0, microsecond=0).astimezone(datetime.UTC)


def _fire(runtime: Runtime, name: str, trigger: CronTrigger) -> None:
    try:
        run_job(runtime, name, scheduled_time(trigger, utcnow()))
    except Exception:  # e.g. the database is unreachable for the claim; try again at the next slot
        log.exception("job %s could not run", name)


def trigger_for(expr: str, setting: str = "schedule") -> CronTrigger:
    """A crontab expression (minute hour day month weekday) in Japan time.

    Raises:
        ConfigError: the expression is not a valid crontab.
    """
    try:
        return CronTrigger.from_crontab(expr, timezone=TIMEZONE)
    except ValueError as ex:
        raise ConfigError(f"GATEWAY_{setting.upper()}: not a crontab expression: {expr!r} ({ex})") from ex


def build_scheduler(runtime: Runtime, only: Iterable[str] | None = None) -> BackgroundScheduler:
    """A scheduler with every registered job (or those named in ``only``) on its configured schedule.

    Raises:
        ConfigError: a schedule setting is not a valid crontab.
    """
    wanted = set(JOBS) if only is None else set(only)
    scheduler = BackgroundScheduler(
        timezone=TIMEZONE, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    for spec in JOBS.values():
        if spec.name not in wanted:
            continue
        expr = getattr(runtime.settings, spec.setting)
        if not expr:
            continue
        trigger = trigger_for(expr, spec.setting)
        scheduler.add_job(
            _fire,
            trigger,
            args=(runtime, spec.name, trigger),
            id=spec.name,
            name=spec.name,
            replace_existing=True,
            # One run per slot even after a pause (coalesce), never two at once in this process.
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
        )
    return scheduler


def start(runtime: Runtime) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(j.id for j in scheduler.get_jobs()) or "none")
    return scheduler


def job_names() -> list[str]:
    """The registered jobs, in the order they were declared (the office's are in
    :mod:`gateway.operations.jobdefs`, which registers them when imported)."""
    return list(JOBS)


def latest_runs(session: Any, job: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The latest run of ``job`` and its latest failed (or abandoned) run, as mappings of ``job_runs``."""
    last = session.execute(sa.select(RUNS).where(RUNS.c.job == job).order_by(RUNS.c.id.desc()).limit(1))
    failed = session.execute(
        sa.select(RUNS)
        .where(RUNS.c.job == job, RUNS.c.outcome.in_(("failed", "abandoned")))
        .order_by(RUNS.c.id.desc())
        .limit(1)
    )
    one = last.mappings().first()
    bad = failed.mappings().first()
    return (dict(one) if one else None, dict(bad) if bad else None)
