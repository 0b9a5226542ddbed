"""Agent layouts as data: fixed-length payment-file profiles (TOML), validated and compiled to adapters.

A *profile* describes one collection agent's fixed-length settlement file: its record length, its record
types (``header``, ``data``, ``trailer`` and optionally ``end``), every field with its 1-based inclusive
positions, type and meaning, the data-kind codes and what they mean to the gateway, and the trailer's
control totals. :func:`load_profile` reads and checks one (a :class:`~adapters.errors.ProfileError` names
the file, the record, the field and the key); :func:`compile_profile` turns it into an
:class:`~adapters.base.Adapter` subclass whose ``name`` is the profile's. The compiled parser streams: the
file is read in blocks; runs of well-formed data records are unpacked with one ``struct.Struct`` built from
the profile by a loop generated for the profile's layout (:func:`_compile_loop`), recurring values come from
caches, and only odd lines go through the field-by-field check, which names the field.

How to write a profile: docs/agent-profiles.md. The built-in profiles are in ``adapters/data/profiles/``
(``fixed120.toml``, compiled into :class:`adapters.fixed120.Adapter`, and ``mizuho120.toml``); an office adds
its own with ``GATEWAY_PROFILE_DIR``.

>>> profile = load_profile(BUILTIN_PROFILE_DIR / "mizuho120.toml")
>>> profile.name, profile.record_length, sorted(profile.kinds.items())
('mizuho120', 120, [('01', 'preliminary'), ('02', 'confirmed'), ('03', 'cancellation')])
>>> print(profile.data.field("barcode"))
17-60 barcode44 barcode (barcode)
>>> check_profile({"name": "x"}, "x.toml")
Traceback (most recent call last):
    ...
adapters.errors.ProfileError: x.toml: key "label": is required
"""

from __future__ import annotations

import datetime
import re
import struct
import tomllib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import BinaryIO
from typing import ClassVar
from typing import Literal
from typing import TypeVar
from typing import cast

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
from adapters.errors import ProfileError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownRecordType
from adapters.fixedwidth import ENCODING
from adapters.fixedwidth import Field
from adapters.fixedwidth import RecordLayout
from adapters.fixedwidth import show
from adapters.records import PAYMENT_RECORD_SWITCH
from adapters.records import PAYMENT_RECORD_TWIN
from adapters.records import FileInfo
from adapters.records import PaymentKind
from adapters.records import PaymentRecord
from adapters.records import PaymentRecordLike
from barcodes import cvs
from barcodes.exceptions import BarcodeError

BUILTIN_PROFILE_DIR = Path(__file__).resolve().parent / "data" / "profiles"
"""The profiles shipped with the gateway."""

FieldType = Literal["N", "C", "date", "time", "barcode44", "filler", "zeros"]
FIELD_TYPES: dict[str, str] = {
    "N": "digits, right-aligned, zero-filled",
    "C": "cp932 text, left-aligned, space-filled",
    "date": "YYYYMMDD (8 digits, Japan time)",
    "time": "HHMM (4 digits, Japan time)",
    "barcode44": "the 44 digits of the payment barcode (barcodes.cvs)",
    "filler": "spaces",
    "zeros": "the digit 0",
}
"""The field types a profile may use."""
_DIGIT_TYPES = frozenset({"N", "date", "time", "barcode44", "zeros"})
_FIXED_WIDTH = {"date": 8, "time": 4, "barcode44": 44}
RECORD_NAMES = ("header", "data", "trailer", "end")
_REQUIRED_RECORDS = ("header", "data", "trailer")

MEANINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "header": {
        "record_type": ("N", "C"),
        "created_on": ("date",),
        "agent_code": ("N",),
        "consignor_code": ("N",),
        "consignor_name": ("C",),
    },
    "data": {
        "record_type": ("N", "C"),
        "kind": ("N",),
        "barcode": ("barcode44",),
        "paid_date": ("date",),
        "paid_time": ("time",),
        "store": ("N",),
        "channel": ("N",),
        "capture_date": ("date",),
        "transfer_date": ("date",),
        "accounting_date": ("date",),
    },
    "trailer": {"record_type": ("N", "C")},
    "end": {"record_type": ("N", "C")},
}
"""Per record: the meanings a field may carry, with the types each allows."""
REQUIRED_MEANINGS: dict[str, tuple[str, ...]] = {
    "header": ("record_type", "created_on"),
    "data": ("record_type", "kind", "barcode", "paid_date", "paid_time", "store", "channel"),
    "trailer": ("record_type",),
    "end": ("record_type",),
}
_MEANING_WIDTHS = {"agent_code": (5, 5), "consignor_code": (5, 5), "channel": (3, 6), "store": (1, 20)}
GATEWAY_KINDS: tuple[PaymentKind, ...] = ("preliminary", "confirmed", "cancellation")
GATEWAY_KIND_CODES: dict[str, str] = {"preliminary": "01", "confirmed": "02", "cancellation": "03"}
"""The gateway's code of each kind: a record's ``kind_code`` is this, whatever the agent's own code is
(catalogue labels, reports and reconciliation speak these codes; the agent's code stays in the file)."""
CONTROL_TOTALS = ("count", "sum")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TOP_KEYS = {
    "name",
    "label",
    "agent",
    "description",
    "record_length",
    "encoding",
    "kinds",
    "records",
    "controls",
}
_FIELD_KEYS = {
    "name",
    "start",
    "end",
    "type",
    "meaning",
    "const",
    "allowed",
    "when",
    "optional",
    "source",
    "note",
}
_SOURCES = ("verified", "assumed")


@dataclass(frozen=True, slots=True)
class ProfileField:
    """One field of a profile record (1-based inclusive positions, as the agent's spec prints them)."""

    name: str
    start: int
    end: int
    type: str
    meaning: str | None = None
    const: bytes | None = None
    """Exact bytes the field must hold (fillers and zeros have theirs implied)."""
    allowed: tuple[bytes, ...] | None = None
    """An ``N`` field that must hold one of these values."""
    when: tuple[str, ...] | None = None
    """A date present exactly for these data kinds (all zeros for the others)."""
    optional: bool = False
    """A date that may be all zeros (then ``None``)."""
    source: str | None = None
    """``verified`` (read in a published layout) or ``assumed``."""
    note: str = ""

    @property
    def width(self) -> int:
        return self.end - self.start + 1

    @property
    def slice(self) -> slice:
        return slice(self.start - 1, self.end)

    def __str__(self) -> str:
        meaning = f" ({self.meaning})" if self.meaning else ""
        return f"{self.start}-{self.end} {self.type} {self.name}{meaning}"


@dataclass(frozen=True)
class ProfileRecord:
    """One record type of a profile: its record-type code and its fields in order of position."""

    name: str
    code: bytes
    fields: tuple[ProfileField, ...]

    def field(self, name: str) -> ProfileField:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def meaning(self, meaning: str) -> ProfileField | None:
        """The field that carries ``meaning``, if any."""
        for f in self.fields:
            if f.meaning == meaning:
                return f
        return None

    def layout(self, length: int) -> RecordLayout:
        """The :class:`~adapters.fixedwidth.RecordLayout` the field-by-field check uses."""
        return RecordLayout(
            self.name,
            self.code,
            length,
            tuple(
                Field(f.name, f.start, f.end, "N" if f.type in _DIGIT_TYPES else "C", const=f.const)
                for f in self.fields
            ),
        )


