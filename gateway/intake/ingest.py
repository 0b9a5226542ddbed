"""Settlement ingestion: agents' and banks' files, every adapter (agents' posts: ``gateway.intake.posts``).

A file goes through these steps (:func:`ingest_file`):

1. it is hashed and sealed into the archive in one pass, before anything reads its content
   (``gateway.intake.archive``);
2. a known SHA-256 makes it ``duplicate_file``: nothing is stored;
3. the adapter is the one named, or the one that identifies the file (none or two: rejected);
4. a payment file must belong to a registered, enabled agent that is configured for that adapter, and a
   ``fixed120`` header must carry that agent's consignor code (otherwise rejected, naming line 1 and the
   field); bank files belong to the office (the remitter name resolves the agent of each credit); a
   bank-counter file (``bank_counter``) to the registered agent of the slips it pays (docs/settlements.md
   "The bank counter": its records of payment numbers get this office's prefix, see :func:`_counter_records`);
5. the records stream from the adapter into the database in chunks of :data:`CHUNK_ROWS`, inside one
   transaction, with set-based statements: SQLite — the driver's ``executemany`` into a TEMP staging table,
   then ``INSERT … SELECT … ON CONFLICT(identity) DO NOTHING``; PostgreSQL — ``COPY`` into a temporary
   staging table, then the same ``INSERT … SELECT``. Known records (same identity) are counted as
   ``duplicate_records``. Any ``SettlementFileError`` — including the trailer check after the last record —
   rolls everything back and the file is ``rejected`` with the located error; a crash does the same, so a
   rerun starts clean.

Record identity (spec/settlement-formats.md) is described in ``gateway.models.settlement``. The occurrence
number among identical rows of one file is computed with a set of 16-byte digests (one per row, ~60 bytes
each) and a small dict for the rows that repeat, so a million-record file never sits in memory as objects.

``counts_by_kind`` / ``amounts_by_kind`` of a payment file are keyed by the data-kind code (``01``, ``02``,
``03``, ``12``, ``22``: the codes the trailers and the agent's statements use), of a bank file by
``credit`` / ``debit`` / ``cancelled``; ``amount`` sums every record, cancellations included.
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime
import hashlib
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

import adapters
from adapters import bank_counter
from adapters import errors as adapter_errors
from adapters.base import Adapter
from adapters.errors import SettlementFileError
from adapters.profiles import ProfileAdapter
from adapters.records import BankRecord as ParsedBankRecord
from adapters.records import FileInfo
from adapters.records import PaymentRecord
from barcodes import cvs
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import NotFound
from gateway.faults import crash_point
from gateway.intake import archive
from gateway.models import Agent
from gateway.models import AuditEvent
from gateway.models import BankRecord
from gateway.models import SettlementFile
from gateway.models import SettlementRecord
from gateway.models.base import JST
from gateway.models.base import UTC
from gateway.models.base import japan_date

log = logging.getLogger(__name__)

CHUNK_ROWS = 50_000
"""Records per set-based insert: large enough to amortise each statement, small enough for flat memory."""
_CACHE_LIMIT = 50_000
"""Entries of the per-file caches of packed times and dates before they start again (flat memory)."""
_BULK_CACHE_KIB = 16_384
"""SQLite page cache (KiB) while a file is inserted (the default 2 MiB makes index inserts re-read pages)."""
IDENTITY_BYTES = 12
"""Bytes of a file record's identity hash (BLAKE2b, 96 bits; no collision in any realistic lifetime: 10⁹
records, p ≈ 10⁻¹¹), written as 16 base64 characters: short keys keep the unique index small."""
IDENTITY_CHARS = 16

_AGENT_SOURCE = {
    "fixed120": (1, "header", "agent_code"),
    "dsk_csv": (2, "data", "barcode"),
    bank_counter.NAME: (2, "data", "barcode"),
}
"""Where each payment format says which agent it belongs to: (line, record type, field)."""


class FileRefused(SettlementFileError):
    """A readable file the office does not accept: unknown or disabled agent, an adapter not configured for
    the agent, a foreign consignor code, a file the delivering client may not deliver."""

    default_message = "file is not accepted"


@dataclass
class FileResult:
    """The outcome of one file; :meth:`as_json` is the spec's per-file ingest object."""

    file: str
    sha256: str
    status: str
    adapter: str | None = None
    records: int = 0
    new_records: int = 0
    duplicate_records: int = 0
    amount: int = 0
    counts_by_kind: dict[str, int] = field(default_factory=dict)
    amounts_by_kind: dict[str, int] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    file_id: int | None = None
    exception: SettlementFileError | None = field(default=None, repr=False, compare=False)
    skipped: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Rows skipped as the agent's adapter options say (DSK type 81), by type: ``{"records", "lines"}``."""

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"

    def as_json(self) -> dict[str, Any]:
        doc = {
            "file": self.file,
            "adapter": self.adapter,
            "status": self.status,
            "sha256": self.sha256,
            "records": self.records,
            "new_records": self.new_records,
            "duplicate_records": self.duplicate_records,
            "amount": self.amount,
            "counts_by_kind": dict(self.counts_by_kind),
            "amounts_by_kind": dict(self.amounts_by_kind),
            "error": self.error,
        }
        if self.skipped:  # only when an agent's option skipped rows (the usual shape stays as it was)
            doc["skipped"] = {kind: dict(v) for kind, v in self.skipped.items()}
        return doc

    def located(self) -> str:
        """One line for stderr: the error naming file, line, record type, field and value."""
        if self.error is None:
            return f"{self.file}: {self.status}"
        return str(self.error["message"])


