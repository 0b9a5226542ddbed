"""What the two 全銀協 (Zengin) bank-file adapters share: era dates, the group structure, the reader, writing.

Zengin files are 200-byte records (cp932 half-width), with or without line breaks, in groups: a header
``1`` per account, its data records ``2``, its trailer ``8``; after the last group one end record ``9``.
Dates are Japanese-era ``YYMMDD`` (令和 year N is 2018 + N: ``07`` = 2025, ``08`` = 2026).
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import ClassVar
from typing import Literal

from adapters import base
from adapters._common import BUFFER_SIZE
from adapters._common import iter_fixed_records
from adapters._common import read_head
from adapters.errors import ControlTotalMismatch
from adapters.errors import FieldError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownRecordType
from adapters.fixedwidth import ENCODING
from adapters.fixedwidth import RecordLayout
from adapters.fixedwidth import show
from adapters.records import BankRecord
from adapters.records import FileInfo

RECORD_LENGTH = 200
REIWA_OFFSET = 2018
"""令和 year N is the Gregorian year 2018 + N."""
REIWA_START = datetime.date(2019, 5, 1)


def parse_era_date(text: str) -> datetime.date:
    """Japanese-era (令和) ``YYMMDD`` → date; ``ValueError`` when it is not a 令和 date.

    >>> parse_era_date("081127"), parse_era_date("070401")
    (datetime.date(2026, 11, 27), datetime.date(2025, 4, 1))
    >>> parse_era_date("010430")
    Traceback (most recent call last):
        ...
    ValueError: 010430 is before 令和 began (2019-05-01)
    """
    if len(text) != 6 or not text.isascii() or not text.isdigit() or text[:2] == "00":
        raise ValueError(f"{text} is not a 令和 date YYMMDD")
    value = datetime.date(REIWA_OFFSET + int(text[:2]), int(text[2:4]), int(text[4:]))
    if value < REIWA_START:
        raise ValueError(f"{text} is before 令和 began ({REIWA_START})")
    return value


def format_era_date(value: datetime.date) -> str:
    """Date → 令和 ``YYMMDD``.

    >>> format_era_date(datetime.date(2026, 11, 27))
    '081127'
    """
    if value < REIWA_START or value.year - REIWA_OFFSET > 99:
        raise ValueError(f"{value} cannot be written as a 令和 date")
    return f"{value.year - REIWA_OFFSET:02d}{value:%m%d}"


@dataclass(frozen=True, slots=True)
class Group:
    """One account's header…trailer group, for the writers.

    ``records`` are ``BankRecord`` values (or look-alikes); their own bank and account fields are ignored in
    favour of the group's. ``opening_balance`` only matters to statements (取引前残高; the trailer's
    取引後残高 is computed from it).
    """

    created_on: datetime.date
    value_date_from: datetime.date
    value_date_to: datetime.date
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str
    account_name: str
    records: Sequence[BankRecord] = dataclass_field(default_factory=tuple)
    opening_balance: int = 0


def text_field(value: str | None, width: int, name: str) -> bytes:
    """A C field: cp932, left-aligned, space-filled; ``ValueError`` when too long."""
    raw = (value or "").encode(ENCODING)
    if len(raw) > width:
        raise ValueError(f"{name} {value!r} is {len(raw)} bytes in {ENCODING}, more than {width}")
    return raw.ljust(width, b" ")


def digit_field(value: str | int, width: int, name: str) -> bytes:
    """An N field: digits, right-aligned, zero-filled; ``ValueError`` when not digits or too long."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > width:
        raise ValueError(f"{name} {value!r} is not at most {width} digits")
    return text.rjust(width, "0").encode("ascii")


def join_record(parts: Iterable[bytes]) -> bytes:
    """Concatenate a record's fields and check that they make 200 bytes."""
    record = b"".join(parts)
    if len(record) != RECORD_LENGTH:  # pragma: no cover - the writers' layouts add up (tested)
        raise ValueError(f"record is {len(record)} bytes, expected {RECORD_LENGTH}")
    return record


def write_groups(
    out: BinaryIO,
    groups: Iterable[Group],
    *,
    header: Callable[[Group], bytes],
    data: Callable[[Group, BankRecord], bytes],
    trailer: Callable[[Group], bytes],
    line_breaks: bool,
) -> int:
    """Write header, data records and trailer per group, then the end record; return the data-record count."""
    separator = b"\r\n" if line_breaks else b""
    count = 0
    for group in groups:
        out.write(header(group) + separator)
        for record in group.records:
            out.write(data(group, record) + separator)
            count += 1
        out.write(trailer(group) + separator)
    out.write(b"9" + b" " * (RECORD_LENGTH - 1) + separator)
    return count


