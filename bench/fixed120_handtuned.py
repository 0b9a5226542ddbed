"""Today's hand-tuned ``fixed120`` parser (before agent layouts as profiles), kept for the benchmark only.

``adapters.fixed120.Adapter`` is now the parser compiled from ``adapters/data/profiles/fixed120.toml``. This
copy of the former module lets ``bench/parse_profiles.py`` print the speed of both side by side, and
``tests/adapters/test_profiles.py`` check that both give the same records and errors on every ``fixed120``
golden file. Not imported by the gateway. The original module docstring follows.

``fixed120``: the gateway's reference fixed-length settlement format (spec/settlement-formats.md §1).

Modelled on the 120-byte convenience-store settlement file of the MUF agent family (two independent parsers
agree on its offsets, background/domain.md §4.3 and §4.6). 120 bytes per record, cp932, CRLF (bare LF and a
missing final line break are accepted). One header ``1``, any number of data records ``2``, one trailer ``8``,
one end record ``9``. N fields are digits, right-aligned and zero-filled; C fields text, left-aligned and
space-filled. The data record has no amount field of its own: the amount is the barcode's (digits 38–43),
and the trailer sums those.

More information:

* ../shared/spec/settlement-formats.md §1 (the contract)
* ../shared/background/domain.md §4.3 (MUF 120-byte format), §4.6

A data record (a Lawson payment of 10,000 yen on 2026-11-27 14:32, captured the next day), positions
1–60 and 61–120::

    201202611271432919123450012326000001234003000260131001000010
    000123456202611280000000000000000000000000020...............

(the dots stand for the 15 spaces of the filler). Files are written by ``adapters.fixed120.write``.
"""

from __future__ import annotations

import datetime
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import ClassVar
from typing import Literal
from typing import TypeVar

from adapters import base
from adapters._common import DATE_CACHE_LIMIT
from adapters._common import JST
from adapters._common import barcode_field_error
from adapters._common import check_barcode
from adapters._common import parse_hhmm
from adapters._common import parse_yyyymmdd
from adapters._common import read_head
from adapters.errors import ControlTotalMismatch
from adapters.errors import FieldError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownRecordType
from adapters.fixedwidth import Field
from adapters.fixedwidth import RecordLayout
from adapters.fixedwidth import show
from adapters.records import KIND_BY_CODE
from adapters.records import PAYMENT_RECORD_SWITCH
from adapters.records import PAYMENT_RECORD_TWIN
from adapters.records import FileInfo
from adapters.records import PaymentRecord
from barcodes import cvs
from barcodes.exceptions import BarcodeError

RECORD_LENGTH = 120

HEADER = RecordLayout(
    "header",
    b"1",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"1"),  # 1 N record type `1`
        Field("created_on", 2, 9, "N"),  # 2–9 N file creation date YYYYMMDD
        Field("agent_code", 10, 14, "N"),  # 10–14 N agent code (issuer prefix digits 2–6, barcode pos 4–8)
        Field("consignor_code", 15, 19, "N"),  # 15–19 N consignor code (barcode positions 9–13)
        Field("consignor_name", 20, 59, "C"),  # 20–59 C consignor name (half-width kana allowed)
        Field("filler", 60, 120, "C", const=b" " * 61),  # 60–120 C spaces
    ),
)

DATA = RecordLayout(
    "data",
    b"2",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"2"),  # 1 N record type `2`
        Field("data_kind", 2, 3, "N"),  # 2–3 N data kind `01` / `02` / `03`
        Field("payment_date", 4, 11, "N"),  # 4–11 N payment date YYYYMMDD (Japan time)
        Field("payment_time", 12, 15, "N"),  # 12–15 N payment time HHMM (Japan time)
        Field("barcode", 16, 59, "N"),  # 16–59 N barcode data (spec/barcode.md)
        Field("zeros_1", 60, 62, "N", const=b"000"),  # 60–62 N `000`
        Field("store_code", 63, 69, "N"),  # 63–69 N store code (`0000000` for app payments)
        Field("capture_date", 70, 77, "N"),  # 70–77 N data capture date YYYYMMDD
        Field("transfer_date", 78, 85, "N"),  # 78–85 N scheduled transfer date YYYYMMDD for `02`, else 0
        Field("zeros_2", 86, 93, "N", const=b"00000000"),  # 86–93 N `00000000`
        Field("accounting_date", 94, 101, "N"),  # 94–101 N accounting date YYYYMMDD for `02`, else 0
        Field("channel_code", 102, 105, "N"),  # 102–105 N channel code (chain or app that took the payment)
        Field("filler", 106, 120, "C", const=b" " * 15),  # 106–120 C spaces
    ),
)

