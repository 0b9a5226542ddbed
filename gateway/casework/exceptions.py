"""The exceptions queue: list, resolve, four-eyes approval, undo (unmatch) and refunds.

Every change is one :func:`~gateway.context.mutation` and appends a row to ``exception_actions`` (who, when,
the Japan date, the note and what it did), so the history of an exception is never rewritten. Money moves
only through payments, so balances, claim statuses and the accounting export follow:

* ``matched_to_claim`` (``unknown_slip``): the record(s) become a ``matched`` payment on the chosen claim,
  preliminary or confirmed as the record is; a confirmation of an already matched preliminary record
  confirms that payment. Four-eyes.
* ``refund_due`` (過誤納): a :class:`~gateway.models.recon.Refund` with the decision date, amount and fiscal
  year; :func:`mark_refunded` later records that the office paid it. The refund itself happens outside.
* ``applied_to_claim`` (充当): an ``applied_out`` payment (negative) on the overpaid claim and an
  ``applied_in`` payment on another claim of the same debtor, with accounting entries. Four-eyes.
* ``agent_withdrawn``: the agent withdrew the data; a payment that came from the withdrawn record is
  cancelled (its accounting entries reversed). For ``cancel_after_confirmation`` the agent confirms that it
  withdrew the confirmed payment itself, so that payment is cancelled (``no_action`` keeps it).
* ``no_action``: nothing changes but the status.

Four-eyes: a ``finance`` user (or the command-line operator) proposes; a *different* person with a staff
account holding the ``approver`` role approves or rejects. :func:`unmatch` undoes any resolution, also one the
system made: created payments are cancelled and their entries reversed with negative rows dated today,
refunds become ``undone``; nothing is deleted.

The gateway never contacts anyone and never decides a refund: it records what the office decided.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway import catalogue
from gateway.context import Actor
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import Forbidden
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import Agent
from gateway.models import BankRecord
from gateway.models import Claim
from gateway.models import SettlementRecord
from gateway.models import Slip
from gateway.models.base import JST
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.models.recon import FOUR_EYES
from gateway.models.recon import RESOLUTIONS
from gateway.models.recon import AccountingEntry
from gateway.models.recon import ExceptionAction
from gateway.models.recon import Payment
from gateway.models.recon import ReconException
from gateway.models.recon import Refund
from gateway.models.recon import Remittance
from gateway.money import balances
from gateway.money import ledger
from gateway.money import reconcile
from reconciliation import rules
from reconciliation import vocabulary

#: Which resolutions fit which kind (the vocabulary's table).
ALLOWED: dict[str, tuple[str, ...]] = vocabulary.RESOLUTIONS_BY_KIND
#: Kinds whose exception payment *is* the record's payment: when the agent withdraws the record, the
#: payment no longer stands. (For cancellation and confirmation kinds the withdrawn data is the
#: cancellation or the confirmation, so the payment is left alone.)
WITHDRAW_CANCELS = (
    "amount_mismatch",
    "duplicate_payment",
    "paid_after_expiry",
    "paid_void_slip",
    "unexpected_channel",
    "unconfirmed_preliminary",
    "cancel_after_confirmation",
)
#: Actions that carry the effects of a resolution (the newest one describes the current resolution).
_EFFECT_ACTIONS = ("resolved", "approved")
MAX_LIMIT = 500


@dataclass(frozen=True)
class RefundInput:
    """The office's refund decision (過誤納還付); omitted fields default to today, the exception's amount and
    the fiscal year of the decision date."""

    decided_on: datetime.date | None = None
    amount: int | None = None
    fiscal_year: int | None = None


@dataclass
class _Plan:
    """A validated resolution, ready to take effect."""

    resolution: str
    claim: Claim | None = None
    amount: int | None = None
    refund: RefundInput | None = None
    data: dict[str, Any] = field(default_factory=dict)


# -- reading ------------------------------------------------------------------------------------------------


def get(ctx: Context, exception_id: int) -> ReconException:
    """One exception; ``NotFound`` when there is none with that id."""
    exc = ctx.session.get(ReconException, exception_id)
    if exc is None:
        raise NotFound(
            f"exception {exception_id} not found",
            field="id",
            key="exception.not_found",
            params={"id": exception_id},
        )
    return exc


def _check_filters(status: str | None, kind: str | None) -> None:
    if status is not None and status not in EXCEPTION_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(EXCEPTION_STATUSES)}", field="status")
    if kind is not None and kind not in EXCEPTION_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(EXCEPTION_KINDS)}", field="kind")


def list_exceptions(
    ctx: Context,
    status: str | None = None,
    kind: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> list[ReconException]:
    """Exceptions in id order, filtered by status and kind; ``after_id`` is the cursor (keyset pagination)."""
    _check_filters(status, kind)
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    query = select(ReconException).order_by(ReconException.id).limit(limit)  # type: ignore[arg-type]
    if status:
        query = query.where(ReconException.status == status)
    if kind:
        query = query.where(ReconException.kind == kind)
    if after_id is not None:
        query = query.where(ReconException.id > after_id)  # type: ignore[operator]
    return list(ctx.session.exec(query).all())


def page(
    ctx: Context,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """``{"items": [...], "next": cursor|null}``: one page of the queue; ``next`` is the cursor of the
    following page (an opaque string; today the last id)."""
    after_id = None
    if cursor:
        if not cursor.isdigit():
            raise InvalidInput("cursor must be the 'next' value of a previous page", field="cursor")
        after_id = int(cursor)
    rows = list_exceptions(ctx, status=status, kind=kind, after_id=after_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": exceptions_json(ctx, rows), "next": str(rows[-1].id) if more and rows else None}


def page_both_ways(
    ctx: Context,
    status: str | None = None,
    kind: str | None = None,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of the queue in id order for the staff pages: after the id ``after`` or, going back, before
    the id ``before``. ``{"items", "next": id|None, "prev": id|None}`` (``prev``: pass it as ``before``)."""
    _check_filters(status, kind)
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    query = select(ReconException)
    if status:
        query = query.where(ReconException.status == status)
    if kind:
        query = query.where(ReconException.kind == kind)
    if before is not None:
        query = query.where(ReconException.id < before)  # type: ignore[operator]
        rows = list(ctx.session.exec(query.order_by(col(ReconException.id).desc()).limit(limit + 1)).all())
        earlier = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        later = True
    else:
        if after is not None:
            query = query.where(ReconException.id > after)  # type: ignore[operator]
        rows = list(ctx.session.exec(query.order_by(col(ReconException.id)).limit(limit + 1)).all())
        later = len(rows) > limit
        rows = rows[:limit]
        earlier = after is not None
    if earlier and rows and before is None:
        # Going forward from a cursor: is there anything before this page at all?
        first = rows[0].id
        probe = select(ReconException.id).where(ReconException.id < first)  # type: ignore[operator]
        if status:
            probe = probe.where(ReconException.status == status)
        if kind:
            probe = probe.where(ReconException.kind == kind)
        earlier = ctx.session.exec(probe.limit(1)).first() is not None
    return {
        "items": exceptions_json(ctx, rows),
        "next": rows[-1].id if later and rows else None,
        "prev": rows[0].id if earlier and rows else None,
    }