# --------------------------------------------------------------------------------------------- files


def ingest_file(
    ctx: Context,
    path: Path,
    *,
    adapter: str | None = None,
    agent_code: str | None = None,
    source: str = "cli",
    original_name: str | None = None,
    progress: Callable[[int], None] | None = None,
    client_agent_code: str | None = None,
) -> FileResult:
    """Archive, check and store one settlement or bank file; never raises for a bad file.

    Args:
        path: the file on disk.
        adapter: the adapter's name; detected when ``None``.
        agent_code: names the agent explicitly (``--agent``); a ``fixed120`` header or the ``dsk_csv``
            barcodes naming another agent is refused.
        source: ``cli``, ``api``, ``inbox`` or ``fetch`` (stored with the file).
        original_name: the name to store and report (basename only) when ``path`` is a temporary copy.
        progress: called after each chunk with the number of records stored so far.
        client_agent_code: set for an agent API client's delivery: only payment files of that agent.

    Returns:
        ``accepted``, ``duplicate_file`` (a known SHA-256; the stored file's figures, nothing new) or
        ``rejected`` (nothing stored; ``error`` = ``{"line", "field", "message"}``).
    """
    path = Path(path)
    name = Path(original_name or path.name).name
    archived = archive.archive_file(ctx, path)
    crash_point("ingest.after_archive")
    sha = archived.sha256
    known = _file_by_sha(ctx, sha)
    if known is not None:
        return _duplicate(name, known)
    chosen: Adapter | None = None
    try:
        chosen, info, agent = _resolve(ctx, path, name, adapter, agent_code, client_agent_code)
        return _store_file(ctx, path, name, archived, chosen, info, agent, source, progress)
    except SettlementFileError as ex:
        return _reject(ctx, name, sha, chosen.name if chosen else adapter, ex, source)
    except sa.exc.IntegrityError:
        # Another process stored the same file between our check and our insert.
        ctx.session.rollback()
        known = _file_by_sha(ctx, sha)
        if known is None:
            raise
        return _duplicate(name, known)


def _file_by_sha(ctx: Context, sha: str) -> SettlementFile | None:
    return ctx.session.exec(select(SettlementFile).where(SettlementFile.sha256 == sha)).first()


def _duplicate(name: str, known: SettlementFile) -> FileResult:
    return FileResult(
        file=name,
        sha256=known.sha256,
        status="duplicate_file",
        adapter=known.adapter,
        records=known.records,
        new_records=0,
        duplicate_records=known.records,
        amount=known.amount,
        counts_by_kind=dict(known.counts_by_kind),
        amounts_by_kind=dict(known.amounts_by_kind),
        file_id=known.id,
    )


def _reject(
    ctx: Context, name: str, sha: str, adapter: str | None, ex: SettlementFileError, source: str
) -> FileResult:
    ex.path = name  # report the delivered name, not a temporary copy's
    if ex.adapter is None:
        ex.adapter = adapter
    error = {"line": ex.line_no, "field": ex.field, "message": str(ex)}
    key, params = error_key(ex)
    _record_rejection(ctx, name, sha, adapter, {**error, "key": key, "params": params}, source)
    return FileResult(file=name, sha256=sha, status="rejected", adapter=adapter, error=error, exception=ex)


@mutation("settlement_file.reject")
def _record_rejection(
    ctx: Context, name: str, sha: str, adapter: str | None, error: dict[str, Any], source: str
) -> None:
    """Only the audit trail learns of a rejected file (its original stays in the archive under ``sha``)."""
    ctx.record(
        "settlement_file.reject",
        "settlement_file",
        sha[:16],
        file=name,
        sha256=sha,
        adapter=adapter,
        source=source,
        error=error,
    )


def _refuse(
    message: str, adapter: Adapter, value: str | None, *, field_name: str | None = None
) -> FileRefused:
    header = (1, "header", "agent_code") if isinstance(adapter, ProfileAdapter) else (1, None, "agent_code")
    line, record_type, default_field = _AGENT_SOURCE.get(adapter.name, header)
    return FileRefused(
        message,
        adapter=adapter.name,
        line_no=line,
        record_type=record_type,
        field=field_name or default_field,
        value=value,
    )


def _not_for_agent_clients(adapter: Adapter, message: str) -> FileRefused:
    """The refusal of a bank's file (or any file not an agent's own) delivered by an agent client."""
    return FileRefused(message, adapter=adapter.name, line_no=1, field="adapter", value=adapter.name)


