"""The exception family of the settlement-file adapters (moov-io/ach style).

Every error a file can cause is a :class:`SettlementFileError`. Errors raised while reading a record carry
its location (file, line, record type and ordinal, field, offending value) so that the message an operator
sees names exactly where the file is broken; tests assert on the type and these attributes, never on the
wording.

>>> err = FieldError("differs from the barcode's 12500", path="in/20261127.txt", adapter="fixed120",
...                  line_no=3, record_type="data", record_no=2, field="amount", value="0012000")
>>> print(err)
fixed120 20261127.txt line 3 (data record 2) field amount: value '0012000' differs from the barcode's 12500
>>> err.line_no, err.field, err.value
(3, 'amount', '0012000')
>>> print(ControlTotalMismatch("count_01", 3, 4, description="count of 01 records", line_no=6))
line 6 field count_01: count of 01 records calculated 3 is out-of-balance with trailer 4
"""

from __future__ import annotations

import os
from typing import Any

_MAX_VALUE_CHARS = 60
"""Offending values are shown in messages up to this length (a whole garbage line would drown the message)."""


def _rebuild(cls: type[SettlementFileError], state: dict[str, Any]) -> SettlementFileError:
    """Recreate a pickled error with all its attributes (keyword-only constructors defeat the default)."""
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message"))
    err.__dict__.update(state)
    return err


class SettlementFileError(Exception):
    """A settlement or bank file that cannot be accepted (the whole file is rejected).

    Attributes:
        message: what is wrong, without the location.
        path: the file, when known (adapters fill it in as the error leaves ``parse``).
        adapter: the adapter's name, when known.
        line_no: 1-based physical line (for files without line breaks: the 1-based record number).
        record_type: ``header``, ``data``, ``trailer``, ``end`` (CSV: ``header``, ``data``).
        record_no: 1-based ordinal among the records of that type.
        field: the field's name as declared in the adapter's layout.
        value: the offending value as text.
    """

    default_message = "settlement file is not valid"

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        adapter: str | None = None,
        line_no: int | None = None,
        record_type: str | None = None,
        record_no: int | None = None,
        field: str | None = None,
        value: str | None = None,
    ) -> None:
        self.message: str = message or self.default_message
        self.path: str | None = os.fspath(path) if path is not None else None
        self.adapter: str | None = adapter
        self.line_no: int | None = line_no
        self.record_type: str | None = record_type
        self.record_no: int | None = record_no
        self.field: str | None = field
        self.value: str | None = value
        super().__init__(self.message)

    def locate(self, path: str | os.PathLike[str] | None, adapter: str | None) -> None:
        """Fill in the file and adapter where the raiser did not know them (nothing is overwritten)."""
        if self.path is None and path is not None:
            self.path = os.fspath(path)
        if self.adapter is None:
            self.adapter = adapter

    @property
    def location(self) -> str:
        """Where the error is, e.g. ``fixed120 x.txt line 3 (data record 2) field amount``."""
        parts: list[str] = []
        if self.adapter:
            parts.append(self.adapter)
        if self.path:
            parts.append(os.path.basename(self.path))
        if self.line_no is not None:
            parts.append(f"line {self.line_no}")
        if self.record_type:
            ordinal = f" {self.record_no}" if self.record_no is not None else ""
            parts.append(f"({self.record_type} record{ordinal})")
        if self.field:
            parts.append(f"field {self.field}")
        return " ".join(parts)

    def __str__(self) -> str:
        text = self.message
        if self.value is not None:
            value = self.value
            if len(value) > _MAX_VALUE_CHARS:
                value = value[:_MAX_VALUE_CHARS] + "…"
            text = f"value {value!r} {text}"
        location = self.location
        return f"{location}: {text}" if location else text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), dict(self.__dict__)))


class UnknownFileFormat(SettlementFileError):
    """No adapter recognises the file (or an adapter name that does not exist)."""

    default_message = "no adapter recognises this file"


class UnknownAdapter(UnknownFileFormat):
    """An adapter name that is not registered.

    Attributes:
        name: the name asked for.
        available: the names that exist.
    """

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = list(available)
        super().__init__(f"unknown adapter {name!r}; available: {', '.join(self.available) or 'none'}")


