"""Claim balances computed in SQL: paid (confirmed), pending (preliminary), refund due, uncovered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from gateway.context import Context
from gateway.models import Claim


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


# One statement for any number of claims, built once. A slip whose payment number already has preliminary or
# confirmed money is not live debt: that money counts as pending/paid instead.
_BALANCES = sa.text(
    """
    SELECT c.id,
        (SELECT COALESCE(sum(p.amount), 0) FROM payments p WHERE p.claim_id = c.id AND p.state = 'confirmed'),
        (SELECT COALESCE(sum(p.amount), 0) FROM payments p
          WHERE p.claim_id = c.id AND p.state = 'preliminary'),
        (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.claim_id = c.id AND f.status = 'refunded'),
        (SELECT COALESCE(sum(s.amount), 0) FROM slips s
          WHERE s.claim_id = c.id AND s.status = 'issued'
            AND NOT EXISTS (SELECT 1 FROM payments q
                            WHERE q.payment_number = s.payment_number AND q.state <> 'cancelled'))
    FROM claims c WHERE c.id IN :ids
    """
).bindparams(sa.bindparam("ids", expanding=True))


def balances(ctx: Context, claims: Iterable[Claim]) -> dict[int, Balance]:
    """Balances for several claims in one query (chunks of 500 ids)."""
    claims = [c for c in claims if c.id is not None]
    out: dict[int, Balance] = {}
    for start in range(0, len(claims), 500):
        chunk = claims[start : start + 500]
        rows = {r[0]: r[1:] for r in ctx.session.execute(_BALANCES, {"ids": [c.id for c in chunk]})}
        for claim in chunk:
            assert claim.id is not None
            paid, pending, refunded, live = (int(v) for v in rows.get(claim.id, (0, 0, 0, 0)))
            out[claim.id] = Balance(claim.amount, paid, pending, refunded, live)
    return out


def balance(ctx: Context, claim: Claim) -> Balance:
    assert claim.id is not None
    return balances(ctx, [claim])[claim.id]
