"""``dsk_csv``: the agent CSV daily file (spec/settlement-formats.md §2).

Modelled on a widely used agent's daily file (DSK, 電算システム; columns cross-checked with the open-source
parser shimoning/dsk-cvs, background/domain.md §4.2). cp932 or UTF-8 (with or without BOM), detected in that
order over the whole file; one header row compared after Unicode NFKC normalisation (the real header has
full-width ``１``/``２``); 13 columns; no trailer, so the row count is the only control and a cut inside a
row (wrong column count, a last line that ends mid-row) is an error. Data kinds ``01``/``02``/``03`` and the
postal ``12``/``22`` (both confirmed; ``22`` carries a corrected amount and replaces the ``12``).

DSK's record-type list also has ``81``, whose meaning is not published. By default a file holding one is
refused at that row; an agent's configuration may say ``record_type_81="skip"`` instead: such rows (13
columns, otherwise unread) yield no record and are counted in :attr:`Adapter.skipped`, so that the ingest
reports them. Mapping them to a known kind is deliberately not offered: nobody knows what they mean.

More information:

* ../shared/spec/settlement-formats.md §2 (the contract)
* ../shared/samples/dsk_csv/public-sample.utf8.csv (a real public sample; it must parse)
* https://github.com/shimoning/dsk-cvs (``src/Entities/Record.php``)

A data row::

    01,20240112,1145,EAN91929023252070000010123499900299999900154357,000001,01234999002,0,15435,020,"ローソン",110002,0,20240117

>>> import io, datetime
>>> from adapters.records import PaymentRecord
>>> out = io.BytesIO()
>>> write(out, [], encoding="utf-8")
0
>>> out.getvalue().decode("utf-8").split(",")[:4]
['種別', '収納日', '収納時刻', 'バーコード情報']
"""

from __future__ import annotations

import csv
import datetime
import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import ClassVar
from typing import Literal

from adapters import base
from adapters._common import BUFFER_SIZE
from adapters._common import JST
from adapters._common import check_barcode
from adapters._common import parse_hhmm
from adapters._common import parse_yyyymmdd
from adapters._common import read_head
from adapters.channels import CHANNELS
from adapters.errors import EncodingError
from adapters.errors import FieldError
from adapters.errors import RecordError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownRecordType
from adapters.records import KIND_BY_CODE
from adapters.records import FileInfo
from adapters.records import PaymentRecord
from adapters.records import PaymentRecordLike
from adapters.records import new_payment_record
from adapters.records import normalise_channel
from barcodes import cvs

HEADER = (
    "種別",
    "収納日",
    "収納時刻",
    "バーコード情報",
    "ユーザー使用欄１",
    "ユーザー使用欄２",
    "印紙フラグ",
    "金額",
    "コンビニ本部コード",
    "コンビニ名",
    "コンビニ店舗コード",
    "振込日",
    "データ作成日",
)
"""The header row exactly as the agent writes it (full-width digits in columns 4 and 5)."""

COLUMNS = (
    "kind",  # 0 種別: 01 preliminary, 02 confirmed, 03 cancellation, 12 postal, 22 postal correction
    "payment_date",  # 1 収納日 YYYYMMDD
    "payment_time",  # 2 収納時刻 HHMM; 0000 for postal records
    "barcode",  # 3 バーコード情報: EAN followed by the 44 digits
    "user_field_1",  # 4 ユーザー使用欄１: barcode digits 14–19
    "user_field_2",  # 5 ユーザー使用欄２: barcode digits 20–30
    "stamp_flag",  # 6 印紙フラグ: barcode digit 37
    "amount",  # 7 金額, not zero-padded; for 22 the corrected amount
    "chain_code",  # 8 コンビニ本部コード: 3 digits (010 Seven-Eleven, 820 PayPay, 910/911 postal …)
    "chain_name",  # 9 コンビニ名, may be quoted
    "store_code",  # 10 コンビニ店舗コード; 000000 for apps
    "transfer_date",  # 11 振込日 YYYYMMDD for 02/12/22, else 0
    "created_on",  # 12 データ作成日 YYYYMMDD
)
"""Field names used in records and errors, by column."""