def count_by_kind(ctx: Context, status: str | None = None) -> dict[str, int]:
    """How many exceptions of each kind (with ``status``, when given)."""
    _check_filters(status, None)
    query = sa.select(col(ReconException.kind), sa.func.count()).group_by(col(ReconException.kind))
    if status:
        query = query.where(col(ReconException.status) == status)
    return {kind: int(n) for kind, n in ctx.session.execute(query).all()}


def history(ctx: Context, exception_id: int) -> list[ExceptionAction]:
    """Every action on the exception, oldest first."""
    return list(
        ctx.session.exec(
            select(ExceptionAction)
            .where(ExceptionAction.exception_id == exception_id)
            .order_by(ExceptionAction.id)  # type: ignore[arg-type]
        ).all()
    )


def allowed_resolutions(exc: ReconException) -> tuple[str, ...]:
    """The resolutions that fit this exception's kind (and source)."""
    allowed = ALLOWED.get(exc.kind, ("no_action",))
    if exc.agent_id is None:
        allowed = tuple(r for r in allowed if r != "agent_withdrawn")
    if exc.claim_id is None:
        allowed = tuple(r for r in allowed if r not in ("refund_due", "applied_to_claim"))
    return allowed


def _iso(value: datetime.date | datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _at(value: datetime.datetime | None) -> str | None:
    return value.astimezone(JST).isoformat() if value is not None else None


def _refund_json(r: Refund) -> dict[str, Any]:
    return {
        "id": r.id,
        "amount": r.amount,
        "decided_on": _iso(r.decided_on),
        "fiscal_year": r.fiscal_year,
        "status": r.status,
        "refunded_on": _iso(r.refunded_on),
    }


def action_json(a: ExceptionAction) -> dict[str, Any]:
    return {
        "id": a.id,
        "action": a.action,
        "actor": a.actor,
        "at": _at(a.at),
        "on_date": _iso(a.on_date),
        "note": a.note,
        "data": a.data or {},
    }


def exception_json(ctx: Context, exc: ReconException, *, with_history: bool = False) -> dict[str, Any]:
    """The spec's exception shape plus the resolution fields (and, with ``with_history``, the actions, the
    records and the payments involved)."""
    return exceptions_json(ctx, [exc], with_history=with_history)[0]


def exceptions_json(
    ctx: Context, rows: Sequence[ReconException], *, with_history: bool = False
) -> list[dict[str, Any]]:
    """Several exceptions as JSON with a handful of lookups (no query per row)."""
    if not rows:
        return []
    ids = [r.id for r in rows if r.id is not None]
    slip_ids = {r.slip_id for r in rows if r.slip_id is not None}
    claim_ids = {c for r in rows for c in (r.claim_id, r.resolution_claim_id) if c is not None}
    slips: dict[int, str] = {}
    if slip_ids:
        for sid, number, reissue in ctx.session.execute(
            sa.select(col(Slip.id), col(Slip.payment_number), col(Slip.reissue_count)).where(
                col(Slip.id).in_(slip_ids)
            )
        ).all():
            slips[sid] = f"{number}-{reissue}"
    claims: dict[int, str] = {}
    if claim_ids:
        claims = dict(
            ctx.session.execute(
                sa.select(col(Claim.id), col(Claim.number)).where(col(Claim.id).in_(claim_ids))
            ).all()
        )
    agent_ids = {r.agent_id for r in rows if r.agent_id is not None}
    agents: dict[int, tuple[str, str]] = {}
    if agent_ids:
        agents = {
            aid: (code, name)
            for aid, code, name in ctx.session.execute(
                sa.select(col(Agent.id), col(Agent.code), col(Agent.name)).where(col(Agent.id).in_(agent_ids))
            ).all()
        }
    refunds: dict[int, list[Refund]] = {}
    for refund in ctx.session.exec(
        select(Refund).where(Refund.exception_id.in_(ids)).order_by(Refund.id)  # type: ignore[attr-defined,arg-type]
    ).all():
        refunds.setdefault(refund.exception_id, []).append(refund)
    out = []
    for r in rows:
        assert r.id is not None
        mine = refunds.get(r.id, [])
        doc: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "status": r.status,
            "slip_number": slips.get(r.slip_id) if r.slip_id is not None else None,
            "claim_number": claims.get(r.claim_id) if r.claim_id is not None else None,
            "amount": r.amount,
            # Reconciliation stores [null, id] for a confirmation of a payment recorded by hand.
            "record_ids": [i for i in r.record_ids or [] if i is not None],
            "detail": r.detail or {},
            "bank_record_ids": [i for i in r.bank_record_ids or [] if i is not None],
            "agent_code": agents[r.agent_id][0] if r.agent_id in agents else None,
            "agent_name": agents[r.agent_id][1] if r.agent_id in agents else None,
            "payment_id": r.payment_id,
            "opened_at": _at(r.opened_at),
            "opened_date": _iso(r.opened_date),
            "resolution": r.resolution,
            "resolution_claim_number": claims.get(r.resolution_claim_id) if r.resolution_claim_id else None,
            "proposed_by": r.proposed_by,
            "proposed_at": _at(r.proposed_at),
            "resolved_by": r.resolved_by,
            "resolved_at": _at(r.resolved_at),
            "resolved_date": _iso(r.resolved_date),
            "note": r.note,
            "refund": _refund_json(mine[-1]) if mine else None,
            "allowed_resolutions": list(allowed_resolutions(r)),
        }
        if with_history:
            doc["actions"] = [action_json(a) for a in history(ctx, r.id)]
            doc["refunds"] = [_refund_json(f) for f in mine]
            doc["records"] = _records_json(ctx, doc["record_ids"])
            doc["bank_records"] = _bank_records_json(ctx, doc["bank_record_ids"])
            doc["payments"] = _payments_json(ctx, r)
        out.append(doc)
    return out