TRAILER = RecordLayout(
    "trailer",
    b"8",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"8"),  # 1 N record type `8`
        Field("count_01", 2, 7, "N"),  # 2–7 N count of `01` records
        Field("amount_01", 8, 19, "N"),  # 8–19 N sum of `01` amounts
        Field("count_02", 20, 25, "N"),  # 20–25 N count of `02` records
        Field("amount_02", 26, 37, "N"),  # 26–37 N sum of `02` amounts
        Field("count_03", 38, 43, "N"),  # 38–43 N count of `03` records
        Field("amount_03", 44, 55, "N"),  # 44–55 N sum of `03` amounts
        Field("filler", 56, 120, "C", const=b" " * 65),  # 56–120 C spaces
    ),
)

END = RecordLayout(
    "end",
    b"9",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"9"),  # 1 N record type `9`
        Field("filler", 2, 120, "C", const=b" " * 119),  # 2–120 C 119 spaces
    ),
)

KINDS = ("01", "02", "03")
_RECORD_NAMES = {layout.code: layout.name for layout in (HEADER, DATA, TRAILER, END)}


@dataclass(frozen=True, slots=True)
class Totals:
    """What ``write`` put in the trailer: record count and amount sum per data kind."""

    counts: dict[str, int]
    amounts: dict[str, int]


class Adapter(base.Adapter):
    """Reads ``fixed120`` settlement files."""

    name: ClassVar[str] = "fixed120"
    kind: ClassVar[Literal["payment", "bank"]] = "payment"

    def identify(self, path: Path) -> bool:
        """A header record ``1`` + 8-digit date + 10 digits, and a 120-byte first line."""
        try:
            head = read_head(Path(path), RECORD_LENGTH + 2)
            if len(head) < RECORD_LENGTH or head[:1] != b"1" or not head[1:19].isdigit():
                return False
            tail = head[RECORD_LENGTH:]
            if tail not in (b"", b"\n", b"\r\n") and not tail.startswith(b"\n"):
                return False
            parse_yyyymmdd(head[1:9].decode("ascii"))
        except Exception:  # identify never raises: anything odd is simply not ours
            return False
        return True

    def info(self, path: Path) -> FileInfo:
        """The header's creation date, agent, consignor code and name."""
        try:
            head = read_head(Path(path), RECORD_LENGTH + 2)
            first = head.split(b"\n", 1)[0].removesuffix(b"\r")
            if not first:
                raise RecordOrderError("header missing: the file is empty", line_no=1)
            if first[:1] != b"1":
                found = _RECORD_NAMES.get(first[:1])
                raise RecordOrderError("header missing", line_no=1, record_type=found, value=show(first[:1]))
            header = _parse_header(first, 1)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise
        return header

    def parse(self, path: Path) -> Iterator[PaymentRecord]:
        """Stream the data records; check the trailer's counts and sums, then the end record.

        Returns a generator (nothing is read before the first ``next``).
        """
        return _Reader().read(path, self.name)


def _parse_header(record: bytes, line_no: int) -> FileInfo:
    values = HEADER.parse(record, line_no=line_no)
    try:
        created_on = parse_yyyymmdd(values["created_on"])
    except ValueError:
        raise FieldError(
            "is not a date",
            line_no=line_no,
            record_type="header",
            field="created_on",
            value=values["created_on"],
        ) from None
    return FileInfo(
        adapter=Adapter.name,
        kind="payment",
        agent_code=values["agent_code"],
        consignor_code=values["consignor_code"],
        consignor_name=values["consignor_name"],
        created_on=created_on,
    )


_KINDS = {code.encode(): (code, KIND_BY_CODE[code]) for code in KINDS}
_T = TypeVar("_T")
_EXPECT_HEADER, _IN_DATA, _AFTER_TRAILER, _AFTER_END = range(4)
_ORDER_PROBLEM = {
    _EXPECT_HEADER: "header missing",
    _AFTER_TRAILER: "record after the trailer",
    _AFTER_END: "record after the end record",
}
_TRAILER_CHECKS = (
    ("count_01", "count of 01 records"),
    ("amount_01", "sum of 01 amounts"),
    ("count_02", "count of 02 records"),
    ("amount_02", "sum of 02 amounts"),
    ("count_03", "count of 03 records"),
    ("amount_03", "sum of 03 amounts"),
)
_FAST = True
"""Use the block fast path for runs of well-formed data records (tests switch it off to compare)."""


