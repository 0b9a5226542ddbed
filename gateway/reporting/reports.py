"""Reports people read every morning, and the file the accounting system imports.

* :func:`daily` — the daily report, keyed on the Japan date the gateway RECEIVED the data and broken down by
  payment date and channel. It is built only from rows that are never changed once written (settlement and
  bank records, exception actions, claim status changes) plus the payments' first-record facts, so a past
  day's report does not change after the day is over and its records are reconciled (``final``).
* :func:`accounting_export` — 消込データ: one row per accounting entry with a receipt date (収入日), streamed
  from a server-side cursor; corrections are reversing rows, never rewrites.
* :func:`arrears` — claims past their due date and unpaid (preliminary store money counts as paid), for the
  office's own follow-up. The gateway contacts nobody, sends nothing and adds no late charges.

Writers: JSON, CSV (UTF-8 with BOM, or cp932 for Excel) and a standalone HTML page with a server-drawn SVG
chart of the last 30 days. docs/reports.md and docs/accounting-export.md describe every field and column.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import io
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import NamedTuple

import sqlalchemy as sa
from markupsafe import Markup

from gateway import catalogue
from gateway import formats
from gateway import pii
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import InvalidInput
from gateway.models import AccountingEntry
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.models import AuditEvent
from gateway.models import BankRecord
from gateway.models import Claim
from gateway.models import ClaimStatusLog
from gateway.models import ExceptionAction
from gateway.models import Payment
from gateway.models import PrintBatch
from gateway.models import PrintBatchItem
from gateway.models import ReconException
from gateway.models import SettlementRecord
from gateway.models import Slip
from gateway.models import UnreconciledRecord
from gateway.models.base import JST
from gateway.models.base import japan_date
from gateway.models.base import table_of
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.settlement import select_fee
from gateway.reporting import report_chart
from gateway.reporting.report_chart import DayFigures
from reconciliation import rules

REPORT_ROLES = ("finance", "accounting", "auditor")
"""Who may read the daily report and the arrears list over HTTP (spec/interfaces.md)."""
ENCODINGS = ("utf-8", "cp932")
"""CSV encodings: ``utf-8`` is written with a BOM (Excel then detects it); ``cp932`` for older Excel."""
FORMATS = ("json", "csv", "html")
CHART_DAYS = 30
KINDS = ("preliminary", "confirmed", "cancelled")
"""Record kinds as the report names them (a ``cancellation`` record is counted as ``cancelled``)."""
_RECORD_KINDS = {"preliminary": "preliminary", "confirmed": "confirmed", "cancellation": "cancelled"}
PAID_OFF = ("paid", "overpaid")
GETA = "\u3013"
"""〓 (GETA MARK): what a character that cp932 cannot hold is replaced with, visibly."""
_CHUNK = 1000

# -- labels (Japanese, for the HTML page and the CSV's name columns): the one table is the catalogue's

CHANNEL_LABELS: dict[str, str] = catalogue.LABELS["channel"]
"""The catalogue's channel names (the same dict, not a copy)."""
KIND_LABELS: dict[str, str] = {k: catalogue.label("payment_state", k) for k in KINDS}
EXCEPTION_LABELS: dict[str, str] = catalogue.LABELS["exception_kind"]
"""The catalogue's exception-kind names (the same dict, not a copy), in the spec's order."""


def channel_label(code: str | None) -> str:
    """The Japanese display name of a channel code (the code itself when unknown)."""
    if code is None:
        return ""
    return CHANNEL_LABELS.get(code) or code


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(text: str, field_name: str = "date") -> datetime.date:
    """A ``YYYY-MM-DD`` date, or :class:`InvalidInput` naming the field (CLI exit 65, HTTP 422).

    >>> parse_day("2026-12-02")
    datetime.date(2026, 12, 2)
    >>> parse_day("2026-02-30")
    Traceback (most recent call last):
        ...
    gateway.errors.InvalidInput: date '2026-02-30' is not a date YYYY-MM-DD
    """
    value = (text or "").strip()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field_name} {text!r} is not a date YYYY-MM-DD", field=field_name) from None


SR = table_of(SettlementRecord)
BR = table_of(BankRecord)
PAY = table_of(Payment)
EXC = table_of(ReconException)
ACT = table_of(ExceptionAction)
LOG = table_of(ClaimStatusLog)
CLAIMS = table_of(Claim)
SLIPS = table_of(Slip)
ENTRIES = table_of(AccountingEntry)
BATCHES = table_of(PrintBatch)
BATCH_ITEMS = table_of(PrintBatchItem)


def _day(value: Any) -> datetime.date | None:
    """A date column value (SQLite may hand back text from an aggregate)."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _iso(value: datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _figure(count: int = 0, amount: int = 0) -> dict[str, int]:
    return {"count": count, "amount": amount}


# Aggregates are labelled, so result rows are read by name (``row.counted``), never by position.
_COUNT = sa.func.count().label("counted")
"""``count(*)``, labelled ``counted``: a row's ``count`` is the tuple method, not a column."""


def _sum(column: sa.ColumnElement[Any], name: str = "amount") -> sa.Label[Any]:
    """``coalesce(sum(column), 0)`` labelled ``name``."""
    return sa.func.coalesce(sa.func.sum(column), 0).label(name)


# ======================================================================================== daily report


def daily(ctx: Context, day: datetime.date) -> dict[str, Any]:
    """The daily report for the Japan date ``day`` on which the gateway received the data.

    Sections (docs/reports.md): records received by payment date and channel; late payments whose first
    record arrived that day; money staff recorded that day; exception actions of the day by kind; claims
    paid off (and reopened) that day; what the confirmed records received that day add to each agent's
    remittance per transfer date (gross, fees, fee tax, expected); bank credits received that day; totals.

    ``final`` is true once the day is over (Japan time) and every record received that day has been
    reconciled: from then on the report never changes. Amounts are integer yen.
    """
    agents = {a.id: a for a in ctx.session.execute(sa.select(Agent)).scalars()}
    received, postal = _received(ctx, day)
    late = _late(ctx, day)
    manual = _manual(ctx, day)
    exceptions, other_actions = _exceptions(ctx, day)
    paid_off, reopened = _claims(ctx, day)
    remittances = _expected_remittances(ctx, day, agents)
    credits, unmatched = _bank_credits(ctx, day, agents)
    # settlement records wait in the queue; bank records are few and carry processed_at
    unreconciled = _count(ctx, SR, day, SR.c.id.in_(sa.select(table_of(UnreconciledRecord).c.record_id)))
    unreconciled_bank = _count(ctx, BR, day, BR.c.processed_at.is_(None))
    day_open = day >= ctx.today()
    totals = {
        "received": {
            kind: _figure(sum(r[kind]["count"] for r in received), sum(r[kind]["amount"] for r in received))
            for kind in KINDS
        },
        "postal_corrections": postal,
        "late": _figure(sum(r["count"] for r in late), sum(r["amount"] for r in late)),
        "manual_receipts": _figure(sum(r["count"] for r in manual), sum(r["amount"] for r in manual)),
        "exceptions": {key: sum(r[key] for r in exceptions) for key in ("opened", "resolved", "reopened")},
        "claims_paid_off": len(paid_off),
        "claims_reopened": len(reopened),
        "expected_remittances": {
            key: sum(r[key] for r in remittances)
            for key in ("records", "gross", "fees", "fee_tax", "expected")
        },
        "bank_credits": {
            key: sum(r[key] for r in credits) for key in ("count", "amount", "cancelled_count", "credited")
        },
        "unmatched_credits": {
            key: sum(r[key] for r in unmatched) for key in ("count", "amount", "cancelled_count", "credited")
        },
    }
    return {
        "report": "daily",
        "received_date": day.isoformat(),
        "timezone": "Asia/Tokyo",
        "currency": "JPY",
        "final": not day_open and not unreconciled and not unreconciled_bank,
        "pending": {
            "day_open": day_open,
            "unreconciled_records": unreconciled,
            "unreconciled_bank_records": unreconciled_bank,
        },
        "received": received,
        "late": late,
        "manual_receipts": manual,
        "exceptions": exceptions,
        "exception_actions": other_actions,
        "claims": {"paid_off": paid_off, "reopened": reopened},
        "expected_remittances": remittances,
        "bank_credits": credits,
        "unmatched_credits": unmatched,
        "totals": totals,
    }