def _resolve(
    ctx: Context,
    path: Path,
    name: str,
    adapter_name: str | None,
    agent_code: str | None,
    client_agent_code: str | None,
) -> tuple[Adapter, FileInfo, Agent | None]:
    """The adapter, what the header says, and the agent (payment files); raises a located error."""
    chosen = adapters.get_adapter(adapter_name) if adapter_name else adapters.detect(path)
    info = chosen.info(path)
    if info.kind == "bank":
        if client_agent_code is not None:
            raise _not_for_agent_clients(chosen, "agent clients deliver payment files only")
        if not ctx.keys.can_read_personal_data:
            raise FileRefused(
                "bank files are accepted only by the full process (they carry personal data)",
                adapter=chosen.name,
                line_no=1,
                field="adapter",
                value=chosen.name,
            )
        return chosen, info, None
    if chosen.name == bank_counter.NAME:
        return chosen, info, _counter_agent(ctx, chosen, info, agent_code, client_agent_code)
    code = info.agent_code
    if agent_code is not None:
        if code is not None and code != agent_code:
            raise _refuse(f"names agent {code}, not agent {agent_code} given with --agent", chosen, code)
        code = agent_code
    if code is None:
        raise FileRefused(
            "cannot tell which agent the file belongs to (no data); name it with --agent",
            adapter=chosen.name,
            line_no=1,
            field="agent_code",
        )
    if client_agent_code is not None and code != client_agent_code:
        raise _refuse(
            f"belongs to agent {code}; this client delivers for agent {client_agent_code} only", chosen, code
        )
    agent = ctx.session.exec(select(Agent).where(Agent.code == code)).first()
    if agent is None:
        raise _refuse(f"agent {code} is not registered with this office", chosen, code)
    if not agent.enabled:
        raise _refuse(f"agent {code} is not enabled", chosen, code)
    if chosen.name not in agent.adapter_list:
        raise _refuse(
            f"agent {code} is not configured for {chosen.name} files "
            f"({', '.join(agent.adapter_list) or 'none'})",
            chosen,
            chosen.name,
            field_name="adapter",
        )
    if (
        isinstance(chosen, ProfileAdapter)
        and chosen.header_names_consignor
        and info.consignor_code != agent.consignor_code
    ):
        raise _refuse(
            f"is not the consignor code {agent.consignor_code} this office has with agent {code}",
            chosen,
            info.consignor_code,
            field_name="consignor_code",
        )
    return _with_agent_options(chosen, agent), info, agent


def _counter_agent(
    ctx: Context, adapter: Adapter, info: FileInfo, agent_code: str | None, client_agent_code: str | None
) -> Agent:
    """The agent whose slips a bank-counter file pays (docs/settlements.md "The bank counter"): the barcodes'
    agent (positions 4–8), or, for a file of payment numbers, this office's (its issuer prefix digits 2–6).

    The bank is not that agent: the agent need not be enabled or configured for the format (slips of an
    agent whose contract ended are still paid at the bank), it only has to be registered."""
    if client_agent_code is not None:
        raise _not_for_agent_clients(
            adapter, "agent clients deliver their own payment files only, not the bank's"
        )
    code = info.agent_code or ctx.settings.issuer_prefix[1:]
    if agent_code is not None and code != agent_code:
        raise _refuse(f"names agent {code}, not agent {agent_code} given with --agent", adapter, code)
    agent = ctx.session.exec(select(Agent).where(Agent.code == code)).first()
    if agent is None:
        raise _refuse(f"agent {code} of the slips is not registered with this office", adapter, code)
    return agent


def _with_agent_options(adapter: Adapter, agent: Agent) -> Adapter:
    """The adapter built with the agent's options for it (``agents.adapter_options``, e.g. how DSK record
    type 81 is treated); the same adapter when the agent has none."""
    options = agent.options_for(adapter.name)
    if not options:
        return adapter
    try:
        return type(adapter)(**options)
    except (TypeError, ValueError) as ex:  # checked when set; an adapter may have changed since
        raise FileRefused(
            f"agent {agent.code}'s options for {adapter.name} are not valid ({ex})",
            adapter=adapter.name,
            line_no=1,
            field="adapter_options",
            value=",".join(f"{k}={v}" for k, v in options.items())[:60],
        ) from ex