def _records_json(ctx: Context, record_ids: list[int]) -> list[dict[str, Any]]:
    if not record_ids:
        return []
    rows = ctx.session.execute(
        sa.select(SettlementRecord, col(Agent.code), col(Agent.name))
        .join(Agent, col(Agent.id) == col(SettlementRecord.agent_id))
        .where(col(SettlementRecord.id).in_(record_ids))
        .order_by(col(SettlementRecord.id))
    ).all()
    return [
        {
            "id": rec.id,
            "kind": rec.kind,
            "kind_code": rec.kind_code,
            "agent_code": code,
            "agent_name": agent_name,
            "file_id": rec.file_id,
            "payment_number": rec.payment_number,
            "reissue_count": rec.reissue_count,
            "amount": rec.amount,
            "paid_at": _at(rec.paid_at),
            "channel_code": rec.channel_code,
            "store_code": rec.store_code,
            "transfer_date": _iso(rec.transfer_date),
            "received_date": _iso(rec.received_date),
        }
        for rec, code, agent_name in rows
    ]


def _bank_records_json(ctx: Context, bank_ids: list[int]) -> list[dict[str, Any]]:
    # The remitter name can be a person's name (direct transfers): never shown here.
    if not bank_ids:
        return []
    rows = ctx.session.exec(
        select(BankRecord).where(BankRecord.id.in_(bank_ids)).order_by(BankRecord.id)  # type: ignore[union-attr,arg-type]
    ).all()
    return [
        {
            "id": b.id,
            "file_id": b.file_id,
            "value_date": _iso(b.value_date),
            "amount": b.amount,
            "cancelled": b.cancelled,
        }
        for b in rows
    ]


def _payments_json(ctx: Context, exc: ReconException) -> list[dict[str, Any]]:
    """The exception's own payment and the payments its resolutions created."""
    cond = col(Payment.exception_id) == exc.id
    if exc.payment_id is not None:
        cond = sa.or_(cond, col(Payment.id) == exc.payment_id)
    rows = ctx.session.execute(
        sa.select(Payment, col(Slip.payment_number), col(Slip.reissue_count), col(Claim.number))
        .outerjoin(Slip, col(Slip.id) == col(Payment.slip_id))
        .join(Claim, col(Claim.id) == col(Payment.claim_id))
        .where(cond)
        .order_by(col(Payment.id))
    ).all()
    out = []
    for p, number, reissue, claim_number in rows:
        doc = ledger.payment_json(p, f"{number}-{reissue}" if number else None)
        doc["claim_number"] = claim_number
        doc["exception_id"] = p.exception_id
        out.append(doc)
    return out


def refunds(
    ctx: Context, status: str | None = "refund_due", after_id: int | None = None, limit: int = 50
) -> dict[str, Any]:
    """Refunds (過誤納) in id order with their exception and claim, one page at a time (keyset on the
    refund id), plus the count and sum of all refunds with ``status``.

    Returns ``{"items": [{"id", "exception_id", "exception_kind", "claim_number", "amount", "decided_on",
    "fiscal_year", "status", "refunded_on", "decided_by"}], "next": id|None, "count", "total"}``.
    """
    if limit < 1 or limit > MAX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    query = (
        sa.select(Refund, col(Claim.number), col(ReconException.kind), col(ReconException.resolved_by))
        .join(Claim, col(Claim.id) == col(Refund.claim_id))
        .join(ReconException, col(ReconException.id) == col(Refund.exception_id))
        .order_by(col(Refund.id))
        .limit(limit + 1)
    )
    totals = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Refund.amount), 0))
    if status:
        query = query.where(col(Refund.status) == status)
        totals = totals.where(col(Refund.status) == status)
    if after_id is not None:
        query = query.where(col(Refund.id) > after_id)
    rows = ctx.session.execute(query).all()
    more = len(rows) > limit
    rows = rows[:limit]
    count, total = ctx.session.execute(totals).one()
    items = [
        {
            **_refund_json(refund),
            "exception_id": refund.exception_id,
            "exception_kind": kind,
            "claim_number": number,
            "decided_by": resolved_by,
        }
        for refund, number, kind, resolved_by in rows
    ]
    return {
        "items": items,
        "next": items[-1]["id"] if more and items else None,
        "count": int(count),
        "total": int(total),
    }


# -- who may do what -------------------------------------------------------------------------------------


def same_person(actor: Actor, label: str | None) -> bool:
    """Whether ``actor`` is the person behind ``label`` (``kind:name``).

    Labels are compared, and names too: ``cli:kato`` proposing and ``user:kato`` approving is refused, since
    the command line runs as the operating-system account of a person.
    """
    if not label:
        return False
    _, _, name = label.partition(":")
    return label == actor.label or name == actor.name


def can_propose(actor: Actor) -> bool:
    return actor.has_role("finance")


def can_approve(actor: Actor, exc: ReconException) -> bool:
    """An approver account other than the proposer's, on a pending proposal."""
    return (
        exc.status == "pending_approval"
        and actor.kind == "user"
        and actor.role == "approver"
        and not same_person(actor, exc.proposed_by)
    )


def _require_finance(ctx: Context, what: str) -> None:
    if not can_propose(ctx.actor):
        raise Forbidden(f"{what} needs the finance role")


def _require_approver_role(ctx: Context, what: str) -> None:
    actor = ctx.actor
    if actor.kind != "user" or actor.role != "approver":
        raise Forbidden(
            f"{what} needs a staff account with the approver role "
            "(on the command line: --approver NAME with that account's password or token)"
        )


def _require_other_person(ctx: Context, exc: ReconException, verb: str) -> None:
    if same_person(ctx.actor, exc.proposed_by):
        raise Forbidden(
            f"{ctx.actor.name} proposed this resolution and cannot also {verb} it: another approver must "
            "(four-eyes)",
            code="four_eyes",
            field="id",
            key="exception.four_eyes",
        )


def _note(text: str | None, fieldname: str = "note") -> str:
    if text is None or not text.strip():
        raise InvalidInput(
            f"a {fieldname} is required", field=fieldname, key="form.required", params={"field": "reason"}
        )
    if len(text) > 2000:
        raise InvalidInput(
            f"the {fieldname} is longer than 2000 characters",
            field=fieldname,
            key="exception.text_too_long",
            params={"field": "reason"},
        )
    return text.strip()