KINDS = ("01", "02", "03", "12", "22")
RECORD_TYPE_81 = "81"
"""DSK's record type whose meaning is not published (see :data:`RECORD_TYPE_81_TREATMENTS`)."""
RECORD_TYPE_81_TREATMENTS = ("reject", "skip")
"""How an agent's configuration may have type-81 rows treated: refuse the file (the default), or skip the
rows (no record, counted in :attr:`Adapter.skipped`)."""
SKIPPED_LINES_KEPT = 100
"""Line numbers of skipped rows kept per kind (the count is always complete)."""
TRANSFER_KINDS = ("02", "12", "22")
"""Kinds that carry a transfer date (振込日); the others have ``0``."""

CHAIN_NAMES = {c.code[1:]: c.agent_name for c in CHANNELS.values() if c.code.startswith("0")}
"""Chain names the writer puts in column 9 (the reader ignores the column)."""

ENCODINGS = ("utf-8-sig", "cp932")
"""Tried in this order; ``utf-8-sig`` reads UTF-8 with or without a BOM."""

_IDENTIFY_ENCODINGS = (*ENCODINGS, "euc_jp", "utf-16")
"""``identify`` also recognises the header in encodings the format does not allow, so that such a file is
claimed and ``parse`` reports an ``EncodingError`` instead of "no adapter recognises this file"."""

_NORMALISED_HEADER = tuple(unicodedata.normalize("NFKC", name) for name in HEADER)


# DSK splits the barcode's digits 14–30 (payment number and reissue count) into its two 利用者データ columns;
# the reader checks them and the writer fills them from these spans.
USER_DATA_1 = slice(cvs.PAYMENT_NUMBER.start, cvs.PAYMENT_NUMBER.start + 6)
USER_DATA_2 = slice(USER_DATA_1.stop, cvs.REISSUE.start + cvs.REISSUE.length)
_STAMP = cvs.STAMP.span


def _normalised(columns: list[str]) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFKC", column).strip() for column in columns)


def _split(text: str) -> list[str]:
    """One CSV line → its columns (quoted fields allowed; a line break inside quotes is not)."""
    return next(csv.reader([text], strict=True), [])


def detect_encoding(path: Path) -> str:
    """The encoding the whole file decodes in: ``utf-8-sig`` first, then ``cp932``.

    Lines are decoded one by one (a line feed never occurs inside a UTF-8 or cp932 character), so the error
    names the first line that is neither.

    Raises:
        EncodingError: the file is neither.
    """
    failures: dict[str, int] = {}
    for encoding in ENCODINGS:
        with open(path, "rb", buffering=BUFFER_SIZE) as f:
            for line_no, line in enumerate(f, 1):
                try:
                    line.decode(encoding)
                except UnicodeDecodeError:
                    failures[encoding] = line_no
                    break
            else:
                return encoding
    raise EncodingError(
        f"is neither UTF-8 (fails on line {failures['utf-8-sig']}) nor cp932",
        line_no=failures["cp932"],
    )


def _decode_head(head: bytes, encodings: tuple[str, ...] = ENCODINGS) -> list[str] | None:
    """The complete lines of the first bytes of a file, decoded, or ``None`` when they do not decode."""
    complete = head[: head.rfind(b"\n") + 1] if b"\n" in head else head
    for encoding in encodings:
        try:
            return complete.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    return None


@dataclass
class Skipped:
    """Rows of one record type that an agent's configuration says to skip (not stored)."""

    records: int = 0
    lines: list[int] = field(default_factory=list)
    """The first :data:`SKIPPED_LINES_KEPT` line numbers."""

    def add(self, line_no: int) -> None:
        self.records += 1
        if len(self.lines) < SKIPPED_LINES_KEPT:
            self.lines.append(line_no)


