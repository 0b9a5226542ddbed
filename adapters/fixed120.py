"""``fixed120``: the gateway's reference fixed-length settlement format (spec/settlement-formats.md §1).

Modelled on the 120-byte convenience-store settlement file of the MUF agent family (two independent parsers
agree on its offsets, background/domain.md §4.3 and §4.6). 120 bytes per record, cp932, CRLF (bare LF and a
missing final line break are accepted). One header ``1``, any number of data records ``2``, one trailer ``8``,
one end record ``9``. N fields are digits, right-aligned and zero-filled; C fields text, left-aligned and
space-filled. The data record has no amount field of its own: the amount is the barcode's (digits 38–43),
and the trailer sums those.

The layout is declared once, as data: ``adapters/data/profiles/fixed120.toml`` (every field with its
positions, type, meaning and the spec's wording). The parser is the one :mod:`adapters.profiles` compiles
from it (the same streaming block path as every profile); :data:`HEADER`, :data:`DATA`, :data:`TRAILER` and
:data:`END` are that profile's records. :func:`write` stays hand-written for speed (tests, demo and
benchmarks generate files with it); the tests require it to write byte for byte what the profile's writer
writes.

More information:

* ../shared/spec/settlement-formats.md §1 (the contract)
* ../shared/background/domain.md §4.3 (MUF 120-byte format), §4.6
* docs/agent-profiles.md (profiles), adapters/data/profiles/fixed120.toml (the layout)

A data record (a Lawson payment of 10,000 yen on 2026-11-27 14:32, captured the next day), positions
1–60 and 61–120::

    201202611271432919123450012326000001234003000260131001000010
    000123456202611280000000000000000000000000020...............

(the dots stand for the 15 spaces of the filler). Writing a file with no data records:

>>> import io, datetime
>>> out = io.BytesIO()
>>> write(out, created_on=datetime.date(2026, 11, 28), agent_code="12345", consignor_code="00123",
...       consignor_name="ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ", records=[]).counts
{'01': 0, '02': 0, '03': 0}
>>> for line in out.getvalue().decode("cp932").splitlines():
...     print(len(line.encode("cp932")), line.rstrip())
120 1202611281234500123ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ
120 8000000000000000000000000000000000000000000000000000000
120 9
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

from adapters import profiles
from adapters._common import DATE_CACHE_LIMIT
from adapters._common import JST
from adapters.fixedwidth import ENCODING
from adapters.records import PaymentRecordLike
from barcodes import cvs

PROFILE = profiles.load_profile(profiles.BUILTIN_PROFILE_DIR / "fixed120.toml")
"""The layout (``adapters/data/profiles/fixed120.toml``)."""
RECORD_LENGTH = PROFILE.record_length
HEADER = PROFILE.header.layout(RECORD_LENGTH)
"""1 ``1`` · 2-9 created YYYYMMDD · 10-14 agent code · 15-19 consignor code · 20-59 consignor name ·
60-120 spaces."""
DATA = PROFILE.data.layout(RECORD_LENGTH)
"""1 ``2`` · 2-3 kind · 4-11 paid YYYYMMDD · 12-15 HHMM · 16-59 barcode · 60-62 ``000`` · 63-69 store ·
70-77 capture · 78-85 transfer (02) · 86-93 zeros · 94-101 accounting (02) · 102-105 channel ·
106-120 spaces."""
TRAILER = PROFILE.trailer.layout(RECORD_LENGTH)
"""1 ``8`` · count and sum of 01 (2-7, 8-19), 02 (20-25, 26-37), 03 (38-43, 44-55) · 56-120 spaces."""
assert PROFILE.end is not None
END = PROFILE.end.layout(RECORD_LENGTH)
"""1 ``9`` · 2-120 spaces."""

KINDS = ("01", "02", "03")
_AMOUNT = cvs.AMOUNT.span


@dataclass(frozen=True, slots=True)
class Totals:
    """What ``write`` put in the trailer: record count and amount sum per data kind."""

    counts: dict[str, int]
    amounts: dict[str, int]


class Adapter(profiles.ProfileAdapter):
    """Reads ``fixed120`` settlement files: the parser compiled from ``fixed120.toml``."""


profiles.bind_profile(Adapter, PROFILE)


# --- writing -------------------------------------------------------------------------------------------


def _text(value: str, width: int, field: str) -> bytes:
    raw = value.encode(ENCODING)
    if len(raw) > width:
        raise ValueError(f"{field} {value!r} is {len(raw)} bytes in {ENCODING}, more than {width}")
    return raw.ljust(width, b" ")


def _digits(value: str, width: int, field: str) -> bytes:
    if not (value.isascii() and value.isdigit()) or len(value) > width:
        raise ValueError(f"{field} {value!r} is not at most {width} digits")
    return value.rjust(width, "0").encode("ascii")


def _day_text(cache: dict[datetime.date | None, str], value: datetime.date | None) -> str:
    text = cache[value] = value.strftime("%Y%m%d") if value is not None else "00000000"
    return text


def write(
    out: BinaryIO,
    *,
    created_on: datetime.date,
    agent_code: str,
    consignor_code: str,
    consignor_name: str,
    records: Iterable[PaymentRecordLike],
) -> Totals:
    """Write a ``fixed120`` file (CRLF, cp932) and return the trailer's totals.

    Streams: records are formatted as they come and written in blocks, so a million of them need no more
    memory than a few. The writer enforces the layout (widths, digits, kinds ``01``/``02``/``03``, dates
    present exactly for ``02``) but writes barcodes as given (check digits included), so tests can build
    broken files. Amounts come from the barcodes. ``paid_at`` is converted to Japan time.

    Raises:
        ValueError: a value that does not fit its field.
    """
    out.write(
        b"1"
        + created_on.strftime("%Y%m%d").encode("ascii")
        + _digits(agent_code, 5, "agent_code")
        + _digits(consignor_code, 5, "consignor_code")
        + _text(consignor_name, 40, "consignor_name")
        + b" " * 61
        + b"\r\n"
    )
    counts = dict.fromkeys(KINDS, 0)
    amounts = dict.fromkeys(KINDS, 0)
    day_text: dict[datetime.date | None, str] = {None: "00000000"}
    # Hashing an aware datetime asks its zone for the offset (slow); records from one source share their
    # datetime objects, so the cache is keyed on identity and keeps the object alive (no id reuse).
    time_text: dict[int, tuple[datetime.datetime, str]] = {}
    block: list[str] = []
    for record in records:
        kind_code = record.kind_code
        if kind_code not in counts:
            raise ValueError(f"data kind {kind_code!r} is not one of {', '.join(KINDS)}")
        paid_at = record.paid_at
        cached = time_text.get(id(paid_at))
        if cached is not None and cached[0] is paid_at:
            paid = cached[1]
        else:
            if paid_at.tzinfo is None:
                raise ValueError(f"paid_at {paid_at} has no time zone")
            paid = paid_at.astimezone(JST).strftime("%Y%m%d%H%M")
            if len(time_text) >= DATE_CACHE_LIMIT:
                time_text.clear()
            time_text[id(paid_at)] = (paid_at, paid)
        day = record.capture_date
        capture = day_text.get(day) or _day_text(day_text, day)
        day = record.transfer_date
        transfer = day_text.get(day) or _day_text(day_text, day)
        day = record.accounting_date
        accounting = day_text.get(day) or _day_text(day_text, day)
        if capture == "00000000":
            raise ValueError("capture_date is required")
        if (kind_code == "02") != (transfer != "00000000") or (kind_code == "02") != (
            accounting != "00000000"
        ):
            raise ValueError(
                f"transfer and accounting dates are required for 02 and only for 02 ({kind_code})"
            )
        barcode = record.barcode
        line = (
            f"2{kind_code}{paid}{barcode}000{record.store_code:0>7}{capture}{transfer}00000000{accounting}"
            f"{record.channel_code:0>4}               \r\n"
        )
        if len(line) != RECORD_LENGTH + 2 or not line.isascii() or not line[:105].isdigit():
            raise ValueError(f"record does not fit the data layout: {line!r}")
        counts[kind_code] += 1
        amounts[kind_code] += int(barcode[_AMOUNT])
        block.append(line)
        if len(block) >= 4096:
            out.write("".join(block).encode("ascii"))
            block.clear()
    if block:
        out.write("".join(block).encode("ascii"))
    trailer = "8" + "".join(f"{counts[k]:06d}{amounts[k]:012d}" for k in KINDS)
    if len(trailer) != 55:
        raise ValueError("a count or sum does not fit the trailer")
    out.write(trailer.encode("ascii") + b" " * 65 + b"\r\n")
    out.write(b"9" + b" " * 119 + b"\r\n")
    return Totals(counts=counts, amounts=amounts)


__all__ = ["DATA", "END", "HEADER", "TRAILER", "Adapter", "Totals", "write"]
