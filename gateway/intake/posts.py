"""Agent posts (``POST /api/v1/settlements``): checked like a file, stored all or nothing.

The body becomes payment records through :mod:`adapters.agent_post` (the checks, record by record, every
problem reported as ``index``, ``field``, ``message`` in one 422). A valid batch is stored in one
transaction. ``record_id`` is unique per client: the same record again with the same normalised content
(``paid_at`` compared as an instant) is a duplicate, with other content a 409. The same ``batch_id`` again
with the same records is a no-op; with new records a 409.

An accepted body is sealed into the archive before anything is stored; the batch row names it by its
SHA-256. A rejected body is recorded in the audit trail (``settlement_batch.reject``: SHA-256, size, error)
and archived only up to ``GATEWAY_REJECTED_POST_KEEP_BYTES`` (64 KiB by default).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from adapters import agent_post
from gateway.context import Actor
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import Forbidden
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.intake import archive
from gateway.intake import ingest
from gateway.models import Agent
from gateway.models import ApiClient
from gateway.models import SettlementBatch
from gateway.models import SettlementRecord
from gateway.models import UnreconciledRecord
from gateway.models.base import JST
from gateway.models.base import UTC
from gateway.models.base import japan_date
from gateway.models.base import table_of
from gateway.models.recon import Payment

MAX_POST_RECORDS = agent_post.MAX_POST_RECORDS
"""Records per agent post; larger deliveries come as files."""


def _client_and_agent(ctx: Context, actor: Actor) -> tuple[ApiClient, Agent]:
    if actor.kind != "client" or actor.client_id is None:
        raise Forbidden("only agent API clients post settlements")
    client = ctx.session.get(ApiClient, actor.client_id)
    if client is None or client.revoked_at is not None:
        raise Forbidden("this API client is revoked")
    agent = ctx.session.get(Agent, client.agent_id) if client.agent_id is not None else None
    if agent is None:
        raise Forbidden("this API client is not registered for a contracted agent")
    if not agent.enabled:
        raise Forbidden(f"agent {agent.code} is not enabled")
    return client, agent


def receive_post(ctx: Context, actor: Actor, raw: bytes) -> dict[str, Any]:
    """Decode, check and store the body of ``POST /settlements`` (see :func:`ingest_post`); a body that is
    not JSON is a rejected post like any other."""
    client, _ = _client_and_agent(ctx, actor)
    try:
        body = parse_json_body(raw)
    except InvalidInput as ex:
        _reject_post(ctx, client, raw, ex)
        raise
    return ingest_post(ctx, actor, body, raw=raw)


def ingest_post(ctx: Context, actor: Actor, body: Any, raw: bytes | None = None) -> dict[str, Any]:
    """Store an agent's batch (``POST /settlements``): all records or none.

    Args:
        actor: the signed client (``Actor(kind="client")``).
        body: the decoded JSON ``{"batch_id", "records": [...]}`` (:func:`parse_json_body`).
        raw: the request body as received: archived before the records are stored; for a rejected batch,
            recorded (and archived when small, see :func:`_reject_post`).

    Returns:
        ``{"batch_id", "records", "new_records", "duplicate_records"}``.

    Raises:
        Forbidden: not an agent client, or its agent is not contracted/enabled.
        InvalidInput: the batch or any record is invalid; ``details["errors"]`` lists
            ``{"index", "field", "message"}`` for every problem.
        Conflict: a ``record_id`` the client used before with other content, or a ``batch_id`` reused for
            other records.
    """
    client, agent = _client_and_agent(ctx, actor)
    try:
        batch_ref, checked = _check_batch(ctx, agent, body)
    except InvalidInput as ex:
        if raw is not None:
            _reject_post(ctx, client, raw, ex)
        raise
    sha = archive.archive_bytes(ctx, raw).sha256 if raw is not None else None
    try:
        return _store_post(ctx, client, agent, batch_ref, checked, sha)
    except sa.exc.IntegrityError:
        # A concurrent post of the same record_id or batch_id won the race; the client retries and gets
        # the duplicate (or the conflict) from the committed state.
        raise Conflict("a concurrent request stored some of these records; retry") from None


def _check_batch(ctx: Context, agent: Agent, body: Any) -> tuple[str, list[agent_post.PostedRecord]]:
    """The batch id and the checked records (:func:`adapters.agent_post.parse_batch`); InvalidInput listing
    every problem."""
    try:
        return agent_post.parse_batch(
            body, agent_code=agent.code, channels=frozenset(agent.channel_list), received_at=ctx.now()
        )
    except agent_post.PostRejected as ex:
        raise _invalid(ex) from None


def _invalid(ex: agent_post.PostRejected) -> InvalidInput:
    if ex.problems:
        return InvalidInput(ex.message, details={"errors": ex.problems})
    return InvalidInput(ex.message, field=ex.field)


#: How many of a rejected post's problems the audit trail keeps (the client got them all).
_REJECTION_ERRORS_KEPT = 20


def _reject_post(ctx: Context, client: ApiClient, raw: bytes, error: InvalidInput) -> None:
    """Keep what a rejected post leaves: its SHA-256, size and error always (audit trail), the body itself
    (archive) only up to ``GATEWAY_REJECTED_POST_KEEP_BYTES``."""
    kept = len(raw) <= ctx.settings.rejected_post_keep_bytes
    sha = archive.archive_bytes(ctx, raw).sha256 if kept else hashlib.sha256(raw).hexdigest()
    problems = list(error.details.get("errors") or [])
    summary: dict[str, Any] = {"message": error.message, "problems": len(problems)}
    if problems:
        summary["errors"] = problems[:_REJECTION_ERRORS_KEPT]
    elif error.field:
        summary["field"] = error.field
    _record_rejected_post(ctx, client.key_id, sha, len(raw), kept, summary)


@mutation("settlement_batch.reject")
def _record_rejected_post(
    ctx: Context, key_id: str, sha: str, size: int, kept: bool, error: dict[str, Any]
) -> None:
    ctx.record(
        "settlement_batch.reject",
        "api_client",
        key_id,
        sha256=sha,
        size=size,
        archived=kept,
        error=error,
    )


#: Columns of a posted record as ``_insert_new`` writes them, in order (one value per row each).
_ROW_COLUMNS = (
    ("line_no", "integer"),
    ("kind", "text"),
    ("kind_code", "text"),
    ("barcode", "text"),
    ("issuer_prefix", "text"),
    ("consignor_code", "text"),
    ("payment_number", "text"),
    ("reissue_count", "integer"),
    ("barcode_expiry", "date"),
    ("amount", "bigint"),
    ("paid_at", "timestamptz"),
    ("paid_date", "date"),
    ("channel_code", "text"),
    ("store_code", "text"),
    ("transfer_date", "date"),
    ("accounting_date", "date"),
    ("capture_date", "date"),
    ("identity", "text"),
    ("record_id", "text"),
)
#: Bound once per post: the batch, its client and agent, when it arrived.
_CONSTANT_COLUMNS = (
    ("batch_id", "integer"),
    ("agent_id", "integer"),
    ("client_id", "integer"),
    ("received_at", "timestamptz"),
    ("received_date", "date"),
)
_TARGETS = ", ".join(
    [c for c, _ in _CONSTANT_COLUMNS] + [c for c, _ in _ROW_COLUMNS] + ["postal_correction", "occurrence"]
)
# PostgreSQL: one statement whatever the number of records — the rows travel as one JSON array of arrays
# (encoded in C on both sides, where binding thousands of values costs the driver a Python loop) and the
# statement text never changes, so it is prepared once.
_PG_INSERT = (
    f"INSERT INTO settlement_records ({_TARGETS}) SELECT "
    + ", ".join(f"%s::{t}" for _, t in _CONSTANT_COLUMNS)
    + ", "
    + ", ".join(f"(e->>{i})::{t}" for i, (_, t) in enumerate(_ROW_COLUMNS))
    + ", false, 1 FROM jsonb_array_elements(%s::jsonb) AS e ORDER BY (e->>0)::integer"
    + " ON CONFLICT DO NOTHING"
)
_SQLITE_INSERT = (
    f"INSERT INTO settlement_records ({_TARGETS}) VALUES ("
    + ", ".join("?" * (len(_CONSTANT_COLUMNS) + len(_ROW_COLUMNS)))
    + ", 0, 1) ON CONFLICT DO NOTHING"
)


def _iso(value: Any) -> str:
    """JSON for the dates and instants of a row (PostgreSQL casts them back)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