def _lock(ctx: Context, exception_id: int) -> ReconException:
    """Load the exception for a change (row lock on PostgreSQL; SQLite holds the write lock already)."""
    exc = ctx.session.exec(
        select(ReconException)
        .where(ReconException.id == exception_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if exc is None:
        raise NotFound(
            f"exception {exception_id} not found",
            field="id",
            key="exception.not_found",
            params={"id": exception_id},
        )
    return exc


def _act(
    ctx: Context,
    exc: ReconException,
    action: str,
    note: str | None,
    data: dict[str, Any],
    now: datetime.datetime,
) -> None:
    assert exc.id is not None
    ctx.session.add(
        ExceptionAction(
            exception_id=exc.id,
            action=action,
            actor=ctx.actor.label,
            at=now,
            on_date=ctx.today(),
            note=note,
            data=data,
        )
    )


def _last_action(ctx: Context, exception_id: int, actions: Iterable[str]) -> ExceptionAction | None:
    return ctx.session.exec(
        select(ExceptionAction)
        .where(ExceptionAction.exception_id == exception_id, ExceptionAction.action.in_(list(actions)))  # type: ignore[attr-defined]
        .order_by(ExceptionAction.id.desc())  # type: ignore[union-attr]
    ).first()


# -- money on claims -----------------------------------------------------------------------------------------


def _claim(ctx: Context, number: str | None, fieldname: str = "claim_number") -> Claim:
    if not number or not number.strip():
        raise InvalidInput(
            "a claim number is required for this resolution",
            field=fieldname,
            key="form.required",
            params={"field": "claim_number"},
        )
    claim = ctx.session.exec(select(Claim).where(Claim.number == number.strip())).first()
    if claim is None:
        raise NotFound(
            f"claim {number} not found",
            field=fieldname,
            key="claim.not_found",
            params={"number": number.strip()},
        )
    return claim


def _closed(claim: Claim) -> Conflict:
    """The refusal to move money onto a closed claim, in English and (by key) in Japanese."""
    return Conflict(
        f"claim {claim.number} is {claim.status}",
        field="claim_number",
        key="exception.claim_closed",
        params={"number": claim.number, "status": catalogue.label("claim_status", claim.status)},
    )


def excess(ctx: Context, claim: Claim) -> int:
    """Confirmed money beyond the claim's amount not yet set aside for a refund (may be negative)."""
    assert claim.id is not None
    reserved = ctx.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            col(Refund.claim_id) == claim.id, col(Refund.status) != "undone"
        )
    ).scalar_one()
    return balances.balance(ctx, claim).paid_amount - claim.amount - int(reserved)


def _whole_yen(value: Any, fieldname: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(
            f"{fieldname} must be a whole number of yen, at least 1",
            field=fieldname,
            key="exception.whole_yen",
            params={"field": "refund_amount" if fieldname == "refund.amount" else fieldname},
        )
    return value


def _source_claim(ctx: Context, exc: ReconException) -> Claim:
    if exc.claim_id is None:
        raise Conflict(f"exception {exc.id} concerns no claim", field="resolution", key="exception.no_claim")
    claim = ctx.session.get(Claim, exc.claim_id)
    assert claim is not None
    return claim


def _plan(
    ctx: Context,
    exc: ReconException,
    resolution: str,
    *,
    claim_number: str | None,
    amount: int | None,
    refund: RefundInput | None,
) -> _Plan:
    """Check that ``resolution`` fits the exception and the current state; what it will do."""
    if resolution not in RESOLUTIONS:
        raise InvalidInput(
            f"resolution must be one of {', '.join(RESOLUTIONS)}",
            field="resolution",
            key="form.choose",
            params={"field": "resolution"},
        )
    allowed = allowed_resolutions(exc)
    if resolution not in allowed:
        raise Conflict(
            f"a {exc.kind} exception cannot be resolved as {resolution} (possible: {', '.join(allowed)})",
            field="resolution",
            key="exception.resolution_unfit",
        )
    if resolution == "matched_to_claim":
        target = _claim(ctx, claim_number)
        if target.status in CLOSED_STATUSES:
            raise _closed(target)
        records = _records(ctx, exc)
        for rec in records:
            if rec.kind == "cancellation":
                raise Conflict(
                    f"record {rec.id} is a cancellation: there is no payment to match",
                    field="resolution",
                    key="exception.cancellation",
                )
        return _Plan(
            resolution,
            claim=target,
            amount=sum(r.amount for r in records),
            data={"claim_number": target.number, "record_ids": [r.id for r in records]},
        )
    if resolution == "refund_due":
        source = _source_claim(ctx, exc)
        refund = refund or RefundInput()
        decided_on = refund.decided_on or ctx.today()
        if decided_on > ctx.today():
            raise InvalidInput(
                f"decision date {decided_on} is in the future",
                field="refund.decided_on",
                key="exception.date_future",
                params={"field": "refund_decided_on"},
            )
        available = excess(ctx, source)
        value = _whole_yen(
            refund.amount if refund.amount is not None else _default_amount(exc, available), "refund.amount"
        )
        year = refund.fiscal_year if refund.fiscal_year is not None else rules.fiscal_year_of(decided_on)
        if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2099:
            raise InvalidInput(
                "fiscal year must be 2000 to 2099", field="refund.fiscal_year", key="exception.fiscal_year"
            )
        if value > available:
            raise Conflict(
                f"claim {source.number} holds {max(available, 0)} yen of confirmed money beyond its amount "
                f"not yet set aside for a refund; a refund of {value} yen does not fit",
                field="refund.amount",
                details={"available": max(available, 0)},
                key="exception.too_much",
                params={"field": "refund_amount", "available": f"{max(available, 0):,}"},
            )
        return _Plan(
            resolution,
            amount=value,
            refund=RefundInput(decided_on=decided_on, amount=value, fiscal_year=year),
            data={
                "claim_number": source.number,
                "refund": {"decided_on": decided_on.isoformat(), "amount": value, "fiscal_year": year},
            },
        )
    if resolution == "applied_to_claim":
        source = _source_claim(ctx, exc)
        target = _claim(ctx, claim_number)
        if target.id == source.id:
            raise Conflict(
                "money is applied to another claim, not to the same one",
                field="claim_number",
                key="exception.same_claim",
            )
        # The same debtor is the same row: compared by id, never by decrypting names.
        if target.debtor_id != source.debtor_id:
            raise Conflict(
                f"claim {target.number} belongs to another debtor; money is applied only between claims "
                "of the same debtor",
                field="claim_number",
                key="exception.other_debtor",
                params={"number": target.number},
            )
        if target.status in CLOSED_STATUSES:
            raise _closed(target)
        available = excess(ctx, source)
        value = _whole_yen(amount if amount is not None else _default_amount(exc, available), "amount")
        if value > available:
            raise Conflict(
                f"claim {source.number} holds {max(available, 0)} yen beyond its amount; {value} yen "
                "cannot be applied elsewhere",
                field="amount",
                details={"available": max(available, 0)},
                key="exception.too_much",
                params={"field": "amount", "available": f"{max(available, 0):,}"},
            )
        open_amount = target.amount - balances.balance(ctx, target).paid_amount
        if value > open_amount:
            raise Conflict(
                f"claim {target.number} still owes {max(open_amount, 0)} yen; {value} yen would overpay it",
                field="amount",
                details={"target_open_amount": max(open_amount, 0)},
                key="exception.would_overpay",
                params={"number": target.number, "open": f"{max(open_amount, 0):,}"},
            )
        return _Plan(
            resolution,
            claim=target,
            amount=value,
            data={
                "claim_number": target.number,
                "amount": value,
                "source_claim": source.number,
                "source_legal_basis": source.legal_basis,
                "target_claim": target.number,
                "target_legal_basis": target.legal_basis,
            },
        )
    return _Plan(resolution)


def _default_amount(exc: ReconException, available: int) -> int:
    """Without an amount: the exception's, but no more than the claim holds beyond its own amount (an
    amount_mismatch of 13,000 yen on a 12,000 yen slip leaves 1,000 yen to refund). Zero is refused by the
    caller's check, with the figure that would fit."""
    return max(1, min(exc.amount, available))


def _records(ctx: Context, exc: ReconException) -> list[SettlementRecord]:
    ids = list(exc.record_ids or [])
    if not ids:
        raise Conflict(
            f"exception {exc.id} carries no settlement record", field="resolution", key="exception.no_records"
        )
    return list(
        ctx.session.exec(
            select(SettlementRecord).where(SettlementRecord.id.in_(ids)).order_by(SettlementRecord.id)  # type: ignore[union-attr,arg-type]
        ).all()
    )


# -- effects ----------------------------------------------------------------------------------------------


def _book(ctx: Context, payment: Payment) -> None:
    """Accounting entries so that the payment's entries add up to its amount (a confirmed payment with a
    receipt date) or to zero; the difference is a new row, never an update."""
    assert payment.id is not None
    ctx.session.flush()
    net = ctx.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(AccountingEntry.amount), 0)).where(
            col(AccountingEntry.payment_id) == payment.id
        )
    ).scalar_one()
    want = payment.amount if payment.state == "confirmed" and payment.receipt_date is not None else 0
    diff = want - int(net)
    if diff == 0 or want == 0:
        return
    if not ledger.add_entries(ctx, payment_ids=[payment.id]):
        # Entries exist (a reversed earlier booking): the reinstatement is a correction dated today.
        assert payment.fiscal_year is not None and payment.arrears is not None
        ctx.session.add(
            AccountingEntry(
                payment_id=payment.id,
                claim_id=payment.claim_id,
                receipt_date=ctx.today(),
                fiscal_year=payment.fiscal_year,
                arrears=payment.arrears,
                amount=diff,
                reason="reinstated",
                created_at=ctx.now(),
            )
        )


