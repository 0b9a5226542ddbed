"""The tamper-evident audit trail: every change and every view of personal data, hash-chained.

Each event's hash is SHA-256 over the previous hash and the event's canonical JSON. The newest hash lives
in the one-row ``audit_head`` table; updating that row inside the writing transaction serialises appends
(a row lock on PostgreSQL, the write lock on SQLite), so concurrent processes extend one chain.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session
from sqlmodel import col
from sqlmodel import select

from gateway.models import AuditEvent
from gateway.models import AuditHead
from gateway.models.base import table_of

if TYPE_CHECKING:
    from gateway.context import Actor
    from gateway.context import AuditRecord

GENESIS = "0" * 64


def _canonical(prev: str, at: datetime.datetime, event: dict[str, Any]) -> bytes:
    doc = {"prev": prev, "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"), **event}
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _event_doc(row: AuditEvent) -> dict[str, Any]:
    return {
        "actor_kind": row.actor_kind,
        "actor_name": row.actor_name,
        "action": row.action,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "detail": row.detail,
    }


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so the stored detail hashes the same when read back.
    jsonable: dict[str, Any] = json.loads(json.dumps(detail, ensure_ascii=False, default=str))
    return jsonable


_EVENTS = table_of(AuditEvent)
_HEAD = table_of(AuditHead)
# Built once: appends run inside every mutation, so statement construction is worth avoiding.
# Locking the head and reading it are one statement (a no-op UPDATE … RETURNING): one round trip fewer while
# the lock that every writer queues for is held.
_LOCK_AND_READ_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_id=_HEAD.c.last_id)
    .returning(_HEAD.c.last_id, _HEAD.c.last_hash)
)
_INSERT_EVENT = sa.insert(_EVENTS)
_MOVE_HEAD = sa.update(_HEAD).where(_HEAD.c.id == 1)


def append(session: Session, actor: Actor, records: Iterable[AuditRecord], at: datetime.datetime) -> None:
    """Append events to the chain inside the caller's transaction (Core statements, one executemany)."""
    # Taking the row lock first: concurrent appenders queue here, then read the head they will extend.
    head = session.execute(_LOCK_AND_READ_HEAD).first()
    if head is None:
        session.execute(sa.insert(_HEAD).values(id=1, last_id=0, last_hash=GENESIS))
        prev = GENESIS
    else:
        prev = head.last_hash
    rows = []
    for rec in records:
        event = {
            "actor_kind": actor.kind,
            "actor_name": actor.name,
            "action": rec.action,
            "target_type": rec.target_type,
            "target_id": rec.target_id,
            "detail": _jsonable(rec.detail),
        }
        digest = hashlib.sha256(_canonical(prev, at, event)).hexdigest()
        rows.append({**event, "at": at, "prev_hash": prev, "hash": digest})
        prev = digest
    if not rows:
        return
    session.execute(_INSERT_EVENT, rows)
    session.execute(_MOVE_HEAD.values(last_hash=prev, last_id=_HEAD.c.last_id + len(rows)))


