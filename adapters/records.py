"""The plain records every adapter yields, and the file summary it reads from a header.

Adapters turn each format into these values and nothing else: the ingest service stores them, reconciliation
reads them. They are frozen, slotted dataclasses: a million of them pass through a parse, one at a time.

Normalisation done here, so that files of different formats compare equal:

* ``PaymentRecord.channel_code`` is four digits (``dsk_csv``'s ``010`` becomes ``0010``).
* ``BankRecord.account_number`` and ``BankRecord.inquiry_number`` are the field's digits without leading
  zeros (``"0"`` when all digits are zero): the transfer notice's 7-digit ``0012345`` and the statement's
  10-digit ``0000012345`` are both ``"12345"``. See :func:`normalise_number`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from dataclasses import fields
from typing import Any
from typing import Literal
from typing import Protocol
from typing import cast

PaymentKind = Literal["preliminary", "confirmed", "cancellation"]
BankFormat = Literal["transfer", "statement"]
Direction = Literal["credit", "debit"]

KIND_BY_CODE: dict[str, PaymentKind] = {
    "01": "preliminary",
    "02": "confirmed",
    "03": "cancellation",
    "12": "confirmed",  # dsk_csv postal transfer
    "22": "confirmed",  # dsk_csv postal transfer correction (corrected amount)
}
"""Data-kind codes of the payment formats and what they mean (spec/settlement-formats.md)."""


def normalise_channel(code: str) -> str:
    """Zero-pad a 3- or 4-digit channel code to four digits.

    >>> normalise_channel("010"), normalise_channel("0820")
    ('0010', '0820')
    """
    return code.rjust(4, "0")


def normalise_number(digits: str) -> str:
    """Strip the zero padding of an account or inquiry number so widths of different formats compare equal.

    >>> normalise_number("0012345"), normalise_number("0000012345"), normalise_number("0000000")
    ('12345', '12345', '0')
    """
    return digits.lstrip("0") or "0"


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """One payment row of an agent's settlement file (``fixed120``, ``dsk_csv``)."""

    line_no: int
    """1-based physical line of the record in its file."""
    kind: PaymentKind
    kind_code: str
    """The raw data-kind code: ``01``, ``02``, ``03``, ``12``, ``22``."""
    barcode: str
    """The 44 digits."""
    issuer_prefix: str
    """Barcode positions 3–8."""
    agent_code: str
    """Barcode positions 4–8 (issuer-prefix digits 2–6): the collection agent."""
    consignor_code: str
    """Barcode positions 9–13."""
    payment_number: str
    """Barcode positions 14–29 (16 digits)."""
    reissue_count: int
    """Barcode position 30."""
    barcode_expiry: datetime.date | None
    """Barcode positions 31–36; ``None`` for ``999999``."""
    amount: int
    """Yen paid; for ``22`` the corrected amount (which may differ from the barcode's)."""
    paid_at: datetime.datetime
    """Payment date and time, aware, Asia/Tokyo."""
    channel_code: str
    """Four digits (chain or app), normalised."""
    store_code: str
    """As in the file (``fixed120`` 7 digits, ``dsk_csv`` 6 digits; all zeros for apps)."""
    transfer_date: datetime.date | None
    """Scheduled transfer date: ``fixed120`` ``02``; ``dsk_csv`` ``02``/``12``/``22``; else ``None``."""
    accounting_date: datetime.date | None
    """``fixed120`` ``02`` only; else ``None``."""
    capture_date: datetime.date | None
    """``fixed120`` data capture date; ``dsk_csv`` データ作成日."""
    postal_correction: bool
    """``True`` for ``dsk_csv`` ``22``: it replaces the ``12`` with the same payment number and date."""


