"""Payments on claims: which payment numbers are covered, payments as the API shows them, accounting entries.

Claim balances: ``paid_amount`` is confirmed money, ``pending_amount`` preliminary (store) money,
``refund_due_amount`` what was paid beyond the claim's amount and not yet refunded.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select
from sqlmodel.sql.sqltypes import UTCDateTime

from gateway.context import Context
from gateway.models import Claim
from gateway.models import Slip
from gateway.models.base import JST
from gateway.models.recon import AccountingEntry
from gateway.models.recon import Payment


def covered_payment_numbers(ctx: Context, payment_numbers: list[str]) -> set[str]:
    """Payment numbers that already have preliminary or confirmed money (their slips are not 'live' debt)."""
    if not payment_numbers:
        return set()
    rows = ctx.session.execute(
        sa.select(col(Payment.payment_number))
        .where(col(Payment.payment_number).in_(payment_numbers), col(Payment.state) != "cancelled")
        .distinct()
    ).scalars()
    return {r for r in rows if r}


def has_open_payment(ctx: Context, payment_number: str) -> bool:
    """Whether a preliminary or confirmed (uncancelled) payment exists for this payment number."""
    return bool(covered_payment_numbers(ctx, [payment_number]))


def payment_json(p: Payment, slip_number: str | None) -> dict[str, Any]:
    return {
        "id": p.id,
        "slip_number": slip_number,
        "amount": p.amount,
        "state": p.state,
        "source": p.source,
        "paid_at": p.paid_at.astimezone(JST).isoformat(),
        "paid_date": p.paid_date.isoformat(),
        "late": p.late,
        "channel_code": p.channel_code,
        "received_at": p.received_at.isoformat(),
        "receipt_date": p.receipt_date.isoformat() if p.receipt_date else None,
        "fiscal_year": p.fiscal_year,
        "arrears": p.arrears,
        "transfer_date": p.transfer_date.isoformat() if p.transfer_date else None,
    }


def payments_json(ctx: Context, claim: Claim) -> list[dict[str, Any]]:
    rows = ctx.session.execute(
        sa.select(Payment, col(Slip.payment_number), col(Slip.reissue_count))
        .outerjoin(Slip, col(Slip.id) == Payment.slip_id)
        .where(col(Payment.claim_id) == claim.id)
        .order_by(col(Payment.id))
    ).all()
    return [payment_json(p, f"{n}-{r}" if n else None) for p, n, r in rows]


def add_entries(
    ctx: Context, *, remittance_id: int | None = None, payment_ids: list[int] | None = None
) -> int:
    """Accounting entries for payments that have a receipt date and no entry yet (set-based)."""
    where = "p.remittance_id = :rid" if remittance_id is not None else "p.id IN :ids"
    stmt = sa.text(
        f"""INSERT INTO accounting_entries (payment_id, claim_id, receipt_date, fiscal_year, arrears, amount,
                                            reverses_id, reason, created_at)
            SELECT p.id, p.claim_id, p.receipt_date, p.fiscal_year, p.arrears, p.amount, NULL, 'receipt', :now
            FROM payments p
            WHERE {where} AND p.receipt_date IS NOT NULL AND p.state = 'confirmed'
              AND NOT EXISTS (SELECT 1 FROM accounting_entries a WHERE a.payment_id = p.id)"""
    ).bindparams(sa.bindparam("now", type_=UTCDateTime()))
    params: dict[str, Any] = {"now": ctx.now()}
    if remittance_id is not None:
        params["rid"] = remittance_id
    else:
        stmt = stmt.bindparams(sa.bindparam("ids", expanding=True))
        params["ids"] = payment_ids or [-1]
    return ctx.session.execute(stmt, params).rowcount  # type: ignore[attr-defined,no-any-return]


def reverse_entries(ctx: Context, payment_id: int, reason: str) -> None:
    """A correction: a negative entry dated today for each entry of the payment not yet reversed."""
    # Every entry that is not itself a reversal (an applied_out payment's entries are negative).
    entries = ctx.session.exec(
        select(AccountingEntry).where(
            AccountingEntry.payment_id == payment_id,
            AccountingEntry.reverses_id.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    for entry in entries:
        already = ctx.session.exec(
            select(AccountingEntry.id).where(AccountingEntry.reverses_id == entry.id)
        ).first()
        if already is not None:
            continue
        ctx.session.add(
            AccountingEntry(
                payment_id=payment_id,
                claim_id=entry.claim_id,
                receipt_date=ctx.today(),
                fiscal_year=entry.fiscal_year,
                arrears=entry.arrears,
                amount=-entry.amount,
                reverses_id=entry.id,
                reason=reason[:64],
            )
        )