def _sqlite_time(at: datetime.datetime) -> str:
    """An aware instant as SQLAlchemy stores it on SQLite (UTC, no offset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _insert_new(
    ctx: Context,
    constants: tuple[int, int, int, datetime.datetime, datetime.date],
    client_id: int,
    records: list[agent_post.PostedRecord],
) -> int:
    """Insert the records no earlier post of the client stored (``ON CONFLICT DO NOTHING`` on its
    ``record_id``); the number inserted. The rows go straight through the driver on the session's own
    connection (same transaction): per record nothing but one tuple."""
    rows = [
        (
            r.line_no,
            r.kind,
            r.kind_code,
            r.barcode,
            r.issuer_prefix,
            r.consignor_code,
            r.payment_number,
            r.reissue_count,
            r.barcode_expiry,
            r.amount,
            r.paid_at.astimezone(UTC),
            japan_date(r.paid_at),
            r.channel_code,
            r.store_code,
            r.transfer_date,
            r.accounting_date,
            r.capture_date,
            f"post:{client_id}:{r.record_id}",
            r.record_id,
        )
        for r in records
    ]
    conn = ctx.session.connection()
    driver: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cur:
            cur.execute(_PG_INSERT, (*constants, json.dumps(rows, default=_iso)))
            return int(cur.rowcount)
    batch_id, agent_id, _, received_at, received_date = constants
    fixed = (batch_id, agent_id, client_id, _sqlite_time(received_at), received_date.isoformat())

    def text(value: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return _sqlite_time(value)
        return value.isoformat() if isinstance(value, datetime.date) else value

    cur = driver.cursor()
    try:
        cur.executemany(_SQLITE_INSERT, [fixed + tuple(map(text, row)) for row in rows])
        return int(cur.rowcount)
    finally:
        cur.close()


def _stored_contents(
    ctx: Context, client_id: int, record_ids: list[str], *, not_batch: int | None = None
) -> dict[str, tuple[Any, ...]]:
    """``record_id`` → stored content of the client's records among ``record_ids`` (500 per query), leaving
    out those of batch ``not_batch``."""
    table = table_of(SettlementRecord)
    found: dict[str, tuple[Any, ...]] = {}
    for start in range(0, len(record_ids), 500):
        query = sa.select(
            table.c.record_id,
            table.c.kind,
            table.c.barcode,
            table.c.amount,
            table.c.paid_at,
            table.c.channel_code,
            table.c.store_code,
            table.c.transfer_date,
            table.c.accounting_date,
            table.c.capture_date,
        ).where(table.c.client_id == client_id, table.c.record_id.in_(record_ids[start : start + 500]))
        if not_batch is not None:
            query = query.where(table.c.batch_id != not_batch)
        found.update({row.record_id: agent_post.content(row) for row in ctx.session.execute(query)})
    return found


def _refuse_changed(records: list[agent_post.PostedRecord], stored: dict[str, tuple[Any, ...]]) -> None:
    """Conflict on the first record whose ``record_id`` was stored with other content."""
    for rec in records:
        content = stored.get(rec.record_id)
        if content is not None and content != agent_post.content(rec):
            raise Conflict(
                f"record_id {rec.record_id} was posted before with different content",
                field="record_id",
                details={"record_id": rec.record_id},
            )


@mutation("settlement_batch.post")
def _store_post(
    ctx: Context,
    client: ApiClient,
    agent: Agent,
    batch_ref: str,
    records: list[agent_post.PostedRecord],
    sha: str | None,
) -> dict[str, Any]:
    """Store the batch: its row, then the new records in one statement. The records are looked up only
    when some were stored before (a resent or overlapping batch), to tell duplicates from changed ones."""
    assert client.id is not None and agent.id is not None
    batch = ctx.session.exec(
        select(SettlementBatch).where(
            SettlementBatch.client_id == client.id, SettlementBatch.batch_ref == batch_ref
        )
    ).first()
    if batch is not None:
        stored = _stored_contents(ctx, client.id, [r.record_id for r in records])
        _refuse_changed(records, stored)
        if len(stored) < len(records):
            raise Conflict(
                f"batch_id {batch_ref} was used before for other records",
                field="batch_id",
                details={"batch_id": batch_ref},
            )
        # The same batch again: a no-op, reported like the first delivery with nothing new.
        ctx.record(
            "settlement_batch.repost", "settlement_batch", batch.id, batch_id=batch_ref, records=len(records)
        )
        return {
            "batch_id": batch_ref,
            "records": len(records),
            "new_records": 0,
            "duplicate_records": len(records),
        }
    received_at = ctx.now()
    batch = SettlementBatch(
        client_id=client.id,
        agent_id=agent.id,
        batch_ref=batch_ref,
        sha256=sha,
        received_at=received_at,
        received_date=japan_date(received_at),
        records=len(records),
        new_records=len(records),
        duplicate_records=0,
        amount=sum(r.amount for r in records),
    )
    ctx.session.add(batch)
    ctx.session.flush()
    assert batch.id is not None
    constants = (batch.id, agent.id, client.id, received_at, batch.received_date)
    new = _insert_new(ctx, constants, client.id, records)
    if new < len(records):
        # Some were stored before: each must be the same record again (a duplicate), never a changed one.
        _refuse_changed(
            records, _stored_contents(ctx, client.id, [r.record_id for r in records], not_batch=batch.id)
        )
        batch.new_records, batch.duplicate_records = new, len(records) - new
        ctx.session.add(batch)
        ctx.session.flush()
    if new:
        ingest.enqueue(ctx, "batch_id = :batch", batch=batch.id)
    ctx.record(
        "settlement_batch.post",
        "settlement_batch",
        batch.id,
        batch_id=batch_ref,
        client=client.key_id,
        agent=agent.code,
        sha256=sha,
        records=batch.records,
        new_records=batch.new_records,
        duplicate_records=batch.duplicate_records,
        amount=batch.amount,
    )
    return {
        "batch_id": batch_ref,
        "records": batch.records,
        "new_records": batch.new_records,
        "duplicate_records": batch.duplicate_records,
    }


def show_batch(ctx: Context, actor: Actor, batch_ref: str, key_id: str | None = None) -> dict[str, Any]:
    """A batch and its records' states (``GET /settlements/{batch_id}``).

    A client sees only its own batches (another client's is "not found"); finance and accounting see any,
    naming the client with ``key_id`` when two clients used the same ``batch_id``.

    ``state`` is where reconciliation has got with the record: ``received`` (not reconciled yet), the state
    of the payment it belongs to (``preliminary``, ``confirmed``, ``cancelled``), or ``unmatched`` (it matched
    no slip, or a person has to look at it).
    """
    stmt = select(SettlementBatch, ApiClient).join(ApiClient, ApiClient.id == SettlementBatch.client_id)  # type: ignore[arg-type]
    stmt = stmt.where(SettlementBatch.batch_ref == batch_ref)
    if actor.kind == "client":
        stmt = stmt.where(SettlementBatch.client_id == actor.client_id)
    elif not actor.has_role("finance", "accounting"):
        raise Forbidden("this needs one of the roles: finance, accounting")
    if key_id is not None:
        stmt = stmt.where(ApiClient.key_id == key_id)
    found = ctx.session.exec(stmt).all()
    if not found:
        raise NotFound(f"batch {batch_ref} not found", field="batch_id")
    if len(found) > 1:
        raise Conflict(
            f"batch_id {batch_ref} was used by several clients; name one with ?key_id=",
            field="batch_id",
            details={"key_ids": sorted(c.key_id for _, c in found)},
        )
    batch, client = found[0]
    agent = ctx.session.get(Agent, batch.agent_id)
    rows = ctx.session.exec(
        select(SettlementRecord)
        .where(SettlementRecord.batch_id == batch.id)
        .order_by(SettlementRecord.line_no)  # type: ignore[arg-type]
    ).all()
    states = _record_states(ctx, rows)
    queued = set(
        ctx.session.execute(
            sa.select(col(UnreconciledRecord.record_id))
            .join(SettlementRecord, col(SettlementRecord.id) == col(UnreconciledRecord.record_id))
            .where(col(SettlementRecord.batch_id) == batch.id)
        ).scalars()
    )
    return {
        "batch_id": batch.batch_ref,
        "key_id": client.key_id,
        "agent_code": agent.code if agent else None,
        "received_at": batch.received_at.astimezone(UTC).isoformat(),
        "received_date": batch.received_date.isoformat(),
        "records": batch.records,
        "new_records": batch.new_records,
        "duplicate_records": batch.duplicate_records,
        "amount": batch.amount,
        "items": [
            {
                "record_id": r.record_id,
                "kind": r.kind,
                "state": states.get(r.id or 0, "received" if r.id in queued else "unmatched"),
                "barcode": r.barcode,
                "payment_number": r.payment_number,
                "amount": r.amount,
                "paid_at": r.paid_at.astimezone(JST).isoformat(),
                "channel_code": r.channel_code,
                "store_code": r.store_code,
                "transfer_date": r.transfer_date.isoformat() if r.transfer_date else None,
            }
            for r in rows
        ],
    }


def _record_states(ctx: Context, rows: Sequence[SettlementRecord]) -> dict[int, str]:
    """Record id → the state of the payment that record created, confirmed, corrected or cancelled."""
    ids = [r.id for r in rows if r.id is not None]
    if not ids:
        return {}
    columns = (
        col(Payment.preliminary_record_id),
        col(Payment.confirmed_record_id),
        col(Payment.correction_record_id),
        col(Payment.cancel_record_id),
    )
    found: dict[int, str] = {}
    query = sa.select(col(Payment.state), *columns).where(sa.or_(*(c.in_(ids) for c in columns)))
    for state, *record_ids in ctx.session.execute(query):
        for record_id in record_ids:
            if record_id in ids:
                found[record_id] = state
    return found


def parse_json_body(raw: bytes) -> Any:
    """Decode a JSON request body (:func:`adapters.agent_post.decode`); a 422 naming ``body`` when it is
    not JSON or nested too deeply."""
    try:
        return agent_post.decode(raw)
    except agent_post.PostRejected as ex:
        raise _invalid(ex) from None


__all__ = ["MAX_POST_RECORDS", "ingest_post", "parse_json_body", "receive_post", "show_batch"]
