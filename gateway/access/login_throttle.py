"""Sign-in throttling per account name and per client address, kept in the database (so every worker and host
sees the same counts).

``GATEWAY_LOGIN_ACCOUNT_FAILURES`` (5) failed sign-ins of one name, or ``GATEWAY_LOGIN_ADDRESS_FAILURES`` (20)
from one address, within ``GATEWAY_LOGIN_WINDOW_MINUTES`` (15) lock that name or address: 1 minute, then twice
as long with each further lock, at most ``GATEWAY_LOGIN_LOCK_MAX_MINUTES`` (15). A lock is checked before any
password hash is computed; names that do not exist are counted like real ones (nothing tells them apart).
A successful sign-in clears the account's counter. Each failed or refused sign-in is an audit event
``user.login_failed`` with the name as typed (at most 64 characters) and the address — never the password.
"""

from __future__ import annotations

import datetime
import math

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlmodel import select

from gateway.context import Context
from gateway.context import mutation
from gateway.models import LoginThrottle
from gateway.models.base import table_of

ACCOUNT = "account"
ADDRESS = "address"
#: Rows untouched this long and not locked are deleted on the next failure.
FORGET_AFTER = datetime.timedelta(days=1)


def account_key(name: str) -> str:
    return name.strip()[:64].lower()


def address_key(address: str) -> str:
    return (address or "unknown")[:64]


def lock_length(locks: int, cap_minutes: int) -> datetime.timedelta:
    """How long the ``locks``-th lock in a row lasts: 1, 2, 4, 8 … minutes, at most ``cap_minutes``."""
    return datetime.timedelta(minutes=min(2 ** min(max(locks, 1) - 1, 20), cap_minutes))


def locked_for(ctx: Context, name: str, address: str) -> datetime.timedelta | None:
    """How much longer the name or the address is locked; None when neither is."""
    now = ctx.now()
    table = table_of(LoginThrottle)
    until: datetime.datetime | None = ctx.session.execute(
        sa.select(sa.func.max(table.c.locked_until)).where(
            sa.or_(
                sa.and_(table.c.scope == ACCOUNT, table.c.key == account_key(name)),
                sa.and_(table.c.scope == ADDRESS, table.c.key == address_key(address)),
            ),
            table.c.locked_until > now,
        )
    ).scalar_one()
    if until is None:
        return None
    if until.tzinfo is None:  # max() of the column comes back without the column's type on SQLite
        until = until.replace(tzinfo=datetime.UTC)
    return until - now


def minutes_left(wait: datetime.timedelta) -> int:
    """A lock's remaining time as whole minutes, rounded up (what the login page says)."""
    return max(1, math.ceil(wait.total_seconds() / 60))


@mutation("user.login_failed")
def record_failure(ctx: Context, name: str, address: str, *, refused: bool = False) -> None:
    """Audit a failed sign-in; count it against the name and the address unless it was ``refused`` (locked:
    refused attempts neither count nor lengthen the lock)."""
    tried = name.strip()[:64]
    ctx.record(
        "user.login_failed",
        "user",
        tried,
        name=tried,
        address=address_key(address),
        reason="locked" if refused else "password",
    )
    if refused:
        return
    settings = ctx.settings
    now = ctx.now()
    _count(ctx, ACCOUNT, account_key(name), settings.login_account_failures, now)
    _count(ctx, ADDRESS, address_key(address), settings.login_address_failures, now)
    table = table_of(LoginThrottle)
    ctx.session.execute(
        sa.delete(table).where(
            table.c.updated_at < now - FORGET_AFTER,
            sa.or_(table.c.locked_until.is_(None), table.c.locked_until < now - FORGET_AFTER),
        )
    )


def clear_account(ctx: Context, name: str) -> None:
    """Forget the failures and locks of ``name`` (inside the caller's sign-in transaction)."""
    table = table_of(LoginThrottle)
    ctx.session.execute(sa.delete(table).where(table.c.scope == ACCOUNT, table.c.key == account_key(name)))


def _count(ctx: Context, scope: str, key: str, limit: int, now: datetime.datetime) -> None:
    settings = ctx.settings
    window = datetime.timedelta(minutes=settings.login_window_minutes)
    table = table_of(LoginThrottle)
    insert = postgresql.insert if ctx.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    ctx.session.execute(
        insert(table)
        .values(scope=scope, key=key, failures=0, locks=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["scope", "key"])
    )
    row = ctx.session.exec(
        select(LoginThrottle)
        .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if row.locked_until is not None and row.locked_until <= now - window:
        row.locks = 0  # a whole window without trouble since the last lock: start again at 1 minute
    if row.window_start is None or now - row.window_start >= window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    if row.failures >= limit:
        row.locks += 1
        row.locked_until = now + lock_length(row.locks, settings.login_lock_max_minutes)
        row.failures, row.window_start = 0, None
    row.updated_at = now
    ctx.session.add(row)
    ctx.session.flush()
