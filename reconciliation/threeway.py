"""The three-way match: what each agent owes per transfer date (its confirmed records, net of fees when it
remits net) against what the bank credited, kept in ``remittances``; a ``remittance_mismatch`` while they
differ; receipt dates, fiscal years and accounting entries for the payments of a matched remittance."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

from reconciliation import rules
from reconciliation.results import RunResult
from reconciliation.sql import Sql
from reconciliation.sql import as_date
from reconciliation.sql import to_json

SYSTEM_ACTOR = "system:reconcile"
"""Who the audit trail names for what a run decides by itself."""


@dataclass(frozen=True)
class AgentTerms:
    """An agent's remittance terms: ``mode`` (``gross`` or ``net``) and ``fee(channel, paid_date)`` → (fee per
    item, tax rate in basis points)."""

    mode: str
    fee: Callable[[str, datetime.date], tuple[int, int]]


@dataclass(frozen=True)
class Calendar:
    """When a transfer date's credit is due: ``next_office_day(day)`` (``day`` itself when the office is
    open) and how many office days after the transfer date the bank data may take."""

    next_office_day: Callable[[datetime.date], datetime.date]
    grace_office_days: int = 2

    def due_by(self, transfer_date: datetime.date) -> datetime.date:
        """The last office day a transfer date's credit may arrive on before the remittance is a mismatch."""
        due = self.next_office_day(transfer_date)
        for _ in range(self.grace_office_days):
            due = self.next_office_day(due + datetime.timedelta(days=1))
        return due


