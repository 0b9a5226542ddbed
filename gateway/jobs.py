"""Scheduled jobs (APScheduler 3, Asia/Tokyo) and the run records that keep them single.

Every gateway process may run a scheduler (``gateway serve``, each gunicorn worker, a second host on the
same PostgreSQL). Before a job does anything it inserts a ``job_runs`` row unique on (job, fire time); the
process whose insert wins runs the job, every other process skips that firing. Each run records start,
end, outcome and counts, visible through the API.
"""

from __future__ import annotations

import datetime
import logging
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from gateway.context import SYSTEM
from gateway.context import Context
from gateway.db import get_engine
from gateway.models import JobRun
from gateway.models.base import utcnow
from gateway.runtime import Runtime

log = logging.getLogger("gateway.jobs")
JobFunction = Callable[[Context], dict[str, Any]]


@dataclass(frozen=True)
class JobSpec:
    name: str
    setting: str
    """The Settings attribute holding the crontab expression."""
    run: JobFunction


JOBS: dict[str, JobSpec] = {}


def register(name: str, setting: str) -> Callable[[JobFunction], JobFunction]:
    """Declare a job; its schedule is the crontab string in ``Settings.<setting>``."""

    def decorate(fn: JobFunction) -> JobFunction:
        JOBS[name] = JobSpec(name, setting, fn)
        return fn

    return decorate


def claim_run(runtime: Runtime, job: str, fire_time: datetime.datetime) -> int | None:
    """Insert the run row; return its id, or None when another process already took this firing."""
    table = JobRun.__table__
    try:
        with get_engine(runtime.settings.database_url).begin() as conn:
            result = conn.execute(
                sa.insert(table).values(
                    job=job,
                    fire_time=fire_time.astimezone(datetime.UTC),
                    host=f"{socket.gethostname()}:{_pid()}"[:128],
                    started_at=utcnow(),
                    outcome="running",
                    counts={},
                )
            )
            return int(result.inserted_primary_key[0])  # type: ignore[index]
    except sa.exc.IntegrityError:
        return None


def _pid() -> int:
    import os

    return os.getpid()


def finish_run(
    runtime: Runtime, run_id: int, outcome: str, counts: dict[str, Any], error: str | None
) -> None:
    table = JobRun.__table__
    with get_engine(runtime.settings.database_url).begin() as conn:
        conn.execute(
            sa.update(table)
            .where(table.c.id == run_id)
            .values(finished_at=utcnow(), outcome=outcome, counts=counts, error=error)
        )


def run_job(runtime: Runtime, name: str, fire_time: datetime.datetime | None = None) -> dict[str, Any] | None:
    """Run one firing of a job unless another process already has; return its counts (None if skipped)."""
    spec = JOBS[name]
    fire_time = (fire_time or utcnow()).replace(microsecond=0)
    run_id = claim_run(runtime, name, fire_time)
    if run_id is None:
        log.info("job %s at %s already taken by another process", name, fire_time.isoformat())
        return None
    try:
        with runtime.context(SYSTEM) as ctx:
            counts = spec.run(ctx)
    except Exception as ex:  # a failed run is recorded, and the scheduler keeps going
        log.exception("job %s failed", name)
        finish_run(runtime, run_id, "failed", {}, "".join(traceback.format_exception_only(ex)).strip()[:4000])
        return None
    finish_run(runtime, run_id, "ok", counts, None)
    return counts


def scheduled_time(trigger: CronTrigger, now: datetime.datetime, window_s: int = 600) -> datetime.datetime:
    """The latest firing of ``trigger`` at or before ``now``: the same value in every process, so the run
    row's (job, fire time) key tells two schedulers that fired for the same slot apart from a new slot."""
    fire = trigger.get_next_fire_time(None, now - datetime.timedelta(seconds=window_s))
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + datetime.timedelta(seconds=1))
    return last or now


def _fire(runtime: Runtime, name: str, trigger: CronTrigger) -> None:
    run_job(runtime, name, scheduled_time(trigger, utcnow()))


def build_scheduler(runtime: Runtime) -> BackgroundScheduler:
    _load_job_modules()
    scheduler = BackgroundScheduler(
        timezone="Asia/Tokyo", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    )
    for spec in JOBS.values():
        expr = getattr(runtime.settings, spec.setting)
        if not expr:
            continue
        trigger = CronTrigger.from_crontab(expr, timezone="Asia/Tokyo")
        scheduler.add_job(_fire, trigger, args=(runtime, spec.name, trigger), id=spec.name, name=spec.name)
    return scheduler


def start(runtime: Runtime) -> BackgroundScheduler:
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info("scheduler started with jobs: %s", ", ".join(JOBS) or "none")
    return scheduler


def _load_job_modules() -> None:
    """Import the modules that register jobs."""
    from gateway.services import jobdefs  # noqa: F401