def _count(ctx: Context, table: sa.Table, day: datetime.date, waiting: sa.ColumnElement[bool]) -> int:
    """Records of ``table`` received on ``day`` that reconciliation has not looked at yet (``waiting``)."""
    stmt = sa.select(sa.func.count()).select_from(table).where(table.c.received_date == day, waiting)
    return int(ctx.session.execute(stmt).scalar_one())


def _received(ctx: Context, day: datetime.date) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Records received on ``day`` by payment date and channel, per kind; and the postal ``22`` records."""
    stmt = (
        sa.select(
            SR.c.paid_date,
            SR.c.channel_code,
            SR.c.kind,
            _COUNT,
            _sum(SR.c.amount),
        )
        .where(SR.c.received_date == day)
        .group_by(SR.c.paid_date, SR.c.channel_code, SR.c.kind)
    )
    rows: dict[tuple[datetime.date, str], dict[str, Any]] = {}
    for r in ctx.session.execute(stmt):
        paid = _day(r.paid_date)
        assert paid is not None
        row = rows.setdefault(
            (paid, r.channel_code),
            {
                "paid_date": paid.isoformat(),
                "channel_code": r.channel_code,
                "channel_name": channel_label(r.channel_code),
                **{k: _figure() for k in KINDS},
            },
        )
        row[_RECORD_KINDS[r.kind]] = _figure(int(r.counted), int(r.amount))
    postal = ctx.session.execute(
        sa.select(_COUNT, _sum(SR.c.amount)).where(SR.c.received_date == day, SR.c.kind_code == "22")
    ).one()
    return [rows[k] for k in sorted(rows)], _figure(int(postal.counted), int(postal.amount))


def _late(ctx: Context, day: datetime.date) -> list[dict[str, Any]]:
    """Late payments (after the printed due date, within the barcode expiry) first received on ``day``.

    Payment date, channel and amount are those of the payment's first record, which never changes (a later
    confirmation may carry another amount; that is a ``confirmation_differs`` exception, not a new late
    payment). Money recorded by staff counts too.
    """
    first = sa.func.coalesce(PAY.c.preliminary_record_id, PAY.c.confirmed_record_id)
    paid = sa.func.coalesce(SR.c.paid_date, PAY.c.paid_date).label("paid_date")
    channel = sa.func.coalesce(SR.c.channel_code, PAY.c.channel_code).label("channel_code")
    stmt = (
        sa.select(
            paid,
            channel,
            _COUNT,
            _sum(sa.func.coalesce(SR.c.amount, PAY.c.amount)),
        )
        .select_from(PAY.outerjoin(SR, SR.c.id == first))
        .where(
            PAY.c.received_date == day,
            PAY.c.late.is_(True),
            PAY.c.source.in_(("agent", "manual")),
        )
        .group_by(paid, channel)
    )
    return _by_date_channel(ctx.session.execute(stmt))


def _manual(ctx: Context, day: datetime.date) -> list[dict[str, Any]]:
    """Money staff recorded on ``day`` (counter, bank counter, direct transfer, deduction)."""
    stmt = (
        sa.select(
            PAY.c.paid_date,
            PAY.c.channel_code,
            _COUNT,
            _sum(PAY.c.amount),
        )
        .where(PAY.c.received_date == day, PAY.c.source == "manual")
        .group_by(PAY.c.paid_date, PAY.c.channel_code)
    )
    return _by_date_channel(ctx.session.execute(stmt))


def _by_date_channel(rows: Iterable[sa.Row[Any]]) -> list[dict[str, Any]]:
    """Rows labelled ``paid_date``, ``channel_code``, ``counted`` and ``amount`` as report lines."""
    out = []
    for r in rows:
        out.append(
            {
                "paid_date": _iso(_day(r.paid_date)),
                "channel_code": r.channel_code,
                "channel_name": channel_label(r.channel_code),
                "count": int(r.counted),
                "amount": int(r.amount),
            }
        )
    return sorted(out, key=lambda r: (r["paid_date"] or "", r["channel_code"] or ""))


RESOLVED_ACTIONS = ("resolved", "approved")
"""Exception actions that resolve it: a direct resolution, or the approval of a four-eyes proposal."""
REOPENED_ACTIONS = ("unmatched",)
"""Exception actions that undo a resolution (the exception is open again)."""


def _exceptions(ctx: Context, day: datetime.date) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Exception actions recorded on ``day``: opened, resolved and reopened per kind; the others (proposed,
    rejected, refunded …) by name.

    Counts only: an exception's amount can be brought up to date later (an overpayment grows), its history
    of actions cannot.
    """
    stmt = (
        sa.select(EXC.c.kind, ACT.c.action, _COUNT)
        .select_from(ACT.join(EXC, EXC.c.id == ACT.c.exception_id))
        .where(ACT.c.on_date == day)
        .group_by(EXC.c.kind, ACT.c.action)
    )
    by_kind: dict[str, dict[str, Any]] = {}
    other: dict[str, int] = defaultdict(int)
    for r in ctx.session.execute(stmt):
        if r.action == "opened":
            column = "opened"
        elif r.action in RESOLVED_ACTIONS:
            column = "resolved"
        elif r.action in REOPENED_ACTIONS:
            column = "reopened"
        else:
            other[r.action] += int(r.counted)
            continue
        row = by_kind.setdefault(
            r.kind,
            {
                "kind": r.kind,
                "label": EXCEPTION_LABELS.get(r.kind, r.kind),
                "opened": 0,
                "resolved": 0,
                "reopened": 0,
            },
        )
        row[column] += int(r.counted)
    order = {k: i for i, k in enumerate(EXCEPTION_LABELS)}
    rows = sorted(by_kind.values(), key=lambda r: (order.get(r["kind"], len(order)), r["kind"]))
    return rows, dict(sorted(other.items()))


