"""The scheduled jobs: each is a thin wrapper around a service (see gateway.jobs).

A job takes the scheduler's :class:`~gateway.context.Context` and returns its counts (stored on the run
row). Raise :class:`gateway.jobs.JobError` with the counts when part of the work failed: the run is then
recorded ``failed`` with the counts and the message. Services are imported inside the jobs, so importing
this module (which every scheduler does) stays cheap and never depends on a service's own imports.

Order: settlement intake first (inbox, fetch); reconciliation, ageing and the daily report follow below.
"""

from __future__ import annotations

import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from gateway import jobs
from gateway.context import Context
from gateway.jobs import JobError
from gateway.jobs import register
from gateway.runtime import Runtime

# -- settlement intake (issue 3)


@register("inbox", "schedule_inbox", max_runtime=datetime.timedelta(hours=1))
def inbox_job(ctx: Context) -> dict[str, Any]:
    """Ingest the complete files in GATEWAY_INBOX_DIR and file them into processed/ or rejected/."""
    from gateway.intake import inbox

    counts: dict[str, Any] = inbox.scan(ctx)
    if counts["failed"]:
        raise JobError(
            f"{counts['failed']} inbox file(s) could not be ingested; they stay in the inbox", counts
        )
    return counts


@register("fetch", "schedule_fetch", max_runtime=datetime.timedelta(hours=1))
def fetch_job(ctx: Context) -> dict[str, Any]:
    """Pull new files from the sources in GATEWAY_FETCH_SOURCES (nothing to do when it is not set)."""
    from gateway.intake import fetch

    result = fetch.fetch_all(ctx)
    counts: dict[str, Any] = fetch.summarize(result)
    broken = [s["name"] for s in result["sources"] if s["error"] or s["failed"]]
    if broken:
        raise JobError(f"fetch failed for source(s): {', '.join(broken)}", counts)
    return counts


# -- reconciliation (issue 4): reconcile (schedule_reconcile), ageing (schedule_ageing) and
#    daily_report (schedule_daily_report) are registered here, below this line, in the same style.


@register("reconcile", "schedule_reconcile", max_runtime=datetime.timedelta(hours=2))
def reconcile_job(ctx: Context) -> dict[str, Any]:
    """Reconcile everything ingested since the last run (as of today in Japan)."""
    from gateway.money import reconcile

    return reconcile.run(ctx).as_json()


@register("ageing", "schedule_ageing")
def ageing_job(ctx: Context) -> dict[str, Any]:
    """Every morning: preliminaries unconfirmed too long, remittances whose credit is overdue."""
    from gateway.money import reconcile

    return reconcile.age(ctx).as_json()


@register("daily_report", "schedule_daily_report", max_runtime=datetime.timedelta(hours=1))
def daily_report_job(ctx: Context) -> dict[str, Any]:
    """Write yesterday's daily report files (json, csv, html) into <instance_dir>/reports/daily/."""
    from gateway.reporting import reports

    result: dict[str, Any] = reports.daily_report_job(ctx)
    return result


def start(runtime: Runtime) -> BackgroundScheduler:
    """A started scheduler with the jobs defined above, each on its configured schedule."""
    return jobs.start(runtime)


def names() -> list[str]:
    """The jobs defined above, in the order they are declared."""
    return jobs.job_names()
