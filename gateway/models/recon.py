"""Reconciliation: payments on claims, the exceptions queue, remittances, refunds and accounting entries.

Append-only where reports must not change after the fact: ``exception_actions``, ``claim_status_log`` and
``accounting_entries`` are only ever inserted into; a correction is a new row (a reversing entry), never an
update.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

from gateway.models.base import created_at_field
from gateway.models.base import json_field
from gateway.models.base import utcnow
from gateway.models.settlement import BigId
from reconciliation import vocabulary

PAYMENT_STATES = ("preliminary", "confirmed", "cancelled")
PAYMENT_SOURCES = ("agent", "manual", "matched", "applied_in", "applied_out")
MANUAL_CHANNELS = ("window", "bank", "transfer", "deduction")
EXCEPTION_KINDS = vocabulary.KINDS
EXCEPTION_STATUSES = ("open", "pending_approval", "resolved")
RESOLUTIONS = vocabulary.RESOLUTIONS
FOUR_EYES = ("matched_to_claim", "applied_to_claim")
REMITTANCE_STATUSES = ("pending", "matched", "mismatch")
REFUND_STATUSES = ("refund_due", "refunded", "undone")


class Payment(SQLModel, table=True):
    """Money for a claim: from an agent's records (preliminary → confirmed | cancelled), recorded by staff
    (counter, bank counter, direct transfer, Art. 78-2 deduction), or moved by a resolution.

    ``receipt_date`` (収入日) is the bank value date of the remittance that carried it (the payment date for
    money received directly); ``fiscal_year`` (歳入所属年度) and ``arrears`` (滞納繰越分 rather than 現年度分)
    follow from it and the claim's fiscal year.
    """

    __tablename__ = "payments"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {PAYMENT_STATES!r}", name="ck_payments_state"),
        sa.CheckConstraint(f"source IN {PAYMENT_SOURCES!r}", name="ck_payments_source"),
        # By payment number only: a state in the key would move the entry at every confirmation.
        sa.Index("ix_payments_payment_number", "payment_number"),
        # The daily report and finance's start page read one received date among a million payments.
        sa.Index("ix_payments_received_date", "received_date"),
        # Partial indexes: most payments have no resolution, no remittance yet, one of the two record ids;
        # every index entry a million-row reconciliation does not write is time saved.
        sa.Index(
            "ix_payments_preliminary_record",
            "preliminary_record_id",
            unique=True,
            sqlite_where=sa.text("preliminary_record_id IS NOT NULL"),
            postgresql_where=sa.text("preliminary_record_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_payments_confirmed_record",
            "confirmed_record_id",
            unique=True,
            sqlite_where=sa.text("confirmed_record_id IS NOT NULL"),
            postgresql_where=sa.text("confirmed_record_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_payments_agent_transfer",
            "agent_id",
            "transfer_date",
            sqlite_where=sa.text("transfer_date IS NOT NULL"),
            postgresql_where=sa.text("transfer_date IS NOT NULL"),
        ),
        sa.Index(
            "ix_payments_remittance_id",
            "remittance_id",
            sqlite_where=sa.text("remittance_id IS NOT NULL"),
            postgresql_where=sa.text("remittance_id IS NOT NULL"),
        ),
        sa.Index(
            "ix_payments_exception_id",
            "exception_id",
            sqlite_where=sa.text("exception_id IS NOT NULL"),
            postgresql_where=sa.text("exception_id IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    claim_id: int = Field(foreign_key="claims.id", index=True)
    slip_id: int | None = Field(default=None, foreign_key="slips.id")
    payment_number: str | None = Field(default=None, max_length=16)
    reissue_count: int | None = None
    amount: int = Field(sa_type=sa.BigInteger)
    state: str = Field(max_length=12)
    source: str = Field(max_length=12)
    channel_code: str | None = Field(default=None, max_length=16)
    store_code: str | None = Field(default=None, max_length=16)
    agent_id: int | None = Field(default=None, foreign_key="agents.id")
    paid_at: datetime.datetime
    paid_date: datetime.date
    late: bool = Field(default=False)
    preliminary_record_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    confirmed_record_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    cancel_record_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    correction_record_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    """A postal ``22`` record that replaced the amount of this payment's ``12``."""
    transfer_date: datetime.date | None = None
    received_at: datetime.datetime
    received_date: datetime.date
    confirmed_at: datetime.datetime | None = None
    cancelled_at: datetime.datetime | None = None
    receipt_date: datetime.date | None = None
    fiscal_year: int | None = None
    arrears: bool | None = None
    remittance_id: int | None = Field(default=None, foreign_key="remittances.id")
    exception_id: int | None = None
    """For payments a resolution created (matched/applied): the exception behind them."""
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    recorded_by: str | None = Field(default=None, max_length=128)
    created_at: datetime.datetime = created_at_field()
    updated_at: datetime.datetime = Field(default_factory=utcnow, index=True)
    """The instant of the run (or change) that last touched the payment; steps select their rows by it."""