@dataclass(frozen=True, slots=True)
class Control:
    """A trailer field that must equal the count or the amount sum of the data records of some kinds."""

    field: str
    total: str
    kinds: tuple[str, ...]

    @property
    def description(self) -> str:
        codes = ", ".join(self.kinds)
        return f"count of {codes} records" if self.total == "count" else f"sum of {codes} amounts"


@dataclass(frozen=True)
class Profile:
    """A checked agent layout (see :func:`load_profile`)."""

    name: str
    label: str
    """What staff pages show for the format (Japanese)."""
    agent: str
    description: str
    path: str
    record_length: int
    kinds: dict[str, PaymentKind]
    header: ProfileRecord
    data: ProfileRecord
    trailer: ProfileRecord
    end: ProfileRecord | None
    controls: tuple[Control, ...]

    @property
    def records(self) -> tuple[ProfileRecord, ...]:
        return tuple(r for r in (self.header, self.data, self.trailer, self.end) if r is not None)


# --- loading and checking ------------------------------------------------------------------------------


def load_profile(path: Path | str) -> Profile:
    """Read and check the profile at ``path`` (a TOML file named after the profile).

    Raises:
        ProfileError: the file cannot be read or parsed, or breaks a rule; it names file, record, field, key.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except OSError as ex:
        raise ProfileError(f"cannot be read: {ex.strerror or ex}", path=path) from ex
    except tomllib.TOMLDecodeError as ex:
        raise ProfileError(f"is not valid TOML: {ex}", path=path) from ex
    return check_profile(document, path)


def check_profile(document: dict[str, Any], path: Path | str) -> Profile:
    """Check a parsed profile document and build the :class:`Profile` (see :func:`load_profile`)."""
    return _Checker(document, str(path)).profile()


class _Checker:
    """The checks of one profile document; every failure raises a located :class:`ProfileError`."""

    def __init__(self, document: dict[str, Any], path: str) -> None:
        self.doc = document
        self.path = path

    def fail(
        self, message: str, *, record: str | None = None, field: str | None = None, key: str | None = None
    ) -> ProfileError:
        return ProfileError(message, path=self.path, record_type=record, field=field, key=key)

    def get(
        self,
        table: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        *,
        required: bool = True,
        **where: Any,
    ) -> Any:
        if key not in table:
            if required:
                raise self.fail("is required", key=key, **where)
            return None
        value = table[key]
        # bool is an int in Python, never in a profile
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            text = {
                "str": "a string",
                "int": "an integer",
                "list": "a list",
                "dict": "a table",
                "bool": "true/false",
            }
            raise self.fail(f"must be {text.get(names, names)}, not {value!r}", key=key, **where)
        return value

    def profile(self) -> Profile:
        doc = self.doc
        for key in doc:
            if key not in _TOP_KEYS:
                raise self.fail(f"is not a profile key ({', '.join(sorted(_TOP_KEYS))})", key=key)
        name = self.get(doc, "name", str)
        if not _NAME.fullmatch(name):
            raise self.fail(f"{name!r} must be lower_snake_case (a-z, 0-9, _; at most 40)", key="name")
        stem = Path(self.path).stem
        if stem != name:
            raise self.fail(f"{name!r} differs from the file name {stem!r}", key="name")
        label = self.get(doc, "label", str).strip()
        if not label:
            raise self.fail("must not be empty (staff pages show it)", key="label")
        agent = self.get(doc, "agent", str, required=False) or ""
        description = self.get(doc, "description", str, required=False) or ""
        encoding = self.get(doc, "encoding", str, required=False) or ENCODING
        if encoding != ENCODING:
            raise self.fail(f"{encoding!r} is not supported (only {ENCODING})", key="encoding")
        length = self.get(doc, "record_length", int)
        if not 40 <= length <= 4096:
            raise self.fail(f"{length} is not a record length (40-4096 bytes)", key="record_length")
        kinds = self.kinds(self.get(doc, "kinds", dict))
        tables = self.get(doc, "records", dict)
        for key in tables:
            if key not in RECORD_NAMES:
                raise self.fail(f"is not a record ({', '.join(RECORD_NAMES)})", record=key, key="records")
        for key in _REQUIRED_RECORDS:
            if key not in tables:
                raise self.fail("is required", record=key, key="records")
        records = {key: self.record(key, tables[key], length, kinds) for key in RECORD_NAMES if key in tables}
        widths = {r.name: len(r.code) for r in records.values()}
        codes: dict[bytes, str] = {}
        for record in records.values():
            if len(record.code) != widths["header"]:
                raise self.fail(
                    f"record type is {len(record.code)} bytes, the header's {widths['header']}",
                    record=record.name,
                    field=record.meaning("record_type").name,  # type: ignore[union-attr]
                )
            if record.code in codes:
                raise self.fail(
                    f"record type {show(record.code)!r} is also the {codes[record.code]}'s",
                    record=record.name,
                    field=record.meaning("record_type").name,  # type: ignore[union-attr]
                )
            codes[record.code] = record.name
        kind_field = records["data"].meaning("kind")
        assert kind_field is not None
        for code in kinds:
            if len(code) != kind_field.width:
                raise self.fail(
                    f"code {code!r} is not {kind_field.width} digits wide like field {kind_field.name!r}",
                    key="kinds",
                )
        controls = self.controls(self.get(doc, "controls", list), records["trailer"], kinds)
        return Profile(
            name=name,
            label=label,
            agent=agent,
            description=description,
            path=self.path,
            record_length=length,
            kinds=kinds,
            header=records["header"],
            data=records["data"],
            trailer=records["trailer"],
            end=records.get("end"),
            controls=controls,
        )

    def kinds(self, table: dict[str, Any]) -> dict[str, PaymentKind]:
        if not table:
            raise self.fail("must map at least one data-kind code", key="kinds")
        kinds: dict[str, PaymentKind] = {}
        for code, kind in table.items():
            if not (code.isascii() and code.isdigit()):
                raise self.fail(f"code {code!r} is not digits", key="kinds")
            if kind not in GATEWAY_KINDS:
                raise self.fail(
                    f"code {code!r}: {kind!r} is not a gateway kind ({', '.join(GATEWAY_KINDS)})", key="kinds"
                )
            kinds[code] = kind
        return kinds

    def record(self, name: str, table: Any, length: int, kinds: dict[str, PaymentKind]) -> ProfileRecord:
        if not isinstance(table, dict):
            raise self.fail("must be a table with a list of fields", record=name)
        for key in table:
            if key != "fields":
                raise self.fail("is not a record key (fields)", record=name, key=key)
        items = self.get(table, "fields", list, record=name)
        if not items:
            raise self.fail("has no fields", record=name, key="fields")
        fields = [self.field(name, item, index, length, kinds) for index, item in enumerate(items, 1)]
        seen: set[str] = set()
        for f in fields:
            if f.name in seen:
                raise self.fail("is declared twice", record=name, field=f.name)
            seen.add(f.name)
        ordered = sorted(fields, key=lambda f: (f.start, f.end))
        declared = {f.name: i for i, f in enumerate(fields)}
        position = 1
        previous: ProfileField | None = None
        for f in ordered:
            if previous is not None and f.start <= previous.end:
                # blame the field declared later (the one just added, as a rule)
                late, early = (f, previous) if declared[f.name] > declared[previous.name] else (previous, f)
                raise self.fail(
                    f'positions {late.start}-{late.end} overlap "{early.name}" {early.start}-{early.end}',
                    record=name,
                    field=late.name,
                )
            if f.start > position:
                raise self.fail(
                    f"positions {position}-{f.start - 1} are not covered by any field (before {f.name!r})",
                    record=name,
                    key="fields",
                )
            position = f.end + 1
            previous = f
        if position != length + 1:
            raise self.fail(
                f"positions {position}-{length} are not covered by any field (record_length {length})",
                record=name,
                key="fields",
            )
        allowed = MEANINGS[name]
        meanings: dict[str, str] = {}
        for f in ordered:
            if f.meaning is None:
                continue
            if f.meaning not in allowed:
                raise self.fail(
                    f"meaning {f.meaning!r} is not one of the {name} record's ({', '.join(allowed)})",
                    record=name,
                    field=f.name,
                    key="meaning",
                )
            if f.meaning in meanings:
                raise self.fail(
                    f"meaning {f.meaning!r} is already field {meanings[f.meaning]!r}'s",
                    record=name,
                    field=f.name,
                    key="meaning",
                )
            meanings[f.meaning] = f.name
            if f.type not in allowed[f.meaning]:
                raise self.fail(
                    f"meaning {f.meaning!r} needs type {' or '.join(allowed[f.meaning])}, not {f.type!r}",
                    record=name,
                    field=f.name,
                    key="type",
                )
            low, high = _MEANING_WIDTHS.get(f.meaning, (1, length))
            if not low <= f.width <= high:
                raise self.fail(
                    f"meaning {f.meaning!r} needs {low}-{high} bytes, not {f.width}"
                    if low != high
                    else f"meaning {f.meaning!r} needs {low} bytes, not {f.width}",
                    record=name,
                    field=f.name,
                )
        for meaning in REQUIRED_MEANINGS[name]:
            if meaning not in meanings:
                raise self.fail(f"no field has the required meaning {meaning!r}", record=name, key="meaning")
        type_field = next(f for f in fields if f.meaning == "record_type")
        if type_field.start != 1 or type_field.const is None:
            raise self.fail(
                "the record type must start at position 1 and have a const",
                record=name,
                field=type_field.name,
            )
        if name != "data":
            for f in fields:
                if f.when is not None:
                    raise self.fail(
                        "'when' is for data-record dates only", record=name, field=f.name, key="when"
                    )
        return ProfileRecord(name, type_field.const, tuple(ordered))

    def field(
        self, record: str, item: Any, index: int, length: int, kinds: dict[str, PaymentKind]
    ) -> ProfileField:
        if not isinstance(item, dict):
            raise self.fail(f"field {index} must be a table", record=record, key="fields")
        label = item.get("name") if isinstance(item.get("name"), str) else f"#{index}"
        where: dict[str, Any] = {"record": record, "field": label}
        for key in item:
            if key not in _FIELD_KEYS:
                raise self.fail(f"is not a field key ({', '.join(sorted(_FIELD_KEYS))})", key=key, **where)
        name = self.get(item, "name", str, **where)
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise self.fail("must be lower_snake_case", key="name", **where)
        start = self.get(item, "start", int, **where)
        end = self.get(item, "end", int, **where)
        if not 1 <= start <= end:
            raise self.fail(f"positions {start}-{end} are not 1-based inclusive", key="start", **where)
        if end > length:
            raise self.fail(
                f"positions {start}-{end} end past the record length {length}", key="end", **where
            )
        width = end - start + 1
        kind = self.get(item, "type", str, **where)
        if kind not in FIELD_TYPES:
            raise self.fail(f"type {kind!r} is not one of {', '.join(FIELD_TYPES)}", key="type", **where)
        if kind in _FIXED_WIDTH and width != _FIXED_WIDTH[kind]:
            raise self.fail(
                f"type {kind} is {_FIXED_WIDTH[kind]} bytes, positions {start}-{end} are {width}",
                key="type",
                **where,
            )
        meaning = self.get(item, "meaning", str, required=False, **where)
        const: bytes | None = None
        raw_const = self.get(item, "const", str, required=False, **where)
        if kind == "filler":
            const = b" " * width
        elif kind == "zeros":
            const = b"0" * width
        if raw_const is not None:
            if kind not in ("N", "C"):
                raise self.fail(f"type {kind} cannot have a const", key="const", **where)
            try:
                const = (
                    raw_const.encode(ENCODING).ljust(width, b" ")
                    if kind == "C"
                    else raw_const.encode("ascii")
                )
            except UnicodeEncodeError:
                raise self.fail(f"const {raw_const!r} is not {ENCODING}", key="const", **where) from None
            if len(const) != width:
                raise self.fail(f"const {raw_const!r} is not {width} bytes", key="const", **where)
            if kind == "N" and not const.isdigit():
                raise self.fail(f"const {raw_const!r} of an N field is not digits", key="const", **where)
        allowed_values = self.get(item, "allowed", list, required=False, **where)
        allowed: tuple[bytes, ...] | None = None
        if allowed_values is not None:
            if kind != "N" or const is not None or not allowed_values:
                raise self.fail(
                    "'allowed' needs an N field without const and at least one value", key="allowed", **where
                )
            for value in allowed_values:
                if not (
                    isinstance(value, str) and value.isascii() and value.isdigit() and len(value) == width
                ):
                    raise self.fail(f"allowed value {value!r} is not {width} digits", key="allowed", **where)
            allowed = tuple(v.encode("ascii") for v in allowed_values)
        when_values = self.get(item, "when", list, required=False, **where)
        optional = self.get(item, "optional", bool, required=False, **where) or False
        when: tuple[str, ...] | None = None
        if (when_values is not None or optional) and (
            kind != "date" or meaning in ("paid_date", "created_on")
        ):
            raise self.fail(
                "'when' and 'optional' are for dates other than the payment and creation dates",
                key="when" if when_values is not None else "optional",
                **where,
            )
        if when_values is not None:
            if optional:
                raise self.fail("a date has either 'when' or 'optional', not both", key="when", **where)
            for code in when_values:
                if code not in kinds:
                    raise self.fail(f"kind code {code!r} is not in [kinds]", key="when", **where)
            when = tuple(when_values)
        source = self.get(item, "source", str, required=False, **where)
        if source is not None and source not in _SOURCES:
            raise self.fail(f"source {source!r} is not {' or '.join(_SOURCES)}", key="source", **where)
        note = self.get(item, "note", str, required=False, **where) or ""
        return ProfileField(name, start, end, kind, meaning, const, allowed, when, optional, source, note)

    def controls(
        self, items: list[Any], trailer: ProfileRecord, kinds: dict[str, PaymentKind]
    ) -> tuple[Control, ...]:
        if not items:
            raise self.fail("needs at least one control total", key="controls")
        controls: list[Control] = []
        for index, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise self.fail(f"control {index} must be a table", key="controls")
            where: dict[str, Any] = {
                "record": "trailer",
                "field": item.get("field") if isinstance(item.get("field"), str) else None,
            }
            for key in item:
                if key not in ("field", "total", "kinds"):
                    raise self.fail("is not a control key (field, total, kinds)", key=key, **where)
            name = self.get(item, "field", str, record="trailer")
            try:
                target = trailer.field(name)
            except KeyError:
                raise self.fail(
                    "control total names a field the trailer does not have", key="controls", **where
                ) from None
            if target.type != "N" or target.const is not None or target.meaning is not None:
                raise self.fail("a control total must be a plain N field", key="controls", **where)
            total = self.get(item, "total", str, **where)
            if total not in CONTROL_TOTALS:
                raise self.fail(f"total {total!r} is not {' or '.join(CONTROL_TOTALS)}", key="total", **where)
            codes = self.get(item, "kinds", list, required=False, **where)
            if codes is None:
                codes = list(kinds)
            for code in codes:
                if code not in kinds:
                    raise self.fail(f"kind code {code!r} is not in [kinds]", key="kinds", **where)
            if any(c.field == name for c in controls):
                raise self.fail("is the field of two control totals", key="controls", **where)
            controls.append(Control(name, total, tuple(codes)))
        return tuple(controls)


def load_profile_dir(directory: Path | str) -> list[Profile]:
    """Every ``*.toml`` of ``directory``, checked, in name order.

    Raises:
        ProfileError: the directory does not exist, or a profile in it is invalid (the first one found).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ProfileError(f"profile directory {directory} does not exist or is not a directory")
    return [load_profile(p) for p in sorted(directory.glob("*.toml"))]


