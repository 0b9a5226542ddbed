"""Infrastructure tables: settings stored in the database, staff users, tokens and sessions, sign-in
throttling, the audit chain, idempotency records and scheduled-job runs."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

from gateway.models.base import created_at_field
from gateway.models.base import json_field

ROLES = ("admin", "finance", "approver", "accounting", "auditor", "print_vendor")


class Meta(SQLModel, table=True):
    """Key/value facts about this database (e.g. the data-key fingerprint)."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=512)


class User(SQLModel, table=True):
    """A staff account. One role per account; four-eyes rules compare accounts, not roles."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_users_role"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    password_hash: str | None = Field(default=None, max_length=256)
    active: bool = Field(default=True)
    created_at: datetime.datetime = created_at_field()
    last_login_at: datetime.datetime | None = None


class ApiToken(SQLModel, table=True):
    """A revocable bearer token of a staff account; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    created_at: datetime.datetime = created_at_field()
    revoked_at: datetime.datetime | None = None
    last_used_at: datetime.datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random id; only its SHA-256 is stored. A session ends (and
    stays ended) at logout, on a change of the account, or when it is found idle or too old."""

    __tablename__ = "staff_sessions"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime.datetime = created_at_field()
    last_seen_at: datetime.datetime = created_at_field()
    ended_at: datetime.datetime | None = None
    end_reason: str | None = Field(default=None, max_length=16)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins of one account name or one client address, and the lock they earned."""

    __tablename__ = "login_throttle"
    __table_args__ = (sa.UniqueConstraint("scope", "key", name="uq_login_throttle_scope_key"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=8)
    """``account`` (the name as typed, lower-cased) or ``address`` (the client's IP address)."""
    key: str = Field(max_length=64)
    failures: int = Field(default=0)
    window_start: datetime.datetime | None = None
    locks: int = Field(default=0)
    """Locks in a row (each twice as long as the one before, up to the cap)."""
    locked_until: datetime.datetime | None = None
    updated_at: datetime.datetime = created_at_field()


class AuditHead(SQLModel, table=True):
    """One row holding the newest audit hash; updating it serialises appends to the chain."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    last_id: int = Field(default=0)
    last_hash: str = Field(default="0" * 64, max_length=64)


class AuditEvent(SQLModel, table=True):
    """One change or one view of personal data, hash-chained to the previous event."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime.datetime = created_at_field()
    actor_kind: str = Field(max_length=16)
    actor_name: str = Field(max_length=128)
    action: str = Field(max_length=64, index=True)
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=64, index=True)
    detail: dict[str, Any] = json_field()
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class IdempotencyKey(SQLModel, table=True):
    """The first response to a mutating request with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("principal", "key", name="uq_idempotency_principal_key"),)
    id: int | None = Field(default=None, primary_key=True)
    principal: str = Field(max_length=128)
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=512)
    body_sha256: str = Field(max_length=64)
    state: str = Field(max_length=16, default="in_flight")
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    content_type: str | None = Field(default=None, max_length=128)
    created_at: datetime.datetime = created_at_field()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job; unique on (job, fire time) so two processes never run it twice."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "fire_time", name="uq_job_runs_job_fire_time"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=32)
    fire_time: datetime.datetime
    host: str = Field(max_length=128)
    started_at: datetime.datetime = created_at_field()
    finished_at: datetime.datetime | None = None
    outcome: str = Field(default="running", max_length=16)
    counts: dict[str, Any] = json_field()
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
