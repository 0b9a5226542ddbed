"""An agent's posted batch (``POST /api/v1/settlements``): JSON in, payment records out.

Not a file format, so no :class:`adapters.base.Adapter`; otherwise an adapter like the others: pure (no
database, no web framework), every record checked with the same barcode rules as a file's, and records out
as :class:`adapters.records.PaymentRecord` (here :class:`PostedRecord`, which adds the client's
``record_id``), so the gateway stores posts as it stores files.

A batch ``{"batch_id", "records": [...]}`` carries the fields of a ``fixed120`` data record
(spec/settlement-formats.md §4). Every problem is reported (``index``, ``field``, ``message``) in one
:class:`PostRejected`. Values are strict: identifiers are matched whole (no trailing newline), codes are
ASCII digits, ``paid_at`` lies between 2019-05-01 00:00 Japan time and one day after the post is received,
and the dates between 2019-05-01 and a year after. The JSON itself must be plain: NaN, Infinity, integers of
more than ``MAX_INT_DIGITS`` digits and a key named twice in one object are each reported where they stand,
and a body nested too deeply is refused as a whole.

>>> import datetime
>>> now = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=JST)
>>> body = decode(b'{"batch_id": "b-1", "records": [{"record_id": "r-1", "kind": "preliminary",'
...     b' "barcode": "91912345001232600000123400300026013100100001", "amount": 10000,'
...     b' "paid_at": "2026-11-27T09:05:00+09:00", "channel_code": "020", "store_code": "0001234"}]}')
>>> agent = {"agent_code": "12345", "channels": frozenset({"0020"}), "received_at": now}
>>> batch_id, (record,) = parse_batch(body, **agent)
>>> batch_id, record.record_id, record.kind_code, record.payment_number, record.channel_code
('b-1', 'r-1', '01', '2600000123400300', '0020')
>>> try:
...     parse_batch({"batch_id": "b-2", "records": [dict(body["records"][0], channel_code="20")]}, **agent)
... except PostRejected as ex:
...     print(ex.problems)
[{'index': 0, 'field': 'channel_code', 'message': 'must be 3-4 digits'}]
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from typing import Any

from adapters._common import JST
from adapters.records import PaymentRecord
from barcodes import cvs
from barcodes.exceptions import BarcodeError

UTC = datetime.UTC

MAX_POST_RECORDS = 10_000
"""Records per agent post; larger deliveries come as files."""
KIND_CODES = {"preliminary": "01", "confirmed": "02", "cancellation": "03"}
"""The data-kind code each posted ``kind`` is stored with (as in a ``fixed120`` file)."""

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
REQUIRED_FIELDS = ("record_id", "kind", "barcode", "amount", "paid_at", "channel_code", "store_code")
"""Fields every posted record must have (the OpenAPI document lists the same)."""
OPTIONAL_FIELDS = ("transfer_date", "accounting_date", "capture_date")
"""Dates a record may carry (``transfer_date`` is required for a confirmed one)."""
_POST_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)


@dataclass(frozen=True, slots=True)
class PostedRecord(PaymentRecord):
    """A posted record: a payment record (``line_no`` is its 1-based place in the batch) and the client's
    ``record_id``, unique per client."""

    record_id: str


def content(record: Any) -> tuple[Any, ...]:
    """What "the same record again" compares: every posted value, ``paid_at`` as an instant (a naive one,
    as SQLite returns stored instants, is UTC). ``record`` is a :class:`PaymentRecord` or a stored row."""
    paid_at = record.paid_at if record.paid_at.tzinfo else record.paid_at.replace(tzinfo=UTC)
    return (
        record.kind,
        record.barcode,
        record.amount,
        paid_at.astimezone(UTC),
        record.channel_code,
        record.store_code,
        record.transfer_date,
        record.accounting_date,
        record.capture_date,
    )


class PostRejected(ValueError):
    """The batch cannot be accepted: ``problems`` lists ``{"index", "field", "message"}`` (``index`` is
    ``None`` for the batch itself); ``field`` names the one culprit of a body refused whole."""

    def __init__(
        self, message: str, *, problems: list[dict[str, Any]] | None = None, field: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.field = field


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
    agent_code: str,
    errors: list[dict[str, Any]],
    received_at: datetime.datetime,
    channels: frozenset[str],
) -> PostedRecord | None:
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
    if kind not in KIND_CODES:
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
    if parsed is not None and parsed.issuer_prefix[1:] != agent_code:
        bad("barcode", f"issuer prefix {parsed.issuer_prefix} is not of agent {agent_code}")
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
            bad("channel_code", f"channel {channel} is not enabled for agent {agent_code}")
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
            dates[name] = _date_value(value, received_at.astimezone(JST).date())
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
    return PostedRecord(
        line_no=index + 1,
        kind=kind,  # type: ignore[arg-type]
        kind_code=KIND_CODES[kind],  # type: ignore[index]
        barcode=barcode,  # type: ignore[arg-type]
        issuer_prefix=parsed.issuer_prefix,
        agent_code=parsed.agent_code,
        consignor_code=parsed.consignor_code,
        payment_number=parsed.payment_number,
        reissue_count=parsed.reissue_count,
        barcode_expiry=parsed.expiry,
        amount=amount,  # type: ignore[arg-type]
        paid_at=paid_at.astimezone(JST),
        channel_code=channel,
        store_code=store,  # type: ignore[arg-type]
        transfer_date=dates["transfer_date"],
        accounting_date=dates["accounting_date"],
        capture_date=dates["capture_date"],
        postal_correction=False,
        record_id=record_id,  # type: ignore[arg-type]
    )


def parse_batch(
    body: Any, *, agent_code: str, channels: frozenset[str], received_at: datetime.datetime
) -> tuple[str, list[PostedRecord]]:
    """The batch id and its checked records, in order.

    Args:
        body: the decoded JSON (:func:`decode`).
        agent_code: the posting client's agent: every barcode's issuer prefix must be of it.
        channels: the four-digit channel codes the office enabled for that agent.
        received_at: when the post arrived (the window for ``paid_at`` and the dates).

    Raises:
        PostRejected: the batch or any record is invalid, listing every problem.
    """
    if not isinstance(body, dict):
        raise PostRejected("the body must be a JSON object {batch_id, records}", field="body")
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
        raise PostRejected("the batch is not valid", problems=problems)
    assert isinstance(records, list) and isinstance(batch_ref, str)
    checked: list[PostedRecord] = []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(records):
        rec = _check_post_record(index, item, agent_code, problems, received_at, channels)
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
        raise PostRejected(
            f"{len({p['index'] for p in problems})} of {len(records)} records are not valid; "
            "the batch is rejected",
            problems=problems,
        )
    return batch_ref, checked


def decode(raw: bytes) -> Any:
    """Decode a posted body; :class:`PostRejected` naming ``body`` when it is not JSON or nested too deeply.

    NaN, Infinity and integers of more than ``MAX_INT_DIGITS`` digits decode to a value no field accepts,
    and an object naming a key twice keeps ``duplicates``, so the checks report each at its record and field.
    """
    try:
        return json.loads(raw, parse_int=_integer, parse_constant=_constant, object_pairs_hook=_object)
    except (UnicodeDecodeError, json.JSONDecodeError) as ex:
        raise PostRejected(f"the body is not JSON: {ex}", field="body") from None
    except RecursionError:
        raise PostRejected("the body is nested too deeply to be a batch", field="body") from None