def _claims(ctx: Context, day: datetime.date) -> tuple[list[str], list[str]]:
    """Claim numbers paid off on ``day`` (open → paid/overpaid) and reopened (paid → open)."""
    stmt = (
        sa.select(CLAIMS.c.number, LOG.c.old_status, LOG.c.new_status)
        .select_from(LOG.join(CLAIMS, CLAIMS.c.id == LOG.c.claim_id))
        .where(LOG.c.on_date == day)
        .order_by(LOG.c.id)
    )
    paid_off: set[str] = set()
    reopened: set[str] = set()
    for r in ctx.session.execute(stmt):
        if r.new_status in PAID_OFF and r.old_status not in PAID_OFF:
            paid_off.add(r.number)
        elif r.old_status in PAID_OFF and r.new_status == "open":
            reopened.add(r.number)
    return sorted(paid_off), sorted(reopened)


_Line = tuple[int, datetime.date | None, str, datetime.date]
"""(agent id, transfer date, channel, payment date): one fee line of a remittance."""


class _FeeGroupLine(NamedTuple):
    """One channel and payment date of an agent's remittance for a transfer date."""

    channel: str
    paid_date: datetime.date
    items: int
    amount: int


def _postal_deltas(ctx: Context, day: datetime.date) -> dict[_Line, list[int]]:
    """What the postal ``12``/``22`` records received on ``day`` add to the remittances.

    Reconciliation counts, per (agent, payment number, payment date), the ``22`` corrections when there are
    any, else the ``12`` records. Counted on the records received up to a day, the report's share of a day is
    that count minus the same count up to the day before: a ``22`` arriving after its ``12`` replaces it
    (its own amount in, the ``12``'s out) instead of being counted twice, and no later record changes it.
    """
    keys = {
        (int(r.agent_id), r.payment_number, _day(r.paid_date))
        for r in ctx.session.execute(
            sa.select(SR.c.agent_id, SR.c.payment_number, SR.c.paid_date)
            .where(SR.c.received_date == day, SR.c.kind_code.in_(("12", "22")))
            .distinct()
        )
    }
    deltas: dict[_Line, list[int]] = defaultdict(lambda: [0, 0])
    numbers = sorted({number for _, number, _ in keys})
    records: dict[tuple[int, str, datetime.date | None], list[sa.Row[Any]]] = defaultdict(list)
    for start in range(0, len(numbers), _CHUNK):
        stmt = sa.select(
            SR.c.agent_id,
            SR.c.payment_number,
            SR.c.paid_date,
            SR.c.kind_code,
            SR.c.received_date,
            SR.c.transfer_date,
            SR.c.channel_code,
            SR.c.amount,
        ).where(
            SR.c.payment_number.in_(numbers[start : start + _CHUNK]),
            SR.c.kind_code.in_(("12", "22")),
            SR.c.received_date <= day,
        )
        for row in ctx.session.execute(stmt):
            key = (int(row.agent_id), row.payment_number, _day(row.paid_date))
            if key in keys:
                records[key].append(row)
    for (agent_id, _number, paid_date), rows in records.items():
        for sign, subset in (
            (1, rows),
            (-1, [r for r in rows if _day(r.received_date) != day]),  # what was counted up to the day before
        ):
            corrections = [r for r in subset if r.kind_code == "22"]
            for r in corrections or subset:
                line = (agent_id, _day(r.transfer_date), r.channel_code, paid_date or day)
                deltas[line][0] += sign
                deltas[line][1] += sign * int(r.amount)
    return deltas


def _expected_remittances(ctx: Context, day: datetime.date, agents: dict[Any, Agent]) -> list[dict[str, Any]]:
    """Per agent and transfer date: what the confirmed records received on ``day`` add to the remittance.

    Fees are the agent's fee per item and tax rate for each record's channel and payment date
    (``select_fee``), rounded as ``rules.owed`` does; ``expected`` is the gross, or the gross net of fees and
    tax for an agent that remits net. The authoritative figures per transfer date (all days together) are the
    three-way match's; these are one day's share.
    """
    stmt = (
        sa.select(
            SR.c.agent_id,
            SR.c.transfer_date,
            SR.c.channel_code,
            SR.c.paid_date,
            _COUNT,
            _sum(SR.c.amount),
        )
        .where(
            SR.c.received_date == day,
            SR.c.kind == "confirmed",
            SR.c.kind_code.not_in(("12", "22")),
            SR.c.transfer_date.is_not(None),  # bank-counter money is received directly, never remitted
        )
        .group_by(SR.c.agent_id, SR.c.transfer_date, SR.c.channel_code, SR.c.paid_date)
    )
    lines: dict[_Line, list[int]] = defaultdict(lambda: [0, 0])
    for r in ctx.session.execute(stmt):
        paid_date = _day(r.paid_date)
        assert paid_date is not None
        line = (int(r.agent_id), _day(r.transfer_date), r.channel_code, paid_date)
        lines[line][0] += int(r.counted)
        lines[line][1] += int(r.amount)
    for line, (items, amount) in _postal_deltas(ctx, day).items():
        lines[line][0] += items
        lines[line][1] += amount
    fees: dict[int, list[AgentFee]] = defaultdict(list)
    for fee in ctx.session.execute(sa.select(AgentFee)).scalars():
        fees[fee.agent_id].append(fee)
    groups: dict[tuple[int, datetime.date | None], list[_FeeGroupLine]] = defaultdict(list)
    for (agent_id, transfer, channel, paid), (items, amount) in lines.items():
        if items or amount:
            groups[(agent_id, transfer)].append(_FeeGroupLine(channel, paid, items, amount))
    out = []
    for (agent_id, transfer), group in groups.items():
        agent = agents.get(agent_id)
        mode = agent.remittance_mode if agent else "gross"
        fee_lines = []
        for g in group:
            fee, rate = select_fee(fees[agent_id], g.channel, g.paid_date)
            fee_lines.append(rules.FeeLine(g.items, fee, rate))
        owed = rules.owed(sum(g.amount for g in group), fee_lines, mode)
        out.append(
            {
                "agent_code": agent.code if agent else None,
                "agent_name": agent.name if agent else None,
                "transfer_date": _iso(transfer),
                "mode": mode,
                "records": sum(g.items for g in group),
                "gross": owed.gross,
                "fees": owed.fees,
                "fee_tax": owed.fee_tax,
                "expected": owed.expected,
            }
        )
    return sorted(out, key=lambda r: (r["transfer_date"] or "9999", r["agent_code"] or ""))


