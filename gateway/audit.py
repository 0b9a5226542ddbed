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
_LOCK_HEAD = sa.update(_HEAD).where(_HEAD.c.id == 1).values(last_id=_HEAD.c.last_id)
_READ_HEAD = sa.select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1)
_INSERT_EVENT = sa.insert(_EVENTS)
_MOVE_HEAD = sa.update(_HEAD).where(_HEAD.c.id == 1)


def append(session: Session, actor: Actor, records: Iterable[AuditRecord], at: datetime.datetime) -> None:
    """Append events to the chain inside the caller's transaction (Core statements, one executemany)."""
    # Taking the row lock first: concurrent appenders queue here, then read the head they will extend.
    session.execute(_LOCK_HEAD)
    head = session.execute(_READ_HEAD).first()
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