class AmbiguousFileFormat(SettlementFileError):
    """More than one adapter claims the file (beangulp treats this as an error, and so do we).

    Attributes:
        candidates: the names of the adapters that claimed it.
    """

    def __init__(self, candidates: list[str], message: str | None = None, **location: Any) -> None:
        self.candidates = list(candidates)
        super().__init__(
            message or f"file is claimed by several adapters: {', '.join(self.candidates)}", **location
        )


class DuplicateFile(SettlementFileError):
    """A file whose content (SHA-256) was already ingested; raised by the ingest service, not by adapters.

    Attributes:
        sha256: the content hash, hex.
    """

    def __init__(self, sha256: str, message: str | None = None, **location: Any) -> None:
        self.sha256 = sha256
        super().__init__(message or f"file with SHA-256 {sha256} was already ingested", **location)


class RecordError(SettlementFileError):
    """A record that is structurally broken."""

    default_message = "record is not valid"


class RecordLengthError(RecordError):
    """A record of the wrong length (bytes for fixed-width formats, columns for CSV).

    Attributes:
        expected: the length the format prescribes.
        actual: the length found (without the line break).
    """

    def __init__(self, expected: int, actual: int, message: str | None = None, **location: Any) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(message or f"record length {actual} is not the expected {expected}", **location)


class UnknownRecordType(RecordError):
    """A record type (or CSV data kind) the format does not define.

    Attributes:
        code: the record type found.
    """

    def __init__(self, code: str, message: str | None = None, **location: Any) -> None:
        self.code = code
        location.setdefault("value", code)
        super().__init__(message or "is not a known record type", **location)


class FieldError(RecordError):
    """A field that is not of its type or breaks a rule of the format (barcode errors are chained)."""

    default_message = "field is not valid"


class RecordOrderError(RecordError):
    """Header, trailer or end record missing or out of order, a record after the trailer, a truncated file."""

    default_message = "records are out of order"


class EncodingError(RecordError):
    """Bytes that do not decode in the format's encoding."""

    default_message = "bytes do not decode"


class ControlTotalMismatch(SettlementFileError):
    """A trailer count or sum that does not equal what the records add up to.

    Attributes:
        field: the trailer field, e.g. ``count_01``.
        calculated: what the records add up to.
        control: what the trailer says.
    """

    def __init__(
        self,
        field: str,
        calculated: int,
        control: int,
        *,
        description: str | None = None,
        message: str | None = None,
        **location: Any,
    ) -> None:
        self.calculated = calculated
        self.control = control
        text = (
            message
            or f"{description or field} calculated {calculated} is out-of-balance with trailer {control}"
        )
        super().__init__(text, field=field, **location)


class ProfileError(SettlementFileError):
    """An agent-layout profile (``adapters/data/profiles/*.toml`` or an office's) that cannot be used.

    Raised when the profile is loaded, before any settlement file is read: the message names the profile
    file, the record and the field or key, e.g. ``mizuho120.toml: record "data" field "amount": positions
    95-102 overlap "cvs_code" 97-102``.

    Attributes:
        path: the profile file.
        record_type: the record (``header``, ``data``, ``trailer``, ``end``), when the problem is in one.
        field: the field's name, when the problem is in one.
        key: the TOML key at fault (``start``, ``type``, ``kinds`` …), when one is.
    """

    default_message = "profile is not valid"

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        record_type: str | None = None,
        field: str | None = None,
        key: str | None = None,
    ) -> None:
        self.key = key
        super().__init__(message, path=path, record_type=record_type, field=field)

    @property
    def location(self) -> str:
        """Where the error is, e.g. ``mizuho120.toml: record "data" field "amount"``."""
        parts: list[str] = []
        if self.record_type:
            parts.append(f'record "{self.record_type}"')
        if self.field:
            parts.append(f'field "{self.field}"')
        if self.key:
            parts.append(f'key "{self.key}"')
        where = " ".join(parts)
        name = os.path.basename(self.path) if self.path else "profile"
        return f"{name}: {where}" if where else name

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.path else self.message
