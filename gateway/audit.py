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
from sqlmodel import select

from gateway.models import AuditEvent
from gateway.models import AuditHead

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
    return json.loads(json.dumps(detail, ensure_ascii=False, default=str))


def append(session: Session, actor: Actor, records: Iterable[AuditRecord], at: datetime.datetime) -> None:
    """Append events to the chain inside the caller's transaction."""
    head_table = AuditHead.__table__
    # Taking the row lock first: concurrent appenders queue here, then read the head they will extend.
    session.execute(sa.update(head_table).where(head_table.c.id == 1).values(last_id=head_table.c.last_id))
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).first()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    prev = head.last_hash
    rows = []
    for rec in records:
        row = AuditEvent(
            at=at,
            actor_kind=actor.kind,
            actor_name=actor.name,
            action=rec.action,
            target_type=rec.target_type,
            target_id=rec.target_id,
            detail=_jsonable(rec.detail),
            prev_hash=prev,
            hash="",
        )
        row.hash = hashlib.sha256(_canonical(prev, at, _event_doc(row))).hexdigest()
        prev = row.hash
        rows.append(row)
    session.add_all(rows)
    session.flush()
    head.last_id = rows[-1].id or head.last_id
    head.last_hash = prev
    session.add(head)
    session.flush()


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
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
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