def _receipt(ctx: Context, payment: Payment, claim: Claim) -> None:
    """A confirmed matched payment whose remittance is already matched gets its receipt date and year now
    (later remittances give it them in the reconciliation run). Money paid at the bank's counter reached the
    office's account directly: its receipt date is the day it was paid."""
    if (
        payment.state == "confirmed"
        and payment.channel_code == rules.BANK_COUNTER
        and payment.receipt_date is None
    ):
        year = rules.revenue_year(payment.paid_date, claim.fiscal_year)
        payment.receipt_date, payment.fiscal_year, payment.arrears = (
            payment.paid_date,
            year.fiscal_year,
            year.arrears,
        )
        return
    if payment.state != "confirmed" or payment.transfer_date is None or payment.agent_id is None:
        return
    remittance = ctx.session.exec(
        select(Remittance).where(
            Remittance.agent_id == payment.agent_id,
            Remittance.transfer_date == payment.transfer_date,
            Remittance.status == "matched",
        )
    ).first()
    if remittance is None:
        return
    year = rules.revenue_year(remittance.transfer_date, claim.fiscal_year)
    payment.receipt_date = remittance.transfer_date
    payment.remittance_id = remittance.id
    payment.fiscal_year = year.fiscal_year
    payment.arrears = year.arrears


def _our_payment_number(ctx: Context, rec: SettlementRecord) -> str | None:
    """The record's payment number, unless it is another office's number that collides with one of ours
    (it must not mark our slip paid)."""
    ours = (
        rec.issuer_prefix == ctx.settings.issuer_prefix and rec.consignor_code == ctx.settings.consignor_code
    )
    if ours:
        return rec.payment_number
    clash = ctx.session.exec(select(Slip.id).where(Slip.payment_number == rec.payment_number)).first()
    return None if clash is not None else rec.payment_number


def _snapshot(p: Payment) -> dict[str, Any]:
    return {
        "state": p.state,
        "amount": p.amount,
        "paid_at": p.paid_at.isoformat(),
        "paid_date": p.paid_date.isoformat(),
        "transfer_date": _iso(p.transfer_date),
        "confirmed_at": _iso(p.confirmed_at),
    }


def _match(
    ctx: Context, exc: ReconException, claim: Claim, note: str, now: datetime.datetime
) -> dict[str, Any]:
    created: list[int] = []
    confirmed: list[dict[str, Any]] = []
    assert claim.id is not None
    for rec in _records(ctx, exc):
        if rec.kind == "cancellation":
            raise Conflict(
                f"record {rec.id} is a cancellation: there is no payment to match",
                key="exception.cancellation",
            )
        number = _our_payment_number(ctx, rec)
        if rec.kind == "confirmed" and number is not None:
            prelim = _matched_preliminary(ctx, rec, number)
            if prelim is not None:
                if prelim.claim_id != claim.id:
                    other = ctx.session.get(Claim, prelim.claim_id)
                    raise Conflict(
                        f"the preliminary record of this payment was matched to claim "
                        f"{other.number if other else prelim.claim_id}; match this one there too, or undo "
                        "that match first",
                        field="claim_number",
                        key="exception.match_elsewhere",
                        params={"number": other.number if other else ""},
                    )
                before = _snapshot(prelim)
                prelim.state = "confirmed"
                prelim.confirmed_record_id = rec.id
                prelim.amount = rec.amount
                prelim.paid_at = rec.paid_at
                prelim.paid_date = rec.paid_date
                prelim.transfer_date = rec.transfer_date
                prelim.confirmed_at = now
                prelim.updated_at = now
                _receipt(ctx, prelim, claim)
                ctx.session.add(prelim)
                _book(ctx, prelim)
                confirmed.append({"id": prelim.id, "before": before})
                continue
        if rec.kind == "preliminary" and number is not None:
            done = ctx.session.exec(
                select(Payment.id).where(
                    Payment.source == "matched",
                    Payment.state == "confirmed",
                    Payment.payment_number == number,
                    Payment.reissue_count == rec.reissue_count,
                    Payment.paid_at == rec.paid_at,
                    Payment.store_code == rec.store_code,
                    Payment.preliminary_record_id.is_(None),  # type: ignore[union-attr]
                )
            ).first()
            if done is not None:
                raise Conflict(
                    f"the confirmation of this payment was matched already (payment {done}); resolve this "
                    "preliminary record as no_action",
                    field="resolution",
                    key="exception.already_matched",
                )
        confirmed_state = rec.kind == "confirmed"
        payment = Payment(
            claim_id=claim.id,
            slip_id=None,
            payment_number=number,
            reissue_count=rec.reissue_count,
            amount=rec.amount,
            state="confirmed" if confirmed_state else "preliminary",
            source="matched",
            channel_code=rec.channel_code,
            store_code=rec.store_code,
            agent_id=rec.agent_id,
            paid_at=rec.paid_at,
            paid_date=rec.paid_date,
            late=False,
            preliminary_record_id=None if confirmed_state else rec.id,
            confirmed_record_id=rec.id if confirmed_state else None,
            transfer_date=rec.transfer_date,
            received_at=rec.received_at,
            received_date=rec.received_date,
            confirmed_at=now if confirmed_state else None,
            exception_id=exc.id,
            reason=note,
            recorded_by=ctx.actor.label,
            created_at=now,
            updated_at=now,
        )
        _receipt(ctx, payment, claim)
        ctx.session.add(payment)
        ctx.session.flush()
        _book(ctx, payment)
        assert payment.id is not None
        created.append(payment.id)
    return {"created": created, "confirmed": confirmed}


