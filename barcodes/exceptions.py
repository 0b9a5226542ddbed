"""The small exception family of the barcode modules (python-stdnum style).

Every error is a ``ValueError``; each class carries a default message and, where it helps a caller
locate the problem, the name of the offending ``field``.
"""

from __future__ import annotations


class BarcodeError(ValueError):
    """Top-level error for a barcode that cannot be used."""

    message = "barcode is not valid"

    def __init__(self, msg: str | None = None, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(msg or self.message)

    @property
    def detail(self) -> str:
        """The message, without the field name."""
        return str(self)


class InvalidFormat(BarcodeError):
    """Something other than digits, or a part that does not follow the layout."""

    message = "barcode has an invalid format"


class InvalidLength(InvalidFormat):
    """Not exactly 44 digits."""

    message = "barcode has an invalid length"


class InvalidChecksum(BarcodeError):
    """The check digit does not match."""

    message = "barcode check digit does not match"


class InvalidComponent(BarcodeError):
    """A well-formed barcode with a field this use does not allow (expiry date, prefix, amount …)."""

    message = "barcode has an invalid component"