@mutation("settlement_file.ingest")
def _store_file(
    ctx: Context,
    path: Path,
    name: str,
    archived: archive.Archived,
    adapter: Adapter,
    info: FileInfo,
    agent: Agent | None,
    source: str,
    progress: Callable[[int], None] | None,
) -> FileResult:
    received_at = ctx.now()
    row = SettlementFile(
        sha256=archived.sha256,
        file_name=name,
        adapter=adapter.name,
        kind=info.kind,
        agent_id=agent.id if agent else None,
        source=source,
        size=archived.size,
        created_on=info.created_on,
        received_at=received_at,
        received_date=japan_date(received_at),
        actor=ctx.actor.label[:128],
    )
    ctx.session.add(row)
    ctx.session.flush()
    crash_point("ingest.after_file_row")
    assert row.id is not None
    if info.kind == "payment":
        assert agent is not None and agent.id is not None
        before = ctx.session.execute(
            sa.text("SELECT COALESCE(max(id), 0) FROM settlement_records")
        ).scalar_one()
        records: Iterable[PaymentRecord] = adapter.parse(path)  # type: ignore[assignment]
        stage = _PAYMENT_STAGE
        if adapter.name == bank_counter.NAME:
            stage = _COUNTER_STAGE
            records = _counter_records(records, ctx.settings.issuer_prefix, ctx.settings.consignor_code)
        bulk = _Bulk(ctx, stage, file_id=row.id, agent_id=agent.id, received_at=received_at)
        try:
            totals = _payment_rows(records, agent.code, bulk, progress)
        finally:
            bulk.close()
        if totals.new:
            # This file's new records have ids above every id committed before it (sequences only grow).
            enqueue(ctx, "file_id = :file AND id > :before", file=row.id, before=int(before))
    else:
        bulk = _Bulk(ctx, _BANK_STAGE, file_id=row.id, agent_id=None, received_at=received_at)
        try:
            totals = _bank_rows(ctx, adapter.parse(path), bulk, progress)  # type: ignore[arg-type]
        finally:
            bulk.close()
    crash_point("ingest.after_records")
    skipped = {
        kind: {"records": s.records, "lines": list(s.lines)}
        for kind, s in getattr(adapter, "skipped", {}).items()
    }
    row.records, row.new_records = totals.records, totals.new
    row.duplicate_records = totals.records - totals.new
    row.amount = sum(totals.amounts.values())
    row.counts_by_kind, row.amounts_by_kind = dict(totals.counts), dict(totals.amounts)
    ctx.session.add(row)
    ctx.session.flush()
    result = FileResult(
        file=name,
        sha256=archived.sha256,
        status="accepted",
        adapter=adapter.name,
        records=row.records,
        new_records=row.new_records,
        duplicate_records=row.duplicate_records,
        amount=row.amount,
        counts_by_kind=row.counts_by_kind,
        amounts_by_kind=row.amounts_by_kind,
        file_id=row.id,
        skipped=skipped,
    )
    ctx.record(
        "settlement_file.ingest",
        "settlement_file",
        row.id,
        file=name,
        sha256=archived.sha256,
        adapter=adapter.name,
        kind=info.kind,
        agent=agent.code if agent else None,
        source=source,
        records=result.records,
        new_records=result.new_records,
        duplicate_records=result.duplicate_records,
        amount=result.amount,
        **({"skipped": skipped} if skipped else {}),
    )
    crash_point("ingest.before_commit")
    return result


def enqueue(ctx: Context, where: str, **params: Any) -> None:
    """Queue the settlement records matching ``where`` (new ones, in the transaction that inserted them) for
    reconciliation (:class:`gateway.models.UnreconciledRecord`)."""
    ctx.session.execute(
        sa.text(
            f"INSERT INTO unreconciled_records (record_id) SELECT id FROM settlement_records WHERE {where}"
        ),
        params,
    )


# ----------------------------------------------------------------------------------- bulk machinery