def _matched_preliminary(ctx: Context, rec: SettlementRecord, number: str) -> Payment | None:
    """The matched preliminary payment a matched confirmation belongs to: same payment number, reissue
    count, payment time and store; failing that, the oldest open one of the payment number (the spec's
    linking rule)."""
    base = select(Payment).where(
        Payment.source == "matched", Payment.state == "preliminary", Payment.payment_number == number
    )
    exact = ctx.session.exec(
        base.where(
            Payment.reissue_count == rec.reissue_count,
            Payment.paid_at == rec.paid_at,
            Payment.store_code == rec.store_code,
        ).order_by(Payment.id)  # type: ignore[arg-type]
    ).first()
    return exact or ctx.session.exec(base.order_by(Payment.id)).first()  # type: ignore[arg-type]


def _apply_to_claim(
    ctx: Context, exc: ReconException, plan: _Plan, note: str, now: datetime.datetime
) -> dict[str, Any]:
    source = _source_claim(ctx, exc)
    target = plan.claim
    assert target is not None and plan.amount is not None
    today = ctx.today()
    created = []
    for claim, amount, source_name in (
        (source, -plan.amount, "applied_out"),
        (target, plan.amount, "applied_in"),
    ):
        assert claim.id is not None
        year = rules.revenue_year(today, claim.fiscal_year)
        payment = Payment(
            claim_id=claim.id,
            amount=amount,
            state="confirmed",
            source=source_name,
            paid_at=now,
            paid_date=today,
            received_at=now,
            received_date=today,
            confirmed_at=now,
            receipt_date=today,
            fiscal_year=year.fiscal_year,
            arrears=year.arrears,
            exception_id=exc.id,
            reason=note,
            recorded_by=ctx.actor.label,
            created_at=now,
            updated_at=now,
        )
        ctx.session.add(payment)
        ctx.session.flush()
        _book(ctx, payment)
        created.append(payment.id)
    return {"created": created}


def withdrawn_payment(ctx: Context, exc: ReconException) -> Payment | None:
    """The payment ``agent_withdrawn`` would cancel for this exception, if any."""
    if exc.kind not in WITHDRAW_CANCELS or exc.payment_id is None:
        return None
    payment = ctx.session.get(Payment, exc.payment_id)
    if payment is None or payment.source != "agent" or payment.state == "cancelled":
        return None
    return payment


def _withdraw(ctx: Context, exc: ReconException, now: datetime.datetime) -> dict[str, Any]:
    payment = withdrawn_payment(ctx, exc)
    if payment is None:
        return {}
    previous = payment.state
    _cancel(ctx, payment, f"withdrawn: exception {exc.id}", now)
    _reopen_slips(ctx, [payment.payment_number], now)
    return {"cancelled": [{"id": payment.id, "state": previous}]}


def _cancel(ctx: Context, payment: Payment, reason: str, now: datetime.datetime) -> None:
    payment.state = "cancelled"
    payment.cancelled_at = now
    payment.updated_at = now
    ctx.session.add(payment)
    ctx.session.flush()
    assert payment.id is not None
    ledger.reverse_entries(ctx, payment.id, reason)
    ctx.session.flush()


def _reopen_slips(ctx: Context, payment_numbers: Iterable[str | None], now: datetime.datetime) -> None:
    """A slip marked paid by money that no longer stands is live again."""
    numbers = sorted({n for n in payment_numbers if n})
    if not numbers:
        return
    ctx.session.flush()
    for slip in ctx.session.exec(
        select(Slip).where(Slip.payment_number.in_(numbers), Slip.status == "paid")  # type: ignore[attr-defined]
    ).all():
        paid = ctx.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(Payment.amount), 0)).where(
                col(Payment.payment_number) == slip.payment_number, col(Payment.state) == "confirmed"
            )
        ).scalar_one()
        if int(paid) < slip.amount:
            slip.status = "issued"
            slip.status_changed_at = now
            ctx.session.add(slip)


def _take_effect(
    ctx: Context, exc: ReconException, plan: _Plan, note: str, now: datetime.datetime
) -> dict[str, Any]:
    """Do what the resolution does; returns the effects (kept in the action so undo can reverse them)."""
    effects: dict[str, Any] = {}
    if plan.resolution == "matched_to_claim":
        assert plan.claim is not None
        effects = _match(ctx, exc, plan.claim, note, now)
    elif plan.resolution == "applied_to_claim":
        effects = _apply_to_claim(ctx, exc, plan, note, now)
    elif plan.resolution == "agent_withdrawn":
        effects = _withdraw(ctx, exc, now)
    elif plan.resolution == "refund_due":
        assert plan.refund is not None and exc.claim_id is not None and exc.id is not None
        assert plan.refund.decided_on is not None and plan.refund.amount is not None
        assert plan.refund.fiscal_year is not None
        refund = Refund(
            claim_id=exc.claim_id,
            exception_id=exc.id,
            amount=plan.refund.amount,
            decided_on=plan.refund.decided_on,
            fiscal_year=plan.refund.fiscal_year,
            status="refund_due",
            created_at=now,
        )
        ctx.session.add(refund)
        ctx.session.flush()
        effects = {"refund_id": refund.id}
    return effects


