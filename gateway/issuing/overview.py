"""What a claim's page shows: the claim with its slips, payments, adjustments and balance, and its debtor as
the actor may see them (read through :mod:`gateway.pii`, which logs and masks)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from gateway import pii
from gateway.context import Context
from gateway.issuing import claims
from gateway.issuing import slips as slip_service
from gateway.models import ClaimAdjustment
from gateway.models import Slip
from gateway.money import balances
from gateway.money import ledger


def show_claim(ctx: Context, number: str, *, with_debtor: bool = True) -> dict[str, Any]:
    """The claim with its slips, payments, adjustments and balance; the debtor as the actor may see it."""
    claim = claims.get_claim(ctx, number)
    doc = claims.claim_summary(claim, balances.balance(ctx, claim))
    rows = ctx.session.exec(select(Slip).where(Slip.claim_id == claim.id).order_by(Slip.id)).all()  # type: ignore[arg-type]
    doc["slips"] = [slip_service.slip_json(s, claim.number) for s in rows]
    doc["payments"] = ledger.payments_json(ctx, claim)
    doc["adjustments"] = [
        {
            "old_amount": a.old_amount,
            "new_amount": a.new_amount,
            "reason": a.reason,
            "decided_on": a.decided_on.isoformat() if a.decided_on else None,
            "at": a.created_at.isoformat(),
            "by": a.actor,
        }
        for a in ctx.session.exec(
            select(ClaimAdjustment).where(ClaimAdjustment.claim_id == claim.id).order_by(ClaimAdjustment.id)  # type: ignore[arg-type]
        )
    ]
    if with_debtor:
        view = pii.read_debtors(ctx, [claim.debtor_id], purpose="claim.show")[claim.debtor_id]
        doc["debtor"] = {
            "ref": view.ref,
            "name": view.name,
            "kana": view.kana,
            "postal_code": view.postal_code,
            "address": view.address,
        }
    return doc