class _Caches:
    """Parsed values of the fields that recur across records (dates, times, codes), per parse.

    The data loop looks raw bytes up with ``cache[key]``; a ``KeyError`` lands in the method of the same
    name, which validates the bytes (raising the ``FieldError`` that names the field) and stores the
    result. So a key in a cache has passed its checks, and each dict is cleared when it reaches
    ``DATE_CACHE_LIMIT`` keys, so memory stays flat on any file.
    """

    def __init__(self) -> None:
        self.times: dict[bytes, datetime.datetime] = {}
        self.dates: dict[bytes, tuple[datetime.date, datetime.date | None, datetime.date | None, str]] = {}
        self.parties: dict[bytes, tuple[str, str, str]] = {}
        self.expiries: dict[bytes, datetime.date | None] = {}

    @staticmethod
    def _keep(cache: dict[bytes, _T], key: bytes, value: _T) -> _T:
        if len(cache) >= DATE_CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return value

    def paid_at(self, key: bytes, **location: Any) -> datetime.datetime:
        """Positions 4–15 (payment date and time) → aware datetime, Japan time."""
        text = key.decode("ascii")
        try:
            day = parse_yyyymmdd(text[:8])
        except ValueError:
            raise FieldError("is not a date", field="payment_date", value=text[:8], **location) from None
        try:
            hour, minute = parse_hhmm(text[8:])
        except ValueError:
            raise FieldError("is not a time HHMM", field="payment_time", value=text[8:], **location) from None
        paid_at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)
        return self._keep(self.times, key, paid_at)

    def date_set(
        self, key: bytes, tail: bytes, **location: Any
    ) -> tuple[datetime.date, datetime.date | None, datetime.date | None, str]:
        """Positions 70–120 and the line break → (capture date, transfer date or None, accounting date or
        None, channel code). Dates of all zeros become ``None`` (whether the kind allows it is checked per
        record); ``tail`` is the filler and line break the record must end with.
        """
        if key[36:] != tail:
            raise FieldError("must be spaces", field="filler", value=show(key[36:51]), **location)
        text = key[:36].decode("ascii")
        if text[16:24] != "00000000":
            raise FieldError("must be '00000000'", field="zeros_2", value=text[16:24], **location)
        values: list[datetime.date | None] = []
        for field, value in (
            ("capture_date", text[:8]),
            ("transfer_date", text[8:16]),
            ("accounting_date", text[24:32]),
        ):
            if value == "00000000" and field != "capture_date":
                values.append(None)
                continue
            try:
                values.append(parse_yyyymmdd(value))
            except ValueError:
                raise FieldError("is not a date", field=field, value=value, **location) from None
        capture, transfer, accounting = values
        assert capture is not None
        return self._keep(self.dates, key, (capture, transfer, accounting, text[32:36]))

    def party(self, key: bytes) -> tuple[str, str, str]:
        """Barcode positions 3–13 → (issuer prefix, agent code, consignor code)."""
        text = key.decode("ascii")
        return self._keep(self.parties, key, (text[:6], text[1:6], text[6:]))

    def expiry(self, key: bytes, barcode: bytes, **location: Any) -> datetime.date | None:
        """Barcode positions 31–36 → expiry date (``None`` for 999999), checked by ``barcodes.cvs``."""
        return self._keep(self.expiries, key, check_barcode(barcode.decode("ascii"), **location).expiry)


# A data record is unpacked by one struct call into bytes: the record type skipped, data kind (2–3),
# payment date and time (4–15), barcode (16–59), `000` (60–62), store code (63–69), and the rest (70–120:
# capture, transfer, zeros, accounting dates, channel, filler) with the line break. Per line length:
# Where the fast path reads the barcode's parts (barcodes.cvs.LAYOUT): issuer prefix and consignor code
# together name the party, then expiry, amount, payment number and the reissue digit.
_PARTY = slice(cvs.ISSUER.start, cvs.CONSIGNOR.start + cvs.CONSIGNOR.length)
_EXPIRY = cvs.EXPIRY.span
_AMOUNT = cvs.AMOUNT.span
_PAYMENT_NUMBER = cvs.PAYMENT_NUMBER.span
_REISSUE = cvs.REISSUE.start
_UNPACK = {122: struct.Struct("x2s12s44s3s7s53s"), 121: struct.Struct("x2s12s44s3s7s52s")}
_TAILS = {122: b" " * 15 + b"\r\n", 121: b" " * 15 + b"\n"}
for _name, _slice in (
    ("data_kind", slice(1, 3)),
    ("barcode", slice(15, 59)),
    ("zeros_1", slice(59, 62)),
    ("store_code", slice(62, 69)),
    ("capture_date", slice(69, 77)),
    ("channel_code", slice(101, 105)),
    ("filler", slice(105, 120)),
):
    if DATA.field(_name).slice != _slice:  # pragma: no cover - a layout edit without the unpacking
        raise ImportError(f"fixed120 unpacking of {_name} disagrees with the DATA layout")