@dataclass(frozen=True)
class _Stage:
    """A staging table and how its rows become target rows.

    ``columns`` are staged per row (name, PostgreSQL type); ``constants`` are target columns bound once per
    file; ``targets`` are (target column, SQL expression over the staged columns, PostgreSQL cast or None).
    """

    name: str
    target: str
    columns: tuple[tuple[str, str], ...]
    constants: tuple[str, ...]
    targets: tuple[tuple[str, str, str | None], ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


_NO_DATE = " " * 10
"""A missing date in the packed ``dates`` column."""


def _date_at(start: int) -> str:
    return f"NULLIF(substr(dates, {start}, 10), '{_NO_DATE}')"


# A payment row is staged as seven values, not twenty: binding a parameter costs the driver more than
# the producer spends packing it, and staging is on the critical path (see _Bulk). Packed layouts, 1-based:
#   kb    = kind code (1-2) + the 44 digits (3-46): barcode position p is kb position p + 2
#   paid  = Japan date YYYY-MM-DD (1-10) + UTC instant (11-), as the database stores it
#   cs    = channel code (1-4) + store code (5-)
#   dates = barcode expiry (1-10), transfer (11-20), accounting (21-30), capture (31-40), each YYYY-MM-DD or
#           blank; postal correction 0/1 (41)
_PAYMENT_STAGE = _Stage(
    name="gw_stage_payment",
    target="settlement_records",
    columns=(
        ("line_no", "integer"),
        ("kb", "text"),
        ("amount", "bigint"),
        ("paid", "text"),
        ("cs", "text"),
        ("dates", "text"),
        ("identity", "text"),
    ),
    constants=("file_id", "agent_id", "received_at", "received_date"),
    targets=(
        ("line_no", "line_no", None),
        ("kind_code", "substr(kb, 1, 2)", None),
        # spec/settlement-formats.md: 01 preliminary, 03 cancellation, 02/12/22 confirmed
        (
            "kind",
            "CASE substr(kb, 1, 2) WHEN '01' THEN 'preliminary' WHEN '03' THEN 'cancellation' "
            "ELSE 'confirmed' END",
            None,
        ),
        ("barcode", f"substr(kb, 3, {cvs.LENGTH})", None),
        # the barcode's parts where barcodes.cvs.LAYOUT puts them, after the two digits of the kind code
        ("issuer_prefix", cvs.ISSUER.sql("kb", before=2), None),
        ("consignor_code", cvs.CONSIGNOR.sql("kb", before=2), None),
        ("payment_number", cvs.PAYMENT_NUMBER.sql("kb", before=2), None),
        ("reissue_count", f"CAST({cvs.REISSUE.sql('kb', before=2)} AS INTEGER)", None),
        ("amount", "amount", None),
        ("paid_date", "substr(paid, 1, 10)", "date"),
        ("paid_at", "substr(paid, 11)", "timestamptz"),
        ("channel_code", "substr(cs, 1, 4)", None),
        ("store_code", "substr(cs, 5)", None),
        ("barcode_expiry", _date_at(1), "date"),
        ("transfer_date", _date_at(11), "date"),
        ("accounting_date", _date_at(21), "date"),
        ("capture_date", _date_at(31), "date"),
        ("postal_correction", "substr(dates, 41, 1) = '1'", None),
        ("identity", "identity", None),
        # identity = 24 hex digits, ":", occurrence
        ("occurrence", f"CAST(substr(identity, {IDENTITY_CHARS + 2}) AS INTEGER)", None),
    ),
)

_STUB_AI = "00"
"""Marks a bank-counter record that names only the payment number (never a barcode's AI, always ``91``)."""


def _counter_records(
    records: Iterable[PaymentRecord], prefix: str, consignor: str
) -> Iterator[PaymentRecord]:
    """Bank-counter records as the payment stage takes them: a record of a payment number alone gets, in
    place of the 44 digits, :data:`_STUB_AI` + this office's issuer prefix and consignor code + the payment
    number + zeros, so that its parts land in their columns; :data:`_COUNTER_STAGE` then stores an empty
    barcode and reissue count ``-1`` (reconciliation takes the newest reissue of the number). Only this
    office's slips are paid into its account, so the prefix and consignor are this office's."""
    head = _STUB_AI + prefix + consignor
    tail = "0" * (cvs.LENGTH - len(head) - cvs.PAYMENT_NUMBER.length)
    for r in records:
        yield r if r.barcode else dataclasses.replace(r, barcode=head + r.payment_number + tail)


def _counter_target(column: str, expr: str) -> str:
    stub = f"substr(kb, 3, {len(_STUB_AI)}) = '{_STUB_AI}'"
    if column == "barcode":
        return f"CASE WHEN {stub} THEN '' ELSE {expr} END"
    if column == "reissue_count":
        return f"CASE WHEN {stub} THEN {bank_counter.NO_REISSUE} ELSE {expr} END"
    return expr


_COUNTER_STAGE = dataclasses.replace(
    _PAYMENT_STAGE, targets=tuple((c, _counter_target(c, e), cast) for c, e, cast in _PAYMENT_STAGE.targets)
)
"""The payment stage for bank-counter files (:func:`_counter_records`)."""

_BANK_COLUMNS = (
    ("line_no", "integer"),
    ("format", "text"),
    ("bank_code", "text"),
    ("branch_code", "text"),
    ("account_type", "text"),
    ("account_number", "text"),
    ("value_date", "date"),
    ("inquiry_number", "text"),
    ("amount", "bigint"),
    ("direction", "text"),
    ("cancelled", "boolean"),
    ("transaction_type", "text"),
    ("remitter_code", "text"),
    ("enc_remitter_name", "text"),
    ("remitter_key", "text"),
    ("agent_id", "integer"),
    ("identity", "text"),
)
_BANK_STAGE = _Stage(
    name="gw_stage_bank",
    target="bank_records",
    columns=_BANK_COLUMNS,
    constants=("file_id", "received_at", "received_date"),
    targets=tuple((c, c, None) for c, _ in _BANK_COLUMNS),
)

_CONSTANT_TYPES = {
    "file_id": "integer",
    "agent_id": "integer",
    "received_at": "timestamptz",
    "received_date": "date",
}


class _Bulk:
    """Set-based, pipelined inserts on the session's own connection (so they share its transaction).

    Per chunk the rows are staged — SQLite: the driver's ``executemany`` into a TEMP table; PostgreSQL:
    ``COPY`` into a temporary table — and then moved with one ``INSERT … SELECT … ON CONFLICT (identity) DO
    NOTHING``; the rows it adds are the new records. That ``INSERT`` runs on a helper thread: the driver
    releases the GIL while the database works, so the next chunk is parsed and built meanwhile. The
    connection is never used by both threads at once: staging waits until the previous ``INSERT`` is done.
    """

    def __init__(
        self,
        ctx: Context,
        stage: _Stage,
        *,
        file_id: int,
        agent_id: int | None,
        received_at: datetime.datetime,
    ) -> None:
        conn = ctx.session.connection()
        driver = conn.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        self.postgres = conn.dialect.name == "postgresql"
        self.stage = stage
        self.new = 0
        self.handed = 0
        self._pending: Future[int] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-ingest")
        self._cache_size: int | None = None
        values: dict[str, Any] = {
            "file_id": file_id,
            "agent_id": agent_id,
            "received_at": received_at.astimezone(UTC) if self.postgres else self.ts(received_at),
            "received_date": japan_date(received_at)
            if self.postgres
            else japan_date(received_at).isoformat(),
        }
        self.params = tuple(values[c] for c in stage.constants)
        names = stage.column_names
        mark = "%s" if self.postgres else "?"
        marks = [f"{mark}::{_CONSTANT_TYPES[c]}" if self.postgres else mark for c in stage.constants]
        targets = stage.constants + tuple(c for c, _, _ in stage.targets)
        exprs = [f"({e})::{cast}" if cast and self.postgres else e for _, e, cast in stage.targets]
        sources = [*marks, *exprs]
        # PostgreSQL: ORDER BY keeps ids in file order; SQLite reads the staging table in insertion order.
        # ("WHERE true" keeps SQLite from parsing ON CONFLICT as a join constraint.)
        order = " ORDER BY line_no" if self.postgres else ""
        self.insert_sql = (
            f"INSERT INTO {stage.target} ({', '.join(targets)}) SELECT {', '.join(sources)} "
            f"FROM {stage.name} WHERE true{order} ON CONFLICT (identity) DO NOTHING"
        )
        self.copy_sql = f"COPY {stage.name} ({', '.join(names)}) FROM STDIN"
        self.stage_sql = (
            f"INSERT INTO temp.{stage.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        )
        if self.postgres:
            typed = ", ".join(f"{c} {t}" for c, t in stage.columns)
            with self.driver.cursor() as cur:
                cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage.name} ({typed}) ON COMMIT DELETE ROWS")
                cur.execute(f"TRUNCATE {stage.name}")
        else:
            cur = self.driver.cursor()
            self._cache_size = int(cur.execute("PRAGMA cache_size").fetchone()[0])
            cur.execute(f"PRAGMA cache_size = -{_BULK_CACHE_KIB}")
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage.name} ({', '.join(names)})")
            cur.execute(f"DELETE FROM temp.{stage.name}")
            cur.close()

    def ts(self, at: datetime.datetime) -> str:
        """An aware instant as text in UTC: SQLAlchemy's SQLite storage format, or with ``+00`` for COPY."""
        text = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return text + "+00" if self.postgres else text

    def add(self, rows: list[tuple[Any, ...]]) -> None:
        """Stage ``rows`` now (the caller may reuse the list afterwards); insert them in the background."""
        self._wait()
        if not rows:
            return
        if self.postgres:
            with self.driver.cursor() as cur, cur.copy(self.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.driver.executemany(self.stage_sql, rows)
        self._pending = self._executor.submit(self._insert)

    def hand(self, chunk: list[tuple[Any, ...]], progress: Callable[[int], None] | None) -> None:
        """Stage a chunk (see :meth:`add`), count it, empty the list for reuse, report the running total."""
        self.add(chunk)
        self.handed += len(chunk)
        crash_point("ingest.after_first_chunk")
        if progress is not None and chunk:
            progress(self.handed)
        chunk.clear()

    def totals(self, counts: dict[str, int], amounts: dict[str, int]) -> _Totals:
        """Wait for the last insert; what the file held and what was new."""
        return _Totals(
            self.handed, self.finish(), dict(sorted(counts.items())), dict(sorted(amounts.items()))
        )

    def _insert(self) -> int:
        if self.postgres:
            with self.driver.cursor() as cur:
                cur.execute(self.insert_sql, self.params)
                added = cur.rowcount
                cur.execute(f"TRUNCATE {self.stage.name}")
            return int(added)
        cur = self.driver.cursor()
        try:
            added = cur.execute(self.insert_sql, self.params).rowcount
            cur.execute(f"DELETE FROM temp.{self.stage.name}")
        finally:
            cur.close()
        return int(added)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self.new += pending.result()

    def finish(self) -> int:
        """Wait for the last insert; the number of new records."""
        self._wait()
        return self.new

    def close(self) -> None:
        """Always called: let an insert in flight end (the connection is about to be rolled back or
        committed), stop the helper thread, restore the page cache."""
        try:
            if self._pending is not None:
                self._pending.exception()  # waits; an error is reported by finish() or superseded
        finally:
            self._executor.shutdown(wait=True)
            if self._cache_size is not None:
                cur = self.driver.cursor()
                cur.execute(f"PRAGMA cache_size = {self._cache_size}")
                cur.close()


@dataclass
class _Totals:
    records: int = 0
    new: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)


