"""The audited wrapper of the reconciliation engine (:mod:`reconciliation.engine`, where the steps and their
explanation are; the rules are in :mod:`reconciliation.rules`).

Here: the mutation that audits a run, the gateway's side of the engine's parameters (settings, agents'
fees, the office calendar, accounting entries for a matched remittance, crash points), and the instant that
marks what one run touches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from functools import partial

import sqlalchemy as sa
from sqlmodel import select

from gateway import business_calendar as cal
from gateway.context import Context
from gateway.context import mutation
from gateway.faults import crash_point
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.recon import Payment
from gateway.models.recon import ReconException
from gateway.models.settlement import select_fee
from gateway.money import ledger
from reconciliation import engine
from reconciliation.results import RunResult
from reconciliation.threeway import SYSTEM_ACTOR
from reconciliation.threeway import AgentTerms
from reconciliation.threeway import Calendar

__all__ = [
    "SYSTEM_ACTOR",
    "RunResult",
    "after_payments",
    "age",
    "fresh_instant",
    "refresh_claim_statuses",
    "run",
]

CREDIT_GRACE_OFFICE_DAYS = 2
"""A transfer date's credit is expected in the bank data by this many office days after it."""


def fresh_instant(ctx: Context) -> datetime.datetime:
    """The instant that marks the rows one run (or one manual change) touches.

    Steps find "what this run changed" by ``updated_at = now``/``opened_at = now``, so the instant must be
    later than any earlier mark — even if the clock stands still (a pinned test clock, a coarse clock).
    """
    now = ctx.now()
    latest = ctx.session.execute(
        sa.select(
            sa.select(sa.func.max(Payment.updated_at)).scalar_subquery(),
            sa.select(sa.func.max(ReconException.opened_at)).scalar_subquery(),
        )
    ).one()
    for value in latest:
        if value is not None:
            value = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
            if value >= now:
                now = value + datetime.timedelta(microseconds=1)
    return now


def _agents(ctx: Context) -> dict[int, AgentTerms]:
    """Each agent's remittance mode and fee table, as the three-way match reads them."""
    fees: dict[int, list[AgentFee]] = defaultdict(list)
    for agent_fee in ctx.session.exec(select(AgentFee)):
        fees[agent_fee.agent_id].append(agent_fee)
    return {
        agent.id: AgentTerms(agent.remittance_mode, partial(_fee, fees[agent.id]))
        for agent in ctx.session.exec(select(Agent))
        if agent.id is not None
    }


def _fee(rows: list[AgentFee], channel: str, day: datetime.date) -> tuple[int, int]:
    return select_fee(rows, channel, day)


def _book_remittance(ctx: Context, remittance_id: int) -> None:
    """The accounting entries of the payments a matched remittance carries."""
    ledger.add_entries(ctx, remittance_id=remittance_id)


def _book_payments(ctx: Context, payment_ids: list[int]) -> None:
    """The accounting entries of payments the bank received directly (bank-counter data)."""
    if payment_ids:
        ledger.add_entries(ctx, payment_ids=payment_ids)


def _params(ctx: Context, now: datetime.datetime) -> engine.Params:
    """The engine's parameters for a run in ``ctx`` that marks its rows with ``now``."""
    s = ctx.settings
    return engine.Params(
        prefix=s.issuer_prefix,
        consignor=s.consignor_code,
        now=now,
        today=ctx.today(),
        closed_statuses=tuple(CLOSED_STATUSES),
        unconfirmed_days=s.unconfirmed_days,
        agents=lambda: _agents(ctx),
        calendar=Calendar(cal.next_office_day, CREDIT_GRACE_OFFICE_DAYS),
        on_matched=partial(_book_remittance, ctx),
        on_received=partial(_book_payments, ctx),
        crash=crash_point,
    )


@mutation("reconcile.run")
def run(ctx: Context, as_of: datetime.date | None = None) -> RunResult:
    """One reconciliation run; ``as_of`` (a Japan date) governs ageing and remittance deadlines (default:
    today in Japan)."""
    ctx.session.flush()
    result = engine.run(ctx.session.connection(), _params(ctx, fresh_instant(ctx)), as_of or ctx.today())
    ctx.record("reconcile.run", None, None, **result.as_json())
    ctx.session.expire_all()  # rows changed by SQL behind the ORM's back
    crash_point("reconcile.before_commit")
    return result


@mutation("reconcile.ageing")
def age(ctx: Context, as_of: datetime.date | None = None) -> RunResult:
    """The time rules alone, for the morning job: unconfirmed preliminaries and overdue remittances."""
    ctx.session.flush()
    result = engine.age(ctx.session.connection(), _params(ctx, fresh_instant(ctx)), as_of or ctx.today())
    ctx.record("reconcile.ageing", None, None, **result.as_json())
    ctx.session.expire_all()
    return result


def after_payments(ctx: Context, now: datetime.datetime) -> RunResult:
    """The checks of a run for payments changed outside one (manual receipts, resolutions) at ``now``;
    called inside the caller's mutation."""
    ctx.session.flush()
    result = engine.after_payments(ctx.session.connection(), _params(ctx, now))
    ctx.session.expire_all()
    return result


def refresh_claim_statuses(ctx: Context, claim_ids: list[int]) -> None:
    """Apply the claim-status rule of a run to these claims (after an adjustment or a refund); inside the
    caller's mutation."""
    if not claim_ids:
        return
    ctx.session.flush()
    engine.refresh_claim_statuses(ctx.session.connection(), _params(ctx, ctx.now()), claim_ids)
    ctx.session.expire_all()  # statuses changed by SQL behind the ORM's back