@dataclass
class VerifyResult:
    ok: bool
    events: int
    first_bad_id: int | None = None
    reason: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the first event; report the first event that does not fit."""
    prev = GENESIS
    count = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEvent).where(col(AuditEvent.id) > last_id).order_by(col(AuditEvent.id)).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            count += 1
            if row.prev_hash != prev:
                return VerifyResult(False, count, row.id, "previous hash does not match (event removed?)")
            expected = hashlib.sha256(_canonical(prev, row.at, _event_doc(row))).hexdigest()
            if row.hash != expected:
                return VerifyResult(False, count, row.id, "hash does not match the event (event altered?)")
            prev = row.hash
            last_id = row.id or last_id
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return VerifyResult(False, count, None, "head hash does not match the last event (events removed?)")
    return VerifyResult(True, count)


# -- reading the trail (the auditor's pages): newest first, keyset-paged, filtered

#: Who did it, for the filter: a staff user's name, or one of these actor kinds.
ACTOR_KINDS = ("system", "cli", "client")


@dataclass
class AuditFilter:
    """What the auditor asked for; every field optional. Dates are Japan dates, both ends included."""

    actor: str | None = None
    action: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    claim: str | None = None


@dataclass
class AuditPage:
    """One page of events, newest first, with the cursors of the neighbouring pages (``None``: no more)."""

    events: list[AuditEvent]
    older: int | None
    newer: int | None
    claim_found: bool = True


def _japan_midnight(day: datetime.date) -> datetime.datetime:
    from gateway.models.base import JST

    return datetime.datetime.combine(day, datetime.time(0), JST).astimezone(datetime.UTC)


def claim_targets(session: Session, number: str) -> list[Any] | None:
    """Conditions matching events about claim ``number``: the claim, its slips, its payments and its
    exceptions (by target type and the indexed target id). ``None`` when there is no such claim."""
    from gateway.models import Claim
    from gateway.models import Payment
    from gateway.models import ReconException
    from gateway.models import Slip

    claim = session.exec(select(Claim).where(Claim.number == number)).first()
    if claim is None:
        return None
    slips = session.exec(
        select(Slip.payment_number, Slip.reissue_count).where(Slip.claim_id == claim.id)
    ).all()
    payments = session.exec(select(Payment.id).where(Payment.claim_id == claim.id).limit(1000)).all()
    exceptions = session.exec(
        select(ReconException.id).where(ReconException.claim_id == claim.id).limit(1000)
    ).all()
    target_type, target_id = col(AuditEvent.target_type), col(AuditEvent.target_id)
    conditions: list[Any] = [sa.and_(target_type == "claim", target_id == claim.number)]
    if slips:
        numbers = [f"{p}-{r}" for p, r in slips]
        conditions.append(sa.and_(target_type == "slip", target_id.in_(numbers)))
    if payments:
        conditions.append(sa.and_(target_type == "payment", target_id.in_([str(i) for i in payments])))
    if exceptions:
        conditions.append(sa.and_(target_type == "exception", target_id.in_([str(i) for i in exceptions])))
    conditions.append(sa.and_(target_type == "debtor", target_id == str(claim.debtor_id)))
    return conditions


#: Appends are serialised, so event times grow with ids up to the time a writer waited for the chain's
#: lock; id bounds found by bisection are widened by this much, and the exact time filter still applies.
CLOCK_SLACK = datetime.timedelta(minutes=10)


def _first_id_from(session: Session, instant: datetime.datetime) -> int | None:
    """The smallest event id whose time may be at or after ``instant`` (bisection over the primary key, about
    20 index seeks for a million events); ``None`` when every event is older."""
    low, high = session.execute(sa.select(sa.func.min(_EVENTS.c.id), sa.func.max(_EVENTS.c.id))).one()
    if low is None:
        return None

    def at_from(ident: int) -> tuple[int, datetime.datetime]:
        row = session.execute(
            sa.select(_EVENTS.c.id, _EVENTS.c.at).where(_EVENTS.c.id >= ident).order_by(_EVENTS.c.id).limit(1)
        ).one()
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=datetime.UTC)
        return int(row.id), at

    if at_from(high)[1] < instant:
        return None
    while low < high:
        middle = (low + high) // 2
        if at_from(middle)[1] >= instant:
            high = middle
        else:
            low = middle + 1
    return at_from(low)[0]


def _where(session: Session, query: AuditFilter) -> tuple[list[Any], bool]:
    where: list[Any] = []
    if query.actor:
        if query.actor in ACTOR_KINDS:
            where.append(col(AuditEvent.actor_kind) == query.actor)
        else:
            where.append(col(AuditEvent.actor_kind) == "user")
            where.append(col(AuditEvent.actor_name) == query.actor)
    if query.action:
        where.append(col(AuditEvent.action) == query.action)
    # The time filter is exact; the id bounds let the primary key skip what lies outside the dates.
    if query.date_from:
        start = _japan_midnight(query.date_from)
        where.append(col(AuditEvent.at) >= start)
        first = _first_id_from(session, start - CLOCK_SLACK)
        where.append(col(AuditEvent.id) >= first if first is not None else sa.false())
    if query.date_to:
        end = _japan_midnight(query.date_to + datetime.timedelta(days=1))
        where.append(col(AuditEvent.at) < end)
        beyond = _first_id_from(session, end + CLOCK_SLACK)
        if beyond is not None:
            where.append(col(AuditEvent.id) < beyond)
    found = True
    if query.claim:
        targets = claim_targets(session, query.claim)
        if targets is None:
            found = False
            where.append(sa.false())
        else:
            where.append(sa.or_(*targets))
    return where, found


def page(
    session: Session,
    query: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """One page of events matching ``query``, newest first.

    Keyset paging on the primary key (never OFFSET): ``before`` gives the page of events older than that
    id, ``after`` the page of events newer than it; neither gives the newest page.
    """
    where, found = _where(session, query)
    ident = col(AuditEvent.id)
    if after is not None:
        rows = list(
            session.exec(select(AuditEvent).where(*where, ident > after).order_by(ident).limit(limit))
        )
        rows.reverse()
    else:
        bound = [ident < before] if before is not None else []
        rows = list(
            session.exec(select(AuditEvent).where(*where, *bound).order_by(ident.desc()).limit(limit))
        )

    def more(*cond: Any) -> bool:
        return session.exec(select(AuditEvent.id).where(*where, *cond).limit(1)).first() is not None

    older = rows[-1].id if rows and more(ident < rows[-1].id) else None
    newer = rows[0].id if rows and more(ident > rows[0].id) else None
    return AuditPage(rows, older, newer, found)