# --- the compiled parser -------------------------------------------------------------------------------

_T = TypeVar("_T")
_EXPECT_HEADER, _IN_DATA, _AFTER_TRAILER, _AFTER_END = range(4)
_ORDER_PROBLEM = {
    _EXPECT_HEADER: "header missing",
    _AFTER_TRAILER: "record after the trailer",
    _AFTER_END: "record after the end record",
}
_DIGITS = b"0123456789"
_ASCII_ZEROS_44 = int.from_bytes(b"0" * 44, "big")
_BLOCK_SIZE = 1 << 20
_PARTY = slice(cvs.ISSUER.start, cvs.CONSIGNOR.start + cvs.CONSIGNOR.length)
_EXPIRY = cvs.EXPIRY.span
_AMOUNT = cvs.AMOUNT.span
_PAYMENT_NUMBER = cvs.PAYMENT_NUMBER.span
_REISSUE = cvs.REISSUE.start
_FAST = True
"""Use the block fast path for runs of well-formed data records (tests switch it off to compare)."""


@dataclass(frozen=True)
class _Segment:
    """A stretch of the data record that the compiled loop takes as one ``bytes``.

    The barcode and the store code are segments of their own (they differ on nearly every record), and so
    are the payment date and time; the other fields between them are merged, so each segment recurs across
    records and its checked, parsed values (its *facts*) are cached by its bytes. The last segment holds the
    line break too.
    """

    role: Literal["cached", "paid", "barcode", "store"]
    fields: tuple[ProfileField, ...]
    start: int
    """0-based offset of the segment in the record."""
    facts: tuple[str, ...] = ()
    """What the cache of a ``cached`` segment holds after the leading ``True``, in order."""