def _bank_credits(
    ctx: Context, day: datetime.date, agents: dict[Any, Agent]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Bank credits received on ``day`` by value date: from agents, and unmatched (no agent's remitter name).

    A transfer notice's cancellation (取消区分 1) withdraws a credit: ``credited`` = credits − cancellations.
    The remitter's name is not shown (it can be a debtor's on a direct transfer).
    """
    stmt = (
        sa.select(
            BR.c.value_date,
            BR.c.agent_id,
            BR.c.cancelled,
            _COUNT,
            _sum(BR.c.amount),
        )
        .where(BR.c.received_date == day, BR.c.direction == "credit")
        .group_by(BR.c.value_date, BR.c.agent_id, BR.c.cancelled)
    )
    by_agent: dict[tuple[datetime.date, str], dict[str, Any]] = {}
    unmatched: dict[datetime.date, dict[str, Any]] = {}
    for r in ctx.session.execute(stmt):
        value = _day(r.value_date)
        assert value is not None
        figures = {"count": 0, "amount": 0, "cancelled_count": 0, "cancelled_amount": 0, "credited": 0}
        if r.agent_id is None:
            row = unmatched.setdefault(value, {"value_date": value.isoformat(), **figures})
        else:
            agent = agents.get(r.agent_id)
            code = agent.code if agent else str(r.agent_id)
            name = agent.name if agent else None
            row = by_agent.setdefault(
                (value, code),
                {"value_date": value.isoformat(), "agent_code": code, "agent_name": name, **figures},
            )
        prefix = "cancelled_" if r.cancelled else ""
        row[prefix + "count"] += int(r.counted)
        row[prefix + "amount"] += int(r.amount)
        row["credited"] = row["amount"] - row["cancelled_amount"]
    return [by_agent[k] for k in sorted(by_agent)], [unmatched[k] for k in sorted(unmatched)]


# -- history (the chart)


def latest_day_with_data(ctx: Context, on_or_before: datetime.date | None = None) -> datetime.date:
    """The newest received date up to ``on_or_before`` (default today, Japan) on which settlement or bank
    data arrived: the day the staff report opens on. Without any data: yesterday."""
    last = on_or_before or ctx.today()
    newest = None
    for table in (SR, BR):
        found = _day(
            ctx.session.execute(
                sa.select(sa.func.max(table.c.received_date)).where(table.c.received_date <= last)
            ).scalar_one()
        )
        if found is not None and (newest is None or found > newest):
            newest = found
    return newest or ctx.today() - datetime.timedelta(days=1)


def history(ctx: Context, last: datetime.date, days: int = CHART_DAYS) -> list[DayFigures]:
    """Per received date from ``last - days + 1`` to ``last``: counts and amounts per kind, exceptions
    opened."""
    first = last - datetime.timedelta(days=days - 1)
    counts: dict[datetime.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    amounts: dict[datetime.date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
    stmt = (
        sa.select(SR.c.received_date, SR.c.kind, _COUNT, _sum(SR.c.amount))
        .where(SR.c.received_date.between(first, last))
        .group_by(SR.c.received_date, SR.c.kind)
    )
    for r in ctx.session.execute(stmt):
        d = _day(r.received_date)
        assert d is not None
        counts[d][_RECORD_KINDS[r.kind]] += int(r.counted)
        amounts[d][_RECORD_KINDS[r.kind]] += int(r.amount)
    opened: dict[datetime.date, int] = {}
    stmt = (
        sa.select(ACT.c.on_date, _COUNT)
        .where(ACT.c.on_date.between(first, last), ACT.c.action == "opened")
        .group_by(ACT.c.on_date)
    )
    for r in ctx.session.execute(stmt):
        d = _day(r.on_date)
        assert d is not None
        opened[d] = int(r.counted)
    out = []
    for i in range(days):
        d = first + datetime.timedelta(days=i)
        out.append(DayFigures(d, dict(counts[d]), dict(amounts[d]), opened.get(d, 0)))
    return out


# -- daily report: files


def json_bytes(doc: dict[str, Any]) -> bytes:
    """A report as UTF-8 JSON bytes (indented, keys in the report's order): the same document gives the
    same bytes."""
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


DAILY_CSV_COLUMNS = (
    "received_date",
    "section",
    "item",
    "paid_date",
    "channel_code",
    "channel_name",
    "agent_code",
    "transfer_date",
    "value_date",
    "claim_number",
    "count",
    "amount",
)
"""Flat CSV rows: the section, its keys, a count and an amount (docs/reports.md lists them)."""


def daily_rows(doc: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """The report as flat rows in :data:`DAILY_CSV_COLUMNS` order (``None`` for a column a row lacks)."""
    day = doc["received_date"]

    keys_order = DAILY_CSV_COLUMNS[3:-2]

    def row(
        section: str, item: str | None, count: int | None, amount: int | None, **keys: Any
    ) -> tuple[Any, ...]:
        return (day, section, item, *(keys.get(k) for k in keys_order), count, amount)

    for r in doc["received"]:
        for kind in KINDS:
            if r[kind]["count"]:
                yield row(
                    "received",
                    kind,
                    r[kind]["count"],
                    r[kind]["amount"],
                    paid_date=r["paid_date"],
                    channel_code=r["channel_code"],
                    channel_name=r["channel_name"],
                )
    for section in ("late", "manual_receipts"):
        for r in doc[section]:
            yield row(
                section,
                None,
                r["count"],
                r["amount"],
                paid_date=r["paid_date"],
                channel_code=r["channel_code"],
                channel_name=r["channel_name"],
            )
    for r in doc["exceptions"]:
        for action in ("opened", "resolved", "reopened"):
            if r[action]:
                yield row(f"exceptions_{action}", r["kind"], r[action], None)
    for action, count in doc["exception_actions"].items():
        yield row("exception_actions", action, count, None)
    for section, numbers in (
        ("claims_paid_off", doc["claims"]["paid_off"]),
        ("claims_reopened", doc["claims"]["reopened"]),
    ):
        for number in numbers:
            yield row(section, None, 1, None, claim_number=number)
    for r in doc["expected_remittances"]:
        for item in ("gross", "fees", "fee_tax", "expected"):
            yield row(
                "expected_remittance",
                item,
                r["records"],
                r[item],
                agent_code=r["agent_code"],
                transfer_date=r["transfer_date"],
            )
    for section in ("bank_credits", "unmatched_credits"):
        for r in doc[section]:
            keys = {"value_date": r["value_date"], "agent_code": r.get("agent_code")}
            yield row(section, "credit", r["count"], r["amount"], **keys)
            if r["cancelled_count"]:
                yield row(section, "cancelled", r["cancelled_count"], r["cancelled_amount"], **keys)
    totals = doc["totals"]
    for kind in KINDS:
        yield row(
            "total", f"received_{kind}", totals["received"][kind]["count"], totals["received"][kind]["amount"]
        )
    yield row(
        "total",
        "postal_corrections",
        totals["postal_corrections"]["count"],
        totals["postal_corrections"]["amount"],
    )
    yield row("total", "late", totals["late"]["count"], totals["late"]["amount"])
    yield row(
        "total", "manual_receipts", totals["manual_receipts"]["count"], totals["manual_receipts"]["amount"]
    )
    yield row("total", "exceptions_opened", totals["exceptions"]["opened"], None)
    yield row("total", "exceptions_resolved", totals["exceptions"]["resolved"], None)
    yield row("total", "exceptions_reopened", totals["exceptions"]["reopened"], None)
    yield row("total", "claims_paid_off", totals["claims_paid_off"], None)
    yield row("total", "claims_reopened", totals["claims_reopened"], None)
    expected = totals["expected_remittances"]
    for item in ("gross", "fees", "fee_tax", "expected"):
        yield row("total", f"expected_remittance_{item}", expected["records"], expected[item])
    yield row("total", "bank_credited", totals["bank_credits"]["count"], totals["bank_credits"]["credited"])
    yield row(
        "total",
        "unmatched_credited",
        totals["unmatched_credits"]["count"],
        totals["unmatched_credits"]["credited"],
    )


def daily_csv(doc: dict[str, Any], encoding: str = "utf-8", stats: EncodeStats | None = None) -> bytes:
    """The report as CSV bytes (UTF-8 with BOM, or cp932)."""
    return b"".join(csv_chunks(DAILY_CSV_COLUMNS, daily_rows(doc), encoding, stats))


def render_daily_html(ctx: Context, doc: dict[str, Any]) -> str:
    """The standalone HTML page (inline CSS, no script, no external resource) with the 30-day SVG chart."""
    day = datetime.date.fromisoformat(doc["received_date"])
    days = history(ctx, day)
    env = report_chart.jinja_env()
    return env.get_template("reports/daily.html").render(**daily_page_context(doc, days))


def daily_page_context(doc: dict[str, Any], days: list[DayFigures]) -> dict[str, Any]:
    """What the page templates (standalone and staff) need to show a report: the report, the chart, and the
    formatting functions (``ymd``, ``wareki``, ``label``) the standalone page has no Flask filters for."""
    day = datetime.date.fromisoformat(doc["received_date"])
    return {
        "ymd": formats.ymd,
        "wareki": formats.wareki,
        "label": catalogue.label,
        "doc": doc,
        "chart": Markup(report_chart.daily_chart(days, day)),
        "history": days,
        "kinds": KINDS,
        "kind_labels": KIND_LABELS,
        "weekday": "月火水木金土日"[day.weekday()],
    }


def write_daily_files(ctx: Context, day: datetime.date, folder: Path) -> dict[str, Any]:
    """Write ``<folder>/YYYY-MM-DD.json``, ``.csv`` and ``.html`` (each atomically); return the report."""
    doc = daily(ctx, day)
    stem = folder / day.isoformat()
    write_atomic(stem.with_suffix(".json"), [json_bytes(doc)])
    write_atomic(stem.with_suffix(".csv"), [daily_csv(doc)])
    write_atomic(stem.with_suffix(".html"), [render_daily_html(ctx, doc).encode("utf-8")])
    return doc


REWRITE_DAYS = 7
"""The job also rewrites the files of this many days before yesterday if they were written before final."""


def daily_report_job(ctx: Context) -> dict[str, Any]:
    """Scheduled job: write yesterday's (Japan) report files into ``<instance_dir>/reports/daily/``.

    Schedule it after the morning reconciliation so the report is final. A file written while its day was not
    final yet (records still unreconciled) is written again by the next runs, for up to :data:`REWRITE_DAYS`
    days, until it is; final files are left alone (their content cannot change).
    """
    day = ctx.today() - datetime.timedelta(days=1)
    folder = ctx.settings.instance_path / "reports" / "daily"
    doc = write_daily_files(ctx, day, folder)
    rewritten = []
    for back in range(1, REWRITE_DAYS + 1):
        earlier = day - datetime.timedelta(days=back)
        path = folder / f"{earlier.isoformat()}.json"
        try:
            final = json.loads(path.read_bytes()).get("final", True)
        except (OSError, ValueError):  # never written, or unreadable: nothing to bring up to date
            continue
        if not final:
            write_daily_files(ctx, earlier, folder)
            rewritten.append(earlier.isoformat())
    totals = doc["totals"]
    return {
        "date": day.isoformat(),
        "final": doc["final"],
        "files": 3 * (1 + len(rewritten)),
        "folder": str(folder),
        "records": sum(totals["received"][k]["count"] for k in KINDS),
        "amount": sum(totals["received"][k]["amount"] for k in KINDS),
        "exceptions_opened": totals["exceptions"]["opened"],
        "unreconciled_records": doc["pending"]["unreconciled_records"],
        "rewritten": rewritten,
    }


# ============================================================================================ CSV / files


@dataclass
class EncodeStats:
    """What a CSV writer did: data rows written, characters cp932 could not hold (written as 〓)."""

    rows: int = 0
    replaced: int = 0


# Characters whose JIS/Unicode mapping differs from Microsoft's: written as the cp932 look-alike, so a
# wave dash typed on a Mac does not become 〓 (the classic Shift_JIS vs MS932 trap).
_CP932_FIXES = str.maketrans(
    {
        "\u301c": "\uff5e",  # WAVE DASH → FULLWIDTH TILDE
        "\u2016": "\u2225",  # DOUBLE VERTICAL LINE → PARALLEL TO
        "\u2212": "\uff0d",  # MINUS SIGN → FULLWIDTH HYPHEN-MINUS
        "\u00a2": "\uffe0",  # CENT SIGN → FULLWIDTH
        "\u00a3": "\uffe1",  # POUND SIGN → FULLWIDTH
        "\u00ac": "\uffe2",  # NOT SIGN → FULLWIDTH
        "\u2014": "\u2015",  # EM DASH → HORIZONTAL BAR
    }
)


def encode_text(text: str, encoding: str, stats: EncodeStats | None = None) -> bytes:
    """UTF-8, or cp932 with every character it cannot hold replaced by 〓 (counted in ``stats``)."""
    if encoding == "utf-8":
        return text.encode("utf-8")
    if encoding != "cp932":
        raise InvalidInput(f"encoding must be one of {', '.join(ENCODINGS)}", field="encoding")
    text = text.translate(_CP932_FIXES)
    try:
        return text.encode("cp932")
    except UnicodeEncodeError:
        out = []
        for char in text:
            try:
                out.append(char.encode("cp932"))
            except UnicodeEncodeError:
                out.append(GETA.encode("cp932"))
                if stats is not None:
                    stats.replaced += 1
        return b"".join(out)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A value as CSV text. Text that Excel would run as a formula gets a leading ``'`` (CSV injection);
    numbers stay numbers (a negative amount is not text)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    encoding: str = "utf-8",
    stats: EncodeStats | None = None,
    preamble: Sequence[str] = (),
) -> Iterator[bytes]:
    """CSV bytes in chunks (CRLF, minimal quoting): a BOM for UTF-8, the ``preamble`` lines (one cell
    each), the header, the rows. Rows are consumed lazily, so a million of them never sit in memory."""
    if encoding not in ENCODINGS:
        raise InvalidInput(f"encoding must be one of {', '.join(ENCODINGS)}", field="encoding")
    stats = stats if stats is not None else EncodeStats()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if encoding == "utf-8":
        buffer.write("\ufeff")
    for line in preamble:
        writer.writerow([line])
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        stats.rows += 1
        if stats.rows % _CHUNK == 0:
            yield encode_text(buffer.getvalue(), encoding, stats)
            buffer.seek(0)
            buffer.truncate()
    yield encode_text(buffer.getvalue(), encoding, stats)


def write_atomic(path: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
    """Write ``chunks`` to ``path`` through a temporary file in the same folder (mode 0600) and an atomic
    rename: readers see the old file or the whole new one, never half. Returns (bytes, SHA-256)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return size, digest.hexdigest()


# =================================================================================== accounting export


EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("receipt_date", "収入日"),
    ("claim_number", "債権番号"),
    ("assessment_number", "調定番号"),
    ("assessment_date", "調定日"),
    ("revenue_item", "歳入科目"),
    ("fiscal_year", "歳入所属年度"),
    ("revenue_class", "現年度・滞納繰越"),
    ("amount", "金額"),
    ("payment_id", "収納ID"),
    ("entry_id", "消込ID"),
    ("reverses_entry_id", "取消対象消込ID"),
    ("payment_date", "収納日"),
    ("channel", "収納チャネル"),
)
"""The accounting export's columns, in order: (stable name, the header written). docs/accounting-export.md."""
CURRENT_YEAR = "現年度"
ARREARS_YEAR = "滞納繰越"


@dataclass(frozen=True)
class ExportRow:
    """One accounting entry as exported. ``amount`` is signed: a reversing row is negative."""

    receipt_date: datetime.date
    claim_number: str
    assessment_number: str | None
    assessment_date: datetime.date | None
    revenue_item: str | None
    fiscal_year: int
    revenue_class: str
    amount: int
    payment_id: int
    entry_id: int
    reverses_entry_id: int | None
    payment_date: datetime.date | None
    channel: str | None

    def values(self) -> tuple[Any, ...]:
        return (
            self.receipt_date,
            self.claim_number,
            self.assessment_number,
            self.assessment_date,
            self.revenue_item,
            self.fiscal_year,
            self.revenue_class,
            self.amount,
            self.payment_id,
            self.entry_id,
            self.reverses_entry_id,
            self.payment_date,
            self.channel,
        )


def accounting_export(ctx: Context, receipt_date: datetime.date) -> Iterator[ExportRow]:
    """消込データ: every accounting entry with this receipt date (収入日), in entry order. No names.

    Streams from a server-side cursor (``yield_per``): iterate it while the context is open. Entries are
    never updated (a correction is a new, negative entry dated on the correction's day), so exporting a
    date again gives the same rows.
    """
    stmt = (
        sa.select(
            ENTRIES.c.receipt_date,
            CLAIMS.c.number.label("claim_number"),
            CLAIMS.c.assessment_number,
            CLAIMS.c.assessment_date,
            CLAIMS.c.revenue_item,
            ENTRIES.c.fiscal_year,
            ENTRIES.c.arrears,
            ENTRIES.c.amount,
            ENTRIES.c.payment_id,
            ENTRIES.c.id.label("entry_id"),
            ENTRIES.c.reverses_id,
            PAY.c.paid_date,
            PAY.c.channel_code,
        )
        .select_from(
            ENTRIES.join(CLAIMS, CLAIMS.c.id == ENTRIES.c.claim_id).outerjoin(
                PAY, PAY.c.id == ENTRIES.c.payment_id
            )
        )
        .where(ENTRIES.c.receipt_date == receipt_date)
        .order_by(ENTRIES.c.id)
        .execution_options(yield_per=_CHUNK)
    )
    result = ctx.session.execute(stmt)
    try:
        for r in result:
            receipt = _day(r.receipt_date)
            assert receipt is not None
            yield ExportRow(
                receipt_date=receipt,
                claim_number=r.claim_number,
                assessment_number=r.assessment_number,
                assessment_date=_day(r.assessment_date),
                revenue_item=r.revenue_item,
                fiscal_year=int(r.fiscal_year),
                revenue_class=ARREARS_YEAR if r.arrears else CURRENT_YEAR,
                amount=int(r.amount),
                payment_id=int(r.payment_id),
                entry_id=int(r.entry_id),
                reverses_entry_id=int(r.reverses_id) if r.reverses_id is not None else None,
                payment_date=_day(r.paid_date),
                channel=r.channel_code,
            )
    finally:
        result.close()


@dataclass
class ExportSummary:
    receipt_date: datetime.date
    rows: int = 0
    amount: int = 0
    replaced: int = 0
    bytes: int = 0
    sha256: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "receipt_date": self.receipt_date.isoformat(),
            "rows": self.rows,
            "amount": self.amount,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "replaced_characters": self.replaced,
        }