def _payment_rows(
    records: Iterable[PaymentRecord], agent_code: str, bulk: _Bulk, progress: Callable[[int], None] | None
) -> _Totals:
    """Turn parsed payment records into staging rows and hand them to ``bulk`` chunk by chunk.

    The hot loop: per record one BLAKE2b over the identity fields, a set lookup for the occurrence number,
    a tuple of seven. Payment times recur (one object per distinct minute in the parser's cache), so their
    packed text and identity key are computed once per object; the cache holds the object, so its ``id``
    stays valid while the entry lives. The packed dates recur too (they are cached by value).
    """
    seen: set[bytes] = set()
    repeats: dict[bytes, int] = {}
    times: dict[int, tuple[datetime.datetime, str, str]] = {}
    dates: dict[tuple[Any, ...], str] = {}
    counts: dict[str, int] = {}
    amounts: dict[str, int] = {}
    chunk: list[tuple[Any, ...]] = []
    append = chunk.append
    blake = hashlib.blake2b
    size = IDENTITY_BYTES
    b64 = binascii.b2a_base64
    prefix = agent_code + "|"
    for r in records:
        paid_at = r.paid_at
        t = times.get(id(paid_at))
        if t is None:
            if len(times) >= _CACHE_LIMIT:
                times.clear()
            local = paid_at.astimezone(JST)
            t = times[id(paid_at)] = (
                paid_at,
                local.date().isoformat() + bulk.ts(paid_at),
                local.strftime("%Y%m%d%H%M"),
            )
        day_key = (r.barcode_expiry, r.transfer_date, r.accounting_date, r.capture_date, r.postal_correction)
        packed_dates = dates.get(day_key)
        if packed_dates is None:
            if len(dates) >= _CACHE_LIMIT:
                dates.clear()
            packed_dates = dates[day_key] = "".join(d.isoformat() if d else _NO_DATE for d in day_key[:4]) + (
                "1" if day_key[4] else "0"
            )
        kind_code = r.kind_code
        barcode = r.barcode
        store = r.store_code
        channel = r.channel_code
        digest = blake(
            f"{prefix}{kind_code}|{barcode}|{t[2]}|{store}|{channel}".encode(), digest_size=size
        ).digest()
        if digest in seen:
            occurrence = repeats[digest] = repeats.get(digest, 1) + 1
        else:
            seen.add(digest)
            occurrence = 1
        amount = r.amount
        try:
            counts[kind_code] += 1
            amounts[kind_code] += amount
        except KeyError:
            counts[kind_code] = 1
            amounts[kind_code] = amount
        append(
            (
                r.line_no,
                kind_code + barcode,
                amount,
                t[1],
                channel + store,
                packed_dates,
                f"{b64(digest, newline=False).decode()}:{occurrence}",
            )
        )
        if len(chunk) >= CHUNK_ROWS:
            bulk.hand(chunk, progress)
    bulk.hand(chunk, progress)
    return bulk.totals(counts, amounts)