def _instant(ctx: Context) -> datetime.datetime:
    """The mark of this action's rows: later than any earlier run's, so the checks see only its payments."""
    return reconcile.fresh_instant(ctx)


def _after_money(ctx: Context, changed: bool, now: datetime.datetime) -> None:
    """Run the reconciliation checks on the payments an action changed (statuses, slips, overpayments)."""
    if changed:
        ctx.session.flush()
        reconcile.after_payments(ctx, now)


def _moved_money(effects: dict[str, Any]) -> bool:
    return bool(effects.get("created") or effects.get("confirmed") or effects.get("cancelled"))


def _resolved(ctx: Context, exc: ReconException, plan: _Plan, now: datetime.datetime) -> None:
    exc.status = "resolved"
    exc.resolution = plan.resolution
    exc.resolution_claim_id = plan.claim.id if plan.claim is not None else None
    exc.resolved_by = ctx.actor.label
    exc.resolved_at = now
    exc.resolved_date = ctx.today()
    ctx.session.add(exc)


# -- changes ----------------------------------------------------------------------------------------------


@mutation("exception.resolve")
def resolve(
    ctx: Context,
    exception_id: int,
    resolution: str,
    *,
    note: str,
    claim_number: str | None = None,
    amount: int | None = None,
    refund: RefundInput | None = None,
) -> ReconException:
    """Resolve an open exception, or propose a four-eyes resolution (``matched_to_claim``,
    ``applied_to_claim``), which then waits for :func:`approve`.

    Args:
        claim_number: the claim to match to or apply to.
        amount: for ``applied_to_claim``, the yen to move (default: the exception's amount, at most the
            claim's excess).
        refund: for ``refund_due``, the office's decision (date, amount, fiscal year); the amount defaults
            like ``amount``, the date to today, the year to the fiscal year of the date.

    Raises:
        Forbidden: the actor has no finance role.
        Conflict: the exception is not open, or the resolution does not fit it or the money on the claims.
        InvalidInput: a missing note or a bad value (``field`` names it).
    """
    _require_finance(ctx, "resolving an exception")
    text = _note(note)
    exc = _lock(ctx, exception_id)
    if exc.status != "open":
        raise Conflict(
            f"exception {exception_id} is {exc.status}, not open", field="id", key="exception.not_open"
        )
    plan = _plan(ctx, exc, resolution, claim_number=claim_number, amount=amount, refund=refund)
    now = _instant(ctx)
    exc.resolution = resolution
    exc.note = text
    if resolution in FOUR_EYES:
        exc.status = "pending_approval"
        exc.proposed_by = ctx.actor.label
        exc.proposed_at = now
        exc.resolution_claim_id = plan.claim.id if plan.claim is not None else None
        ctx.session.add(exc)
        _act(ctx, exc, "proposed", text, {"resolution": resolution, **plan.data}, now)
        ctx.record("exception.propose", "exception", exc.id, resolution=resolution, **plan.data)
        return exc
    effects = _take_effect(ctx, exc, plan, text, now)
    _resolved(ctx, exc, plan, now)
    _act(ctx, exc, "resolved", text, {"resolution": resolution, **plan.data, "effects": effects}, now)
    ctx.record("exception.resolve", "exception", exc.id, resolution=resolution, effects=effects, **plan.data)
    _after_money(ctx, _moved_money(effects), now)
    return get(ctx, exception_id)


@mutation("exception.approve")
def approve(
    ctx: Context, exception_id: int, note: str | None = None, *, via: str | None = None
) -> ReconException:
    """Approve a pending four-eyes resolution: it takes effect now, recorded as the approver's.

    Args:
        via: how the approver reached the gateway when it is not the web (the command-line operator's label).

    Raises:
        Forbidden: the actor is not an approver account, or proposed this resolution.
        Conflict: nothing is pending, or the money no longer allows the resolution.
    """
    _require_approver_role(ctx, "approving a resolution")
    exc = _lock(ctx, exception_id)
    if exc.status != "pending_approval":
        raise Conflict(
            f"exception {exception_id} is {exc.status}; nothing to approve",
            field="id",
            key="exception.nothing_pending",
        )
    _require_other_person(ctx, exc, "approve")
    assert exc.id is not None and exc.resolution is not None
    proposal = _last_action(ctx, exc.id, ("proposed",))
    proposed = dict(proposal.data) if proposal is not None else {}
    plan = _plan(
        ctx,
        exc,
        exc.resolution,
        claim_number=proposed.get("claim_number"),
        amount=proposed.get("amount"),
        refund=None,
    )
    text = note.strip() if note and note.strip() else None
    now = _instant(ctx)
    effects = _take_effect(ctx, exc, plan, exc.note or "", now)
    _resolved(ctx, exc, plan, now)
    data: dict[str, Any] = {
        "resolution": exc.resolution,
        **plan.data,
        "proposed_by": exc.proposed_by,
        "effects": effects,
    }
    if via:
        data["via"] = via
    _act(ctx, exc, "approved", text, data, now)
    ctx.record("exception.approve", "exception", exc.id, **data)
    _after_money(ctx, _moved_money(effects), now)
    return get(ctx, exception_id)


@mutation("exception.reject")
def reject(ctx: Context, exception_id: int, note: str, *, via: str | None = None) -> ReconException:
    """Reject a pending proposal: the exception is open again (the proposal stays in the history)."""
    _require_approver_role(ctx, "rejecting a resolution")
    text = _note(note)
    exc = _lock(ctx, exception_id)
    if exc.status != "pending_approval":
        raise Conflict(
            f"exception {exception_id} is {exc.status}; nothing to reject",
            field="id",
            key="exception.nothing_pending",
        )
    _require_other_person(ctx, exc, "reject")
    now = _instant(ctx)
    data: dict[str, Any] = {"resolution": exc.resolution, "proposed_by": exc.proposed_by}
    if via:
        data["via"] = via
    _reopen(exc)
    ctx.session.add(exc)
    _act(ctx, exc, "rejected", text, data, now)
    ctx.record("exception.reject", "exception", exc.id, note=text, **data)
    return exc


def _reopen(exc: ReconException) -> None:
    exc.status = "open"
    exc.resolution = None
    exc.resolution_claim_id = None
    exc.proposed_by = None
    exc.proposed_at = None
    exc.resolved_by = None
    exc.resolved_at = None
    exc.resolved_date = None
    exc.note = None


