"""Payments on claims: sums, claim statuses, accounting entries, and money received outside agent data.

Claim balances: ``paid_amount`` is confirmed money, ``pending_amount`` preliminary (store) money,
``refund_due_amount`` what was paid beyond the claim's amount and not yet refunded.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select
from sqlmodel.sql.sqltypes import UTCDateTime

from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.models import Claim
from gateway.models import Slip
from gateway.models.base import JST
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.recon import MANUAL_CHANNELS
from gateway.models.recon import AccountingEntry
from gateway.models.recon import Payment
from reconciliation import rules


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


def refresh_claim_status(ctx: Context, claim_ids: list[int]) -> None:
    """Set ``open``/``paid``/``overpaid`` from the confirmed money net of refunds; closed claims keep their
    decision. The same rule a reconciliation run applies (one SQL statement serves both)."""
    from gateway.services import reconcile

    reconcile.refresh_claim_statuses(ctx, claim_ids)


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


@mutation("payment.record")
def record_payment(
    ctx: Context, slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str
) -> Payment:
    """Money that reached the office outside agent data (counter, bank counter, direct transfer, Art. 78-2
    deduction): a confirmed payment received on ``paid_on``, so claims show no false arrears and no new slip
    is issued for it. Reconciliation then checks it like any other payment."""
    from gateway.services import slips as slip_service

    if channel not in MANUAL_CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(MANUAL_CHANNELS)}", field="channel")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput("amount must be a whole number of yen, at least 1", field="amount")
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    if paid_on > ctx.today():
        raise InvalidInput(f"paid-on {paid_on} is in the future", field="paid_on")
    slip, claim = slip_service.slip_with_claim(ctx, slip_number)
    if slip.status == "void" and claim.status in CLOSED_STATUSES:
        raise Conflict(f"claim {claim.number} is {claim.status}", field="slip")
    from gateway.services import reconcile

    revenue = rules.revenue_year(paid_on, claim.fiscal_year)
    now = reconcile.fresh_instant(ctx)
    paid_at = datetime.datetime.combine(paid_on, datetime.time(12, 0), tzinfo=JST)
    payment = Payment(
        claim_id=claim.id or 0,
        slip_id=slip.id,
        payment_number=slip.payment_number,
        reissue_count=slip.reissue_count,
        amount=amount,
        state="confirmed",
        source="manual",
        channel_code=channel,
        paid_at=paid_at,
        paid_date=paid_on,
        late=rules.is_late(paid_on, slip.due_date, slip.barcode_expiry),
        received_at=now,
        received_date=ctx.today(),
        confirmed_at=now,
        receipt_date=paid_on,
        fiscal_year=revenue.fiscal_year,
        arrears=revenue.arrears,
        reason=reason.strip(),
        recorded_by=ctx.actor.label,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(payment)
    ctx.session.flush()
    add_entries(ctx, payment_ids=[payment.id or 0])
    reconcile.after_payments(ctx, now)
    ctx.record(
        "payment.record",
        "payment",
        payment.id,
        slip=slip_number,
        amount=amount,
        channel=channel,
        paid_on=paid_on.isoformat(),
        reason=reason.strip(),
    )
    return payment
