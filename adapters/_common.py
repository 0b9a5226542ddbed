"""Helpers shared by the built-in adapters: Japan time, dates, barcode checks, fixed-width record readers."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import BinaryIO
from zoneinfo import ZoneInfo

from adapters.errors import FieldError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.fixedwidth import show
from barcodes import cvs
from barcodes.exceptions import BarcodeError

JST = ZoneInfo("Asia/Tokyo")
"""Every date and time in the settlement formats is Japan time."""

BUFFER_SIZE = 1 << 20
"""Read buffer: large enough that a 120 MB file costs ~120 reads."""

HEAD_SIZE = 1024
"""``identify`` and ``info`` read at most this much."""

DATE_CACHE_LIMIT = 100_000
"""A parse caches parsed dates and times; past this many distinct keys a cache starts again (flat memory)."""


def read_head(path: Path, size: int = HEAD_SIZE) -> bytes:
    """The first ``size`` bytes of ``path``."""
    with open(path, "rb") as f:
        return f.read(size)


def parse_yyyymmdd(text: str) -> datetime.date:
    """``YYYYMMDD`` → date; ``ValueError`` when it is not 8 digits of a real date."""
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise ValueError(text)
    return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def parse_hhmm(text: str) -> tuple[int, int]:
    """``HHMM`` → (hour, minute); ``ValueError`` unless 00:00–23:59."""
    if len(text) != 4 or not text.isascii() or not text.isdigit():
        raise ValueError(text)
    hour, minute = int(text[:2]), int(text[2:])
    if hour > 23 or minute > 59:
        raise ValueError(text)
    return hour, minute


def check_barcode(digits: str, **location: Any) -> cvs.CvsBarcode:
    """Apply the every-barcode checks of spec/barcode.md; a failure is a ``FieldError`` on ``barcode``.

    The barcodes error is chained as the cause; its own field (``check_digit``, ``expiry`` …) is in the
    message.
    """
    try:
        return cvs.parse(digits)
    except BarcodeError as ex:
        raise barcode_field_error(ex, digits, **location) from ex


def barcode_field_error(ex: BarcodeError, digits: str, **location: Any) -> FieldError:
    """The ``FieldError`` a bad barcode becomes (the caller chains ``ex``)."""
    detail = f"{ex} ({ex.field})" if ex.field and ex.field != "barcode" else str(ex)
    return FieldError(f"is not a valid barcode: {detail}", field="barcode", value=digits, **location)


def iter_fixed_records(f: BinaryIO, length: int) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_no, record)`` from a fixed-width file, with or without line breaks.

    With line breaks (CRLF or LF, the last one optional) ``line_no`` is the physical line. Without any (the
    records follow each other, as zengin files may), ``line_no`` is the 1-based record number. The mode is
    decided by whether a line feed appears within the first record and its line break.

    Raises:
        RecordLengthError: a line that is not ``length`` bytes.
        RecordOrderError: the file ends inside a record (truncated).
    """
    start = f.tell()
    with_breaks = b"\n" in f.read(length + 2)
    f.seek(start)
    if with_breaks:
        for line_no, line in enumerate(f, 1):
            if line.endswith(b"\r\n"):
                record = line[:-2]
            elif line.endswith(b"\n"):
                record = line[:-1]
            else:
                if len(line) != length:
                    raise RecordOrderError(
                        f"file ends inside a record ({len(line)} of {length} bytes)",
                        line_no=line_no,
                        value=show(line[:40]),
                    )
                record = line
            if len(record) != length:
                raise RecordLengthError(length, len(record), line_no=line_no, value=show(record[:40]))
            yield line_no, record
        return
    record_no = 0
    pending = b""
    while chunk := f.read(BUFFER_SIZE):
        data = pending + chunk if pending else chunk
        full = len(data) - len(data) % length
        for offset in range(0, full, length):
            record_no += 1
            yield record_no, data[offset : offset + length]
        pending = data[full:]
    if pending and pending not in (b"\r\n", b"\n"):  # one final line break after unbroken records is fine
        raise RecordOrderError(
            f"file ends inside a record ({len(pending)} of {length} bytes)",
            line_no=record_no + 1,
            value=show(pending[:40]),
        )