class _Plan:
    """What the parser needs from a profile, computed once per profile: segments, structs, the loop."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        data = profile.data
        self.length = length = profile.record_length
        self.layouts = {r.name: r.layout(length) for r in profile.records}
        self.names = {r.code: r.name for r in profile.records}
        self.code_width = len(profile.header.code)
        self.data_code = data.code
        self.has_end = profile.end is not None
        self.kind_codes = {
            code.encode("ascii"): (code, GATEWAY_KIND_CODES[kind], kind)
            for code, kind in profile.kinds.items()
        }
        self.ruled = tuple(f for f in data.fields if f.when is not None)
        groups: list[tuple[str, list[ProfileField]]] = []
        for f in data.fields:
            # the payment minute recurs across kinds: cached apart from the kind, as fixed120 does
            role = {"barcode": "barcode", "store": "store", "paid_date": "paid", "paid_time": "paid"}.get(
                f.meaning or "", "cached"
            )
            if role in ("cached", "paid") and groups and groups[-1][0] == role:
                groups[-1][1].append(f)
            else:
                groups.append((role, [f]))
        if groups[-1][0] in ("barcode", "store"):
            groups.append(("cached", []))  # the line break alone
        self.segments: list[_Segment] = []
        for role, members in groups:
            start = members[0].start - 1 if members else length
            facts: list[str] = []
            for f in members:
                if f.meaning == "kind":
                    facts.append("kind")
                elif f.meaning in ("capture_date", "transfer_date", "accounting_date", "channel"):
                    facts.append(f.meaning)
                elif f.meaning == "paid_date":
                    facts.append("paid_day")
                elif f.meaning == "paid_time":
                    facts.append("paid_hm")
            if "paid_day" in facts and "paid_hm" in facts:
                facts = [x for x in facts if x not in ("paid_day", "paid_hm")] + ["paid_at"]
            if any(f.when is not None for f in members):
                facts.append("present")
            self.segments.append(_Segment(cast(Any, role), tuple(members), start, tuple(facts)))
        widths = [sum(f.width for f in s.fields) for s in self.segments]
        self.unpack = {
            size: struct.Struct(
                "".join(
                    f"{w + (size - length if i == len(widths) - 1 else 0)}s" for i, w in enumerate(widths)
                )
            )
            for size in (length + 2, length + 1)
        }
        self.breaks = {length + 2: b"\r\n", length + 1: b"\n"}
        # expected presence of the ruled dates of each segment, per agent kind code
        self.presence = [
            {code: tuple(code in f.when for f in s.fields if f.when is not None) for code in profile.kinds}
            for s in self.segments
        ]
        # A run of data records may take the block path when every field is digits or a constant: then
        # deleting the digits of a run leaves exactly the constants' non-digit bytes and the line breaks.
        self.fast = all(f.type in _DIGIT_TYPES or f.const is not None for f in data.fields)
        signature = b"".join(f.const.translate(None, _DIGITS) for f in data.fields if f.const)
        self.signatures = {size: signature + self.breaks[size] for size in self.unpack}
        self.not_data_start = re.compile(b"\\n(?!" + re.escape(data.code) + b")")
        self.controls = profile.controls
        self.header_at = {
            m: profile.header.meaning(m)
            for m in ("created_on", "agent_code", "consignor_code", "consignor_name")
        }
        self.data_records = _compile_loop(self)


_FACT_NAMES = {
    "kind": ("code", "kind_code", "kind", "k"),
    "paid_at": ("paid_at",),
    "paid_day": ("paid_day",),
    "paid_hm": ("paid_hm",),
    "capture_date": ("capture",),
    "transfer_date": ("transfer",),
    "accounting_date": ("accounting",),
    "channel": ("channel",),
}
"""The loop's variable names for each fact of a segment (``kind`` is four values)."""


def _fact_names(segment: _Segment, index: int) -> list[str]:
    names: list[str] = []
    for fact in segment.facts:
        names += [f"ok{index}"] if fact == "present" else list(_FACT_NAMES[fact])
    return names