@mutation("exception.unmatch")
def unmatch(ctx: Context, exception_id: int, reason: str) -> ReconException:
    """Undo the resolution of a resolved exception (also one the system made), with a reason.

    Payments the resolution created are cancelled and their accounting entries reversed (negative rows
    dated today); a payment it confirmed returns to preliminary; a payment it cancelled stands again;
    its refund becomes ``undone``. The exception is open again; the history keeps everything.

    Raises:
        Conflict: the exception is not resolved, or a later resolution builds on this one.
    """
    _require_finance(ctx, "undoing a resolution")
    text = _note(reason, "reason")
    exc = _lock(ctx, exception_id)
    if exc.status != "resolved":
        raise Conflict(
            f"exception {exception_id} is {exc.status}; only a resolution can be undone",
            field="id",
            key="exception.not_resolved",
        )
    assert exc.id is not None
    last = _last_action(ctx, exc.id, _EFFECT_ACTIONS)
    effects: dict[str, Any] = dict((last.data or {}).get("effects") or {}) if last is not None else {}
    now = _instant(ctx)
    undone = _reverse(ctx, exc, effects, now)
    previous = {
        "resolution": exc.resolution,
        "resolved_by": exc.resolved_by,
        "resolved_at": _at(exc.resolved_at),
        "proposed_by": exc.proposed_by,
        "note": exc.note,
    }
    _reopen(exc)
    ctx.session.add(exc)
    _act(ctx, exc, "unmatched", text, {"previous": previous, "undone": undone}, now)
    ctx.record("exception.unmatch", "exception", exc.id, reason=text, previous=previous, undone=undone)
    moved = any(undone.get(k) for k in ("cancelled_payments", "returned_to_preliminary", "reinstated"))
    _after_money(ctx, moved, now)
    if undone.get("refund_id") is not None:
        refund = ctx.session.get(Refund, undone["refund_id"])
        if refund is not None:
            reconcile.refresh_claim_statuses(ctx, [refund.claim_id])
    return get(ctx, exception_id)


def _reverse(
    ctx: Context, exc: ReconException, effects: dict[str, Any], now: datetime.datetime
) -> dict[str, Any]:
    """Reverse the effects a resolution recorded; returns what was undone (for the history)."""
    undone: dict[str, Any] = {}
    why = f"unmatch exception {exc.id}"
    records = set(exc.record_ids or [])
    cancelled = []
    for pid in effects.get("created") or []:
        payment = ctx.session.get(Payment, pid)
        if payment is None or payment.state == "cancelled":
            continue
        later = payment.confirmed_record_id
        if payment.source == "matched" and later is not None and later not in records:
            raise Conflict(
                f"payment {pid} was confirmed later by matching record {later}; undo that match first",
                field="id",
                key="exception.match_later",
            )
        cancelled.append(
            {
                "id": pid,
                "preliminary_record_id": payment.preliminary_record_id,
                "confirmed_record_id": payment.confirmed_record_id,
            }
        )
        # The records are free to be matched again; the link stays in this action's data.
        payment.preliminary_record_id = None
        payment.confirmed_record_id = None
        _cancel(ctx, payment, why, now)
    if cancelled:
        undone["cancelled_payments"] = cancelled
    restored = []
    for item in effects.get("confirmed") or []:
        payment = ctx.session.get(Payment, item["id"])
        if payment is None or payment.state != "confirmed":
            continue
        before = item["before"]
        ledger.reverse_entries(ctx, item["id"], why)
        payment.state = before["state"]
        payment.amount = before["amount"]
        payment.paid_at = datetime.datetime.fromisoformat(before["paid_at"])
        payment.paid_date = datetime.date.fromisoformat(before["paid_date"])
        transfer = before.get("transfer_date")
        payment.transfer_date = datetime.date.fromisoformat(transfer) if transfer else None
        payment.confirmed_record_id = None
        payment.confirmed_at = None
        payment.receipt_date = None
        payment.remittance_id = None
        payment.fiscal_year = None
        payment.arrears = None
        payment.updated_at = now
        ctx.session.add(payment)
        restored.append(item["id"])
    if restored:
        undone["returned_to_preliminary"] = restored
    reinstated = []
    for item in effects.get("cancelled") or []:
        payment = ctx.session.get(Payment, item["id"])
        if payment is None or payment.state != "cancelled":
            continue
        payment.state = item["state"]
        payment.cancelled_at = None
        payment.updated_at = now
        ctx.session.add(payment)
        _book(ctx, payment)  # the slip it paid is marked paid again by the reconciliation checks
        reinstated.append(item["id"])
    if reinstated:
        undone["reinstated"] = reinstated
    refund_id = effects.get("refund_id")
    if refund_id is not None:
        refund = ctx.session.get(Refund, refund_id)
        if refund is not None and refund.status != "undone":
            undone["refund_id"] = refund_id
            undone["refund_status"] = refund.status
            refund.status = "undone"
            ctx.session.add(refund)
    ctx.session.flush()
    return undone


@mutation("exception.refunded")
def mark_refunded(ctx: Context, exception_id: int, refunded_on: datetime.date) -> ReconException:
    """Record that the office paid the refund decided for this exception (``refund_due → refunded``)."""
    _require_finance(ctx, "recording a refund")
    exc = _lock(ctx, exception_id)
    refund = ctx.session.exec(
        select(Refund)
        .where(Refund.exception_id == exception_id, Refund.status == "refund_due")
        .order_by(Refund.id.desc())  # type: ignore[union-attr]
    ).first()
    if exc.status != "resolved" or exc.resolution != "refund_due" or refund is None:
        raise Conflict(
            f"exception {exception_id} has no refund waiting to be paid",
            field="id",
            key="exception.no_refund_due",
        )
    if refunded_on > ctx.today():
        raise InvalidInput(
            f"refund date {refunded_on} is in the future",
            field="refunded_on",
            key="exception.date_future",
            params={"field": "refunded_on"},
        )
    if refunded_on < refund.decided_on:
        raise InvalidInput(
            f"refund date {refunded_on} is before the decision of {refund.decided_on}",
            field="refunded_on",
            key="exception.refund_before_decision",
            params={"decided_on": refund.decided_on.strftime("%Y/%m/%d")},
        )
    now = _instant(ctx)
    refund.status = "refunded"
    refund.refunded_on = refunded_on
    ctx.session.add(refund)
    data = {"refund_id": refund.id, "amount": refund.amount, "refunded_on": refunded_on.isoformat()}
    _act(ctx, exc, "refunded", None, data, now)
    ctx.record("exception.refunded", "exception", exc.id, **data)
    ctx.session.flush()
    reconcile.refresh_claim_statuses(ctx, [refund.claim_id])
    return exc