_REMITTANCES = sa.table(
    "remittances",
    sa.column("id", sa.BigInteger),
    sa.column("agent_id", sa.Integer),
    sa.column("transfer_date", sa.Date),
    *(sa.column(name, sa.String) for name in ("mode", "status")),
    *(
        sa.column(name, sa.BigInteger)
        for name in ("records", "gross", "fees", "fee_tax", "expected", "credited")
    ),
    sa.column("bank_record_ids", sa.JSON),
    sa.column("matched_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)
_FIGURES = (
    "records",
    "gross",
    "fees",
    "fee_tax",
    "expected",
    "credited",
    "bank_record_ids",
    "status",
    "mode",
)


def _remittance_keys(q: Sql, as_of: datetime.date) -> set[tuple[int, datetime.date]]:
    """(agent, transfer date) pairs to evaluate: touched by this run's records or credits, or not yet matched
    (a pending remittance becomes a mismatch once its credit is overdue, see ``_remittances``)."""
    keys: set[tuple[int, datetime.date]] = set(q.transfer_dates)
    for agent_id, day in q.run(
        """SELECT DISTINCT b.agent_id, b.value_date FROM bank_records b
           WHERE b.processed_at IS NULL AND b.agent_id IS NOT NULL AND b.direction = 'credit'"""
    ).all():
        keys.add((int(agent_id), as_date(day)))
    for agent_id, day in q.run(
        "SELECT agent_id, transfer_date FROM remittances WHERE status <> 'matched'"
    ).all():
        keys.add((int(agent_id), as_date(day)))
    return keys


def remittances(
    q: Sql,
    as_of: datetime.date,
    result: RunResult,
    *,
    agents: Mapping[int, AgentTerms],
    calendar: Calendar,
    on_matched: Callable[[int], None],
) -> None:
    """Evaluate each (agent, transfer date) of :func:`_remittance_keys`; ``on_matched(remittance id)`` books
    the accounting entries of a remittance that has just matched."""
    for agent_id, day in sorted(_remittance_keys(q, as_of)):
        terms = agents.get(agent_id)
        if terms is None:
            continue
        groups = q.run(
            """SELECT r.channel_code, r.paid_date, count(*), COALESCE(sum(r.amount), 0)
               FROM settlement_records r
               WHERE r.agent_id = :a AND r.transfer_date = :d AND """
            + rules.REMITTED
            + """
               GROUP BY r.channel_code, r.paid_date""",
            a=agent_id,
            d=day,
        ).all()
        lines = [
            rules.FeeLine(int(count), *terms.fee(channel, as_date(paid)))
            for channel, paid, count, _ in groups
        ]
        owed = rules.owed(sum(int(g[3]) for g in groups), lines, terms.mode)
        credits = q.run(
            """SELECT b.id, b.amount, b.cancelled FROM bank_records b
               WHERE b.agent_id = :a AND b.value_date = :d AND b.direction = 'credit' ORDER BY b.id""",
            a=agent_id,
            d=day,
        ).all()
        credited = sum(-int(c[1]) if c[2] else int(c[1]) for c in credits)
        overdue = as_of >= calendar.due_by(day)
        status = rules.remittance_status(owed.expected, credited, bool(credits), overdue=overdue)
        figures: dict[str, Any] = {
            "records": sum(int(g[2]) for g in groups),
            "gross": owed.gross,
            "fees": owed.fees,
            "fee_tax": owed.fee_tax,
            "expected": owed.expected,
            "credited": credited,
            "bank_record_ids": [int(c[0]) for c in credits],
            "status": status,
            "mode": terms.mode,
        }
        row = _store(q, agent_id, day, figures)
        if row is None:
            continue
        _settle_mismatch_exceptions(q, row, overdue=overdue)
        if status == "matched":
            result.remittances_matched += 1
            _give_receipt_dates(q, row)
            on_matched(int(row["id"]))
    q.run("UPDATE bank_records SET processed_at = :now WHERE processed_at IS NULL")


def _store(q: Sql, agent_id: int, day: datetime.date, figures: dict[str, Any]) -> dict[str, Any] | None:
    """Write the figures of (agent, day) into ``remittances``; the row as it now is, or ``None`` when the
    figures were already there (nothing changed)."""
    t = _REMITTANCES
    where = sa.and_(t.c.agent_id == agent_id, t.c.transfer_date == day)
    old = q.conn.execute(sa.select(t.c.id, t.c.matched_at, *(t.c[k] for k in _FIGURES)).where(where)).first()
    matched_at = None if old is None else old.matched_at
    if figures["status"] == "matched" and matched_at is None:
        matched_at = q.now
    values = {**figures, "updated_at": q.now, "matched_at": matched_at}
    if old is None:
        new_id = q.conn.execute(
            sa.insert(t).values(agent_id=agent_id, transfer_date=day, **values).returning(t.c.id)
        ).scalar_one()
    elif all(getattr(old, k) == v for k, v in figures.items()):
        return None
    else:
        new_id = old.id
        q.conn.execute(sa.update(t).where(t.c.id == old.id).values(**values))
    return {"id": new_id, "agent_id": agent_id, "transfer_date": day, **values}


def _settle_mismatch_exceptions(q: Sql, row: Mapping[str, Any], *, overdue: bool) -> None:
    """Keep one open remittance_mismatch (:data:`rules.REMITTANCE_MISMATCH`) per (agent, date) with the
    current figures; close it when they agree."""
    rule = rules.REMITTANCE_MISMATCH
    figures = {"rid": row["id"], "credits": bool(row["bank_record_ids"]), "overdue": overdue}
    prefix, current = q.run(
        f"SELECT {rules.REMITTANCE_OF}, {rule.key} FROM remittances m WHERE m.id = :rid", rid=row["id"]
    ).one()
    stale = (
        q.run(
            # kind and status first: the (status, kind) index finds the few open mismatches; the key's LIKE
            # alone scanned every exception (a million of them after a file of unknown slips).
            "SELECT id FROM recon_exceptions WHERE status = 'open' AND kind = 'remittance_mismatch' "
            "AND key LIKE :p AND key <> :k",
            p=prefix + "%",
            k=current,
        )
        .scalars()
        .all()
    )
    for exception_id in stale:
        note = "the figures now agree" if row["status"] == "matched" else "superseded by newer figures"
        q.run(
            """UPDATE recon_exceptions SET status = 'resolved', resolution = 'no_action', resolved_by = :who,
                   resolved_at = :now, resolved_date = :today, note = :note WHERE id = :i""",
            who=SYSTEM_ACTOR,
            note=note,
            i=exception_id,
        )
        q.run(
            """INSERT INTO exception_actions (exception_id, action, actor, at, on_date, note, data)
               VALUES (:i, 'resolved', :who, :now, :today, :note, :data)""",
            i=exception_id,
            who=SYSTEM_ACTOR,
            note=note,
            data=to_json({"resolution": "no_action"}),
        )
    q.raise_rule(rule, where="m.id = :rid", **figures)
    if row["status"] == "mismatch" and row["bank_record_ids"]:  # the credits the raised exception is about
        q.run(
            "UPDATE recon_exceptions SET bank_record_ids = :b WHERE key = :k",
            b=to_json(row["bank_record_ids"]),
            k=current,
        )


def _give_receipt_dates(q: Sql, row: Mapping[str, Any]) -> None:
    """Payments carried by a matched remittance get its value date as receipt date and, per their claim's
    fiscal year, :func:`rules.revenue_year` (applied set-based)."""
    fiscal, arrears, params = rules.revenue_year_sql(row["transfer_date"], "c.fiscal_year")
    q.run(
        f"""UPDATE payments SET receipt_date = :receipt, remittance_id = :rid, updated_at = :now,
               fiscal_year = (SELECT {fiscal} FROM claims c WHERE c.id = payments.claim_id),
               arrears = (SELECT {arrears} FROM claims c WHERE c.id = payments.claim_id)
            WHERE agent_id = :a AND transfer_date = :receipt AND state = 'confirmed'
              AND source IN ('agent', 'matched') AND receipt_date IS NULL""",
        receipt=row["transfer_date"],
        rid=row["id"],
        a=row["agent_id"],
        **params,
    )


def direct_receipts(q: Sql) -> list[int]:
    """Payments this run confirmed that the office's bank received itself (:data:`rules.RECEIVED_DIRECTLY`,
    the bank counter): the payment date is the receipt date, fiscal year and arrears by
    :func:`rules.revenue_year`. Returns their ids (the gateway books their accounting entries)."""
    where = f"{rules.RECEIVED_DIRECTLY} AND p.updated_at = :now AND p.receipt_date IS NULL"
    rows = q.run(f"SELECT p.id, p.paid_date FROM payments p WHERE {where} ORDER BY p.id").all()
    for day in sorted({as_date(paid) for _, paid in rows}):
        fiscal, arrears, params = rules.revenue_year_sql(day, "c.fiscal_year")
        q.run(
            f"""UPDATE payments SET receipt_date = :receipt,
                   fiscal_year = (SELECT {fiscal} FROM claims c WHERE c.id = payments.claim_id),
                   arrears = (SELECT {arrears} FROM claims c WHERE c.id = payments.claim_id)
                WHERE id IN (SELECT p.id FROM payments p WHERE {where} AND p.paid_date = :receipt)""",
            receipt=day,
            **params,
        )
    return [int(i) for i, _ in rows]
