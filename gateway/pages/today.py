"""What each role's start page 「今日」 shows (one function per role; the template picks the panels).

Every figure is one aggregate in SQL over indexed columns (or a short, limited list), so the page stays
cheap with 100,000 claims and 1,000,000 payments; nothing loads rows into Python to count them. Every count
carries the link of the page that lists it. No panel shows a debtor.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway import catalogue
from gateway.context import Actor
from gateway.context import Context
from gateway.models import AccountingEntry
from gateway.models import Agent
from gateway.models import ApiClient
from gateway.models import AuditEvent
from gateway.models import JobRun
from gateway.models import Payment
from gateway.models import PrintBatch
from gateway.models import ReconException
from gateway.models import Remittance
from gateway.models import SettlementFile
from gateway.models import Slip
from gateway.models import User
from gateway.models.base import JST

#: Age buckets of open exceptions, in days since they were opened (Japan dates).
AGES = (("new", "0〜2日", 0, 2), ("week", "3〜7日", 3, 7), ("old", "8日以上", 8, None))


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), JST).astimezone(datetime.UTC)


def _scalar(c: Context, stmt: Any) -> Any:
    return c.session.execute(stmt).scalar_one()


def _link(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{path}?{query}" if query else path


# -- finance


def open_exceptions(c: Context) -> dict[str, Any]:
    """Open exceptions by kind and age bucket (one GROUP BY on the status/kind index)."""
    today = c.today()
    opened = col(ReconException.opened_date)
    bucket = sa.case(
        (opened >= today - datetime.timedelta(days=2), "new"),
        (opened >= today - datetime.timedelta(days=7), "week"),
        else_="old",
    )
    stmt = (
        sa.select(col(ReconException.kind), bucket.label("age"), sa.func.count())
        .where(col(ReconException.status) == "open")
        .group_by(col(ReconException.kind), bucket)
    )
    kinds: dict[str, dict[str, int]] = {}
    for kind, age, n in c.session.execute(stmt):
        kinds.setdefault(kind, {"new": 0, "week": 0, "old": 0})[age] = int(n)
    rows: list[dict[str, Any]] = [
        {
            "kind": kind,
            "ages": ages,
            "total": sum(ages.values()),
            "href": _link("/staff/exceptions", status="open", kind=kind),
        }
        for kind, ages in sorted(kinds.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    totals = {key: sum(r["ages"][key] for r in rows) for key, _, _, _ in AGES}
    return {"rows": rows, "totals": totals, "total": sum(totals.values()), "ages": AGES}


def _finance(c: Context) -> dict[str, Any]:
    today = c.today()
    week_end = today + datetime.timedelta(days=6)
    grace = datetime.timedelta(days=c.settings.barcode_grace_days)
    exceptions = open_exceptions(c)
    unconfirmed = next((r["total"] for r in exceptions["rows"] if r["kind"] == "unconfirmed_preliminary"), 0)
    live = col(Slip.status) == "issued"
    due = _scalar(
        c,
        sa.select(sa.func.count()).select_from(Slip).where(live, col(Slip.due_date).between(today, week_end)),
    )
    expiring = _scalar(
        c,
        sa.select(sa.func.count())
        .select_from(Slip)
        .where(live, col(Slip.barcode_expiry).between(today, week_end)),
    )
    # Received today: ``updated_at`` (indexed) is never before ``received_at``, so it bounds the scan.
    start = _midnight(today)
    received = (
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(col(Payment.amount)), 0))
        .where(col(Payment.updated_at) >= start, col(Payment.received_date) == today)
        .where(col(Payment.state) != "cancelled")
    )
    receipts_count, receipts_amount = c.session.execute(received).one()
    files_today = _scalar(
        c,
        sa.select(sa.func.count())
        .select_from(SettlementFile)
        .where(col(SettlementFile.received_date) == today),
    )
    rejected_today = _scalar(
        c,
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.action) == "settlement_file.reject", col(AuditEvent.at) >= start),
    )
    return {
        "exceptions": exceptions,
        "unconfirmed": {
            "count": unconfirmed,
            "days": c.settings.unconfirmed_days,
            "href": _link("/staff/exceptions", status="open", kind="unconfirmed_preliminary"),
        },
        "slips": {
            "from": today,
            "to": week_end,
            "due": due,
            "due_href": _link("/staff/claims", due_from=today.isoformat(), due_to=week_end.isoformat()),
            "expiring": expiring,
            "expiring_href": _link(
                "/staff/claims", due_from=(today - grace).isoformat(), due_to=(week_end - grace).isoformat()
            ),
        },
        "receipts": {
            "count": int(receipts_count),
            "amount": int(receipts_amount),
            "href": f"/staff/reports/daily/{today.isoformat()}",
        },
        "files": {"count": files_today, "rejected": rejected_today, "href": "/staff/settlements"},
    }


# -- approver


def _approver(c: Context, limit: int = 20) -> dict[str, Any]:
    today = c.today()
    pending = col(ReconException.status) == "pending_approval"
    total = _scalar(c, sa.select(sa.func.count()).select_from(ReconException).where(pending))
    rows = c.session.exec(
        select(ReconException)
        .where(pending)
        .order_by(col(ReconException.proposed_at), col(ReconException.id))
        .limit(limit)
    ).all()
    items = []
    for exc in rows:
        since = exc.proposed_at or exc.opened_at
        since_date = (
            since.astimezone(JST).date()
            if since.tzinfo
            else since.replace(tzinfo=datetime.UTC).astimezone(JST).date()
        )
        items.append(
            {
                "id": exc.id,
                "kind": exc.kind,
                "resolution": exc.resolution,
                "proposed_by": catalogue.actor_text(exc.proposed_by),
                "proposed_at": since,
                "age_days": (today - since_date).days,
                "amount": exc.amount,
                "href": f"/staff/exceptions/{exc.id}",
            }
        )
    return {
        "approvals": {
            "total": total,
            "items": items,
            "href": _link("/staff/exceptions", status="pending_approval"),
        }
    }


# -- accounting


def _accounting(c: Context, days: int = 7) -> dict[str, Any]:
    today = c.today()
    since = today - datetime.timedelta(days=days - 1)
    remit = c.session.execute(
        sa.select(
            col(Remittance.transfer_date),
            col(Agent.name),
            col(Remittance.expected),
            col(Remittance.credited),
            col(Remittance.status),
        )
        .join(Agent, col(Agent.id) == col(Remittance.agent_id))
        .where(col(Remittance.transfer_date) >= today - datetime.timedelta(days=14))
        .order_by(col(Remittance.transfer_date).desc(), col(Agent.name))
        .limit(30)
    ).all()
    mismatches = _scalar(
        c,
        sa.select(sa.func.count())
        .select_from(ReconException)
        .where(col(ReconException.status) == "open", col(ReconException.kind) == "remittance_mismatch"),
    )
    by_day = c.session.execute(
        sa.select(
            col(AccountingEntry.receipt_date),
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(col(AccountingEntry.amount)), 0),
        )
        .where(col(AccountingEntry.receipt_date) >= since)
        .group_by(col(AccountingEntry.receipt_date))
        .order_by(col(AccountingEntry.receipt_date).desc())
    ).all()
    dates = [d.isoformat() for d, _, _ in by_day]
    exported: set[str] = set()
    if dates:
        exported = set(
            c.session.execute(
                sa.select(col(AuditEvent.target_id)).where(
                    col(AuditEvent.target_type) == "receipt_date",
                    col(AuditEvent.target_id).in_(dates),
                    col(AuditEvent.action) == "export.accounting",
                )
            ).scalars()
        )
    receipts = [
        {
            "date": day,
            "count": int(n),
            "amount": int(amount),
            "exported": day.isoformat() in exported,
            "href": _link("/staff/exports", receipt_date=day.isoformat()),
        }
        for day, n, amount in by_day
    ]
    return {
        "remittances": {
            "rows": [
                {"date": d, "agent": name, "expected": e, "credited": cr, "status": st, "diff": e - cr}
                for d, name, e, cr, st in remit
            ],
            "mismatches": mismatches,
            "mismatch_href": _link("/staff/exceptions", status="open", kind="remittance_mismatch"),
            "href": "/staff/settlements",
        },
        "receipts_by_day": receipts,
        "ready": [r for r in receipts if not r["exported"]],
        "exports_href": "/staff/exports",
    }


# -- print contractor


def _print_vendor(c: Context, limit: int = 50) -> dict[str, Any]:
    days = getattr(c.settings, "print_batch_days", 14)
    cutoff = c.now() - datetime.timedelta(days=days)
    rows = c.session.exec(
        select(PrintBatch)
        .where(col(PrintBatch.created_at) >= cutoff)
        .order_by(col(PrintBatch.id).desc())
        .limit(limit)
    ).all()
    return {
        "batches": {
            "days": days,
            "items": [
                {
                    "id": b.id,
                    "created_at": b.created_at,
                    "envelopes": b.envelopes,
                    "pages": b.pages,
                    "mailed_on": b.mailed_on,
                    "expires_on": (
                        b.created_at if b.created_at.tzinfo else b.created_at.replace(tzinfo=datetime.UTC)
                    )
                    + datetime.timedelta(days=days),
                    "href": f"/staff/print-batches/{b.id}",
                }
                for b in rows
            ],
            "href": "/staff/print-batches",
        }
    }


# -- admin


def _admin(c: Context) -> dict[str, Any]:
    users: dict[bool, int] = {}
    by_state = sa.select(col(User.active), sa.func.count()).group_by(col(User.active))
    for active, n in c.session.execute(by_state):
        users[bool(active)] = int(n)
    clients_active = _scalar(
        c, sa.select(sa.func.count()).select_from(ApiClient).where(col(ApiClient.revoked_at).is_(None))
    )
    clients_all = _scalar(c, sa.select(sa.func.count()).select_from(ApiClient))
    agents = _scalar(c, sa.select(sa.func.count()).select_from(Agent))
    latest_ids = sa.select(sa.func.max(col(JobRun.id))).group_by(col(JobRun.job)).scalar_subquery()
    runs = c.session.exec(
        select(JobRun).where(col(JobRun.id).in_(latest_ids)).order_by(col(JobRun.job))
    ).all()
    week_ago = c.now() - datetime.timedelta(days=7)
    failed = _scalar(
        c,
        sa.select(sa.func.count())
        .select_from(JobRun)
        .where(col(JobRun.outcome) == "failed", col(JobRun.started_at) >= week_ago),
    )
    return {
        "admin": {
            "users_active": int(users.get(True, 0)),
            "users_disabled": int(users.get(False, 0)),
            "clients_active": clients_active,
            "clients_revoked": clients_all - clients_active,
            "agents": agents,
            "jobs": [
                {"job": r.job, "outcome": r.outcome, "started_at": r.started_at, "finished_at": r.finished_at}
                for r in runs
            ],
            "jobs_failed_week": failed,
            "jobs_href": "/staff/jobs",
        }
    }


# -- auditor


def _auditor(c: Context) -> dict[str, Any]:
    from gateway import audit
    from gateway.pages.audit import row

    found = audit.page(c.session, audit.AuditFilter(), limit=10)
    total = _scalar(c, sa.select(sa.func.max(col(AuditEvent.id))))
    return {"audit": {"rows": [row(e) for e in found.events], "total": total or 0, "href": "/staff/audit"}}


PANELS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "finance": _finance,
    "approver": _approver,
    "accounting": _accounting,
    "print_vendor": _print_vendor,
    "admin": _admin,
    "auditor": _auditor,
}


def for_role(c: Context, actor: Actor) -> dict[str, Any]:
    """The panels of ``actor``'s start page."""
    build = PANELS.get(actor.role or "")
    return build(c) if build else {}