def export_chunks(
    ctx: Context, receipt_date: datetime.date, summary: ExportSummary, encoding: str = "utf-8"
) -> Iterator[bytes]:
    """The export as CSV bytes, chunk by chunk; ``summary`` counts rows and the signed total as they pass."""
    stats = EncodeStats()

    def rows() -> Iterator[tuple[Any, ...]]:
        for row in accounting_export(ctx, receipt_date):
            summary.amount += row.amount
            yield row.values()

    yield from csv_chunks([title for _, title in EXPORT_COLUMNS], rows(), encoding, stats)
    summary.rows, summary.replaced = stats.rows, stats.replaced


def write_accounting_export(
    ctx: Context, receipt_date: datetime.date, out: BinaryIO | Path, encoding: str = "utf-8"
) -> ExportSummary:
    """Write the export to a binary stream or (atomically) to a file; record the export in the audit trail."""
    summary = ExportSummary(receipt_date)
    chunks = export_chunks(ctx, receipt_date, summary, encoding)
    if isinstance(out, Path):
        summary.bytes, summary.sha256 = write_atomic(out, chunks)
    else:
        digest = hashlib.sha256()
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            summary.bytes += len(chunk)
        summary.sha256 = digest.hexdigest()
    record_export(ctx, summary, encoding)
    return summary