def bank_identity(record: ParsedBankRecord) -> str:
    """The spec's bank-record identity (bank, branch, account, value date, inquiry number; numbers already
    without zero padding), ``:cancel`` for a cancellation."""
    base = (
        f"{record.bank_code}:{record.branch_code}:{record.account_number}:"
        f"{record.value_date.isoformat()}:{record.inquiry_number}"
    )
    return base + ":cancel" if record.cancelled else base


def remitter_key(ctx: Context, name: str) -> str:
    """The blind index of a remitter name (NFKC, no spaces, upper case), as in ``bank_records``."""
    return ctx.keys.blind_index(name, "remitter")


def _bank_rows(
    ctx: Context, records: Iterable[ParsedBankRecord], bulk: _Bulk, progress: Callable[[int], None] | None
) -> _Totals:
    """Bank records: encrypt each remitter name, index it, resolve the agent whose remittance it is."""
    agents_by_key: dict[str, int] = {}
    for agent in ctx.session.exec(select(Agent).where(Agent.remitter_name.is_not(None))).all():  # type: ignore[union-attr]
        if agent.remitter_name and agent.id is not None:
            agents_by_key[remitter_key(ctx, agent.remitter_name)] = agent.id
    keys: dict[str, str] = {}
    counts: dict[str, int] = {}
    amounts: dict[str, int] = {}
    chunk: list[tuple[Any, ...]] = []
    for r in records:
        name = r.remitter_name.strip()
        key = None
        if name:
            key = keys.get(name)
            if key is None:
                key = keys[name] = remitter_key(ctx, name)
        bucket = "cancelled" if r.cancelled else r.direction
        counts[bucket] = counts.get(bucket, 0) + 1
        amounts[bucket] = amounts.get(bucket, 0) + r.amount
        chunk.append(
            (
                r.line_no,
                r.format,
                r.bank_code,
                r.branch_code,
                r.account_type,
                r.account_number,
                r.value_date.isoformat(),
                r.inquiry_number,
                r.amount,
                r.direction,
                r.cancelled,
                r.transaction_type,
                r.remitter_code.strip(),
                ctx.keys.encrypt_field(name, "bank_records.remitter_name") if name else None,
                key,
                agents_by_key.get(key) if key else None,
                bank_identity(r),
            )
        )
        if len(chunk) >= CHUNK_ROWS:
            bulk.hand(chunk, progress)
    bulk.hand(chunk, progress)
    return bulk.totals(counts, amounts)


def file_json(row: SettlementFile) -> dict[str, Any]:
    """A stored file as the spec's ingest object (status ``accepted``)."""
    return FileResult(
        file=row.file_name,
        sha256=row.sha256,
        status="accepted",
        adapter=row.adapter,
        records=row.records,
        new_records=row.new_records,
        duplicate_records=row.duplicate_records,
        amount=row.amount,
        counts_by_kind=dict(row.counts_by_kind),
        amounts_by_kind=dict(row.amounts_by_kind),
    ).as_json()