# Check digit on the raw bytes: the 44 digits as one base-256 integer; modulo 65535 (= 256² − 1) it folds
# into 256·(sum of the odd positions) + (sum of the even positions), both at most 198 so nothing overlaps;
# subtracting the integer of 44 ASCII zeros first turns bytes into digit values.
_ASCII_ZEROS_44 = int.from_bytes(b"0" * 44, "big")
_DIGITS = b"0123456789"
_NOT_DATA_START = re.compile(rb"\n[^2]")
_BLOCK_SIZE = 1 << 20


class _Reader:
    """The parse: header, data, trailer, end; control totals; line numbers.

    The file is read in blocks of complete lines. In a block, a run of data records of one length whose
    only non-digit bytes are their fillers and line breaks (one ``bytes.translate`` over the run proves it)
    is unpacked record by record with ``struct``; everything else (header, trailer, end, a malformed line)
    goes line by line through :meth:`line`, which checks field by field and names the field. Both paths end
    in :meth:`data_records`, so a record is built and checked the same way whichever path it took.
    """

    def __init__(self) -> None:
        self.state = _EXPECT_HEADER
        self.line_no = 0
        self.data_no = 0
        self.totals = [0, 0, 0, 0, 0, 0]  # count and sum of 01, 02, 03
        self.caches = _Caches()

    def read(self, path: Path, adapter: str) -> Iterator[PaymentRecord]:
        """The whole parse of ``path``; errors leave with the file and adapter filled in.

        Records are yielded from :meth:`data_records` through this one generator only: every extra level
        of ``yield from`` costs per record.
        """
        try:
            with open(path, "rb", buffering=0) as f:
                pending = b""
                while chunk := f.read(_BLOCK_SIZE):
                    data = pending + chunk if pending else chunk
                    cut = data.rfind(b"\n") + 1
                    pending = data[cut:]
                    if not cut:
                        continue
                    for piece, size in _pieces(data if cut == len(data) else data[:cut]):
                        if size and self.state == _IN_DATA:
                            yield from self.data_records(piece, size)
                        elif size:  # data records where none may be: line by line names the problem
                            for start in range(0, len(piece), size):
                                yield from self.line(piece[start : start + size])
                        else:
                            yield from self.line(piece)
                if pending:
                    yield from self.line(pending)
            self.finish()
        except SettlementFileError as err:
            err.locate(path, adapter)
            raise

    def line(self, line: bytes) -> Iterator[PaymentRecord]:
        """One line, checked field by field (with its line break, or the last line without one)."""
        self.line_no += 1
        line_no = self.line_no
        record = line.removesuffix(b"\n").removesuffix(b"\r")
        if len(record) != RECORD_LENGTH:
            if record is line and len(record) < RECORD_LENGTH:
                raise RecordOrderError(
                    f"file ends inside a record ({len(record)} of {RECORD_LENGTH} bytes)",
                    line_no=line_no,
                    value=show(record[:40]),
                )
            raise RecordLengthError(RECORD_LENGTH, len(record), line_no=line_no, value=show(record[:40]))
        record_type = record[:1]
        if record_type == b"2":
            if self.state != _IN_DATA:
                raise RecordOrderError(_ORDER_PROBLEM[self.state], line_no=line_no, record_type="data")
            if not record[:105].isdigit() or record[59:62] != b"000" or record[105:] != b" " * 15:
                DATA.parse(record, line_no=line_no, record_no=self.data_no + 1)
            self.line_no -= 1  # data_records counts the line again
            yield from self.data_records(record + b"\r\n", 122)
        elif record_type == b"1":
            if self.state != _EXPECT_HEADER:
                raise RecordOrderError("a second header", line_no=line_no, record_type="header")
            _parse_header(record, line_no)
            self.state = _IN_DATA
        elif record_type == b"8":
            if self.state != _IN_DATA:
                problem = "a second trailer" if self.state == _AFTER_TRAILER else _ORDER_PROBLEM[self.state]
                raise RecordOrderError(problem, line_no=line_no, record_type="trailer")
            values = TRAILER.parse(record, line_no=line_no)
            for (field, description), calculated in zip(_TRAILER_CHECKS, self.totals, strict=True):
                if int(values[field]) != calculated:
                    raise ControlTotalMismatch(
                        field,
                        calculated,
                        int(values[field]),
                        description=description,
                        line_no=line_no,
                        record_type="trailer",
                    )
            self.state = _AFTER_TRAILER
        elif record_type == b"9":
            if self.state != _AFTER_TRAILER:
                problem = "trailer missing" if self.state == _IN_DATA else _ORDER_PROBLEM[self.state]
                raise RecordOrderError(problem, line_no=line_no, record_type="end")
            END.parse(record, line_no=line_no)
            self.state = _AFTER_END
        else:
            raise UnknownRecordType(show(record_type), line_no=line_no, field="record_type")

    def data_records(self, run: bytes, size: int) -> Iterator[PaymentRecord]:
        """Data records of ``size`` bytes whose fields are all digits (the hot path).

        The check digit comes from one big integer, recurring fields from the caches, the rest is slicing;
        the record is built without the frozen-dataclass overhead.
        """
        line_no, data_no = self.line_no, self.data_no
        c1, a1, c2, a2, c3, a3 = self.totals
        caches = self.caches
        times, date_sets, parties, expiries = caches.times, caches.dates, caches.parties, caches.expiries
        kinds, tail, from_bytes, zeros_44 = _KINDS, _TAILS[size], int.from_bytes, _ASCII_ZEROS_44
        twin, switch = PAYMENT_RECORD_TWIN, PAYMENT_RECORD_SWITCH
        party, expiry_at, amount_at = _PARTY, _EXPIRY, _AMOUNT
        payment_number_at, reissue_at = _PAYMENT_NUMBER, _REISSUE
        try:
            for kind_b, paid_b, barcode_b, zeros_b, store_b, rest_b in _UNPACK[size].iter_unpack(run):
                line_no += 1
                data_no += 1
                if zeros_b != b"000":  # before the barcode, as the layout check of a single line does
                    raise FieldError(
                        "must be '000'",
                        line_no=line_no,
                        record_type="data",
                        record_no=data_no,
                        field="zeros_1",
                        value=zeros_b.decode("ascii"),
                    )
                folded = (from_bytes(barcode_b, "big") - zeros_44) % 65535
                if (3 * (folded >> 8) + (folded & 255)) % 10 or barcode_b[:2] != b"91":
                    _barcode_error(barcode_b.decode("ascii"), line_no, data_no)
                try:
                    kind_code, kind = kinds[kind_b]
                    paid_at = times[paid_b]
                    issuer, agent, consignor = parties[barcode_b[party]]
                    expiry = expiries[barcode_b[expiry_at]]
                    capture, transfer, accounting, channel = date_sets[rest_b]
                except KeyError:
                    location: dict[str, Any] = {
                        "line_no": line_no,
                        "record_type": "data",
                        "record_no": data_no,
                    }
                    if kind_b not in kinds:
                        raise FieldError(
                            "is not a data kind (01, 02, 03)",
                            field="data_kind",
                            value=kind_b.decode(),
                            **location,
                        ) from None
                    kind_code, kind = kinds[kind_b]
                    paid_at = times.get(paid_b) or caches.paid_at(paid_b, **location)
                    issuer, agent, consignor = parties.get(barcode_b[party]) or caches.party(barcode_b[party])
                    key = barcode_b[expiry_at]
                    expiry = expiries[key] if key in expiries else caches.expiry(key, barcode_b, **location)
                    capture, transfer, accounting, channel = date_sets.get(rest_b) or caches.date_set(
                        rest_b, tail, **location
                    )
                amount = int(barcode_b[amount_at])
                if kind_code == "02":
                    if transfer is None or accounting is None:
                        _dates_missing(rest_b, line_no, data_no)
                    c2 += 1
                    a2 += amount
                else:
                    if transfer is not None or accounting is not None:
                        _dates_not_zero(rest_b, kind_code, line_no, data_no)
                    if kind_code == "01":
                        c1 += 1
                        a1 += amount
                    else:
                        c3 += 1
                        a3 += amount
                barcode = barcode_b.decode("ascii")
                record = twin(
                    line_no,
                    kind,
                    kind_code,
                    barcode,
                    issuer,
                    agent,
                    consignor,
                    barcode[payment_number_at],
                    barcode_b[reissue_at] - 48,
                    expiry,
                    amount,
                    paid_at,
                    channel,
                    store_b.decode("ascii"),
                    transfer,
                    accounting,
                    capture,
                    False,
                )
                if switch:
                    record.__class__ = PaymentRecord
                yield record
        finally:
            self.line_no, self.data_no = line_no, data_no
            self.totals = [c1, a1, c2, a2, c3, a3]

    def finish(self) -> None:
        """At the end of the file: header, trailer and end record must all have come."""
        if self.state == _EXPECT_HEADER:
            raise RecordOrderError(
                "header missing: the file is empty", line_no=self.line_no + 1, record_type="header"
            )
        if self.state == _IN_DATA:
            raise RecordOrderError(
                "trailer missing (file truncated?)", line_no=self.line_no + 1, record_type="trailer"
            )
        if self.state == _AFTER_TRAILER:
            raise RecordOrderError(
                "end record missing (file truncated?)", line_no=self.line_no + 1, record_type="end"
            )