EXPORT_ACTION = "export.accounting"
"""The audit action of every accounting export (command line, scheduler or staff page)."""


@mutation(EXPORT_ACTION)
def record_export(ctx: Context, summary: ExportSummary, encoding: str = "utf-8") -> None:
    """Record one export of the 消込データ in the audit trail: who, when, which 収入日, rows, amount, hash.
    The audit events are the export history (no table of their own)."""
    ctx.record(
        EXPORT_ACTION,
        "receipt_date",
        summary.receipt_date.isoformat(),
        encoding=encoding,
        **summary.as_json(),
    )


def export_preview(ctx: Context, receipt_date: datetime.date) -> ExportSummary:
    """How many rows the export of ``receipt_date`` holds and their signed sum (nothing is written)."""
    totals = ctx.session.execute(
        sa.select(_COUNT, _sum(ENTRIES.c.amount)).where(ENTRIES.c.receipt_date == receipt_date)
    ).one()
    return ExportSummary(receipt_date, rows=int(totals.counted), amount=int(totals.amount))


def latest_receipt_date(ctx: Context, on_or_before: datetime.date | None = None) -> datetime.date | None:
    """The newest 収入日 up to ``on_or_before`` (default today, Japan) with accounting entries, or None."""
    last = on_or_before or ctx.today()
    return _day(
        ctx.session.execute(
            sa.select(sa.func.max(ENTRIES.c.receipt_date)).where(ENTRIES.c.receipt_date <= last)
        ).scalar_one()
    )


def export_file_name(receipt_date: datetime.date) -> str:
    """The download's file name: ASCII, the CLI's convention (消込-YYYYMMDD.csv) romanised, no welfare
    word."""
    return f"keshikomi-{receipt_date:%Y%m%d}.csv"