class Adapter(base.Adapter):
    """Reads ``dsk_csv`` daily files.

    Args:
        encoding: force ``cp932``, ``utf-8`` or ``utf-8-sig`` instead of detecting it.
        record_type_81: ``reject`` (default: the file is refused at the first type-81 row) or ``skip`` (the
            rows are skipped and counted in :attr:`skipped` while :meth:`parse` runs).

    Raises:
        ValueError: an unknown ``record_type_81`` treatment.

    >>> Adapter(record_type_81="as:01")
    Traceback (most recent call last):
        ...
    ValueError: record_type_81 must be one of reject, skip (not 'as:01')
    """

    name: ClassVar[str] = "dsk_csv"
    kind: ClassVar[Literal["payment", "bank"]] = "payment"
    OPTIONS: ClassVar[dict[str, tuple[str, ...]]] = {"record_type_81": RECORD_TYPE_81_TREATMENTS}
    """Options an agent's configuration may set (``agents.adapter_options``), with their allowed values."""

    def __init__(self, encoding: str | None = None, record_type_81: str = "reject") -> None:
        if record_type_81 not in RECORD_TYPE_81_TREATMENTS:
            raise ValueError(
                f"record_type_81 must be one of {', '.join(RECORD_TYPE_81_TREATMENTS)} "
                f"(not {record_type_81!r})"
            )
        self.encoding = encoding
        self.record_type_81 = record_type_81
        self.skipped: dict[str, Skipped] = {}
        """Skipped rows by record type, of the latest :meth:`parse` (complete once it is exhausted)."""

    def identify(self, path: Path) -> bool:
        """The first line (within the first KB) is the dsk_csv header after NFKC."""
        try:
            head = read_head(Path(path))
            if b"\n" not in head and len(head) == 1024:
                return False
            for encoding in _IDENTIFY_ENCODINGS:
                lines = _decode_head(head, (encoding,))
                if lines and _normalised(_split(lines[0].removeprefix("\ufeff"))) == _NORMALISED_HEADER:
                    return True
            return False
        except Exception:  # identify never raises: anything odd is simply not ours
            return False

    def info(self, path: Path) -> FileInfo:
        """Agent and consignor from the first data row's barcode; creation date from its データ作成日."""
        try:
            line_no = 1  # the line being read (a csv.Error names it too)
            lines = _decode_head(read_head(Path(path), 8192))
            if lines is None:
                raise EncodingError("is neither UTF-8 nor cp932", line_no=1)
            if not lines or _normalised(_split(lines[0])) != _NORMALISED_HEADER:
                raise RecordOrderError("header missing", line_no=1, record_type="header")
            agent = consignor = None
            created_on = None
            first_81: list[str] | None = None
            # The owner is read from the first row of a known kind: a type-81 row's layout is not published
            # (whether the file is refused for it is parse's business and depends on the agent's setting).
            for no, line in enumerate(lines[1:], 2):
                if not line:
                    continue
                line_no = no
                columns = _split(line)
                if columns and columns[0] == RECORD_TYPE_81:
                    first_81 = first_81 or columns
                    continue
                record = _parse_row(columns, no, 1)
                agent, consignor, created_on = record.agent_code, record.consignor_code, record.capture_date
                break
            else:
                if first_81 is not None:
                    agent, consignor, created_on = _owner_of_81(first_81)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise
        except csv.Error as ex:
            raise RecordError(
                f"is not valid CSV: {ex}",
                path=path,
                adapter=self.name,
                line_no=line_no,
                record_type="header" if line_no == 1 else "data",
            ) from ex
        return FileInfo(
            adapter=self.name,
            kind="payment",
            agent_code=agent,
            consignor_code=consignor,
            consignor_name=None,
            created_on=created_on,
        )

    def parse(self, path: Path) -> Iterator[PaymentRecord]:
        """Stream the rows (after a first pass that settles the encoding); skipped rows go to
        :attr:`skipped`."""
        self.skipped = {}
        skip = frozenset({RECORD_TYPE_81}) if self.record_type_81 == "skip" else frozenset()
        try:
            encoding = self.encoding or detect_encoding(Path(path))
            with open(path, "rb", buffering=BUFFER_SIZE) as f:
                yield from _parse_stream(f, encoding, skip, self.skipped)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise


def _owner_of_81(columns: list[str]) -> tuple[str | None, str | None, datetime.date | None]:
    """Agent, consignor and creation date read off a type-81 row when its barcode column reads like every
    other row's, else nothing (the row's layout is not published: no error is raised for it here)."""
    if len(columns) != len(COLUMNS):
        return None, None, None
    digits = columns[3].removeprefix("EAN")
    if digits == columns[3] or len(digits) != 44 or not (digits.isascii() and digits.isdigit()):
        return None, None, None
    try:
        barcode = check_barcode(digits)
        created_on: datetime.date | None = parse_yyyymmdd(columns[12])
    except (SettlementFileError, ValueError):
        return None, None, None
    return barcode.agent_code, barcode.consignor_code, created_on