def _compile_loop(plan: _Plan) -> Callable[[_Reader, bytes, int], Iterator[PaymentRecord]]:
    """Generate the data loop for ``plan``'s segments (the hot path, as hand-written as fixed120's).

    Each cached segment's facts are unpacked straight into local variables, the counts and sums of each
    kind are local integers, and a record is built without the frozen-dataclass overhead. The source is
    built only from integer indexes and fixed identifiers (never from profile text) and compiled once per
    profile.
    """
    targets: list[str] = []
    unpacks: dict[int, str] = {}
    fixed: dict[int, bytes] = {}
    provided: set[str] = set()
    for i, segment in enumerate(plan.segments):
        if segment.role == "barcode":
            targets.append("barcode_b")
        elif segment.role == "store":
            targets.append("store_b")
        else:
            targets.append(f"s{i}")
            if not segment.facts and i != len(plan.segments) - 1 and all(f.const for f in segment.fields):
                fixed[i] = b"".join(cast(bytes, f.const) for f in segment.fields)  # compared, not cached
                continue
            names = _fact_names(segment, i)
            provided.update(names)
            unpacks[i] = ", ".join(["_", *names])
    whole = f"b''.join(({', '.join(targets)},))"
    kinds = list(plan.profile.kinds)
    out: list[str] = [
        "def data_records(self, run, size):",
        "    plan, caches = self.plan, self.caches",
        "    line_no, data_no = self.line_no, self.data_no",
        "    parties, expiries = caches.parties, caches.expiries",
        "    segment = self.segment",
        "    twin, switch, from_bytes = PAYMENT_RECORD_TWIN, PAYMENT_RECORD_SWITCH, int.from_bytes",
        "    party, expiry_at, amount_at = _PARTY, _EXPIRY, _AMOUNT",
        "    payment_number_at, reissue_at, zeros_44 = _PAYMENT_NUMBER, _REISSUE, _ASCII_ZEROS_44",
        f"    {', '.join(f'n{j}, a{j}' for j in range(len(kinds)))} = {', '.join('0, 0' for _ in kinds)}",
    ]
    out += [f"    c{i} = caches.segments[{i}]" for i in unpacks]
    out += [f"    {name} = None" for name in ("capture", "transfer", "accounting") if name not in provided]
    out += [
        "    try:",
        f"        for {', '.join(targets)}, in plan.unpack[size].iter_unpack(run):",
        "            line_no += 1",
        "            data_no += 1",
        "            folded = (from_bytes(barcode_b, 'big') - zeros_44) % 65535",
        "            if (3 * (folded >> 8) + (folded & 255)) % 10 or barcode_b[:2] != b'91':",
        "                _barcode_error(barcode_b.decode('ascii'), line_no, data_no)",
        *[
            line
            for i in fixed
            for line in (
                f"            if s{i} != K{i}:",
                f"                segment({i}, s{i}, {whole}, "
                "{'line_no': line_no, 'record_type': 'data', 'record_no': data_no})",
            )
        ],
        "            try:",
        *[f"                {names} = c{i}[s{i}]" for i, names in unpacks.items()],
        "                issuer, agent, consignor = parties[barcode_b[party]]",
        "                expiry = expiries[barcode_b[expiry_at]]",
        "            except KeyError:",
        "                location = {'line_no': line_no, 'record_type': 'data', 'record_no': data_no}",
        f"                record = {whole}",
        *[
            f"                {names} = c{i}.get(s{i}) or segment({i}, s{i}, record, location)"
            for i, names in unpacks.items()
        ],
        "                issuer, agent, consignor = (",
        "                    parties.get(barcode_b[party]) or _party(caches, barcode_b[party])",
        "                )",
        "                key = barcode_b[expiry_at]",
        "                expiry = expiries[key] if key in expiries else _expiry(caches, barcode_b, location)",
    ]
    for i in unpacks:
        if "present" in plan.segments[i].facts:
            out += [
                f"            if code not in ok{i}:",
                f"                _presence_error(plan, {whole}, code, line_no, data_no)",
            ]
    if "paid_at" not in provided:
        out.append("            paid_at = _combine(paid_day, paid_hm)")
    out.append("            amount = int(barcode_b[amount_at])")
    for j in range(len(kinds)):
        out += [
            f"            {'if' if j == 0 else 'elif'} k == {j}:",
            f"                n{j} += 1",
            f"                a{j} += amount",
        ]
    out += [
        "            barcode = barcode_b.decode('ascii')",
        "            record = twin(line_no, kind, kind_code, barcode, issuer, agent, consignor,",
        "                barcode[payment_number_at], barcode_b[reissue_at] - 48, expiry, amount,",
        "                paid_at, channel, store_b.decode('ascii'), transfer, accounting, capture, False)",
        "            if switch:",
        "                record.__class__ = PaymentRecord",
        "            yield record",
        "    finally:",
        "        self.line_no, self.data_no = line_no, data_no",
        "        counts, sums = self.counts, self.sums",
    ]
    for j, code in enumerate(kinds):
        out += [f"        counts[{code!r}] += n{j}", f"        sums[{code!r}] += a{j}"]
    namespace: dict[str, Any] = {
        "PAYMENT_RECORD_TWIN": PAYMENT_RECORD_TWIN,
        "PAYMENT_RECORD_SWITCH": PAYMENT_RECORD_SWITCH,
        "PaymentRecord": PaymentRecord,
        "_PARTY": _PARTY,
        "_EXPIRY": _EXPIRY,
        "_AMOUNT": _AMOUNT,
        "_PAYMENT_NUMBER": _PAYMENT_NUMBER,
        "_REISSUE": _REISSUE,
        "_ASCII_ZEROS_44": _ASCII_ZEROS_44,
        "_barcode_error": _barcode_error,
        "_party": _party,
        "_expiry": _expiry,
        "_combine": _combine,
        "_presence_error": _presence_error,
        **{f"K{i}": value for i, value in fixed.items()},
    }
    source = "\n".join(out) + "\n"
    exec(compile(source, f"<profile {plan.profile.name}: data loop>", "exec"), namespace)
    return cast(Callable[[_Reader, bytes, int], Iterator[PaymentRecord]], namespace["data_records"])


class _Caches:
    """Parsed values of recurring raw bytes, per parse; each dict starts again past ``DATE_CACHE_LIMIT``
    keys, so memory stays flat on any file. A key in a segment cache has passed all its checks."""

    def __init__(self, plan: _Plan) -> None:
        self.segments: list[dict[bytes, tuple[Any, ...]]] = [{} for _ in plan.segments]
        self.parties: dict[bytes, tuple[str, str, str]] = {}
        self.expiries: dict[bytes, datetime.date | None] = {}

    @staticmethod
    def keep(cache: dict[Any, _T], key: Any, value: _T) -> _T:
        if len(cache) >= DATE_CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return value


