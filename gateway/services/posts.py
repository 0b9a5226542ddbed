"""Agent posts (``POST /api/v1/settlements``): validation record by record, storage all or nothing.

A batch ``{"batch_id", "records": [...]}`` carries the same fields as a ``fixed120`` data record
(spec/settlement-formats.md §4). Every record is checked — the every-barcode checks, amount equal to the
barcode's, a known kind, ``paid_at`` in ISO 8601 with an offset, a transfer date on confirmed records, a
channel (normalised to four digits) that the office enabled for the client's agent, and the barcode's agent
code being that agent's — and every problem is reported (``index``, ``field``, ``message``) in one 422. A
valid batch is stored in one transaction. ``record_id`` is unique per client: the same record again with
the same normalised content (``paid_at`` compared as an instant) is a duplicate, with other content a 409.
The same ``batch_id`` again with the same records is a no-op; with new records a 409.

Values are strict: identifiers are matched whole (no trailing newline), codes are ASCII digits, ``paid_at``
lies between 2019-05-01 00:00 Japan time and one day after the post is received, and the dates between
2019-05-01 and a year after. The JSON itself must be plain: NaN, Infinity, integers of more than
``MAX_INT_DIGITS`` digits and a key named twice in one object are each reported where they stand, and a body
nested too deeply is refused as a whole.

An accepted body is sealed into the archive before anything is stored; the batch row names it by its
SHA-256. A rejected body is recorded in the audit trail (``settlement_batch.reject``: SHA-256, size, error)
and archived only up to ``GATEWAY_REJECTED_POST_KEEP_BYTES`` (64 KiB by default).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from barcodes import cvs
from barcodes.exceptions import BarcodeError
from gateway.context import Actor
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import Forbidden
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import Agent
from gateway.models import ApiClient
from gateway.models import SettlementBatch
from gateway.models import SettlementRecord
from gateway.models import UnreconciledRecord
from gateway.models.base import JST
from gateway.models.base import UTC
from gateway.models.base import japan_date
from gateway.models.base import table_of
from gateway.services import archive
from gateway.services import ingest

MAX_POST_RECORDS = 10_000
"""Records per agent post; larger deliveries come as files."""
_KIND_CODE = {"preliminary": "01", "confirmed": "02", "cancellation": "03"}

MAX_INT_DIGITS = 20
"""Longer integers in a post are reported as bad values (Python refuses to convert thousands of digits)."""
EARLIEST_PAID_AT = datetime.datetime(2019, 5, 1, tzinfo=JST)
"""No payment in a post is older than this (none of this gateway's barcodes existed before)."""
LATEST_PAID_AHEAD = datetime.timedelta(days=1)
"""``paid_at`` may be this far after the receiving time (clocks differ; never a day more)."""
DATES_AHEAD = datetime.timedelta(days=366)
"""Transfer, accounting and capture dates may be this far after the receiving date."""

# All matched whole with fullmatch: "$" would also accept a trailing newline, and \d non-ASCII digits.
_RECORD_ID = re.compile(r"[\x21-\x7e]{1,128}")
_BATCH_ID = re.compile(r"[\x21-\x7e]{1,128}")
_STORE = re.compile(r"[0-9]{1,16}")
_CHANNEL = re.compile(r"[0-9]{3,4}")
_BARCODE = re.compile(r"[0-9]{44}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_POST_FIELDS = frozenset(
    {
        "record_id",
        "kind",
        "barcode",
        "amount",
        "paid_at",
        "channel_code",
        "store_code",
        "transfer_date",
        "accounting_date",
        "capture_date",
    }
)


@dataclass(frozen=True)
class _PostRecord:
    """A validated, normalised posted record (what "same content" compares)."""

    record_id: str
    kind: str
    barcode: str
    amount: int
    paid_at: datetime.datetime
    channel_code: str
    store_code: str
    transfer_date: datetime.date | None
    accounting_date: datetime.date | None
    capture_date: datetime.date | None
    parsed: cvs.CvsBarcode

    def content(self) -> tuple[Any, ...]:
        return (
            self.kind,
            self.barcode,
            self.amount,
            self.paid_at.astimezone(UTC),
            self.channel_code,
            self.store_code,
            self.transfer_date,
            self.accounting_date,
            self.capture_date,
        )


def _stored_content(row: Any) -> tuple[Any, ...]:
    paid_at = row.paid_at if row.paid_at.tzinfo else row.paid_at.replace(tzinfo=UTC)
    return (
        row.kind,
        row.barcode,
        row.amount,
        paid_at.astimezone(UTC),
        row.channel_code,
        row.store_code,
        row.transfer_date,
        row.accounting_date,
        row.capture_date,
    )


def _date_value(value: Any, received: datetime.date) -> datetime.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError("must be a date YYYY-MM-DD")
    day = datetime.date.fromisoformat(value)
    latest = received + DATES_AHEAD
    if not EARLIEST_PAID_AT.date() <= day <= latest:
        raise ValueError(f"must be between {EARLIEST_PAID_AT.date()} and {latest}")
    return day


def _paid_at_value(value: Any, received_at: datetime.datetime) -> datetime.datetime:
    """An aware ``paid_at`` within the plausible window; ValueError with the message otherwise."""
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date and time with offset, e.g. 2026-11-27T14:32:00+09:00")
    paid_at = datetime.datetime.fromisoformat(value)
    latest = received_at + LATEST_PAID_AHEAD
    # The year first: converting 0001 or 9999 with an offset to another zone overflows.
    if not EARLIEST_PAID_AT.year <= paid_at.year <= latest.year or not (
        EARLIEST_PAID_AT <= paid_at <= latest
    ):
        window = f"{EARLIEST_PAID_AT.isoformat()} and {latest.astimezone(JST).isoformat()}"
        raise ValueError(f"must be between {window} (one day after receipt)")
    return paid_at


class _Unusable:
    """A JSON value no field accepts (NaN, Infinity, a huge integer); reported at its record and field."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what


class _Twice(dict[str, Any]):
    """A JSON object that named a key more than once (the last value is kept; the record is refused)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    duplicates: set[str] = set()
    for key, _ in pairs:
        (duplicates if key in seen else seen).add(key)
    twice = _Twice(obj)
    twice.duplicates = tuple(sorted(duplicates))
    return twice


def _integer(text: str) -> int | _Unusable:
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:
        return _Unusable(f"is a number of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _constant(name: str) -> _Unusable:
    return _Unusable(f"is {name}, which is not a JSON number")


def _check_post_record(
    index: int,
    raw: Any,
    agent: Agent,
    errors: list[dict[str, Any]],
    received_at: datetime.datetime,
    channels: frozenset[str],
) -> _PostRecord | None:
    """Validate one posted record, appending every problem found to ``errors`` (one per field)."""
    before = len(errors)
    reported: set[str] = set()

    def bad(field_name: str, message: str) -> None:
        if field_name not in reported:
            reported.add(field_name)
            errors.append({"index": index, "field": field_name, "message": message})

    if not isinstance(raw, dict):
        bad("record", "must be an object")
        return None
    for twice in getattr(raw, "duplicates", ()):
        bad(twice, "appears twice in the record")
    for name, value in raw.items():
        if isinstance(value, _Unusable):
            bad(name, value.what)
    for unknown in sorted(set(raw) - _POST_FIELDS):
        bad(unknown, "is not a field of a settlement record")
    record_id = raw.get("record_id")
    if not isinstance(record_id, str) or not _RECORD_ID.fullmatch(record_id):
        bad("record_id", "must be 1-128 printable ASCII characters")
    kind = raw.get("kind")
    if kind not in _KIND_CODE:
        bad("kind", "must be preliminary, confirmed or cancellation")
    barcode = raw.get("barcode")
    parsed: cvs.CvsBarcode | None = None
    if not isinstance(barcode, str) or not _BARCODE.fullmatch(barcode):
        bad("barcode", "must be the 44 digits as a string")
    else:
        try:
            parsed = cvs.parse(barcode)
        except BarcodeError as ex:
            bad("barcode", f"is not a valid barcode: {ex}")
    amount = raw.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        bad("amount", "must be a positive whole number of yen")
    elif parsed is not None and amount != parsed.amount:
        bad("amount", f"{amount} differs from the barcode amount {parsed.amount}")
    if parsed is not None and parsed.issuer_prefix[1:] != agent.code:
        bad("barcode", f"issuer prefix {parsed.issuer_prefix} is not of agent {agent.code}")
    paid_at: datetime.datetime | None = None
    try:
        paid_at = _paid_at_value(raw.get("paid_at"), received_at)
    except ValueError as ex:
        bad("paid_at", str(ex))
    channel = raw.get("channel_code")
    if not isinstance(channel, str) or not _CHANNEL.fullmatch(channel):
        bad("channel_code", "must be 3-4 digits")
        channel = None
    else:
        channel = channel.rjust(4, "0")
        if channel not in channels:
            bad("channel_code", f"channel {channel} is not enabled for agent {agent.code}")
    store = raw.get("store_code")
    if not isinstance(store, str) or not _STORE.fullmatch(store):
        bad("store_code", "must be 1-16 digits (all zeros for app payments)")
    dates: dict[str, datetime.date | None] = {}
    for name in ("transfer_date", "accounting_date", "capture_date"):
        value = raw.get(name)
        dates[name] = None
        if value is None:
            continue
        try:
            dates[name] = _date_value(value, japan_date(received_at))
        except ValueError as ex:
            bad(name, str(ex))
    if kind == "confirmed" and raw.get("transfer_date") is None:
        bad("transfer_date", "is required for a confirmed record")
    if kind in ("preliminary", "cancellation"):
        for name in ("transfer_date", "accounting_date"):
            if raw.get(name) is not None:
                bad(name, "is only for confirmed records")
    if len(errors) > before:
        return None
    assert paid_at is not None and channel is not None and parsed is not None
    return _PostRecord(
        record_id=record_id,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        barcode=barcode,  # type: ignore[arg-type]
        amount=amount,  # type: ignore[arg-type]
        paid_at=paid_at,
        channel_code=channel,
        store_code=store,  # type: ignore[arg-type]
        transfer_date=dates["transfer_date"],
        accounting_date=dates["accounting_date"],
        capture_date=dates["capture_date"],
        parsed=parsed,
    )


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


def _check_batch(ctx: Context, agent: Agent, body: Any) -> tuple[str, list[_PostRecord]]:
    """The batch id and the checked records; InvalidInput listing every problem."""
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object {batch_id, records}", field="body")
    batch_ref = body.get("batch_id")
    records = body.get("records")
    problems: list[dict[str, Any]] = []
    for twice in getattr(body, "duplicates", ()):
        problems.append({"index": None, "field": twice, "message": "appears twice in the batch"})
    if not isinstance(batch_ref, str) or not _BATCH_ID.fullmatch(batch_ref):
        problems.append(
            {"index": None, "field": "batch_id", "message": "must be 1-128 printable ASCII characters"}
        )
    if not isinstance(records, list) or not records:
        problems.append({"index": None, "field": "records", "message": "must be a non-empty list"})
    elif len(records) > MAX_POST_RECORDS:
        problems.append(
            {"index": None, "field": "records", "message": f"at most {MAX_POST_RECORDS} records per batch"}
        )
    for unknown in sorted(set(body) - {"batch_id", "records"}):
        problems.append({"index": None, "field": unknown, "message": "is not a field of a batch"})
    if problems:
        raise InvalidInput("the batch is not valid", details={"errors": problems})
    assert isinstance(records, list) and isinstance(batch_ref, str)
    received_at = ctx.now()
    channels = frozenset(agent.channel_list)
    checked: list[_PostRecord] = []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(records):
        rec = _check_post_record(index, item, agent, problems, received_at, channels)
        if rec is None:
            continue
        if rec.record_id in seen_ids:
            problems.append(
                {"index": index, "field": "record_id", "message": f"also at index {seen_ids[rec.record_id]}"}
            )
            continue
        seen_ids[rec.record_id] = index
        checked.append(rec)
    if problems:
        raise InvalidInput(
            f"{len({p['index'] for p in problems})} of {len(records)} records are not valid; "
            "the batch is rejected",
            details={"errors": problems},
        )
    return batch_ref, checked


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
    records: list[_PostRecord],
) -> int:
    """Insert the records no earlier post of the client stored (``ON CONFLICT DO NOTHING`` on its
    ``record_id``); the number inserted. The rows go straight through the driver on the session's own
    connection (same transaction): per record nothing but one tuple."""
    rows = [
        (
            index,
            r.kind,
            _KIND_CODE[r.kind],
            r.barcode,
            r.parsed.issuer_prefix,
            r.parsed.consignor_code,
            r.parsed.payment_number,
            r.parsed.reissue_count,
            r.parsed.expiry,
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
        for index, r in enumerate(records, 1)
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
        found.update({row.record_id: _stored_content(row) for row in ctx.session.execute(query)})
    return found


def _refuse_changed(records: list[_PostRecord], stored: dict[str, tuple[Any, ...]]) -> None:
    """Conflict on the first record whose ``record_id`` was stored with other content."""
    for rec in records:
        content = stored.get(rec.record_id)
        if content is not None and content != rec.content():
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
    records: list[_PostRecord],
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
    from gateway.models.recon import Payment

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
    """Decode a JSON request body; a 422 naming ``body`` when it is not JSON or nested too deeply.

    NaN, Infinity and integers of more than ``MAX_INT_DIGITS`` digits decode to a value no field accepts,
    and an object naming a key twice keeps ``duplicates``, so the checks report each at its record and field.
    """
    try:
        return json.loads(raw, parse_int=_integer, parse_constant=_constant, object_pairs_hook=_object)
    except (UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise InvalidInput(f"the body is not JSON: {ex}", field="body") from None
    except RecursionError:
        raise InvalidInput("the body is nested too deeply to be a batch", field="body") from None


__all__ = ["MAX_POST_RECORDS", "ingest_post", "parse_json_body", "receive_post", "show_batch"]
