"""Money received outside agent data, as the command line and the API report it.

:func:`gateway.services.ledger.record_payment` stores the payment and runs the reconciliation checks on it;
this module adds what staff need to see at once: the claim's new status and balance and any exception the
payment raised (a second payment for the same slip is a ``duplicate_payment``).
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlmodel import col
from sqlmodel import select

from gateway.context import Context
from gateway.models import Claim
from gateway.models import Slip
from gateway.models.recon import ReconException
from gateway.services import balances
from gateway.services import ledger


def record(
    ctx: Context, slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str
) -> dict[str, Any]:
    """Record the payment (one audited transaction) and describe the outcome.

    Returns:
        the payment (spec shape) plus ``claim_number``, ``claim_status``, ``balance``, ``reason``,
        ``recorded_by`` and ``exceptions`` (``[{"id", "kind"}]`` raised on this payment).
    """
    payment = ledger.record_payment(ctx, slip_number, amount, paid_on, channel, reason)
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