def _pieces(data: bytes) -> list[tuple[bytes, int]]:
    """Split complete lines into ``(run, record size)`` for runs of well-formed data records and
    ``(line, 0)`` for every other line.

    A run is a stretch of lines starting with ``2`` and all of one length (121 or 122 bytes with the line
    break) whose only non-digit bytes are, in order, each record's 15 filler spaces and line break: one
    ``bytes.translate`` proves it for the whole run. Each record's tail is checked again as the record is
    read (the date cache key ends with it), which pins the non-digits to the filler position, so every
    field of a run is digits. A run that fails is split into lines and checked line by line.
    """
    pieces: list[tuple[bytes, int]] = []
    pos, end, slow_until = 0, len(data), 0
    while pos < end:
        if pos >= slow_until and data[pos] == 50 and _FAST:  # b"2"
            match = _NOT_DATA_START.search(data, pos)
            run_end = match.start() + 1 if match else end
            size = 122 if data[pos + 120 : pos + 122] == b"\r\n" else 121
            count, rest = divmod(run_end - pos, size)
            if not rest and data[pos : pos + size].endswith(_TAILS[size]):
                run = data if pos == 0 and run_end == end else data[pos:run_end]  # mostly the whole block
                if run.translate(None, _DIGITS) == _TAILS[size] * count:
                    pieces.append((run, size))
                    pos = run_end
                    continue
            slow_until = run_end
        newline = data.index(b"\n", pos)
        pieces.append((data[pos : newline + 1], 0))
        pos = newline + 1
    return pieces