def _parse_stream(
    f: BinaryIO,
    encoding: str,
    skip: frozenset[str] = frozenset(),
    skipped: dict[str, Skipped] | None = None,
) -> Iterator[PaymentRecord]:
    """The records of an open file; rows whose kind is in ``skip`` are counted in ``skipped`` instead."""
    line_no = 0
    record_no = 0
    blank_line: int | None = None
    for raw in f:
        line_no += 1
        terminated = raw.endswith(b"\n")
        try:
            text = raw.decode(encoding).removesuffix("\n").removesuffix("\r")
        except UnicodeDecodeError as ex:
            raise EncodingError(f"is not {encoding}", line_no=line_no) from ex
        if line_no == 1:
            text = text.removeprefix("\ufeff")
            try:
                header = _normalised(_split(text))
            except csv.Error:
                header = ()
            if header != _NORMALISED_HEADER:
                raise RecordOrderError("header missing", line_no=1, record_type="header", value=text[:60])
            continue
        if not text:
            blank_line = blank_line or line_no  # blank lines are tolerated at the end of the file only
            continue
        if blank_line is not None:
            raise RecordLengthError(len(COLUMNS), 0, "blank line between rows", line_no=blank_line)
        record_no += 1
        try:
            try:
                columns = _split(text)
            except csv.Error as ex:
                raise RecordError(
                    f"is not valid CSV: {ex}", line_no=line_no, record_type="data", record_no=record_no
                ) from ex
            if skip and columns and columns[0] in skip:
                # Only the shape is checked (a cut row must still be noticed); the content is not read.
                if len(columns) != len(COLUMNS):
                    raise RecordLengthError(
                        len(COLUMNS),
                        len(columns),
                        f"row has {len(columns)} columns, expected {len(COLUMNS)}",
                        line_no=line_no,
                        record_type="data",
                        record_no=record_no,
                    )
                if skipped is not None:
                    skipped.setdefault(columns[0], Skipped()).add(line_no)
                continue
            record = _parse_row(columns, line_no, record_no)
        except RecordError as err:
            if terminated:
                raise
            raise RecordOrderError(
                f"file ends inside a row ({err.message})",
                line_no=line_no,
                record_type="data",
                record_no=record_no,
                field=err.field,
                value=err.value,
            ) from err
        yield record
    if line_no == 0:
        raise RecordOrderError("header missing: the file is empty", line_no=1, record_type="header")


def _parse_row(columns: list[str], line_no: int, record_no: int) -> PaymentRecord:
    """Check one data row and build its record."""
    location: dict[str, Any] = {"line_no": line_no, "record_type": "data", "record_no": record_no}

    def error(column: int, message: str) -> FieldError:
        return FieldError(
            f"(column {column + 1} {HEADER[column]}) {message}",
            field=COLUMNS[column],
            value=columns[column],
            **location,
        )

    if len(columns) != len(COLUMNS):
        raise RecordLengthError(
            len(COLUMNS), len(columns), f"row has {len(columns)} columns, expected {len(COLUMNS)}", **location
        )
    (kind_code, paid_on, paid_time, ean, user_1, user_2, stamp, amount_text, chain, _, store, transfer_text,
     created_text) = columns  # fmt: skip
    if kind_code not in KINDS:
        message = (
            "is record type 81, whose meaning DSK does not publish: the file is refused (ask the agent)"
            if kind_code == "81"
            else "is not a data kind (01, 02, 03, 12, 22)"
        )
        raise UnknownRecordType(kind_code, message, field="kind", **location)
    try:
        day = parse_yyyymmdd(paid_on)
    except ValueError:
        raise error(1, "is not a date YYYYMMDD") from None
    try:
        hour, minute = parse_hhmm(paid_time)
    except ValueError:
        raise error(2, "is not a time HHMM") from None
    digits = ean.removeprefix("EAN")
    if digits == ean or len(digits) != 44 or not (digits.isascii() and digits.isdigit()):
        raise error(3, "is not 'EAN' followed by 44 digits")
    barcode = check_barcode(digits, **location)
    if user_1 != digits[USER_DATA_1]:
        raise error(4, f"differs from barcode digits 14–19 {digits[USER_DATA_1]!r}")
    if user_2 != digits[USER_DATA_2]:
        raise error(5, f"differs from barcode digits 20–30 {digits[USER_DATA_2]!r}")
    if stamp != digits[_STAMP]:
        raise error(6, f"differs from barcode digit 37 {digits[_STAMP]!r}")
    if not (amount_text.isascii() and amount_text.isdigit()):
        raise error(7, "is not an amount in yen")
    amount = int(amount_text)
    if amount != barcode.amount and kind_code != "22":
        raise error(7, f"differs from the barcode amount {barcode.amount}")
    if len(chain) != 3 or not (chain.isascii() and chain.isdigit()):
        raise error(8, "is not a 3-digit chain code")
    if len(store) != 6 or not (store.isascii() and store.isdigit()):
        raise error(10, "is not a 6-digit store code")
    transfer_date: datetime.date | None = None
    if kind_code in TRANSFER_KINDS:
        try:
            transfer_date = parse_yyyymmdd(transfer_text)
        except ValueError:
            raise error(11, f"is not a date YYYYMMDD (required for kind {kind_code})") from None
    elif transfer_text != "0":
        raise error(11, f"must be 0 for kind {kind_code}")
    try:
        created_on = parse_yyyymmdd(created_text)
    except ValueError:
        raise error(12, "is not a date YYYYMMDD") from None
    return new_payment_record(
        line_no,
        KIND_BY_CODE[kind_code],
        kind_code,
        digits,
        barcode.issuer_prefix,
        barcode.agent_code,
        barcode.consignor_code,
        barcode.payment_number,
        barcode.reissue_count,
        barcode.expiry,
        amount,
        datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST),
        normalise_channel(chain),
        store,
        transfer_date,
        None,
        created_on,
        kind_code == "22",
    )


