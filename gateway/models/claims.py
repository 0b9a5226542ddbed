"""Claims the office decided, their debtors (encrypted), slips and print batches."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

from gateway.models.base import created_at_field
from gateway.models.base import utcnow

LEGAL_BASES = ("art63", "art77", "art77_2", "art78", "unjust_enrichment", "benefit_return", "other")
CLAIM_STATUSES = ("open", "paid", "overpaid", "written_off", "extinguished", "cancelled")
CLOSED_STATUSES = ("written_off", "extinguished", "cancelled")
SLIP_STATUSES = ("issued", "paid", "superseded", "void")


class Debtor(SQLModel, table=True):
    """The person or body that owes a claim. Every personal field is encrypted (``enc_*``);
    ``ref_index`` is a keyed hash of the reference so equal references are found without decrypting.

    The debtor is not necessarily the benefit recipient (Art. 77: relatives; Art. 78-2: clinics), and no
    case data is stored.
    """

    __tablename__ = "debtors"
    id: int | None = Field(default=None, primary_key=True)
    ref_index: str = Field(max_length=64, unique=True)
    enc_ref: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    enc_name: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    enc_kana: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    enc_postal_code: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    enc_address: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime.datetime = created_at_field()
    updated_at: datetime.datetime = created_at_field()


class DebtorNameIndex(SQLModel, table=True):
    """Blind index of a debtor's name: a keyed HMAC of the normalised full name, kana and family names, so
    staff can find a debtor by name without decrypting every row. Holds no clear text (gateway.pii)."""

    __tablename__ = "debtor_name_index"
    __table_args__ = (sa.UniqueConstraint("debtor_id", "kind", name="uq_debtor_name_index_kind"),)
    id: int | None = Field(default=None, primary_key=True)
    debtor_id: int = Field(foreign_key="debtors.id", index=True)
    kind: str = Field(max_length=16)
    hmac: str = Field(max_length=64, index=True)


class Claim(SQLModel, table=True):
    """A repayment claim (返還金・徴収金) decided by the office. ``id`` doubles as the 9-digit claim serial of
    the payment number, so ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL)."""

    __tablename__ = "claims"
    __table_args__ = (
        sa.CheckConstraint(f"legal_basis IN {LEGAL_BASES!r}", name="ck_claims_legal_basis"),
        sa.CheckConstraint(f"status IN {CLAIM_STATUSES!r}", name="ck_claims_status"),
        sa.CheckConstraint("amount >= 0", name="ck_claims_amount"),
        {"sqlite_autoincrement": True},
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    legal_basis: str = Field(max_length=24)
    amount: int = Field(sa_type=sa.BigInteger)
    original_amount: int = Field(sa_type=sa.BigInteger)
    fiscal_year: int
    assessment_number: str | None = Field(default=None, max_length=32)
    assessment_date: datetime.date | None = None
    revenue_item: str | None = Field(default=None, max_length=64)
    decided_on: datetime.date | None = None
    status: str = Field(default="open", max_length=16, index=True)
    closed_on: datetime.date | None = None
    close_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    debtor_id: int = Field(foreign_key="debtors.id", index=True)
    created_at: datetime.datetime = created_at_field()
    updated_at: datetime.datetime = created_at_field()


class ClaimAdjustment(SQLModel, table=True):
    """A changed assessment (変更・減額調定): the amount before and after, with the reason."""

    __tablename__ = "claim_adjustments"
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    old_amount: int = Field(sa_type=sa.BigInteger)
    new_amount: int = Field(sa_type=sa.BigInteger)
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    decided_on: datetime.date | None = None
    actor: str = Field(max_length=128)
    created_at: datetime.datetime = created_at_field()


class Slip(SQLModel, table=True):
    """One payment slip (納付書) for one instalment. A reissue is a new row with reissue_count + 1 and the
    same payment number; the previous row becomes ``superseded``."""

    __tablename__ = "slips"
    __table_args__ = (
        sa.UniqueConstraint("payment_number", "reissue_count", name="uq_slips_payment_number_reissue"),
        sa.CheckConstraint(f"status IN {SLIP_STATUSES!r}", name="ck_slips_status"),
        sa.CheckConstraint("amount > 0", name="ck_slips_amount"),
        sa.CheckConstraint("reissue_count BETWEEN 0 AND 9", name="ck_slips_reissue_count"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claims.id", index=True)
    payment_number: str = Field(max_length=16, index=True)
    instalment: int
    reissue_count: int = 0
    amount: int = Field(sa_type=sa.BigInteger)
    due_date: datetime.date = Field(index=True)
    barcode_expiry: datetime.date
    barcode: str = Field(max_length=44, unique=True)
    status: str = Field(default="issued", max_length=16)
    """Not indexed (dropped in 0003): hardly selective, and every payment moves it."""
    token_hash: str = Field(max_length=64, unique=True)
    enc_token: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    issued_at: datetime.datetime = created_at_field()
    issued_on: datetime.date = Field(index=True)
    status_changed_at: datetime.datetime = Field(default_factory=utcnow)
    void_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    supersedes_id: int | None = Field(default=None, foreign_key="slips.id")

    @property
    def slip_number(self) -> str:
        return f"{self.payment_number}-{self.reissue_count}"


class PrintBatch(SQLModel, table=True):
    """Slips handed to the enveloping contractor: what was printed, for whom, when, and the mailing date."""

    __tablename__ = "print_batches"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime.datetime = created_at_field()
    created_by: str = Field(max_length=128)
    issued_on: datetime.date | None = None
    envelopes: int = 0
    pages: int = 0
    skipped: int = 0
    pdf_sha256: str | None = Field(default=None, max_length=64)
    manifest_sha256: str | None = Field(default=None, max_length=64)
    mailed_on: datetime.date | None = None
    reprints: int = 0


class PrintBatchItem(SQLModel, table=True):
    """One slip in a batch: its envelope, place in the envelope, or why it was skipped."""

    __tablename__ = "print_batch_items"
    __table_args__ = (sa.UniqueConstraint("batch_id", "slip_id", name="uq_print_batch_items_slip"),)
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="print_batches.id", index=True)
    slip_id: int = Field(foreign_key="slips.id", index=True)
    debtor_id: int = Field(foreign_key="debtors.id")
    envelope_seq: int | None = None
    page_seq: int | None = None
    skipped_reason: str | None = Field(default=None, max_length=64)
