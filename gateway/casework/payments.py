"""Money received outside agent data, as the command line, the API and the staff pages report it.

:func:`record_payment` stores the payment and runs the reconciliation checks on it;
this module adds what staff need to see at once: a check of the input before anything is recorded
(:func:`check`, the staff page's confirmation step), the claim's new status and balance and any exception the
payment raised (a second payment for the same slip is a ``duplicate_payment``).
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlmodel import col
from sqlmodel import select

from gateway import catalogue
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.issuing import slips as slip_service
from gateway.models import Claim
from gateway.models import Slip
from gateway.models.base import JST
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.recon import MANUAL_CHANNELS
from gateway.models.recon import Payment
from gateway.models.recon import ReconException
from gateway.money import balances
from gateway.money import ledger
from gateway.money import reconcile
from reconciliation import rules


def _slip(ctx: Context, slip_number: str) -> tuple[Slip, Claim]:
    """The slip and its claim; errors carry the catalogue keys a page shows."""
    number = (slip_number or "").strip()
    if not number:
        raise InvalidInput(
            "a slip number is required", field="slip", key="form.required", params={"field": "slip_number"}
        )
    try:
        return slip_service.slip_with_claim(ctx, number)
    except NotFound as ex:
        raise NotFound(
            ex.message, field=ex.field, key="slip.not_found", params={"slip_number": number}
        ) from None
    except InvalidInput as ex:
        raise InvalidInput(
            ex.message, field=ex.field, key="payment.slip_format", params={"slip_number": number[:30]}
        ) from None


def check(
    ctx: Context, slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str
) -> dict[str, Any]:
    """Check a receipt before recording it (nothing is written): the same refusals as :func:`record`, each
    with a catalogue key, and what the clerk must confirm.

    Returns ``{"slip_number", "claim_number", "claim_status", "slip_amount", "slip_status", "due_date",
    "barcode_expiry", "amount", "paid_on", "channel", "reason", "balance", "fiscal_year", "arrears", "late",
    "slip_paid", "amount_differs", "exceeds_balance"}`` (dates as ISO text).
    """
    if channel not in MANUAL_CHANNELS:
        raise InvalidInput(
            f"channel must be one of {', '.join(MANUAL_CHANNELS)}", field="channel", key="payment.channel"
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput(
            "amount must be a whole number of yen, at least 1", field="amount", key="payment.amount"
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required", field="reason", key="form.required", params={"field": "reason"}
        )
    if paid_on > ctx.today():
        raise InvalidInput(f"paid-on {paid_on} is in the future", field="paid_on", key="payment.future")
    slip, claim = _slip(ctx, slip_number)
    if slip.status == "void" and claim.status in CLOSED_STATUSES:
        raise Conflict(
            f"claim {claim.number} is {claim.status}",
            field="slip",
            key="payment.claim_closed",
            params={"number": claim.number, "status": catalogue.label("claim_status", claim.status)},
        )
    bal = balances.balance(ctx, claim)
    revenue = rules.revenue_year(paid_on, claim.fiscal_year)
    return {
        "slip_number": slip.slip_number,
        "claim_number": claim.number,
        "claim_status": claim.status,
        "slip_amount": slip.amount,
        "slip_status": slip.status,
        "due_date": slip.due_date.isoformat(),
        "barcode_expiry": slip.barcode_expiry.isoformat(),
        "amount": amount,
        "paid_on": paid_on.isoformat(),
        "channel": channel,
        "reason": reason.strip(),
        "balance": bal.balance,
        "fiscal_year": revenue.fiscal_year,
        "arrears": revenue.arrears,
        "late": rules.is_late(paid_on, slip.due_date, slip.barcode_expiry),
        "slip_paid": slip.status == "paid",
        "amount_differs": amount != slip.amount,
        "exceeds_balance": amount > bal.balance,
    }


def record(
    ctx: Context, slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str
) -> dict[str, Any]:
    """Record the payment (one audited transaction) and describe the outcome.

    Returns:
        the payment (spec shape) plus ``claim_number``, ``claim_status``, ``balance``, ``reason``,
        ``recorded_by`` and ``exceptions`` (``[{"id", "kind"}]`` raised on this payment).
    """
    check(ctx, slip_number, amount, paid_on, channel, reason)  # the refusals, with their catalogue keys
    payment = record_payment(ctx, slip_number.strip(), amount, paid_on, channel, reason)
    slip = ctx.session.get(Slip, payment.slip_id) if payment.slip_id is not None else None
    claim = ctx.session.get(Claim, payment.claim_id)
    assert claim is not None
    doc = ledger.payment_json(payment, slip.slip_number if slip is not None else None)
    bal = balances.balance(ctx, claim)
    raised = ctx.session.exec(
        select(ReconException)
        .where(col(ReconException.payment_id) == payment.id)
        .order_by(col(ReconException.id))
    ).all()
    doc.update(
        {
            "claim_number": claim.number,
            "claim_status": claim.status,
            "balance": bal.balance,
            "paid_amount": bal.paid_amount,
            "reason": payment.reason,
            "recorded_by": payment.recorded_by,
            "exceptions": [{"id": e.id, "kind": e.kind} for e in raised],
        }
    )
    return doc


@mutation("payment.record")
def record_payment(
    ctx: Context, slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str
) -> Payment:
    """Money that reached the office outside agent data (counter, bank counter, direct transfer, Art. 78-2
    deduction): a confirmed payment received on ``paid_on``, so claims show no false arrears and no new slip
    is issued for it. Reconciliation then checks it like any other payment."""
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
    ledger.add_entries(ctx, payment_ids=[payment.id or 0])
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