def export_history(ctx: Context, before_id: int | None = None, limit: int = 20) -> dict[str, Any]:
    """Past exports, newest first, from the audit trail: ``{"items": [{"id", "at", "actor_kind",
    "actor_name", "receipt_date", "rows", "amount", "bytes"}], "next": id|None}`` (keyset on the event id)."""
    events = table_of(AuditEvent)
    stmt = (
        sa.select(
            events.c.id,
            events.c.at,
            events.c.actor_kind,
            events.c.actor_name,
            events.c.target_id,
            events.c.detail,
        )
        .where(events.c.action == EXPORT_ACTION)
        .order_by(events.c.id.desc())
        .limit(limit + 1)
    )
    if before_id is not None:
        stmt = stmt.where(events.c.id < before_id)
    rows = ctx.session.execute(stmt).all()
    more = len(rows) > limit
    items = []
    for r in rows[:limit]:
        data = r.detail if isinstance(r.detail, dict) else json.loads(r.detail or "{}")
        items.append(
            {
                "id": int(r.id),
                "at": r.at,
                "actor_kind": r.actor_kind,
                "actor_name": r.actor_name,
                "receipt_date": r.target_id,
                "rows": data.get("rows"),
                "amount": data.get("amount"),
                "bytes": data.get("bytes"),
            }
        )
    return {"items": items, "next": items[-1]["id"] if more and items else None}


# ============================================================================================= arrears


ARREARS_NOTES = (
    "この一覧は事務所内の確認用です。ゲートウェイは債務者に連絡せず、督促・催告を送らず、延滞金を加算しません。",
    "For the office's own follow-up only: the gateway never contacts a debtor, sends no reminder and adds "
    "no late charge.",
    "速報（コンビニでの納付済み・確報待ち）の入金は納付済みとして扱います。",
    "Preliminary (store) payments count as paid here. Days overdue are calendar days after the printed due "
    "date.",
)


@dataclass(frozen=True)
class OverdueSlip:
    slip_number: str
    instalment: int
    amount: int
    paid_amount: int
    """Preliminary and confirmed money on this instalment paid by the as-of date."""
    overdue_amount: int
    due_date: datetime.date
    barcode_expiry: datetime.date
    barcode_expired: bool
    """The barcode is past its expiry: a store no longer accepts it (a new slip would be needed)."""
    printed_on: datetime.date | None
    mailed_on: datetime.date | None
    days_overdue: int


@dataclass(frozen=True)
class ArrearsClaim:
    claim_number: str
    fiscal_year: int
    debtor_ref: str | None
    debtor_name: str | None
    amount: int
    paid_amount: int
    pending_amount: int
    balance: int
    overdue_amount: int
    oldest_due_date: datetime.date
    days_overdue: int
    slips: tuple[OverdueSlip, ...] = field(default_factory=tuple)


def arrears(ctx: Context, as_of: datetime.date) -> list[ArrearsClaim]:
    """Claims past their due date and unpaid as of ``as_of`` (a Japan date), oldest arrears first.

    A slip is overdue when its printed due date is before ``as_of`` and the money paid on its instalment by
    ``as_of`` — preliminary or confirmed, not cancelled — is less than its amount. Only slips live on
    ``as_of`` count: issued by then, and neither replaced by a reissue issued by then nor voided by then (a
    slip reissued or voided later still counts for an earlier date). Claims closed (written off,
    extinguished, cancelled) on or before ``as_of`` and claims with no balance are never listed. The
    debtor's reference and name are shown as the actor's role may see them (``pii.read_debtors``, logged):
    call ``ctx.commit()`` after.
    """
    day_over = datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time(), JST)
    reissue = SLIPS.alias("reissue")
    replaced = (
        sa.select(reissue.c.id)
        .where(reissue.c.supersedes_id == SLIPS.c.id, reissue.c.issued_on <= as_of)
        .exists()
    )
    live = sa.or_(
        SLIPS.c.status.in_(("issued", "paid")),
        sa.and_(SLIPS.c.status == "superseded", ~replaced),
        sa.and_(SLIPS.c.status == "void", SLIPS.c.status_changed_at >= day_over),
    )
    open_then = sa.or_(CLAIMS.c.status.not_in(CLOSED_STATUSES), CLAIMS.c.closed_on > as_of)
    covered = (
        sa.select(PAY.c.payment_number, sa.func.sum(PAY.c.amount).label("paid"))
        .where(PAY.c.state != "cancelled", PAY.c.paid_date <= as_of, PAY.c.payment_number.is_not(None))
        .group_by(PAY.c.payment_number)
        .subquery()
    )
    paid = sa.func.coalesce(covered.c.paid, 0).label("paid_amount")
    stmt = (
        sa.select(
            SLIPS.c.id,
            SLIPS.c.claim_id,
            SLIPS.c.payment_number,
            SLIPS.c.reissue_count,
            SLIPS.c.instalment,
            SLIPS.c.amount,
            SLIPS.c.due_date,
            SLIPS.c.barcode_expiry,
            paid,
        )
        .select_from(
            SLIPS.join(CLAIMS, CLAIMS.c.id == SLIPS.c.claim_id).outerjoin(
                covered, covered.c.payment_number == SLIPS.c.payment_number
            )
        )
        .where(
            live,
            SLIPS.c.due_date < as_of,
            SLIPS.c.issued_on <= as_of,
            open_then,
            paid < SLIPS.c.amount,
        )
        .order_by(SLIPS.c.claim_id, SLIPS.c.due_date, SLIPS.c.instalment)
    )
    slips_by_claim: dict[int, list[sa.Row[Any]]] = defaultdict(list)
    for row in ctx.session.execute(stmt):
        slips_by_claim[int(row.claim_id)].append(row)
    if not slips_by_claim:
        return []
    claim_ids = sorted(slips_by_claim)
    claims: dict[int, sa.Row[Any]] = {}
    sums: dict[int, tuple[int, int]] = {}
    printing: dict[int, tuple[datetime.date | None, datetime.date | None]] = {}
    for start in range(0, len(claim_ids), _CHUNK):
        chunk = claim_ids[start : start + _CHUNK]
        for c in ctx.session.execute(
            sa.select(
                CLAIMS.c.id, CLAIMS.c.number, CLAIMS.c.fiscal_year, CLAIMS.c.amount, CLAIMS.c.debtor_id
            ).where(CLAIMS.c.id.in_(chunk))
        ):
            claims[int(c.id)] = c
        for m in ctx.session.execute(
            sa.select(PAY.c.claim_id, PAY.c.state, sa.func.sum(PAY.c.amount).label("amount"))
            .where(PAY.c.claim_id.in_(chunk), PAY.c.state != "cancelled", PAY.c.paid_date <= as_of)
            .group_by(PAY.c.claim_id, PAY.c.state)
        ):
            confirmed, pending = sums.get(int(m.claim_id), (0, 0))
            if m.state == "confirmed":
                confirmed += int(m.amount)
            else:
                pending += int(m.amount)
            sums[int(m.claim_id)] = (confirmed, pending)
        slip_ids = [int(r.id) for cid in chunk for r in slips_by_claim[cid]]
        printing.update(_printing(ctx, slip_ids, before=day_over))
    debtors: dict[int, pii.DebtorView] = {}
    debtor_ids = sorted({int(c.debtor_id) for c in claims.values()})
    for start in range(0, len(debtor_ids), 500):
        debtors.update(
            pii.read_debtors(
                ctx, debtor_ids[start : start + 500], purpose="arrears_list", fields=("ref", "name")
            )
        )
    out = []
    for claim_id in claim_ids:
        claim = claims[claim_id]
        confirmed, pending = sums.get(claim_id, (0, 0))
        balance = max(0, int(claim.amount) - confirmed - pending)
        if balance == 0:  # money linked to the claim without a slip (a match) already covers it
            continue
        slips = []
        for s in slips_by_claim[claim_id]:
            due, expiry = _day(s.due_date), _day(s.barcode_expiry)
            assert due is not None and expiry is not None
            printed_on, mailed_on = printing.get(int(s.id), (None, None))
            slips.append(
                OverdueSlip(
                    slip_number=f"{s.payment_number}-{s.reissue_count}",
                    instalment=int(s.instalment),
                    amount=int(s.amount),
                    paid_amount=int(s.paid_amount),
                    overdue_amount=int(s.amount) - int(s.paid_amount),
                    due_date=due,
                    barcode_expiry=expiry,
                    barcode_expired=expiry < as_of,
                    printed_on=printed_on,
                    mailed_on=mailed_on,
                    days_overdue=(as_of - due).days,
                )
            )
        view = debtors.get(int(claim.debtor_id))
        out.append(
            ArrearsClaim(
                claim_number=claim.number,
                fiscal_year=int(claim.fiscal_year),
                debtor_ref=view.ref if view else None,
                debtor_name=view.name if view else None,
                amount=int(claim.amount),
                paid_amount=confirmed,
                pending_amount=pending,
                balance=balance,
                overdue_amount=min(balance, sum(s.overdue_amount for s in slips)),
                oldest_due_date=min(s.due_date for s in slips),
                days_overdue=max(s.days_overdue for s in slips),
                slips=tuple(slips),
            )
        )
    return sorted(out, key=lambda c: (-c.days_overdue, c.claim_number))