def write(out: BinaryIO, rows: Iterable[PaymentRecordLike], encoding: str = "cp932") -> int:
    """Write a ``dsk_csv`` file (header row, CRLF) in ``cp932``, ``utf-8`` or ``utf-8-sig``; return the rows.

    Each record's ``kind_code`` (``01``/``02``/``03``/``12``/``22``), barcode, ``paid_at`` (converted to
    Japan time), channel (written as the 3-digit chain code), store (6 digits; a 7-digit code with a leading
    zero is shortened), ``transfer_date`` (``0`` when absent) and ``capture_date`` (データ作成日). The amount
    is the record's ``amount`` if it has one (the corrected amount of a ``22``), else the barcode's. Columns
    4–6 are copied from the barcode. Values are written as given (tests build broken files with it).

    Raises:
        ValueError: an encoding other than the three, or a value that does not fit its column.
    """
    if encoding not in ("cp932", "utf-8", "utf-8-sig"):
        raise ValueError(f"encoding {encoding!r} is not cp932, utf-8 or utf-8-sig")
    if encoding == "utf-8-sig":  # the BOM once, at the start; each block below is plain UTF-8
        out.write("\ufeff".encode())
        encoding = "utf-8"
    out.write((",".join(HEADER) + "\r\n").encode(encoding))
    count = 0
    block: list[str] = []
    for record in rows:
        barcode = record.barcode
        paid_at = record.paid_at.astimezone(JST)
        chain = record.channel_code[-3:] if record.channel_code.startswith("0") else record.channel_code
        store = (
            record.store_code[1:]
            if len(record.store_code) == 7 and record.store_code[0] == "0"
            else record.store_code
        )
        amount = getattr(record, "amount", None)
        if amount is None:
            amount = int(barcode[cvs.AMOUNT.span])
        if record.capture_date is None:
            raise ValueError("capture_date (データ作成日) is required")
        transfer = record.transfer_date.strftime("%Y%m%d") if record.transfer_date else "0"
        name = CHAIN_NAMES.get(chain, chain).replace('"', '""')
        block.append(
            f"{record.kind_code},{paid_at:%Y%m%d},{paid_at:%H%M},EAN{barcode},{barcode[USER_DATA_1]},{barcode[USER_DATA_2]},"
            f'{barcode[_STAMP]},{amount},{chain},"{name}",{store},{transfer},{record.capture_date:%Y%m%d}\r\n'
        )
        count += 1
        if len(block) >= 4096:
            out.write("".join(block).encode(encoding))
            block.clear()
    if block:
        out.write("".join(block).encode(encoding))
    return count
