"""Fixed-width record layouts declared as data (moov-io/ach style).

A layout lists its fields with the **1-based, inclusive positions copied from the spec**; each adapter
module quotes the spec in a comment per field. Records are sliced as bytes (the formats count bytes, and a
cp932 kana or kanji is one or two bytes), ``N`` fields must be ASCII digits, ``C`` fields are decoded cp932.

>>> layout = RecordLayout("data", b"2", 10, (
...     Field("record_type", 1, 1, "N", const=b"2"),
...     Field("amount", 2, 7, "N"),
...     Field("name", 8, 10, "C"),
... ))
>>> layout.parse(b"2012000\\xb1\\xb2 ", line_no=3)
{'record_type': '2', 'amount': '012000', 'name': 'ｱｲ'}
>>> layout.parse(b"20120O0ABC", line_no=3)
Traceback (most recent call last):
    ...
adapters.errors.FieldError: line 3 (data record) field amount: value '0120O0' is not all digits
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any
from typing import Literal

from adapters.errors import EncodingError
from adapters.errors import FieldError
from adapters.errors import RecordLengthError

ENCODING = "cp932"
"""Text fields of every fixed-width format here are Shift_JIS as Windows writes it (cp932)."""

FieldKind = Literal["N", "C", "X"]
"""``N`` digits (right-aligned, zero-filled), ``C`` text (left-aligned, space-filled), ``X`` filler."""


def show(raw: bytes) -> str:
    """Render raw bytes for an error message: cp932 where it decodes, escapes where it does not."""
    return raw.decode(ENCODING, errors="backslashreplace")


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a fixed-width record.

    Args:
        name: snake_case name used in records and errors.
        start: first byte, 1-based, as printed in the spec.
        end: last byte, 1-based, inclusive.
        kind: ``N``, ``C`` or ``X``.
        const: the exact bytes the field must hold (record types, fixed zeros, space fillers).
        blank_ok: an ``N`` field that may also be all spaces (banks leave optional codes blank).
    """

    name: str
    start: int
    end: int
    kind: FieldKind
    const: bytes | None = None
    blank_ok: bool = False
    slice: slice = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.end:
            raise ValueError(
                f"field {self.name}: positions {self.start}-{self.end} are not 1-based inclusive"
            )
        if self.const is not None and len(self.const) != self.length:
            raise ValueError(f"field {self.name}: constant {self.const!r} is not {self.length} bytes")
        object.__setattr__(self, "slice", slice(self.start - 1, self.end))

    @property
    def length(self) -> int:
        """Width in bytes."""
        return self.end - self.start + 1


@dataclass(frozen=True)
class RecordLayout:
    """The fields of one record type; checked at import to tile ``1 … length`` without gap or overlap.

    Args:
        name: ``header``, ``data``, ``trailer``, ``end``.
        code: the record-type byte(s) at position 1.
        length: record length in bytes (without the line break).
        fields: in order of position.
    """

    name: str
    code: bytes
    length: int
    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        position = 1
        for f in self.fields:
            if f.start != position:
                raise ValueError(
                    f"{self.name} record: field {f.name} starts at {f.start}, expected {position}"
                )
            position = f.end + 1
        if position != self.length + 1:
            raise ValueError(f"{self.name} record: fields end at {position - 1}, expected {self.length}")

    def field(self, name: str) -> Field:
        """The field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def parse(
        self, raw: bytes, *, line_no: int | None = None, record_no: int | None = None
    ) -> dict[str, str]:
        """Check every field of ``raw`` and return them as text (``C`` fields stripped of spaces).

        Raises:
            RecordLengthError: ``raw`` is not ``length`` bytes.
            FieldError: an ``N`` field with a non-digit, or a field that differs from its constant.
            EncodingError: a ``C`` field that is not cp932.
        """
        location: dict[str, Any] = {"line_no": line_no, "record_type": self.name, "record_no": record_no}
        if len(raw) != self.length:
            raise RecordLengthError(self.length, len(raw), **location)
        values: dict[str, str] = {}
        for f in self.fields:
            chunk = raw[f.slice]
            if f.const is not None and chunk != f.const:
                expected = f.const.decode("ascii")
                raise FieldError(f"must be {expected!r}", field=f.name, value=show(chunk), **location)
            if f.kind == "N":
                if not chunk.isdigit() and not (f.blank_ok and chunk.strip(b" ") == b""):
                    raise FieldError("is not all digits", field=f.name, value=show(chunk), **location)
                values[f.name] = chunk.decode("ascii").strip(" ")
            elif f.kind == "C":
                try:
                    text = chunk.decode(ENCODING)
                except UnicodeDecodeError as ex:
                    raise EncodingError(
                        f"is not {ENCODING} text", field=f.name, value=show(chunk), **location
                    ) from ex
                values[f.name] = text.strip(" ")
        return values