def _printing(
    ctx: Context, slip_ids: list[int], *, before: datetime.datetime
) -> dict[int, tuple[datetime.date | None, datetime.date | None]]:
    """(printed on, mailed on) per slip from the print batches it went out in before ``before`` (skipped
    items excluded)."""
    out: dict[int, tuple[datetime.date | None, datetime.date | None]] = {}
    if not slip_ids:
        return out
    stmt = (
        sa.select(BATCH_ITEMS.c.slip_id, BATCHES.c.created_at, BATCHES.c.mailed_on)
        .select_from(BATCH_ITEMS.join(BATCHES, BATCHES.c.id == BATCH_ITEMS.c.batch_id))
        .where(
            BATCH_ITEMS.c.slip_id.in_(slip_ids),
            BATCH_ITEMS.c.skipped_reason.is_(None),
            BATCHES.c.created_at < before,
        )
        .order_by(BATCHES.c.id)
    )
    for r in ctx.session.execute(stmt):
        created = r.created_at
        printed = japan_date(created) if isinstance(created, datetime.datetime) else _day(created)
        _, earlier_mailed = out.get(int(r.slip_id), (None, None))
        # The latest batch wins; a batch without a recorded mailing date keeps an earlier one's.
        out[int(r.slip_id)] = (printed, _day(r.mailed_on) or earlier_mailed)
    return out


def arrears_json(ctx: Context, as_of: datetime.date) -> dict[str, Any]:
    """The arrears list as one JSON document: notes, totals, and per claim its overdue slips."""
    claims = arrears(ctx, as_of)
    return {
        "report": "arrears",
        "as_of": as_of.isoformat(),
        "timezone": "Asia/Tokyo",
        "currency": "JPY",
        "notes": list(ARREARS_NOTES),
        "totals": {
            "claims": len(claims),
            "slips": sum(len(c.slips) for c in claims),
            "overdue_amount": sum(c.overdue_amount for c in claims),
            "balance": sum(c.balance for c in claims),
        },
        "claims": [
            {
                "claim_number": c.claim_number,
                "fiscal_year": c.fiscal_year,
                "debtor": {"ref": c.debtor_ref, "name": c.debtor_name},
                "amount": c.amount,
                "paid_amount": c.paid_amount,
                "pending_amount": c.pending_amount,
                "balance": c.balance,
                "overdue_amount": c.overdue_amount,
                "oldest_due_date": c.oldest_due_date.isoformat(),
                "days_overdue": c.days_overdue,
                "slips": [
                    {
                        "slip_number": s.slip_number,
                        "instalment": s.instalment,
                        "amount": s.amount,
                        "paid_amount": s.paid_amount,
                        "overdue_amount": s.overdue_amount,
                        "due_date": s.due_date.isoformat(),
                        "barcode_expiry": s.barcode_expiry.isoformat(),
                        "barcode_expired": s.barcode_expired,
                        "printed_on": _iso(s.printed_on),
                        "mailed_on": _iso(s.mailed_on),
                        "days_overdue": s.days_overdue,
                    }
                    for s in c.slips
                ],
            }
            for c in claims
        ],
    }


ARREARS_CSV_COLUMNS = (
    "claim_number",
    "debtor_ref",
    "debtor_name",
    "fiscal_year",
    "claim_amount",
    "paid_amount",
    "pending_amount",
    "balance",
    "claim_overdue_amount",
    "claim_days_overdue",
    "slip_number",
    "instalment",
    "slip_amount",
    "slip_paid_amount",
    "slip_overdue_amount",
    "due_date",
    "barcode_expiry",
    "barcode_expired",
    "printed_on",
    "mailed_on",
    "days_overdue",
)


def arrears_csv_chunks(
    doc: dict[str, Any], encoding: str = "utf-8", stats: EncodeStats | None = None
) -> Iterator[bytes]:
    """One row per overdue slip (claim columns repeated), after a one-line notice that the list is for the
    office's own follow-up."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for c in doc["claims"]:
            for s in c["slips"]:
                yield (
                    c["claim_number"],
                    c["debtor"]["ref"],
                    c["debtor"]["name"],
                    c["fiscal_year"],
                    c["amount"],
                    c["paid_amount"],
                    c["pending_amount"],
                    c["balance"],
                    c["overdue_amount"],
                    c["days_overdue"],
                    s["slip_number"],
                    s["instalment"],
                    s["amount"],
                    s["paid_amount"],
                    s["overdue_amount"],
                    s["due_date"],
                    s["barcode_expiry"],
                    s["barcode_expired"],
                    s["printed_on"],
                    s["mailed_on"],
                    s["days_overdue"],
                )

    notice = f"# 滞納一覧 {doc['as_of']} 現在: {ARREARS_NOTES[0]}"
    return csv_chunks(ARREARS_CSV_COLUMNS, rows(), encoding, stats, preamble=(notice,))