class _Reader:
    """One parse of one file (state, line numbers, totals); the same shape as ``fixed120``'s reader."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.state = _EXPECT_HEADER
        self.line_no = 0
        self.data_no = 0
        self.counts = dict.fromkeys(plan.profile.kinds, 0)
        self.sums = dict.fromkeys(plan.profile.kinds, 0)
        self.caches = _Caches(plan)

    def read(self, path: Path, adapter: str) -> Iterator[PaymentRecord]:
        try:
            with open(path, "rb", buffering=0) as f:
                pending = b""
                while chunk := f.read(_BLOCK_SIZE):
                    data = pending + chunk if pending else chunk
                    cut = data.rfind(b"\n") + 1
                    pending = data[cut:]
                    if not cut:
                        continue
                    for piece, size in self.pieces(data if cut == len(data) else data[:cut]):
                        if size and self.state == _IN_DATA:
                            yield from self.data_records(piece, size)
                        elif size:
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

    def pieces(self, data: bytes) -> list[tuple[bytes, int]]:
        """Complete lines as ``(run, size)`` for runs of same-length, digits-or-constant data records and
        ``(line, 0)`` for every other line (see ``adapters.fixed120._pieces``)."""
        plan = self.plan
        pieces: list[tuple[bytes, int]] = []
        pos, end, slow_until = 0, len(data), 0
        length, code = plan.length, plan.data_code
        fast = plan.fast and _FAST
        while pos < end:
            if fast and pos >= slow_until and data.startswith(code, pos):
                match = plan.not_data_start.search(data, pos)
                run_end = match.start() + 1 if match else end
                size = length + 2 if data[pos + length : pos + length + 2] == b"\r\n" else length + 1
                count, rest = divmod(run_end - pos, size)
                if not rest and data[pos + size - 1 : pos + size] == b"\n":
                    run = data if pos == 0 and run_end == end else data[pos:run_end]
                    if run.translate(None, _DIGITS) == plan.signatures[size] * count:
                        pieces.append((run, size))
                        pos = run_end
                        continue
                slow_until = run_end
            newline = data.index(b"\n", pos)
            pieces.append((data[pos : newline + 1], 0))
            pos = newline + 1
        return pieces

    def line(self, line: bytes) -> Iterator[PaymentRecord]:
        """One line, checked field by field."""
        plan = self.plan
        self.line_no += 1
        line_no = self.line_no
        record = line.removesuffix(b"\n").removesuffix(b"\r")
        length = plan.length
        if len(record) != length:
            if record is line and len(record) < length:
                raise RecordOrderError(
                    f"file ends inside a record ({len(record)} of {length} bytes)",
                    line_no=line_no,
                    value=show(record[:40]),
                )
            raise RecordLengthError(length, len(record), line_no=line_no, value=show(record[:40]))
        name = plan.names.get(record[: plan.code_width])
        if name == "data":
            if self.state != _IN_DATA:
                raise RecordOrderError(_ORDER_PROBLEM[self.state], line_no=line_no, record_type="data")
            plan.layouts["data"].parse(record, line_no=line_no, record_no=self.data_no + 1)
            self.line_no -= 1  # data_records counts the line again
            yield from self.data_records(record + b"\r\n", length + 2)
        elif name == "header":
            if self.state != _EXPECT_HEADER:
                raise RecordOrderError("a second header", line_no=line_no, record_type="header")
            _header_info(plan, record, line_no)
            self.state = _IN_DATA
        elif name == "trailer":
            if self.state != _IN_DATA:
                problem = "a second trailer" if self.state == _AFTER_TRAILER else _ORDER_PROBLEM[self.state]
                raise RecordOrderError(problem, line_no=line_no, record_type="trailer")
            values = plan.layouts["trailer"].parse(record, line_no=line_no)
            for control in plan.controls:
                totals = self.counts if control.total == "count" else self.sums
                calculated = sum(totals[code] for code in control.kinds)
                if int(values[control.field]) != calculated:
                    raise ControlTotalMismatch(
                        control.field,
                        calculated,
                        int(values[control.field]),
                        description=control.description,
                        line_no=line_no,
                        record_type="trailer",
                    )
            self.state = _AFTER_TRAILER
        elif name == "end":
            if self.state != _AFTER_TRAILER:
                problem = "trailer missing" if self.state == _IN_DATA else _ORDER_PROBLEM[self.state]
                raise RecordOrderError(problem, line_no=line_no, record_type="end")
            plan.layouts["end"].parse(record, line_no=line_no)
            self.state = _AFTER_END
        else:
            raise UnknownRecordType(show(record[: plan.code_width]), line_no=line_no, field="record_type")

    def data_records(self, run: bytes, size: int) -> Iterator[PaymentRecord]:
        """Data records of ``size`` bytes each whose digit fields are digits: the loop compiled for the
        profile (returned, not delegated to, so that no generator level is added per record)."""
        return self.plan.data_records(self, run, size)

    def segment(self, index: int, raw: bytes, record: bytes, location: dict[str, Any]) -> tuple[Any, ...]:
        """Check the fields of segment ``index`` (``raw``, cut from ``record``) and cache its facts.

        Raises:
            FieldError: the first field of the segment that breaks the profile, named.
        """
        plan = self.plan
        segment = plan.segments[index]
        if (
            segment.facts == ("paid_at",) and segment.fields[0].meaning == "paid_date"
        ):  # the commonest miss (a new payment minute): straight to the point
            date_field, time_field = segment.fields
            day_text = raw[: date_field.width].decode("ascii")
            time_text = raw[date_field.width : date_field.width + 4].decode("ascii")
            try:
                day = parse_yyyymmdd(day_text)
            except ValueError:
                raise FieldError("is not a date", field=date_field.name, value=day_text, **location) from None
            try:
                hour, minute = parse_hhmm(time_text)
            except ValueError:
                raise FieldError(
                    "is not a time HHMM", field=time_field.name, value=time_text, **location
                ) from None
            paid_at = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST)
            return self.caches.keep(self.caches.segments[index], raw, (True, paid_at))
        values: dict[str, Any] = {}
        present: list[bool] = []
        for f in segment.fields:
            chunk = record[f.slice]
            if f.const is not None and chunk != f.const:
                raise FieldError(f"must be {show(f.const)!r}", field=f.name, value=show(chunk), **location)
            if f.allowed is not None and chunk not in f.allowed:
                choices = ", ".join(v.decode("ascii") for v in f.allowed)
                raise FieldError(f"is not one of {choices}", field=f.name, value=show(chunk), **location)
            if f.meaning == "kind":
                if chunk not in plan.kind_codes:
                    codes = ", ".join(plan.profile.kinds)
                    raise FieldError(
                        f"is not a data kind ({codes})", field=f.name, value=show(chunk), **location
                    )
                values["kind"] = plan.kind_codes[chunk]
            elif f.meaning == "channel":
                values["channel"] = _channel(f, chunk.decode("ascii"), location)
            elif f.type == "time":
                text = chunk.decode("ascii")
                try:
                    hour_minute = parse_hhmm(text)
                except ValueError:
                    raise FieldError("is not a time HHMM", field=f.name, value=text, **location) from None
                if f.meaning == "paid_time":
                    values["paid_hm"] = hour_minute
            elif f.type == "date":
                text = chunk.decode("ascii")
                date: datetime.date | None = None
                if not (text == "0" * f.width and (f.when is not None or f.optional)):
                    try:
                        date = parse_yyyymmdd(text)
                    except ValueError:
                        raise FieldError("is not a date", field=f.name, value=text, **location) from None
                if f.when is not None:
                    present.append(date is not None)
                values["paid_day" if f.meaning == "paid_date" else f.meaning or f.name] = date
        if "paid_at" in segment.facts:
            values["paid_at"] = _combine(values["paid_day"], values["paid_hm"])
        facts: list[Any] = [True]
        for name in segment.facts:
            if name == "kind":
                code, kind_code, kind = values["kind"]
                facts += [code, kind_code, kind, list(plan.profile.kinds).index(code)]
            elif name == "present":  # the kind codes these dates are right for
                facts.append(frozenset(c for c, p in plan.presence[index].items() if p == tuple(present)))
            else:
                facts.append(values[name])
        return self.caches.keep(self.caches.segments[index], raw, tuple(facts))

    def finish(self) -> None:
        if self.state == _EXPECT_HEADER:
            raise RecordOrderError(
                "header missing: the file is empty", line_no=self.line_no + 1, record_type="header"
            )
        if self.state == _IN_DATA:
            raise RecordOrderError(
                "trailer missing (file truncated?)", line_no=self.line_no + 1, record_type="trailer"
            )
        if self.state == _AFTER_TRAILER and self.plan.has_end:
            raise RecordOrderError(
                "end record missing (file truncated?)", line_no=self.line_no + 1, record_type="end"
            )


def _header_info(plan: _Plan, record: bytes, line_no: int) -> FileInfo:
    profile = plan.profile
    values = plan.layouts["header"].parse(record, line_no=line_no)
    dates: dict[str, datetime.date] = {}
    for f in profile.header.fields:
        if f.type == "date":
            try:
                dates[f.name] = parse_yyyymmdd(values[f.name])
            except ValueError:
                raise FieldError(
                    "is not a date", line_no=line_no, record_type="header", field=f.name, value=values[f.name]
                ) from None
        elif f.type == "time":
            try:
                parse_hhmm(values[f.name])
            except ValueError:
                raise FieldError(
                    "is not a time HHMM",
                    line_no=line_no,
                    record_type="header",
                    field=f.name,
                    value=values[f.name],
                ) from None

    def text(meaning: str) -> str | None:
        f = plan.header_at[meaning]
        return None if f is None else values[f.name]

    created = plan.header_at["created_on"]
    assert created is not None
    return FileInfo(
        adapter=profile.name,
        kind="payment",
        agent_code=text("agent_code"),
        consignor_code=text("consignor_code"),
        consignor_name=text("consignor_name"),
        created_on=dates[created.name],
    )


def _barcode_error(digits: str, line_no: int, data_no: int) -> None:
    try:
        cvs.validate(digits)
    except BarcodeError as ex:
        raise barcode_field_error(ex, digits, line_no=line_no, record_type="data", record_no=data_no) from ex
    raise FieldError(  # pragma: no cover - the fast check and barcodes.cvs agree (tested)
        "is not a valid barcode", line_no=line_no, record_type="data", record_no=data_no, field="barcode"
    )


def _party(caches: _Caches, key: bytes) -> tuple[str, str, str]:
    """Barcode positions 3-13 → (issuer prefix, agent code, consignor code)."""
    text = key.decode("ascii")
    return caches.keep(caches.parties, key, (text[:6], text[1:6], text[6:]))


def _expiry(caches: _Caches, barcode: bytes, location: dict[str, Any]) -> datetime.date | None:
    """Barcode positions 31-36 → expiry date, checked (with the whole barcode) by ``barcodes.cvs``."""
    return caches.keep(
        caches.expiries, barcode[_EXPIRY], check_barcode(barcode.decode("ascii"), **location).expiry
    )


def _combine(day: datetime.date, hour_minute: tuple[int, int]) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, *hour_minute, tzinfo=JST)


def _channel(f: ProfileField, text: str, location: dict[str, Any]) -> str:
    """The gateway's 4-digit channel code: a 3-digit field zero-padded, a 5-6 digit one without its zeros."""
    if len(text) > 4:
        if text[:-4].strip("0"):
            raise FieldError(
                f"is not a channel code (the first {len(text) - 4} digits must be 0)",
                field=f.name,
                value=text,
                **location,
            )
        return text[-4:]
    return text.rjust(4, "0")