def _barcode_error(digits: str, line_no: int, data_no: int) -> None:
    """Raise the ``FieldError`` for a barcode the fast check rejected, with the barcodes module's reason."""
    try:
        cvs.validate(digits)
    except BarcodeError as ex:
        raise barcode_field_error(ex, digits, line_no=line_no, record_type="data", record_no=data_no) from ex
    raise FieldError(  # pragma: no cover - the fast check and barcodes.cvs agree (tested)
        "is not a valid barcode", line_no=line_no, record_type="data", record_no=data_no, field="barcode"
    )


def _dates_not_zero(rest: bytes, kind_code: str, line_no: int, data_no: int) -> None:
    text = rest[:32].decode("ascii")
    field, value = (
        ("transfer_date", text[8:16]) if text[8:16] != "00000000" else ("accounting_date", text[24:32])
    )
    raise FieldError(
        f"must be 00000000 for data kind {kind_code}",
        line_no=line_no,
        record_type="data",
        record_no=data_no,
        field=field,
        value=value,
    )


def _dates_missing(rest: bytes, line_no: int, data_no: int) -> None:
    text = rest[:32].decode("ascii")
    field, value = (
        ("transfer_date", text[8:16]) if text[8:16] == "00000000" else ("accounting_date", text[24:32])
    )
    raise FieldError(
        "is required for data kind 02",
        line_no=line_no,
        record_type="data",
        record_no=data_no,
        field=field,
        value=value,
    )


# --- writing -------------------------------------------------------------------------------------------
