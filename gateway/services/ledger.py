"""Payments on claims: sums per claim and claim status from them (extended by reconciliation)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from gateway.context import Context
from gateway.models import Claim
from gateway.models.claims import CLOSED_STATUSES


def payment_sums(ctx: Context, claim_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(paid, pending, refunded) per claim id."""
    return {}


def payments_json(ctx: Context, claim: Claim) -> list[dict[str, Any]]:
    return []


def refresh_claim_status(ctx: Context, claim_ids: list[int]) -> None:
    """Set ``open``/``paid``/``overpaid`` from the confirmed money; closed claims keep their decision."""
    from gateway.services import balances

    claims = ctx.session.exec(select(Claim).where(Claim.id.in_(claim_ids))).all()  # type: ignore[union-attr]
    for claim, bal in zip(claims, balances.balances(ctx, claims).values(), strict=True):
        if claim.status in CLOSED_STATUSES:
            continue
        if bal.paid_amount > claim.amount:
            status = "overpaid"
        elif bal.paid_amount == claim.amount:
            status = "paid"
        else:
            status = "open"
        if status != claim.status:
            claim.status = status
            ctx.session.add(claim)


def has_open_payment(ctx: Context, payment_number: str) -> bool:
    """Whether a preliminary or confirmed (uncancelled) payment exists for this payment number."""
    return False