def _presence_error(plan: _Plan, record: bytes, code: str, line_no: int, data_no: int) -> None:
    """The date that is present for a kind that must not have it, or missing for one that must."""
    for f in plan.ruled:
        text = record[f.slice].decode("ascii")
        wanted = code in cast(tuple[str, ...], f.when)
        zeros = text == "0" * f.width
        if wanted and zeros:
            message = f"is required for data kind {code}"
        elif not wanted and not zeros:
            message = f"must be {'0' * f.width} for data kind {code}"
        else:
            continue
        raise FieldError(
            message, line_no=line_no, record_type="data", record_no=data_no, field=f.name, value=text
        )
    raise AssertionError("presence mismatch without a field")  # pragma: no cover


# --- the adapter ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Totals:
    """What :func:`write` put in the trailer: record count and amount sum per data kind."""

    counts: dict[str, int]
    amounts: dict[str, int]


class ProfileAdapter(base.Adapter):
    """Base of the adapters compiled from profiles; :func:`compile_profile` makes one subclass per profile."""

    kind: ClassVar[Literal["payment", "bank"]] = "payment"
    profile: ClassVar[Profile]
    label: ClassVar[str]
    """The format's name on staff pages (the profile's ``label``)."""
    header_names_consignor: ClassVar[bool]
    """Whether the header carries the consignor code (ingest checks it against the agent's)."""
    _plan: ClassVar[_Plan]

    def identify(self, path: Path) -> bool:
        """The first line is one record long and its header fields of digits, dates and constants hold."""
        plan = self.__class__._plan
        length = plan.length
        try:
            head = read_head(Path(path), length + 2)
            if len(head) < length:
                return False
            tail = head[length:]
            if tail not in (b"", b"\n", b"\r\n") and not tail.startswith(b"\n"):
                return False
            record = head[:length]
            for f in self.profile.header.fields:
                chunk = record[f.slice]
                if f.type in _DIGIT_TYPES and not chunk.isdigit():
                    return False
                if f.const is not None and f.type != "filler" and f.type != "C" and chunk != f.const:
                    return False
                if f.meaning == "record_type" and chunk != f.const:
                    return False
                if f.type == "date":
                    parse_yyyymmdd(chunk.decode("ascii"))
        except Exception:  # identify never raises: anything odd is simply not ours
            return False
        return True

    def info(self, path: Path) -> FileInfo:
        """The header's creation date, agent and consignor."""
        plan = self.__class__._plan
        try:
            head = read_head(Path(path), plan.length + 2)
            first = head.split(b"\n", 1)[0].removesuffix(b"\r")
            if not first:
                raise RecordOrderError("header missing: the file is empty", line_no=1)
            if first[: plan.code_width] != self.profile.header.code:
                found = plan.names.get(first[: plan.code_width])
                raise RecordOrderError(
                    "header missing", line_no=1, record_type=found, value=show(first[: plan.code_width])
                )
            return _header_info(plan, first, 1)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise

    def parse(self, path: Path) -> Iterator[PaymentRecord]:
        """Stream the data records; check the trailer's control totals, then the end record."""
        return _Reader(self.__class__._plan).read(path, self.name)

    def write(self, out: BinaryIO, **kwargs: Any) -> Totals:
        """:func:`write` with this adapter's profile."""
        return write(self.profile, out, **kwargs)


def compile_profile(profile: Profile) -> type[ProfileAdapter]:
    """The adapter class of ``profile`` (``name`` is the profile's; instances take no arguments)."""
    cls = type("Adapter", (ProfileAdapter,), {"__module__": __name__, "__qualname__": "Adapter"})
    return bind_profile(cast(type[ProfileAdapter], cls), profile)


_A = TypeVar("_A", bound=type[ProfileAdapter])