class ZenginAdapter(base.Adapter):
    """The reading logic both Zengin formats share; subclasses give layouts, the data mapping and totals."""

    kind: ClassVar[Literal["payment", "bank"]] = "bank"
    type_code: ClassVar[bytes]
    """種別コード: ``01`` transfer notice, ``03`` statement."""
    HEADER: ClassVar[RecordLayout]
    DATA: ClassVar[RecordLayout]
    TRAILER: ClassVar[RecordLayout]
    END: ClassVar[RecordLayout]
    TRAILER_CHECKS: ClassVar[tuple[tuple[str, str, str], ...]]
    """(trailer field, running-total key, description) compared at each trailer."""

    @abc.abstractmethod
    def record(
        self, header: dict[str, Any], values: dict[str, str], line_no: int, record_no: int
    ) -> BankRecord:
        """Build one record from its group header and its data fields (both already checked)."""

    @abc.abstractmethod
    def accumulate(self, totals: dict[str, int], record: BankRecord) -> None:
        """Add a record to the running totals of its group."""

    def identify(self, path: Path) -> bool:
        """A 200-byte first record: ``1``, this format's 種別コード, コード区分 ``0``, digits up to the bank
        code, then a line break, the next record or the end of the file."""
        try:
            head = read_head(Path(path), RECORD_LENGTH + 2)
            if len(head) < RECORD_LENGTH or b"\n" in head[:RECORD_LENGTH]:
                return False
            if head[:1] != b"1" or head[1:3] != self.type_code or head[3:4] != b"0":
                return False
            if not head[4:26].isdigit():
                return False
            return head[RECORD_LENGTH : RECORD_LENGTH + 1] in (b"", b"\r", b"\n", b"1", b"2", b"8", b"9")
        except Exception:  # identify never raises: anything odd is simply not ours
            return False

    def info(self, path: Path) -> FileInfo:
        """The first header's creation date (bank files belong to the office's accounts, not to an agent)."""
        try:
            with open(path, "rb") as f:
                first = next(iter_fixed_records(f, RECORD_LENGTH), None)
            if first is None:
                raise RecordOrderError("header missing: the file is empty", line_no=1, record_type="header")
            line_no, raw = first
            if raw[:1] != b"1":
                found = {b"2": "data", b"8": "trailer", b"9": "end"}.get(raw[:1])
                raise RecordOrderError("header missing", line_no=line_no, record_type=found)
            header = self._header(raw, line_no, 1)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise
        return FileInfo(
            adapter=self.name,
            kind="bank",
            agent_code=None,
            consignor_code=None,
            consignor_name=None,
            created_on=header["created_on"],
        )

    def parse(self, path: Path) -> Iterator[BankRecord]:
        """Stream every group's data records; check each trailer as it passes, and the end record."""
        try:
            with open(path, "rb", buffering=BUFFER_SIZE) as f:
                yield from self._parse_stream(f)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise

    def _header(self, raw: bytes, line_no: int, group_no: int) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.HEADER.parse(raw, line_no=line_no, record_no=group_no))
        location: dict[str, Any] = {"line_no": line_no, "record_type": "header", "record_no": group_no}
        if values["type_code"] != self.type_code.decode():
            raise FieldError(
                f"is not this format's 種別コード {self.type_code.decode()}",
                field="type_code",
                value=values["type_code"],
                **location,
            )
        if values["code_class"] != "0":
            raise FieldError("must be 0 (JIS); EBCDIC files are not read", field="code_class", **location)
        for name in ("created_on", "value_date_from", "value_date_to"):
            values[name] = era_date(values[name], name, **location)
        return values

    def _parse_stream(self, f: BinaryIO) -> Iterator[BankRecord]:
        header: dict[str, Any] | None = None
        totals: dict[str, int] = {}
        groups = 0
        ended = False
        record_no = 0
        line_no = 0
        for line_no, raw in iter_fixed_records(f, RECORD_LENGTH):
            record_type = raw[:1]
            if ended:
                raise RecordOrderError("record after the end record", line_no=line_no)
            if record_type == b"2":
                if header is None:
                    problem = "data record after the trailer (header missing)" if groups else "header missing"
                    raise RecordOrderError(problem, line_no=line_no, record_type="data")
                record_no += 1
                values = self.DATA.parse(raw, line_no=line_no, record_no=record_no)
                record = self.record(header, values, line_no, record_no)
                self.accumulate(totals, record)
                yield record
            elif record_type == b"1":
                if header is not None:
                    raise RecordOrderError("trailer missing before the next header", line_no=line_no)
                groups += 1
                header = self._header(raw, line_no, groups)
                totals = {key: 0 for _, key, _ in self.TRAILER_CHECKS}
            elif record_type == b"8":
                if header is None:
                    problem = "a second trailer" if groups else "header missing"
                    raise RecordOrderError(problem, line_no=line_no, record_type="trailer")
                values = self.TRAILER.parse(raw, line_no=line_no, record_no=groups)
                for field, key, description in self.TRAILER_CHECKS:
                    if int(values[field]) != totals[key]:
                        raise ControlTotalMismatch(
                            field,
                            totals[key],
                            int(values[field]),
                            description=description,
                            line_no=line_no,
                            record_type="trailer",
                            record_no=groups,
                        )
                header = None
            elif record_type == b"9":
                if header is not None or not groups:
                    problem = "trailer missing" if header is not None else "header missing"
                    raise RecordOrderError(problem, line_no=line_no, record_type="end")
                self.END.parse(raw, line_no=line_no)
                ended = True
            else:
                raise UnknownRecordType(show(record_type), line_no=line_no, field="record_type")
        if not ended:
            if not groups:
                problem = "header missing: the file is empty"
            elif header is not None:
                problem = "trailer missing (file truncated?)"
            else:
                problem = "end record missing (file truncated?)"
            raise RecordOrderError(problem, line_no=line_no + 1)


def era_date(text: str, field: str, **location: Any) -> datetime.date:
    """A required 令和 date field; ``FieldError`` naming it otherwise."""
    try:
        return parse_era_date(text)
    except ValueError as ex:
        raise FieldError(f"is not a 令和 date YYMMDD ({ex})", field=field, value=text, **location) from None


def optional_era_date(text: str, field: str, **location: Any) -> datetime.date | None:
    """A 令和 date field that may be zeros or blank (``None``)."""
    if text.strip("0 ") == "":
        return None
    return era_date(text, field, **location)