class Remittance(SQLModel, table=True):
    """What an agent owes for one transfer date and what the bank credited (the three-way match)."""

    __tablename__ = "remittances"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "transfer_date", name="uq_remittances_agent_date"),
        sa.CheckConstraint(f"status IN {REMITTANCE_STATUSES!r}", name="ck_remittances_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agents.id")
    transfer_date: datetime.date = Field(index=True)
    mode: str = Field(max_length=8)
    records: int = 0
    gross: int = Field(default=0, sa_type=sa.BigInteger)
    fees: int = Field(default=0, sa_type=sa.BigInteger)
    fee_tax: int = Field(default=0, sa_type=sa.BigInteger)
    expected: int = Field(default=0, sa_type=sa.BigInteger)
    credited: int = Field(default=0, sa_type=sa.BigInteger)
    bank_record_ids: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    status: str = Field(default="pending", max_length=12)
    matched_at: datetime.datetime | None = None
    updated_at: datetime.datetime = created_at_field()


class ReconException(SQLModel, table=True):
    """One item in the exceptions queue. ``key`` makes raising idempotent (a rerun finds the same key)."""

    __tablename__ = "recon_exceptions"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {EXCEPTION_KINDS!r}", name="ck_recon_exceptions_kind"),
        sa.CheckConstraint(f"status IN {EXCEPTION_STATUSES!r}", name="ck_recon_exceptions_status"),
        sa.Index("ix_recon_exceptions_status_kind", "status", "kind"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=32)
    status: str = Field(default="open", max_length=20)
    slip_id: int | None = Field(default=None, foreign_key="slips.id")
    claim_id: int | None = Field(default=None, foreign_key="claims.id", index=True)
    payment_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    agent_id: int | None = Field(default=None, foreign_key="agents.id")
    amount: int = Field(default=0, sa_type=sa.BigInteger)
    record_ids: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    bank_record_ids: list[int] = Field(default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False))
    detail: dict[str, Any] = json_field()
    opened_at: datetime.datetime = Field(default_factory=utcnow, index=True)
    opened_date: datetime.date = Field(index=True)
    resolution: str | None = Field(default=None, max_length=24)
    resolution_claim_id: int | None = Field(default=None, foreign_key="claims.id")
    proposed_by: str | None = Field(default=None, max_length=128)
    proposed_at: datetime.datetime | None = None
    resolved_by: str | None = Field(default=None, max_length=128)
    resolved_at: datetime.datetime | None = None
    resolved_date: datetime.date | None = None
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))


class ExceptionAction(SQLModel, table=True):
    """Append-only history of an exception: opened, proposed, approved, rejected, resolved, undone …"""

    __tablename__ = "exception_actions"
    id: int | None = Field(default=None, primary_key=True)
    exception_id: int = Field(foreign_key="recon_exceptions.id", index=True)
    action: str = Field(max_length=24)
    actor: str = Field(max_length=128)
    at: datetime.datetime = created_at_field()
    on_date: datetime.date = Field(index=True)
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    data: dict[str, Any] = json_field()


class Refund(SQLModel, table=True):
    """A refund of overpaid money (過誤納還付) decided outside the gateway: recorded, then marked refunded."""

    __tablename__ = "refunds"
    __table_args__ = (sa.CheckConstraint(f"status IN {REFUND_STATUSES!r}", name="ck_refunds_status"),)
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    exception_id: int = Field(foreign_key="recon_exceptions.id", index=True)
    amount: int = Field(sa_type=sa.BigInteger)
    decided_on: datetime.date
    fiscal_year: int
    status: str = Field(default="refund_due", max_length=12)
    refunded_on: datetime.date | None = None
    created_at: datetime.datetime = created_at_field()


class AccountingEntry(SQLModel, table=True):
    """One line of the accounting export (消込データ), keyed on the receipt date. Never updated: a correction
    is a new entry with the negative amount that ``reverses_id`` points at."""

    __tablename__ = "accounting_entries"
    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True, autoincrement=True))
    payment_id: int = Field(sa_type=sa.BigInteger, index=True)
    claim_id: int = Field(foreign_key="claims.id")
    receipt_date: datetime.date = Field(index=True)
    fiscal_year: int
    arrears: bool
    amount: int = Field(sa_type=sa.BigInteger)
    reverses_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    reason: str | None = Field(default=None, max_length=64)
    created_at: datetime.datetime = created_at_field()


class ClaimStatusLog(SQLModel, table=True):
    """Append-only: when a claim's status changed (reports count claims paid off on a day from it)."""

    __tablename__ = "claim_status_log"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    old_status: str = Field(max_length=16)
    new_status: str = Field(max_length=16)
    at: datetime.datetime = created_at_field()
    on_date: datetime.date = Field(index=True)
