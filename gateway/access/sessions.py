"""Server-side staff sessions.

The browser's (signed) cookie holds only a random session id; the ``staff_sessions`` table holds its SHA-256,
the account, when it started and when it was last used. A session is refused — and ended for good — when it
has ended (logout; a password, role or token change or disabling of the account ends every session of that
account in the same transaction), when it was unused for ``GATEWAY_SESSION_IDLE_MINUTES`` or began more than
``GATEWAY_SESSION_MAX_HOURS`` ago. The last use is written at most once a minute. Ended sessions are
deleted at the account's next sign-in once they are ``PRUNE_AFTER`` old.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

import sqlalchemy as sa
from sqlmodel import select

from gateway.context import Context
from gateway.context import mutation
from gateway.db import sqlite_immediate
from gateway.models import StaffSession
from gateway.models import User
from gateway.models.base import table_of

#: The last use is written when it is older than this (one write a minute per session, not per request).
TOUCH_EVERY = datetime.timedelta(minutes=1)
#: Why a session ended; ``idle`` and ``expired`` send the browser to sign in with an explanation.
TIMED_OUT = frozenset({"idle", "expired"})
#: At each sign-in the account's sessions that began longer ago than this are deleted (every one of them
#: has ended by then: the absolute limit is hours); the audit trail keeps the sign-ins and sign-outs.
PRUNE_AFTER = datetime.timedelta(days=7)
_SESSIONS = table_of(StaffSession)


def token_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start(ctx: Context, user: User, *, replaces: str | None = None) -> str:
    """A new session for ``user`` (inside the caller's sign-in transaction); returns the id for the cookie.

    ``replaces``: the id this browser held before, ended so that an id never survives a sign-in."""
    if replaces:
        _end_where(ctx, _SESSIONS.c.token_hash == token_hash(replaces), "replaced")
    sid = secrets.token_urlsafe(32)
    now = ctx.now()
    ctx.session.execute(
        sa.delete(_SESSIONS).where(_SESSIONS.c.user_id == user.id, _SESSIONS.c.created_at < now - PRUNE_AFTER)
    )
    ctx.session.add(
        StaffSession(user_id=user.id or 0, token_hash=token_hash(sid), created_at=now, last_seen_at=now)
    )
    return sid


def end_all(ctx: Context, user: User, reason: str) -> int:
    """End every open session of ``user`` (inside the caller's audited transaction); how many ended."""
    return _end_where(ctx, _SESSIONS.c.user_id == user.id, reason)


def logout(ctx: Context, sid: str) -> None:
    """End the session ``sid`` at the user's request (audited when it was still open)."""
    row = ctx.session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(sid))).first()
    if row is not None and row.ended_at is None:
        user = ctx.session.get(User, row.user_id)
        _logout(ctx, row.id or 0, user.name if user is not None else str(row.user_id))


@mutation("user.logout")
def _logout(ctx: Context, session_id: int, name: str) -> None:
    _end_where(ctx, _SESSIONS.c.id == session_id, "logout")
    ctx.record("user.logout", "user", name)


def resolve(ctx: Context, sid: str) -> tuple[User | None, str | None]:
    """The active account of session ``sid``, or None and why not (``unknown``, ``idle``, ``expired``,
    ``disabled`` or the reason it ended before). A session found idle or too old is ended here."""
    row = ctx.session.exec(select(StaffSession).where(StaffSession.token_hash == token_hash(sid))).first()
    if row is None:
        return None, "unknown"
    if row.ended_at is not None:
        return None, row.end_reason or "ended"
    settings = ctx.settings
    now = ctx.now()
    reason = None
    if now - row.created_at >= datetime.timedelta(hours=settings.session_max_hours):
        reason = "expired"
    elif now - row.last_seen_at >= datetime.timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    user = ctx.session.get(User, row.user_id)
    if reason is None and (user is None or not user.active):
        reason = "disabled"
    table = _SESSIONS
    if reason is not None:
        _write(ctx, sa.update(table).where(table.c.id == row.id, table.c.ended_at.is_(None)), now, reason)
        return None, reason
    if now - row.last_seen_at >= TOUCH_EVERY:
        _write(ctx, sa.update(table).where(table.c.id == row.id, table.c.ended_at.is_(None)), now)
    return user, None


def _end_where(ctx: Context, condition: sa.ColumnElement[bool], reason: str) -> int:
    table = _SESSIONS
    result = ctx.session.execute(
        sa.update(table)
        .where(condition, table.c.ended_at.is_(None))
        .values(ended_at=ctx.now(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _write(ctx: Context, update: sa.Update, now: datetime.datetime, reason: str | None = None) -> None:
    """Touch or end a session outside any audited change: a short write transaction of its own (on SQLite
    taking the write lock at BEGIN, so concurrent requests wait instead of failing on a stale snapshot)."""
    values = {"last_seen_at": now} if reason is None else {"ended_at": now, "end_reason": reason}
    ctx.session.commit()
    token = sqlite_immediate.set(True)
    try:
        ctx.session.execute(update.values(**values))
        ctx.session.commit()
    except BaseException:
        ctx.session.rollback()
        raise
    finally:
        sqlite_immediate.reset(token)
