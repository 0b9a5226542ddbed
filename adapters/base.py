"""The adapter protocol (beangulp shape): only ``identify`` and ``parse`` are abstract.

An adapter is a configured instance of a class that knows one file format. It is pure: path in, plain
records out, no database, no web framework. ``parse`` streams: it yields each record as soon as it is read
and checked, keeps running control totals, and raises at the end (after the last record was yielded) when
the trailer disagrees or the file is cut short. Consumers therefore insert inside a transaction and roll back
on any :class:`~adapters.errors.SettlementFileError`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from typing import Literal

from adapters.errors import SettlementFileError
from adapters.records import BankRecord
from adapters.records import FileInfo
from adapters.records import PaymentRecord


class Adapter(abc.ABC):
    """Base class of every settlement-file adapter.

    Subclasses set ``name`` (stable; stored with every ingested file) and ``kind``, and implement
    :meth:`identify` and :meth:`parse`. Override :meth:`info` for a real header read; the default
    :meth:`archive_name` is built from it.
    """

    name: ClassVar[str]
    kind: ClassVar[Literal["payment", "bank"]]

    @abc.abstractmethod
    def identify(self, path: Path) -> bool:
        """Whether ``path`` is a file of this format.

        Cheap (reads at most the first KB or record) and total: returns ``False`` on anything odd, never
        raises. A file whose header is recognisable but whose body is broken is identified (``parse`` then
        names the defect).
        """

    @abc.abstractmethod
    def parse(self, path: Path) -> Iterator[PaymentRecord | BankRecord]:
        """Yield the file's records in order, checking each, and the control totals at the end.

        Raises:
            SettlementFileError: any structural defect; the error names file, line and field. Control-total
                and order errors come after the last record was yielded.
        """

    def info(self, path: Path) -> FileInfo:
        """What the header says (cheap). The default knows only the adapter.

        Raises:
            SettlementFileError: the header cannot be read.
        """
        return FileInfo(
            adapter=self.name,
            kind=self.kind,
            agent_code=None,
            consignor_code=None,
            consignor_name=None,
            created_on=None,
        )

    def archive_name(self, path: Path) -> str | None:
        """A tidy, neutral name for the archived original (beangulp ``filename()``), or ``None``.

        ``<created YYYYMMDD>-<adapter>[-<agent>][-<consignor>]<suffix>``, e.g.
        ``20261127-fixed120-12345-00123.txt``. Only codes and dates: nothing about the payers.
        """
        try:
            info = self.info(Path(path))
        except SettlementFileError:
            return None
        if info.created_on is None:
            return None
        parts = [info.created_on.strftime("%Y%m%d"), self.name]
        parts += [code for code in (info.agent_code, info.consignor_code) if code]
        return "-".join(parts) + Path(path).suffix.lower()

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} {self.name!r}>"