def bind_profile(cls: _A, profile: Profile) -> _A:
    """Make ``cls`` (a :class:`ProfileAdapter` subclass) the compiled parser of ``profile``.

    For a module that declares its adapter class statically, as :mod:`adapters.fixed120` does.
    """
    cls.name = profile.name
    cls.profile = profile
    cls.label = profile.label
    cls.header_names_consignor = profile.header.meaning("consignor_code") is not None
    cls._plan = _Plan(profile)
    if cls.__doc__ is None or cls.__doc__ == ProfileAdapter.__doc__:
        cls.__doc__ = f"Reads ``{profile.name}`` files, compiled from {Path(profile.path).name}."
    return cls


def builtin_profiles() -> list[Profile]:
    """The profiles shipped in ``adapters/data/profiles``."""
    return load_profile_dir(BUILTIN_PROFILE_DIR)


# --- writing -------------------------------------------------------------------------------------------


def _digits(value: str, width: int, field: str) -> str:
    if not (value.isascii() and value.isdigit()) or len(value) > width:
        raise ValueError(f"{field} {value!r} is not at most {width} digits")
    return value.rjust(width, "0")


def _text(value: str, width: int, field: str) -> bytes:
    raw = value.encode(ENCODING)
    if len(raw) > width:
        raise ValueError(f"{field} {value!r} is {len(raw)} bytes in {ENCODING}, more than {width}")
    return raw.ljust(width, b" ")


def _default(f: ProfileField) -> bytes:
    if f.const is not None:
        return f.const
    if f.allowed:
        return f.allowed[0]
    return (b"0" if f.type in _DIGIT_TYPES else b" ") * f.width


def _fill(record: ProfileRecord, values: dict[str, bytes]) -> bytes:
    return b"".join(values.get(f.name, _default(f)) for f in record.fields)


def write(
    profile: Profile,
    out: BinaryIO,
    *,
    created_on: datetime.date,
    agent_code: str = "",
    consignor_code: str = "",
    consignor_name: str = "",
    records: Iterable[PaymentRecordLike],
    line_break: bytes = b"\r\n",
) -> Totals:
    """Write a file in ``profile``'s layout (cp932) and return the trailer's totals.

    The same layout the parser reads: header meanings from the arguments, data meanings from each record
    (``paid_at`` in Japan time; a 6-digit channel field gets the 4-digit channel code zero-padded), fields
    without a meaning their constant, first allowed value, zeros or spaces. Barcodes are written as given
    (tests build broken files); kind codes must be the profile's. Streams in blocks.

    Raises:
        ValueError: a value that does not fit its field, or a kind code the profile does not have.
    """
    h = profile.header
    header: dict[str, bytes] = {}
    for meaning, value in (("agent_code", agent_code), ("consignor_code", consignor_code)):
        f = h.meaning(meaning)
        if f is not None:
            header[f.name] = _digits(value, f.width, meaning).encode("ascii")
    f = h.meaning("consignor_name")
    if f is not None:
        header[f.name] = _text(consignor_name, f.width, "consignor_name")
    f = h.meaning("created_on")
    assert f is not None
    header[f.name] = created_on.strftime("%Y%m%d").encode("ascii")
    out.write(_fill(h, header) + line_break)
    counts = dict.fromkeys(profile.kinds, 0)
    amounts = dict.fromkeys(profile.kinds, 0)
    agent_code_of = _agent_codes(profile)
    line = _data_writer(profile)
    block: list[bytes] = []
    for record in records:
        code = agent_code_of.get(record.kind_code)
        if code is None:
            raise ValueError(f"data kind {record.kind_code!r} is not one of {', '.join(profile.kinds)}")
        block.append(line(record, code) + line_break)
        counts[code] += 1
        amounts[code] += int(record.barcode[_AMOUNT])
        if len(block) >= 4096:
            out.write(b"".join(block))
            block.clear()
    if block:
        out.write(b"".join(block))
    trailer: dict[str, bytes] = {}
    for control in profile.controls:
        width = profile.trailer.field(control.field).width
        totals = counts if control.total == "count" else amounts
        trailer[control.field] = _digits(
            str(sum(totals[c] for c in control.kinds)), width, control.field
        ).encode()
    out.write(_fill(profile.trailer, trailer) + line_break)
    if profile.end is not None:
        out.write(_fill(profile.end, {}) + line_break)
    return Totals(counts=counts, amounts=amounts)


def _agent_codes(profile: Profile) -> dict[str, str]:
    """Kind code of a record → the agent's code to write: the profile's own codes, and the gateway's code
    of a kind that exactly one of the profile's codes maps to (so parsed records can be written back)."""
    codes = {code: code for code in profile.kinds}
    for kind, gateway_code in GATEWAY_KIND_CODES.items():
        mine = [code for code, k in profile.kinds.items() if k == kind]
        if len(mine) == 1:
            codes.setdefault(gateway_code, mine[0])
    return codes


def _data_writer(profile: Profile) -> Callable[[PaymentRecordLike, str], bytes]:
    """A function formatting one record as the data layout (without the line break)."""
    getters: list[Callable[[PaymentRecordLike], str] | bytes | None] = []
    for f in profile.data.fields:
        if f.meaning == "kind":
            getters.append(None)  # the agent's code, given per record
        elif f.meaning is None:
            getters.append(_default(f))
        elif f.meaning == "record_type":
            getters.append(cast(bytes, f.const))
        else:
            getters.append(_getter(f.meaning, f.width))
    length = profile.record_length

    def line(record: PaymentRecordLike, kind_code: str) -> bytes:
        raw = b"".join(
            g if isinstance(g, bytes) else kind_code.encode() if g is None else g(record).encode("ascii")
            for g in getters
        )
        if len(raw) != length:
            raise ValueError(f"record does not fit the data layout: {raw!r}")
        return raw

    return line


def _getter(meaning: str, width: int) -> Callable[[PaymentRecordLike], str]:
    """How the writer reads the field of ``meaning`` from a record."""
    if meaning == "barcode":
        return lambda r: r.barcode
    if meaning == "paid_date":
        return lambda r: _jst(r.paid_at).strftime("%Y%m%d")
    if meaning == "paid_time":
        return lambda r: _jst(r.paid_at).strftime("%H%M")
    if meaning == "store":
        return lambda r: _digits(r.store_code, width, "store_code")
    if meaning == "channel":
        return lambda r: _digits(_unpad(r.channel_code, width), width, "channel_code")
    return lambda r: _day(getattr(r, meaning))


def _unpad(code: str, width: int) -> str:
    """A 4-digit channel code in a narrower field: ``0010`` in 3 digits is ``010`` (the reader pads again)."""
    excess = len(code) - width
    return code[excess:] if excess > 0 and not code[:excess].strip("0") else code


def _jst(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None:
        raise ValueError(f"paid_at {value} has no time zone")
    return value.astimezone(JST)


def _day(value: datetime.date | None) -> str:
    return "00000000" if value is None else value.strftime("%Y%m%d")


__all__ = [
    "BUILTIN_PROFILE_DIR",
    "FIELD_TYPES",
    "MEANINGS",
    "REQUIRED_MEANINGS",
    "Control",
    "Profile",
    "ProfileAdapter",
    "ProfileField",
    "ProfileRecord",
    "Totals",
    "bind_profile",
    "builtin_profiles",
    "check_profile",
    "compile_profile",
    "load_profile",
    "load_profile_dir",
    "write",
]
