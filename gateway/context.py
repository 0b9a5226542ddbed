"""The service context and the one place every change passes through.

A :class:`Context` bundles what a service call needs: the session, who is acting, the settings, the keys
and a clock. Every service function that changes data is decorated with :func:`mutation`: it runs in one
transaction (``BEGIN IMMEDIATE`` on SQLite, so writers queue instead of failing), appends the audit events
the call recorded (one per call at least) to the hash chain, and commits — or rolls everything back.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from sqlmodel import Session

from gateway.config import Settings
from gateway.crypto import Keyring
from gateway.db import sqlite_immediate
from gateway.models.base import japan_date
from gateway.models.base import utcnow

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, an agent API client, the command line or the scheduler."""

    kind: str
    name: str
    role: str | None = None
    user_id: int | None = None
    client_id: int | None = None
    agent_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def is_operator(self) -> bool:
        """The command line and the scheduler run on the server with the operator's authority."""
        return self.kind in ("cli", "system")

    def has_role(self, *roles: str) -> bool:
        return self.is_operator or (self.role is not None and self.role in roles)


SYSTEM = Actor(kind="system", name="scheduler")


@dataclass
class AuditRecord:
    action: str
    target_type: str | None
    target_id: str | None
    detail: dict[str, Any]


@dataclass
class Context:
    """What a service call needs. Create one per request, command or job run."""

    session: Session
    actor: Actor
    settings: Settings
    keys: Keyring
    clock: Callable[[], datetime.datetime] = utcnow
    pending: list[AuditRecord] = field(default_factory=list)
    depth: int = 0

    def now(self) -> datetime.datetime:
        return self.clock()

    def today(self) -> datetime.date:
        """Today's date in Japan (the business date), whatever the machine's time zone."""
        return japan_date(self.clock())

    def record(
        self, action: str, target_type: str | None = None, target_id: object = None, **detail: Any
    ) -> None:
        """Queue an audit event; it is written with the change it describes."""
        tid = None if target_id is None else str(target_id)
        self.pending.append(AuditRecord(action, target_type, tid, detail))

    def flush_audit(self) -> None:
        """Append the queued events to the chain (inside the current transaction)."""
        from gateway import audit

        if self.pending:
            audit.append(self.session, self.actor, self.pending, self.now())
            self.pending = []

    def commit(self) -> None:
        """Write queued audit events and commit (used after reads that logged views of personal data)."""
        self.flush_audit()
        self.session.commit()


def mutation(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a service function as one audited transaction.

    The wrapped function takes a :class:`Context` first. Its own ``ctx.record(...)`` calls describe what
    changed; if it records nothing, one event named ``action`` is written. Nested mutations join the outer
    transaction.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = args[0]
            assert isinstance(ctx, Context), f"{fn.__qualname__} needs a Context first"
            if ctx.depth:
                ctx.depth += 1
                try:
                    return fn(*args, **kwargs)
                finally:
                    ctx.depth -= 1
            # End any read transaction first, so the write transaction starts fresh (and, on SQLite, takes
            # the write lock at BEGIN instead of failing on a stale snapshot later).
            ctx.session.commit()
            token = sqlite_immediate.set(True)
            ctx.depth = 1
            before = len(ctx.pending)
            try:
                result = fn(*args, **kwargs)
                if len(ctx.pending) == before:
                    ctx.record(action)
                ctx.flush_audit()
                ctx.session.commit()
                return result
            except BaseException:
                ctx.session.rollback()
                del ctx.pending[before:]
                raise
            finally:
                ctx.depth = 0
                sqlite_immediate.reset(token)

        return wrapper

    return decorate
