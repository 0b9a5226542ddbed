"""Settlement data: collection agents and their fees, agent API clients, ingested files, agent posts, the
payment records they carry and the bank records of the remittances.

Conventions the reconciliation side relies on:

* Every record carries ``received_at`` (UTC) and ``received_date`` (its Japan date): daily reports are keyed
  on the date the gateway learned of a record, so a past day's report never changes.
* A record waits in ``unreconciled_records`` (its id) until reconciliation has looked at it: the run takes
  the ids from that narrow queue and deletes them, instead of rewriting a million wide record rows (and, on
  PostgreSQL, a new version of each in every index) to mark them.
* ``identity`` is the spec's record identity (spec/settlement-formats.md "Record identity") as one unique
  string, so that re-delivered and overlapping files add nothing:

  - file payment records: ``base64(blake2b("<agent>|<kind_code>|<44 digits>|<paid YYYYMMDDHHMM, Japan
    time>|<store>|<channel>", 12 bytes))`` (16 characters) + ``":"`` + the occurrence number among
    identical rows of the same file (1, 2, …);
  - agent posts: ``"post:<client_id>:<record_id>"``;
  - bank records: ``"<bank>:<branch>:<account>:<value date ISO>:<inquiry>"`` (account and inquiry numbers
    without zero padding, so a transfer notice and a statement line of the same credit are one record), with
    ``":cancel"`` appended for a transfer notice's cancellation (取消区分 ``1``), which reuses the inquiry
    number of the credit it withdraws.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

from gateway.models.base import created_at_field
from gateway.models.base import json_field

DELEGATION_BASES = ("art78_3", "designated")
REMITTANCE_MODES = ("gross", "net")
PAYMENT_KINDS = ("preliminary", "confirmed", "cancellation")
KIND_CODES = ("01", "02", "03", "12", "22")
FILE_KINDS = ("payment", "bank")
FILE_SOURCES = ("cli", "api", "inbox", "fetch")
BANK_FORMATS = ("transfer", "statement")
DIRECTIONS = ("credit", "debit")

#: SQLite only aliases ``INTEGER PRIMARY KEY`` to the rowid (auto-increment); PostgreSQL gets a bigint.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression ``column`` = one of ``values``, written as ORs: SQLite evaluates an ``IN`` list per
    inserted row through a lookup structure, which made the checks a fifth of a bulk insert's time.

    >>> one_of("kind", ("payment", "bank"))
    "kind = 'payment' OR kind = 'bank'"
    """
    return " OR ".join(f"{column} = '{value}'" for value in values)


