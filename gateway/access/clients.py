r"""Agent API clients: creation, revocation and request signatures.

A client signs every request (docs/settlements.md, "Signing requests")::

    X-Gateway-Key: <key_id>
    X-Gateway-Timestamp: <unix seconds>
    X-Gateway-Signature: v2=hex(HMAC-SHA256(secret, "v2\n<METHOD>\n<path[?query]>\n<timestamp>\n" + raw body))

Version 2 (2026-12) covers the method and the path with its query, so two different requests with the same
body in the same second no longer share a signature. Version 1 — a bare ``hex(HMAC-SHA256(secret,
"<timestamp>.<raw body>"))`` — is still accepted until ``GATEWAY_SIGNATURE_V1_UNTIL`` (a date, Japan time;
empty: accepted). The path is the one the gateway sees, percent-decoded; the query string is signed exactly as
sent.

The secret is stored encrypted with the ``client`` key (both the full and the public process hold it), since
verifying needs it back. A request more than 300 s from the server's clock, a bad signature and a reused
signature all get 401. Reuse is detected by inserting the signature into ``used_signatures``: the primary key
makes the second insert fail on whichever worker or host sees it, so the replay record is shared without any
coordination. Rows are kept until the timestamp leaves the window and then deleted opportunistically.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlmodel import select

from gateway.context import Actor
from gateway.context import Context
from gateway.context import mutation
from gateway.db import get_engine
from gateway.db import sqlite_immediate
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.errors import Unauthorized
from gateway.models import Agent
from gateway.models import ApiClient
from gateway.models import UsedSignature
from gateway.models.base import table_of

WINDOW = datetime.timedelta(seconds=300)
"""How far a request's timestamp may be from the server's clock, either way."""
REPLAY_MARGIN = datetime.timedelta(seconds=300)
"""Used signatures are kept this long after their window closes, for hosts whose clocks lag."""
KEY_PREFIX = "kgc_"
#: Compared against when the key is unknown, so a miss costs the same as a hit.
_DUMMY_SECRET = secrets.token_urlsafe(32)


@mutation("client.create")
def create_client(ctx: Context, name: str, agent_code: str | None = None) -> tuple[ApiClient, str]:
    """Create an API client (for an agent, or none); returns it with the secret, which is shown once.

    Raises:
        InvalidInput: an empty or over-long name.
        NotFound: no agent with that code.
    """
    name = name.strip()
    if not name or len(name) > 128:
        raise InvalidInput("client name must be 1-128 characters", field="name", key="client.bad_name")
    agent_id = None
    if agent_code is not None:
        agent = ctx.session.exec(select(Agent).where(Agent.code == agent_code.strip())).first()
        if agent is None:
            raise NotFound(
                f"agent {agent_code} is not registered",
                field="agent",
                key="agent.not_found",
                params={"code": agent_code},
            )
        agent_id = agent.id
    key_id = KEY_PREFIX + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        key_id=key_id,
        name=name,
        agent_id=agent_id,
        enc_secret=ctx.keys.encrypt_secret(secret, key_id),
        created_at=ctx.now(),
    )
    ctx.session.add(client)
    ctx.session.flush()
    ctx.record("client.create", "api_client", key_id, name=name, agent=agent_code)
    return client, secret


def _client(ctx: Context, key_id: str) -> ApiClient:
    client = ctx.session.exec(select(ApiClient).where(ApiClient.key_id == key_id)).first()
    if client is None:
        raise NotFound(f"API client {key_id} not found", field="key_id", key="client.not_found")
    return client


@mutation("client.revoke")
def revoke_client(ctx: Context, key_id: str) -> ApiClient:
    """Revoke a client: its signatures are refused from now on."""
    client = _client(ctx, key_id)
    if client.revoked_at is not None:
        raise Conflict(f"API client {key_id} is already revoked", field="key_id", key="client.revoked")
    client.revoked_at = ctx.now()
    ctx.session.add(client)
    ctx.record("client.revoke", "api_client", key_id)
    return client


@mutation("client.rotate")
def rotate_client(ctx: Context, key_id: str) -> tuple[ApiClient, str]:
    """Give a client a new secret (same key id); the old secret stops verifying at once. The new secret is
    returned to be shown once.

    Raises:
        NotFound: no such client.
        Conflict: the client is revoked.
    """
    client = _client(ctx, key_id)
    if client.revoked_at is not None:
        raise Conflict(f"API client {key_id} is revoked", field="key_id", key="client.revoked")
    secret = secrets.token_urlsafe(32)
    client.enc_secret = ctx.keys.encrypt_secret(secret, key_id)
    ctx.session.add(client)
    ctx.record("client.rotate", "api_client", key_id)
    return client, secret


def list_clients(ctx: Context) -> list[ApiClient]:
    return list(ctx.session.exec(select(ApiClient).order_by(ApiClient.id)).all())  # type: ignore[arg-type]


def canonical(method: str, target: str | bytes, timestamp: int | str, body: bytes) -> bytes:
    r"""What a version 2 signature covers: ``"v2\n<METHOD>\n<target>\n<timestamp>\n" + body``.

    ``target`` is the path, percent-decoded, then ``?`` and the query string as sent (when there is one):
    ``/api/v1/settlements/b-1?key_id=kgc_1``.

    >>> canonical("post", "/api/v1/settlements", 1795000000, b'{"a":1}')
    b'v2\nPOST\n/api/v1/settlements\n1795000000\n{"a":1}'
    """
    if isinstance(target, str):
        target = target.encode()
    head = f"v2\n{method.upper()}\n".encode() + target + f"\n{timestamp}\n".encode()
    return head + body


def sign(secret: str, method: str, target: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The version 2 signature (hex) of a request; sent as ``X-Gateway-Signature: v2=<hex>``.

    >>> sign("s3cret", "POST", "/api/v1/settlements", 1795000000, b'{"a":1}')[:16]
    '4e401945d4be169a'
    """
    message = canonical(method, target, timestamp, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_v1(secret: str, timestamp: int | str, body: bytes) -> str:
    """The version 1 signature (accepted until ``GATEWAY_SIGNATURE_V1_UNTIL``): over ``"<timestamp>.<body>"``.

    >>> sign_v1("s3cret", 1795000000, b'{"a":1}')[:16]
    '66ef648639d52262'
    """
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_headers(
    key_id: str, secret: str, timestamp: int, body: bytes, *, method: str, path: str
) -> dict[str, str]:
    """The three headers of a version 2 signed request (for clients written in Python, and tests).

    ``path`` is what the request goes to with its query string, ``/api/v1/settlements/b-1?key_id=kgc_1``;
    percent-escapes in the path part decoded (the gateway signs the path it routes on).
    """
    return {
        "X-Gateway-Key": key_id,
        "X-Gateway-Timestamp": str(timestamp),
        "X-Gateway-Signature": "v2=" + sign(secret, method, path, timestamp, body),
    }


_HEX = re.compile(r"[0-9a-f]{64}\Z")


def _request_target() -> bytes:
    """The signed target of the current request: the decoded path, then ``?query`` as sent."""
    # Flask is imported where a request is read: `gateway clients …` uses this module without the web app.
    from flask import request

    path = (request.script_root + request.path).encode()
    return path + (b"?" + request.query_string if request.query_string else b"")


def _v1_accepted(ctx: Context) -> bool:
    until = ctx.settings.signature_v1_until
    return not until or ctx.today() <= datetime.date.fromisoformat(until)


def authenticate(ctx: Context) -> Actor:
    """Verify the current Flask request's signature; the client as an actor (``app.extensions
    ["gateway_client_auth"]``).

    Raises:
        Unauthorized: missing headers, unknown or revoked key, timestamp outside ±300 s, a signature that
            does not verify, one already used, or a version 1 signature after ``GATEWAY_SIGNATURE_V1_UNTIL``.
    """
    from flask import request

    key_id = request.headers.get("X-Gateway-Key", "").strip()
    stamp = request.headers.get("X-Gateway-Timestamp", "").strip()
    sent = request.headers.get("X-Gateway-Signature", "").strip().lower()
    if not key_id or not stamp or not sent:
        raise Unauthorized("send X-Gateway-Key, X-Gateway-Timestamp and X-Gateway-Signature")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        raise Unauthorized("X-Gateway-Timestamp must be unix seconds")
    now = ctx.now()
    # Compare numbers first: a far-off stamp must not reach datetime (years beyond 9999 raise).
    if abs(int(stamp) - now.timestamp()) > WINDOW.total_seconds():
        raise Unauthorized("X-Gateway-Timestamp is more than 300 s from the server's clock")
    signed_at = datetime.datetime.fromtimestamp(int(stamp), datetime.UTC)
    version, _, signature = sent.rpartition("=")
    if version not in ("", "v1", "v2") or not _HEX.match(signature):
        raise Unauthorized("X-Gateway-Signature must be v2=<64 hex digits> (or a version 1 signature)")
    if version != "v2" and not _v1_accepted(ctx):
        raise Unauthorized(
            f"version 1 signatures are not accepted after {ctx.settings.signature_v1_until}; sign with v2"
        )
    client = ctx.session.exec(select(ApiClient).where(ApiClient.key_id == key_id)).first()
    secret = _DUMMY_SECRET
    if client is not None and client.revoked_at is None:
        secret = ctx.keys.decrypt_secret(client.enc_secret, client.key_id)
    body = request.get_data(cache=True)
    if version == "v2":
        expected = sign(secret, request.method, _request_target(), stamp, body)
    else:
        expected = sign_v1(secret, stamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()) or secret is _DUMMY_SECRET:
        raise Unauthorized("signature does not verify")
    assert client is not None and client.id is not None
    ctx.session.commit()  # end the read transaction before writing (SQLite takes the write lock at BEGIN)
    stale = client.last_used_at is None or _aware(client.last_used_at) < now - LAST_USED_RESOLUTION
    _remember(ctx, client.id, signature, signed_at + WINDOW + REPLAY_MARGIN, now, note_use=stale)
    return Actor(kind="client", name=client.key_id, client_id=client.id, agent_id=client.agent_id)


#: ``last_used_at`` is written when it is older than this (not on every request: each write would lock the
#: client's row, so concurrent posts of one client would queue behind each other's commits).
LAST_USED_RESOLUTION = datetime.timedelta(seconds=60)
#: Expired signatures are swept at most this often per process (the primary key alone refuses a replay).
SWEEP_EVERY = datetime.timedelta(seconds=60)
_last_sweep: datetime.datetime | None = None


_NO_WAIT_FOR_DISK = sa.text("SET LOCAL synchronous_commit TO OFF")


def _insert_ignoring_conflict(dialect: str) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the used-signature table in ``dialect``."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table_of(UsedSignature)).on_conflict_do_nothing()


def _aware(at: datetime.datetime) -> datetime.datetime:
    return at if at.tzinfo else at.replace(tzinfo=datetime.UTC)


def _remember(
    ctx: Context,
    client_id: int,
    signature: str,
    expires_at: datetime.datetime,
    now: datetime.datetime,
    *,
    note_use: bool,
) -> None:
    """Record the signature as used (failing on reuse), note the client's use when ``note_use`` (its
    ``last_used_at`` is older than ``LAST_USED_RESOLUTION``), drop expired signatures.

    Its own short transaction, committed before the request's work: a signature is spent even when the
    request then fails. On PostgreSQL that commit does not wait for the disk (``synchronous_commit`` off for
    this transaction only): the write-ahead log is flushed in order, so once the request's own commit is
    durable the spent signature is too; a crash can forget it only when no later commit was flushed, and
    then the request it signed changed nothing.
    """
    global _last_sweep
    used = table_of(UsedSignature)
    clients = table_of(ApiClient)
    engine = get_engine(ctx.settings.database_url)
    token = sqlite_immediate.set(True)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(_NO_WAIT_FOR_DISK)
            added = conn.execute(
                _insert_ignoring_conflict(conn.dialect.name)
                .values(signature=signature, client_id=client_id, expires_at=expires_at)
                .returning(used.c.signature)
            ).first()
            if added is None:
                raise Unauthorized("signature was already used (replay)")
            if note_use:
                conn.execute(
                    sa.update(clients)
                    .where(
                        clients.c.id == client_id,
                        sa.or_(
                            clients.c.last_used_at.is_(None),
                            clients.c.last_used_at < now - LAST_USED_RESOLUTION,
                        ),
                    )
                    .values(last_used_at=now)
                )
            # By the gateway's clock (a clock set back, as in tests, sweeps too).
            if _last_sweep is None or abs(now - _last_sweep) >= SWEEP_EVERY:
                _last_sweep = now
                conn.execute(sa.delete(used).where(used.c.expires_at < now))
    finally:
        sqlite_immediate.reset(token)