@dataclass(frozen=True, slots=True)
class BankRecord:
    """One transaction of a bank file (``zengin_transfer``, ``zengin_statement``)."""

    line_no: int
    """1-based physical line; for a file without line breaks, the 1-based record number."""
    format: BankFormat
    bank_code: str
    branch_code: str
    account_type: str
    """預金種目 as in the header (1 普通, 2 当座, 4 貯蓄, 9 その他)."""
    account_number: str
    """Digits without zero padding (:func:`normalise_number`)."""
    value_date: datetime.date
    """勘定日."""
    inquiry_number: str
    """照会番号, normalised like the account number; unique per account and value date."""
    amount: int
    remitter_code: str
    """振込依頼人コード; empty when the bank leaves it blank."""
    remitter_name: str
    """振込依頼人名 decoded (half-width kana as in the file), stripped. Personal data on direct transfers."""
    direction: Direction
    """Transfer notices are always ``credit``; statements say (入払区分)."""
    cancelled: bool
    """Transfer notice 取消区分 ``1``; always ``False`` on statements (a correction is its own record)."""
    transaction_type: str | None
    """Statement 取引区分 (``10`` cash, ``11`` transfer, …); ``None`` on transfer notices."""
    bank_name: str | None = None
    branch_name: str | None = None
    account_name: str | None = None
    originating_bank_name: str | None = None
    """仕向銀行名."""
    originating_branch_name: str | None = None
    """仕向店名."""
    edi_info: str | None = None
    description: str | None = None
    """Statement 摘要内容."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What a cheap look at the start of a file tells (beangulp ``account()``/``date()``)."""

    adapter: str
    kind: Literal["payment", "bank"]
    agent_code: str | None
    """``fixed120``: the header's; ``dsk_csv``: barcode positions 4–8 of the first row; bank files: None."""
    consignor_code: str | None
    consignor_name: str | None
    created_on: datetime.date | None


class PaymentRecordLike(Protocol):
    """What the payment-file writers read from a record (a ``PaymentRecord`` or any look-alike)."""

    @property
    def kind_code(self) -> str: ...
    @property
    def barcode(self) -> str: ...
    @property
    def paid_at(self) -> datetime.datetime: ...
    @property
    def channel_code(self) -> str: ...
    @property
    def store_code(self) -> str: ...
    @property
    def transfer_date(self) -> datetime.date | None: ...
    @property
    def accounting_date(self) -> datetime.date | None: ...
    @property
    def capture_date(self) -> datetime.date | None: ...


def _payment_record_twin() -> tuple[type[Any], bool]:
    """A mutable class with :class:`PaymentRecord`'s exact slot layout, and whether instances may switch.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: for 18 fields that is
    about 2 µs per record, most of a million-record parse. The twin is built by the ordinary fast path and
    its ``__class__`` switched to ``PaymentRecord``, which CPython allows between layout-compatible classes;
    the result is an ordinary, immutable, equal-comparing ``PaymentRecord``. If the interpreter refuses the
    switch, ``(PaymentRecord, False)`` is returned and callers construct normally.
    """
    twin: type[Any] = dataclass(slots=True)(
        type("_PaymentRecordTwin", (), {"__annotations__": dict(PaymentRecord.__annotations__)})
    )
    args = range(len(fields(PaymentRecord)))
    try:
        sample = twin(*args)
        sample.__class__ = PaymentRecord
    except TypeError:  # pragma: no cover - an interpreter without layout-compatible class assignment
        return PaymentRecord, False
    if type(sample) is not PaymentRecord or sample != PaymentRecord(*args):  # pragma: no cover
        return PaymentRecord, False
    return twin, True


PAYMENT_RECORD_TWIN, PAYMENT_RECORD_SWITCH = _payment_record_twin()
"""For hot paths: ``r = PAYMENT_RECORD_TWIN(*fields)``, then, if ``PAYMENT_RECORD_SWITCH``,
``r.__class__ = PaymentRecord``. Same arguments and result as ``PaymentRecord(*fields)``."""


def new_payment_record(*args: Any) -> PaymentRecord:
    """``PaymentRecord(*args)`` without the frozen-dataclass cost (see :data:`PAYMENT_RECORD_TWIN`)."""
    record = PAYMENT_RECORD_TWIN(*args)
    if PAYMENT_RECORD_SWITCH:
        record.__class__ = PaymentRecord
    return cast(PaymentRecord, record)


def to_jsonable(value: PaymentRecord | BankRecord | FileInfo) -> dict[str, Any]:
    """The record as a JSON-ready dict: dates ISO, ``paid_at`` ISO with ``+09:00``.

    >>> to_jsonable(FileInfo("fixed120", "payment", "12345", "00123", None, datetime.date(2026, 11, 27)))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'adapter': 'fixed120', 'kind': 'payment', 'agent_code': '12345', 'consignor_code': '00123',
     'consignor_name': None, 'created_on': '2026-11-27'}
    """
    out: dict[str, Any] = {}
    for f in fields(value):
        item = getattr(value, f.name)
        if isinstance(item, datetime.date):  # datetime is a date too
            item = item.isoformat()
        out[f.name] = item
    return out
