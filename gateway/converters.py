"""URL converters for database ids in routes: ``<id32:name>`` and ``<id64:name>``.

Werkzeug's ``int`` converter accepts any number of digits (and non-ASCII digits), so an id beyond what the
column holds reached the database and failed there with a 500 (PostgreSQL: "integer out of range"; SQLite:
"Python int too large"). These match ASCII digits only, up to the largest value of the id column's type —
``id32`` for ``INTEGER`` primary keys (most tables), ``id64`` for ``BIGINT`` ones (payments, settlement
records, accounting entries) — and anything else does not match the route: an ordinary 404. Every integer
route uses one of them (a test walks the URL map).
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import IntegerConverter
from werkzeug.routing import Map

MAX_ID32 = 2**31 - 1
MAX_ID64 = 2**63 - 1


class IdConverter(IntegerConverter):
    """A non-negative id of at most ``largest``."""

    regex = r"[0-9]{1,19}"
    largest = MAX_ID64

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", self.largest)
        super().__init__(map, *args, **kwargs)


class Id32Converter(IdConverter):
    regex = r"[0-9]{1,10}"
    largest = MAX_ID32


class Id64Converter(IdConverter):
    regex = r"[0-9]{1,19}"
    largest = MAX_ID64


CONVERTERS = {"id32": Id32Converter, "id64": Id64Converter}
