"""Claim balances computed in SQL: paid (confirmed), pending (preliminary), refund due, uncovered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from gateway.context import Context
from gateway.models import Claim
from gateway.models import Slip


@dataclass(frozen=True)
class Balance:
    """Money on one claim. ``balance`` is what is still owed once pending store payments are counted."""

    amount: int
    paid_amount: int = 0
    pending_amount: int = 0
    refunded_amount: int = 0
    live_slip_amount: int = 0

    @property
    def balance(self) -> int:
        return max(0, self.amount - self.paid_amount - self.pending_amount)

    @property
    def refund_due_amount(self) -> int:
        return max(0, self.paid_amount - self.amount - self.refunded_amount)

    @property
    def uncovered_amount(self) -> int:
        """What no payment and no live slip covers yet: the most a new slip may ask for."""
        return max(0, self.balance - self.live_slip_amount)


def _payment_sums(ctx: Context, claim_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """(paid, pending, refunded) per claim; extended by the payments ledger."""
    from gateway.services import ledger

    return ledger.payment_sums(ctx, claim_ids)


def balances(ctx: Context, claims: Iterable[Claim]) -> dict[int, Balance]:
    """Balances for several claims with two aggregate queries."""
    claims = list(claims)
    ids = [c.id for c in claims if c.id is not None]
    if not ids:
        return {}
    live = dict(
        ctx.session.execute(
            sa.select(Slip.claim_id, sa.func.sum(Slip.amount))
            .where(Slip.claim_id.in_(ids), Slip.status == "issued")  # type: ignore[attr-defined]
            .group_by(Slip.claim_id)
        ).all()
    )
    sums = _payment_sums(ctx, ids)
    out = {}
    for claim in claims:
        assert claim.id is not None
        paid, pending, refunded = sums.get(claim.id, (0, 0, 0))
        out[claim.id] = Balance(
            amount=claim.amount,
            paid_amount=paid,
            pending_amount=pending,
            refunded_amount=refunded,
            live_slip_amount=int(live.get(claim.id) or 0),
        )
    return out


def balance(ctx: Context, claim: Claim) -> Balance:
    assert claim.id is not None
    return balances(ctx, [claim])[claim.id]