def split_codes(value: str | None) -> list[str]:
    """A stored comma list (``"0010,0020"``) as a list; empty entries dropped."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Agent(SQLModel, table=True):
    """A contracted collection agent (収納代行会社).

    ``code`` is the agent's 5 digits in the barcode (issuer-prefix digits 2–6, barcode positions 4–8) and in
    the ``fixed120`` header. ``adapters`` and ``channels`` are comma lists (file formats it may deliver;
    4-digit channel codes the office enabled for it — posts through any other channel are refused).
    """

    __tablename__ = "agents"
    __table_args__ = (
        sa.CheckConstraint(one_of("delegation_basis", DELEGATION_BASES), name="ck_agents_delegation_basis"),
        sa.CheckConstraint(one_of("remittance_mode", REMITTANCE_MODES), name="ck_agents_remittance_mode"),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=5, unique=True)
    name: str = Field(max_length=128)
    adapters: str = Field(default="", max_length=256)
    delegation_basis: str = Field(default="designated", max_length=16)
    delegation_date: datetime.date | None = None
    remitter_name: str | None = Field(default=None, max_length=128)
    """The name its remittances carry on bank statements (usually half-width kana)."""
    remittance_mode: str = Field(default="gross", max_length=8)
    channels: str = Field(default="", max_length=512)
    consignor_code: str = Field(max_length=5)
    enabled: bool = Field(default=True)
    created_at: datetime.datetime = created_at_field()
    adapter_options: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    """Options of the adapters reading its files, by adapter name, e.g. ``{"dsk_csv": {"record_type_81":
    "skip"}}``; ``None`` or a missing adapter: every default (checked by ``gateway.access.agents``)."""

    @property
    def adapter_list(self) -> list[str]:
        return split_codes(self.adapters)

    def options_for(self, adapter: str) -> dict[str, str]:
        """The options configured for ``adapter`` (empty: its defaults)."""
        return dict((self.adapter_options or {}).get(adapter) or {})

    @property
    def channel_list(self) -> list[str]:
        return split_codes(self.channels)


class AgentFee(SQLModel, table=True):
    """The agent's fee per item and its consumption-tax rate from ``valid_from`` on (optionally per channel).

    ``tax_rate_bp`` is in basis points: 10 % is ``1000``. ``channel_code`` ``NULL`` applies to every channel
    without a row of its own.
    """

    __tablename__ = "agent_fees"
    __table_args__ = (
        sa.CheckConstraint("fee_per_item >= 0", name="ck_agent_fees_fee"),
        sa.CheckConstraint("tax_rate_bp BETWEEN 0 AND 10000", name="ck_agent_fees_tax_rate"),
    )
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agents.id", index=True)
    channel_code: str | None = Field(default=None, max_length=4)
    fee_per_item: int
    tax_rate_bp: int
    valid_from: datetime.date


def select_fee(fees: Iterable[AgentFee], channel: str | None, day: datetime.date) -> tuple[int, int]:
    """The (fee per item, tax rate in basis points) that applies to a payment through ``channel`` on ``day``.

    A row for that channel wins over a general one; among those, the latest ``valid_from`` not after
    ``day``. ``(0, 0)`` when no row applies (no fee configured yet).

    >>> d = datetime.date
    >>> rows = [AgentFee(agent_id=1, fee_per_item=60, tax_rate_bp=1000, valid_from=d(2026, 1, 1)),
    ...         AgentFee(agent_id=1, fee_per_item=55, tax_rate_bp=1000, valid_from=d(2026, 10, 1)),
    ...         AgentFee(agent_id=1, channel_code="0820", fee_per_item=40, tax_rate_bp=1000,
    ...                  valid_from=d(2026, 12, 1))]
    >>> select_fee(rows, "0010", d(2026, 9, 30)), select_fee(rows, "0820", d(2026, 11, 2))
    ((60, 1000), (55, 1000))
    >>> select_fee(rows, "0820", d(2026, 12, 1)), select_fee(rows, "0010", d(2025, 1, 1))
    ((40, 1000), (0, 0))
    """
    best: AgentFee | None = None
    for row in fees:
        if row.valid_from > day or (row.channel_code is not None and row.channel_code != channel):
            continue
        if best is None:
            best = row
            continue
        specific, best_specific = row.channel_code is not None, best.channel_code is not None
        if (specific, row.valid_from) > (best_specific, best.valid_from):
            best = row
    return (best.fee_per_item, best.tax_rate_bp) if best else (0, 0)


class ApiClient(SQLModel, table=True):
    """An agent's API client. The HMAC secret is stored encrypted (``Keyring.encrypt_secret``): verifying a
    signature needs it back, so a hash would not do."""

    __tablename__ = "api_clients"
    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=128)
    agent_id: int | None = Field(default=None, foreign_key="agents.id", index=True)
    enc_secret: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: datetime.datetime = created_at_field()
    revoked_at: datetime.datetime | None = None
    last_used_at: datetime.datetime | None = None


class UsedSignature(SQLModel, table=True):
    """Signatures seen within the replay window; the primary key makes a reuse fail on every worker/host."""

    __tablename__ = "used_signatures"
    signature: str = Field(primary_key=True, max_length=64)
    client_id: int = Field(foreign_key="api_clients.id")
    expires_at: datetime.datetime = Field(index=True)


class SettlementFile(SQLModel, table=True):
    """One ingested file (the original is archived under its SHA-256, see ``gateway.intake.archive``).

    ``counts_by_kind`` / ``amounts_by_kind`` are keyed by the data-kind code (``01``, ``02``, ``03``, ``12``,
    ``22``) for payment files and by ``credit`` / ``debit`` / ``cancelled`` for bank files. ``amount`` sums
    every record, cancellations included.
    """

    __tablename__ = "settlement_files"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", FILE_KINDS), name="ck_settlement_files_kind"),
        sa.CheckConstraint(one_of("source", FILE_SOURCES), name="ck_settlement_files_source"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    file_name: str = Field(max_length=255)
    adapter: str = Field(max_length=32)
    kind: str = Field(max_length=8)
    agent_id: int | None = Field(default=None, foreign_key="agents.id", index=True)
    source: str = Field(max_length=8)
    size: int = Field(sa_type=sa.BigInteger)
    created_on: datetime.date | None = None
    records: int = 0
    new_records: int = 0
    duplicate_records: int = 0
    amount: int = Field(default=0, sa_type=sa.BigInteger)
    counts_by_kind: dict[str, Any] = json_field()
    amounts_by_kind: dict[str, Any] = json_field()
    received_at: datetime.datetime = created_at_field()
    received_date: datetime.date = Field(index=True)
    actor: str = Field(max_length=128)


class SettlementBatch(SQLModel, table=True):
    """One agent post (``POST /settlements``). ``batch_ref`` is the client's ``batch_id``; ``sha256`` names
    the archived request body."""

    __tablename__ = "settlement_batches"
    __table_args__ = (sa.UniqueConstraint("client_id", "batch_ref", name="uq_settlement_batches_client_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="api_clients.id", index=True)
    agent_id: int = Field(foreign_key="agents.id", index=True)
    batch_ref: str = Field(max_length=128)
    sha256: str | None = Field(default=None, max_length=64)
    received_at: datetime.datetime = created_at_field()
    received_date: datetime.date = Field(index=True)
    records: int = 0
    new_records: int = 0
    duplicate_records: int = 0
    amount: int = Field(default=0, sa_type=sa.BigInteger)


class SettlementRecord(SQLModel, table=True):
    """One payment record of an agent (preliminary, confirmed or cancellation), from a file or a post.

    Written in bulk by ``gateway.intake.ingest`` (never one ORM object per row) and never updated:
    reconciliation reads it and removes its id from :class:`UnreconciledRecord`. Exactly one of ``file_id``
    and ``batch_id`` is set. Every index costs each inserted record a B-tree insert (a million-record file
    inserts a million keys into each), so there are only those the reads need: identity, payment number,
    received date, and partial ones for posts and transfer dates; none on ``file_id`` or ``agent_id``.
    """

    __tablename__ = "settlement_records"
    __table_args__ = (
        sa.CheckConstraint(one_of("kind", PAYMENT_KINDS), name="ck_settlement_records_kind"),
        sa.CheckConstraint(one_of("kind_code", KIND_CODES), name="ck_settlement_records_kind_code"),
        sa.CheckConstraint(
            "(file_id IS NULL AND batch_id IS NOT NULL) OR (file_id IS NOT NULL AND batch_id IS NULL)",
            name="ck_settlement_records_origin",
        ),
        # Posts only: partial indexes cost file records (the bulk of the table) nothing.
        sa.Index(
            "uq_settlement_records_client_record",
            "client_id",
            "record_id",
            unique=True,
            sqlite_where=sa.text("client_id IS NOT NULL"),
            postgresql_where=sa.text("client_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_settlement_records_batch_id",
            "batch_id",
            sqlite_where=sa.text("batch_id IS NOT NULL"),
            postgresql_where=sa.text("batch_id IS NOT NULL"),
        ),
        # Reconciliation's three-way match (migration 0003): confirmed records per agent and transfer date.
        sa.Index(
            "ix_settlement_records_agent_transfer",
            "agent_id",
            "transfer_date",
            sqlite_where=sa.text("transfer_date IS NOT NULL"),
            postgresql_where=sa.text("transfer_date IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    file_id: int | None = Field(default=None, foreign_key="settlement_files.id")
    batch_id: int | None = Field(default=None, foreign_key="settlement_batches.id")
    line_no: int
    agent_id: int = Field(foreign_key="agents.id")
    kind: str = Field(max_length=16)
    kind_code: str = Field(max_length=2)
    barcode: str = Field(max_length=44)
    issuer_prefix: str = Field(max_length=6)
    consignor_code: str = Field(max_length=5)
    payment_number: str = Field(max_length=16, index=True)
    reissue_count: int
    barcode_expiry: datetime.date | None = None
    amount: int = Field(sa_type=sa.BigInteger)
    paid_at: datetime.datetime
    paid_date: datetime.date
    channel_code: str = Field(max_length=4)
    store_code: str = Field(max_length=16)
    transfer_date: datetime.date | None = None
    accounting_date: datetime.date | None = None
    capture_date: datetime.date | None = None
    postal_correction: bool = Field(default=False)
    identity: str = Field(max_length=200, unique=True)
    occurrence: int = Field(default=1)
    client_id: int | None = Field(default=None, foreign_key="api_clients.id")
    record_id: str | None = Field(default=None, max_length=128)
    received_at: datetime.datetime
    received_date: datetime.date = Field(index=True)


class UnreconciledRecord(SQLModel, table=True):
    """The queue of settlement records reconciliation has not looked at yet: ingest adds each new record's
    id in the same transaction, a run deletes the ids it has placed.

    No foreign key: a million queue rows would each cost a lookup on insert; the ids come from the insert
    that wrote the records, in the same transaction."""

    __tablename__ = "unreconciled_records"
    record_id: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))


class BankRecord(SQLModel, table=True):
    """One transaction of a bank transfer notice or account statement.

    The remitter name can be a debtor's (a direct transfer), so it is stored encrypted; ``remitter_key`` is
    its blind index (``Keyring.blind_index(name, "remitter")``), compared with the agents' remitter names
    without decrypting. ``agent_id`` is set at ingest when that key equals an agent's.
    """

    __tablename__ = "bank_records"
    __table_args__ = (
        sa.CheckConstraint(one_of("format", BANK_FORMATS), name="ck_bank_records_format"),
        sa.CheckConstraint(one_of("direction", DIRECTIONS), name="ck_bank_records_direction"),
    )
    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    file_id: int = Field(foreign_key="settlement_files.id", index=True)
    line_no: int
    format: str = Field(max_length=16)
    bank_code: str = Field(max_length=4)
    branch_code: str = Field(max_length=3)
    account_type: str = Field(max_length=1)
    account_number: str = Field(max_length=10)
    value_date: datetime.date = Field(index=True)
    inquiry_number: str = Field(max_length=10)
    amount: int = Field(sa_type=sa.BigInteger)
    direction: str = Field(max_length=8)
    cancelled: bool = Field(default=False)
    transaction_type: str | None = Field(default=None, max_length=2)
    remitter_code: str = Field(default="", max_length=10)
    enc_remitter_name: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    remitter_key: str | None = Field(default=None, max_length=64, index=True)
    agent_id: int | None = Field(default=None, foreign_key="agents.id", index=True)
    identity: str = Field(max_length=80, unique=True)
    received_at: datetime.datetime
    received_date: datetime.date = Field(index=True)
    processed_at: datetime.datetime | None = Field(default=None, index=True)