__all__ = [
    "CHUNK_ROWS",
    "FileRefused",
    "FileResult",
    "bank_identity",
    "file_json",
    "ingest_file",
    "remitter_key",
]


# ------------------------------------------------------------------------------ staff pages (read helpers)


def error_key(ex: SettlementFileError) -> tuple[str, dict[str, Any]]:
    """The catalogue message key (``file.*``) of a rejected file's error and its parameters: what kind of
    fault it is, where (line, field) and the offending value; pages render it in Japanese."""
    params: dict[str, Any] = {"line": ex.line_no, "field": ex.field, "value": ex.value}
    if isinstance(ex, FileRefused):
        key = {"adapter": "file.adapter", "consignor_code": "file.consignor"}.get(
            ex.field or "", "file.agent"
        )
    else:
        kinds: tuple[tuple[type[SettlementFileError], str], ...] = (
            (adapter_errors.AmbiguousFileFormat, "file.ambiguous"),
            (adapter_errors.UnknownFileFormat, "file.unknown_format"),
            (adapter_errors.ControlTotalMismatch, "file.control_total"),
            (adapter_errors.RecordLengthError, "file.record_length"),
            (adapter_errors.UnknownRecordType, "file.unknown_record_type"),
            (adapter_errors.RecordOrderError, "file.order"),
            (adapter_errors.EncodingError, "file.encoding"),
            (adapter_errors.FieldError, "file.field"),
        )
        key = next((k for cls, k in kinds if isinstance(ex, cls)), "file.invalid")
        if isinstance(ex, adapter_errors.ControlTotalMismatch):
            params.update(calculated=ex.calculated, control=ex.control)
    return key, params


def count_files(ctx: Context) -> int:
    return int(ctx.session.execute(sa.select(sa.func.count()).select_from(SettlementFile)).scalar_one())


def list_files(
    ctx: Context, *, after: int | None = None, before: int | None = None, limit: int = 50
) -> list[tuple[SettlementFile, str | None]]:
    """Received files newest first with their agent's name, one keyset page: ids below ``after`` (the next,
    older page) or above ``before`` (the previous, newer page)."""
    query = select(SettlementFile, Agent.name).join(
        Agent,
        Agent.id == SettlementFile.agent_id,  # type: ignore[arg-type]
        isouter=True,
    )
    if before is not None:
        query = query.where(SettlementFile.id > before).order_by(SettlementFile.id.asc())  # type: ignore[operator,union-attr]
    else:
        if after is not None:
            query = query.where(SettlementFile.id < after)  # type: ignore[operator]
        query = query.order_by(SettlementFile.id.desc())  # type: ignore[union-attr]
    rows = [(f, n) for f, n in ctx.session.exec(query.limit(limit)).all()]
    return sorted(rows, key=lambda r: -(r[0].id or 0))


def recent_rejections(ctx: Context, limit: int = 20) -> list[dict[str, Any]]:
    """The latest rejected files (only the audit trail knows them: nothing of theirs is stored)."""
    rows = ctx.session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "settlement_file.reject")
        .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    ).all()
    return [
        {
            "at": r.at,
            "file": r.detail.get("file"),
            "sha256": r.detail.get("sha256"),
            "error": r.detail.get("error") or {},
            "actor": f"{r.actor_kind}:{r.actor_name}",
        }
        for r in rows
    ]


def get_file(ctx: Context, file_id: int) -> tuple[SettlementFile, str | None]:
    """One received file and its agent's name.

    Raises:
        NotFound: no such file (key ``settlement.file_not_found``).
    """
    row = ctx.session.get(SettlementFile, file_id)
    if row is None:
        raise NotFound(
            f"settlement file {file_id} not found", field="file", key="settlement.file_not_found", params={}
        )
    agent = ctx.session.get(Agent, row.agent_id) if row.agent_id else None
    return row, agent.name if agent else None


def file_records(
    ctx: Context,
    file: SettlementFile,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """One keyset page of a file's records in file order (payment records, or bank records for a bank
    file); no remitter name (it can be a person's)."""
    model: Any = SettlementRecord if file.kind == "payment" else BankRecord
    query = select(model).where(model.file_id == file.id)
    if before is not None:
        query = query.where(model.id < before).order_by(model.id.desc())
    else:
        if after is not None:
            query = query.where(model.id > after)
        query = query.order_by(model.id.asc())
    rows = sorted(ctx.session.exec(query.limit(limit)).all(), key=lambda r: r.id)
    if file.kind == "payment":
        return [
            {
                "id": r.id,
                "line": r.line_no,
                "kind": r.kind,
                "kind_code": r.kind_code,
                "payment_number": r.payment_number,
                "amount": r.amount,
                "paid_at": r.paid_at,
                "channel_code": r.channel_code,
                "transfer_date": r.transfer_date,
            }
            for r in rows
        ]
    return [
        {
            "id": r.id,
            "line": r.line_no,
            "kind": "cancelled" if r.cancelled else r.direction,
            "value_date": r.value_date,
            "inquiry_number": r.inquiry_number,
            "amount": r.amount,
        }
        for r in rows
    ]
