"""``bank_counter``: payments at the designated bank's counter (指定金融機関の OCR・収納データ).

After the store deadline (取扱期限) the same 納付書 is paid at the designated bank's counter, as the slip
says. That money reaches the office's account directly and the bank reports it as its OCR or 収納 data — a CSV
whose columns differ from bank to bank. A **mapping file** (TOML, one per bank) says which column holds
what; this adapter turns such a file into confirmed payment records of channel :data:`CHANNEL` (金融機関窓口).

A mapping (``adapters/data/bank_mappings/example.toml`` is a synthetic bank)::

    bank_code = "9990"            # 全銀 bank code, 4 digits
    bank_name = "見本銀行"
    encoding = "cp932"            # or "utf-8" (a BOM is accepted)
    skip_rows = 1                 # rows before the first data row
    header_row = 1                # the row naming the columns (0: none; columns are then 1-based indexes)
    header = ["納付番号", "金額", "領収日", "店番", "受付番号"]   # optional: the whole header, exactly
    date_format = "yyyymmdd"      # "yyyymmdd", "yyyy/mm/dd" or "wareki" (R8.12.03, 令和8年12月3日)
    [columns]                     # a header name, or a 1-based column index
    payment_number = "納付番号"    # the 16-digit 納付番号 ... or: barcode = "バーコード" (the 44 digits)
    amount = "金額"               # yen; "12,000" and full-width digits accepted
    paid_date = "領収日"
    branch = "店番"               # 3-digit branch code (shorter codes are zero-padded)
    receipt_number = "受付番号"    # optional: unique per file (a repeated one is a duplicated line)
    paid_time = "領収時刻"         # optional: HHMM; else the payment is dated noon, Japan time

Records (:class:`~adapters.records.PaymentRecord`): kind ``confirmed``, kind code ``02`` (bank data is
confirmed money: there is no 速報), channel :data:`CHANNEL`, store code = bank code + branch (7 digits), no
transfer date (no agent remits it). With the 44 digits every barcode check applies and the amount column must
equal the barcode's; with only the payment number the record's ``barcode``, ``issuer_prefix``,
``consignor_code`` and ``agent_code`` are empty and ``reissue_count`` is :data:`NO_REISSUE`: the ingest
service fills in this office's prefix and consignor and reconciliation finds the slip by its number.

Which mappings exist: the ``*.toml`` files of the directories in ``GATEWAY_BANK_MAPPINGS`` (separated by
``os.pathsep``), or, when it is unset, the built-in ``adapters/data/bank_mappings/`` (the synthetic example,
for the demo and the tests). ``Adapter()`` tries them all (a file is identified by its header row naming the
mapping's payment-number or barcode column and its date column); ``Adapter(mapping="example")`` uses one,
which a file without a header row needs (adapter name ``bank_counter:example``).

>>> mapping = load_mapping(MAPPING_DIR / "example.toml")
>>> mapping.name, mapping.bank_code, mapping.columns["amount"]
('example', '9990', '金額')
>>> parse_amount("12,000"), parse_amount("１２０００"), parse_date("R8.12.03", "wareki")
(12000, 12000, datetime.date(2026, 12, 3))
>>> parse_amount("12,00")
Traceback (most recent call last):
    ...
ValueError: '12,00' is not an amount in yen
"""

from __future__ import annotations

import csv
import datetime
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import ClassVar
from typing import Literal

from adapters import base
from adapters._common import BUFFER_SIZE
from adapters._common import JST
from adapters._common import check_barcode
from adapters._common import parse_hhmm
from adapters._common import read_head
from adapters.errors import AmbiguousFileFormat
from adapters.errors import EncodingError
from adapters.errors import FieldError
from adapters.errors import RecordError
from adapters.errors import RecordLengthError
from adapters.errors import RecordOrderError
from adapters.errors import SettlementFileError
from adapters.errors import UnknownFileFormat
from adapters.records import FileInfo
from adapters.records import PaymentRecord

NAME = "bank_counter"
CHANNEL = "bank"
"""The channel code of money paid at the designated bank's counter: the same code a clerk records with
``gateway payments record --channel bank`` (金融機関窓口), so the daily report, the accounting export and
reconciliation see one channel however the money became known (``reconciliation.rules.BANK_COUNTER``)."""
KIND_CODE = "02"
NO_REISSUE = -1
"""``reissue_count`` of a record that names only the payment number: reconciliation takes the newest
reissue of that number."""
NOON = datetime.time(12, 0)
"""The time of a payment whose file gives only the date (as for money staff record)."""

MAPPING_DIR = Path(__file__).resolve().parent / "data" / "bank_mappings"
"""The built-in mappings (a synthetic bank): used when ``GATEWAY_BANK_MAPPINGS`` is unset."""
ENVIRONMENT = "GATEWAY_BANK_MAPPINGS"

MEANINGS = ("barcode", "payment_number", "amount", "paid_date", "branch", "receipt_number", "paid_time")
"""What a mapping's ``[columns]`` may name; ``amount``, ``paid_date``, ``branch`` and one of ``barcode`` /
``payment_number`` are required."""
REQUIRED = ("amount", "paid_date", "branch")
DATE_FORMATS = ("yyyymmdd", "yyyy/mm/dd", "wareki")
EARLIEST_PAID_DATE = datetime.date(2019, 5, 1)
LATEST_PAID_DATE = datetime.date(2099, 12, 31)
"""The window a paid date must fall in (the agent API's floor; a year such as 0026 is a damaged digit, and
the database cannot store its instant with the Japan offset of that time)."""
ENCODINGS = {"cp932": "cp932", "utf-8": "utf-8-sig", "utf8": "utf-8-sig", "shift_jis": "cp932"}
"""Encodings a mapping may name → the codec used (``utf-8-sig`` reads UTF-8 with or without a BOM)."""
_KEYS = ("name", "bank_code", "bank_name", "encoding", "skip_rows", "header_row", "header", "date_format",
         "delimiter", "columns")  # fmt: skip

ERAS = {"R": (2018, datetime.date(2019, 5, 1)), "H": (1988, datetime.date(1989, 1, 8))}
"""和暦: era letter → (the year before its first, its first day); 令和 ``R``/``令和``, 平成 ``H``/``平成``."""
_ERA_NAMES = {"令和": "R", "平成": "H"}
_WAREKI = re.compile(r"^(令和|平成|[RH])\s*(元|\d{1,2})[./年](\d{1,2})[./月](\d{1,2})日?$")
_AMOUNT = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)$")


class MappingError(SettlementFileError):
    """A mapping file that is not valid: ``path`` is the mapping file, ``field`` the key."""

    default_message = "bank mapping is not valid"


# -------------------------------------------------------------------------------------------- values


def parse_amount(text: str) -> int:
    """Yen from a bank's amount cell: digits, optionally grouped by commas, full-width digits allowed, at
    least 1.

    >>> parse_amount(" 300,000 "), parse_amount("0")
    Traceback (most recent call last):
        ...
    ValueError: '0' is not an amount in yen
    """
    clean = unicodedata.normalize("NFKC", text).strip().removesuffix("円").removeprefix("¥").strip()
    if not (clean.isascii() and _AMOUNT.match(clean)):
        raise ValueError(f"{text!r} is not an amount in yen")
    amount = int(clean.replace(",", ""))
    if amount < 1:
        raise ValueError(f"{text!r} is not an amount in yen")
    return amount


def parse_date(text: str, date_format: str) -> datetime.date:
    """A date in the mapping's format.

    >>> parse_date("20261203", "yyyymmdd"), parse_date("2026/12/3", "yyyy/mm/dd")
    (datetime.date(2026, 12, 3), datetime.date(2026, 12, 3))
    >>> parse_date("令和8年12月3日", "wareki"), parse_date("H31.04.30", "wareki")
    (datetime.date(2026, 12, 3), datetime.date(2019, 4, 30))
    >>> parse_date("H31.05.01", "wareki")
    Traceback (most recent call last):
        ...
    ValueError: 'H31.05.01' is not a date (wareki)
    """
    clean = unicodedata.normalize("NFKC", text).strip()
    try:
        if date_format == "yyyymmdd":
            if len(clean) != 8 or not (clean.isascii() and clean.isdigit()):
                raise ValueError
            return datetime.date(int(clean[:4]), int(clean[4:6]), int(clean[6:]))
        if date_format == "yyyy/mm/dd":
            parts = clean.split("/")
            if len(parts) != 3 or len(parts[0]) != 4 or not all(p.isascii() and p.isdigit() for p in parts):
                raise ValueError
            if not all(1 <= len(p) <= 2 for p in parts[1:]):
                raise ValueError
            return datetime.date(int(parts[0]), int(parts[1]), int(parts[2]))
        match = _WAREKI.match(clean)
        if date_format != "wareki" or match is None:
            raise ValueError
        era = _ERA_NAMES.get(match[1], match[1])
        year = 1 if match[2] == "元" else int(match[2])
        before, first = ERAS[era]
        day = datetime.date(before + year, int(match[3]), int(match[4]))
        later = [start for start in (e[1] for e in ERAS.values()) if start > first]
        if year < 1 or day < first or (later and day >= min(later)):
            raise ValueError
        return day
    except ValueError:
        raise ValueError(f"{text!r} is not a date ({date_format})") from None


# ------------------------------------------------------------------------------------------ mappings


@dataclass(frozen=True)
class Mapping:
    """One bank's column mapping (see the module docstring for the keys)."""

    name: str
    path: Path
    bank_code: str
    bank_name: str
    encoding: str
    """The codec (``cp932`` or ``utf-8-sig``)."""
    skip_rows: int
    header_row: int
    header: tuple[str, ...] | None
    date_format: str
    delimiter: str
    columns: dict[str, str | int]

    @property
    def key_column(self) -> str:
        """``barcode`` or ``payment_number``: what names the slip."""
        return "barcode" if "barcode" in self.columns else "payment_number"

    @property
    def adapter_name(self) -> str:
        return f"{NAME}:{self.name}"


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read and check one mapping file.

    Raises:
        MappingError: the file is not TOML or a key is missing, unknown or of the wrong kind; ``path`` is
            the mapping file and ``field`` the key (``columns.amount`` for a column).
    """
    path = Path(path)

    def error(key: str, message: str, value: Any = None) -> MappingError:
        return MappingError(
            message, path=path, adapter=NAME, field=key, value=None if value is None else str(value)
        )

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as ex:
        raise error("file", f"cannot be read as TOML: {ex}") from ex
    for key in data:
        if key not in _KEYS:
            raise error(key, f"is not a mapping key (known: {', '.join(_KEYS)})")
    name = data.get("name", path.stem)
    if name != path.stem:
        raise error("name", f"must be the file name without .toml ({path.stem!r})", name)
    if not re.fullmatch(r"[a-z0-9_]{1,19}", name):
        raise error("name", "must be 1-19 lower-case letters, digits or _", name)
    bank_code = data.get("bank_code")
    if not (
        isinstance(bank_code, str) and len(bank_code) == 4 and bank_code.isascii() and bank_code.isdigit()
    ):
        raise error("bank_code", "must be the 4-digit bank code as a string", bank_code)
    bank_name = data.get("bank_name", "")
    if not isinstance(bank_name, str):
        raise error("bank_name", "must be a string", bank_name)
    encoding = data.get("encoding", "cp932")
    if encoding not in ENCODINGS:
        raise error("encoding", f"must be one of {', '.join(ENCODINGS)}", encoding)
    skip_rows, header_row = data.get("skip_rows", 0), data.get("header_row", 0)
    for key, value in (("skip_rows", skip_rows), ("header_row", header_row)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 20:
            raise error(key, "must be a whole number from 0 to 20", value)
    if header_row > skip_rows:
        raise error("header_row", f"must be one of the {skip_rows} skipped rows (or 0)", header_row)
    header = data.get("header")
    if header is not None:
        if not header_row:
            raise error("header", "needs header_row")
        if not (isinstance(header, list) and header and all(isinstance(h, str) and h for h in header)):
            raise error("header", "must be a list of column names", header)
        header = tuple(_normalise(h) for h in header)
    date_format = data.get("date_format", "yyyymmdd")
    if date_format not in DATE_FORMATS:
        raise error("date_format", f"must be one of {', '.join(DATE_FORMATS)}", date_format)
    delimiter = data.get("delimiter", ",")
    if delimiter not in (",", "\t", ";", "|"):
        raise error("delimiter", "must be one of , tab ; |", delimiter)
    raw_columns = data.get("columns")
    if not isinstance(raw_columns, dict):
        raise error("columns", "is required: a table of meaning = column name or 1-based index")
    columns: dict[str, str | int] = {}
    for meaning, ref in raw_columns.items():
        key = f"columns.{meaning}"
        if meaning not in MEANINGS:
            raise error(key, f"is not a column meaning (known: {', '.join(MEANINGS)})")
        if isinstance(ref, str) and ref.strip():
            if not header_row:
                raise error(key, "names a column, so the mapping needs header_row", ref)
            if header is not None and _normalise(ref) not in header:
                raise error(key, "is not in header", ref)
            columns[meaning] = _normalise(ref)
        elif isinstance(ref, int) and not isinstance(ref, bool) and 1 <= ref <= 200:
            columns[meaning] = ref
        else:
            raise error(key, "must be a column name or a 1-based column index", ref)
    for meaning in REQUIRED:
        if meaning not in columns:
            raise error(f"columns.{meaning}", "is required")
    if ("barcode" in columns) == ("payment_number" in columns):
        raise error("columns.payment_number", "exactly one of barcode and payment_number is required")
    seen: dict[str | int, str] = {}
    for meaning, ref in columns.items():
        if ref in seen:
            raise error(f"columns.{meaning}", f"is the same column as columns.{seen[ref]}", ref)
        seen[ref] = meaning
    return Mapping(
        name=name,
        path=path,
        bank_code=bank_code,
        bank_name=bank_name,
        encoding=ENCODINGS[encoding],
        skip_rows=skip_rows,
        header_row=header_row,
        header=header,
        date_format=date_format,
        delimiter=delimiter,
        columns=columns,
    )


_CACHE: dict[tuple[Path, int], Mapping] = {}


def _cached(path: Path) -> Mapping:
    """A mapping file loaded once per modification (adapters are built for every file detected)."""
    key = (path.resolve(), path.stat().st_mtime_ns)
    mapping = _CACHE.get(key)
    if mapping is None:
        mapping = _CACHE[key] = load_mapping(path)
    return mapping


_CONFIGURED: list[str] = []
"""Directories set by :func:`configure` (the gateway's settings); they win over the environment."""


def configure(dirs: str | None) -> dict[str, Mapping]:
    """Use the mapping directories ``dirs`` (``os.pathsep``-separated; ``None`` or empty: the environment,
    else the built-in example) from now on, and load them all, so that a start fails on an invalid one.

    Raises:
        MappingError: a directory does not exist or a mapping in it is invalid.
    """
    _CONFIGURED[:] = [dirs] if dirs and dirs.strip() else []
    return load_mappings()


def mapping_dirs() -> list[Path]:
    """The directories mappings are read from: :func:`configure`'s, else ``GATEWAY_BANK_MAPPINGS``, else the
    built-in one."""
    configured = (_CONFIGURED[0] if _CONFIGURED else os.environ.get(ENVIRONMENT, "")).strip()
    if not configured:
        return [MAPPING_DIR]
    return [Path(part) for part in configured.split(os.pathsep) if part.strip()]


def load_mappings(dirs: list[Path] | None = None) -> dict[str, Mapping]:
    """Every mapping of ``dirs`` (default :func:`mapping_dirs`) by name; the first directory wins a name.

    Raises:
        MappingError: a mapping is invalid, or a configured directory does not exist.
    """
    found: dict[str, Mapping] = {}
    for folder in dirs if dirs is not None else mapping_dirs():
        if not folder.is_dir():
            raise MappingError(
                f"{ENVIRONMENT} names no directory", path=folder, adapter=NAME, field="directory"
            )
        for path in sorted(folder.glob("*.toml")):
            mapping = _cached(path)
            found.setdefault(mapping.name, mapping)
    return found


# ------------------------------------------------------------------------------------------- adapter


def _split(text: str, delimiter: str) -> list[str]:
    return next(csv.reader([text], delimiter=delimiter, strict=True), [])


def _head_rows(path: Path, mapping: Mapping, count: int) -> list[str] | None:
    """The first ``count`` lines of the file decoded in the mapping's encoding (``None``: they do not)."""
    head = read_head(path, 4096)
    complete = head[: head.rfind(b"\n") + 1] if b"\n" in head and len(head) == 4096 else head
    try:
        return complete.decode(mapping.encoding).splitlines()[:count]
    except UnicodeDecodeError:
        return None


def _claims(path: Path, mapping: Mapping) -> bool:
    """Whether the file's header row names the mapping's slip column and date column (NFKC, trimmed)."""
    names = [mapping.columns[mapping.key_column], mapping.columns["paid_date"]]
    if not mapping.header_row or not all(isinstance(n, str) for n in names):
        return False
    rows = _head_rows(path, mapping, mapping.header_row)
    if not rows or len(rows) < mapping.header_row:
        return False
    try:
        header = {_normalise(c) for c in _split(rows[mapping.header_row - 1], mapping.delimiter)}
    except csv.Error:
        return False
    return all(name in header for name in names)


class Adapter(base.Adapter):
    """Reads banks' counter-payment CSV files through their mapping.

    Args:
        mapping: a mapping name (from :func:`mapping_dirs`), a path to a ``.toml``, or a :class:`Mapping`;
            ``None`` tries every mapping and uses the one whose header the file carries.

    Raises:
        MappingError: the mapping (or, with ``None``, any mapping) is invalid.
        UnknownAdapter: no mapping of that name.
    """

    name: ClassVar[str] = NAME
    kind: ClassVar[Literal["payment", "bank"]] = "payment"
    agent_format: ClassVar[bool] = False
    """Not an agent's format: agents are not configured for it (the bank is not an agent)."""

    def __init__(self, mapping: str | os.PathLike[str] | Mapping | None = None) -> None:
        if isinstance(mapping, Mapping):
            self.mappings = [mapping]
        elif mapping is None:
            self.mappings = list(load_mappings().values())
        elif isinstance(mapping, str) and not mapping.endswith(".toml"):
            known = load_mappings()
            if mapping not in known:
                raise UnknownFileFormat(
                    f"no bank mapping {mapping!r} (known: {', '.join(sorted(known)) or 'none'})",
                    adapter=NAME,
                    field="adapter",
                    value=f"{NAME}:{mapping}",
                )
            self.mappings = [known[mapping]]
        else:
            self.mappings = [_cached(Path(mapping))]
        self.fixed = mapping is not None

    def mapping_for(self, path: Path) -> Mapping:
        """The mapping this file is read with: the one given, else the one whose header it carries.

        Raises:
            UnknownFileFormat: no mapping's header matches.
            AmbiguousFileFormat: several do.
        """
        if self.fixed:
            return self.mappings[0]
        matches = [m for m in self.mappings if _claims(Path(path), m)]
        if not matches:
            raise UnknownFileFormat("no bank mapping recognises the header", path=path, adapter=NAME)
        if len(matches) > 1:
            raise AmbiguousFileFormat([m.adapter_name for m in matches], path=path, adapter=NAME)
        return matches[0]

    def identify(self, path: Path) -> bool:
        """A configured mapping's header row (by name) is in the file; by-index mappings never identify."""
        try:
            return any(_claims(Path(path), m) for m in self.mappings)
        except Exception:  # identify never raises: anything odd is simply not ours
            return False

    def info(self, path: Path) -> FileInfo:
        """Agent and consignor from the first row's barcode (none for payment numbers); the first row's
        payment date as the file's date (bank files carry no creation date)."""
        try:
            first = next(iter(self._records(Path(path), limit=1)), None)
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise
        return FileInfo(
            adapter=self.name,
            kind="payment",
            agent_code=(first.agent_code or None) if first else None,
            consignor_code=(first.consignor_code or None) if first else None,
            consignor_name=None,
            created_on=first.paid_at.date() if first else None,
        )

    def archive_name(self, path: Path) -> str | None:
        """``<first payment date>-bank_counter-<bank code><suffix>``: ``20261204-bank_counter-9990.csv``."""
        try:
            mapping = self.mapping_for(Path(path))
            info = self.info(Path(path))
        except SettlementFileError:
            return None
        if info.created_on is None:
            return None
        return f"{info.created_on:%Y%m%d}-{self.name}-{mapping.bank_code}{Path(path).suffix.lower()}"

    def parse(self, path: Path) -> Iterator[PaymentRecord]:
        """Stream the data rows as confirmed payment records."""
        try:
            yield from self._records(Path(path))
        except SettlementFileError as err:
            err.locate(path, self.name)
            raise

    def _records(self, path: Path, limit: int | None = None) -> Iterator[PaymentRecord]:
        mapping = self.mapping_for(path)
        indexes: dict[str, int] = {m: ref - 1 for m, ref in mapping.columns.items() if isinstance(ref, int)}
        width: int | None = None
        receipts: dict[str, int] = {}
        blank_line: int | None = None
        produced = 0
        line_no = 0
        with open(path, "rb", buffering=BUFFER_SIZE) as f:
            for raw in f:
                line_no += 1
                terminated = raw.endswith(b"\n")
                try:
                    text = raw.decode(mapping.encoding).removesuffix("\n").removesuffix("\r")
                except UnicodeDecodeError as ex:
                    raise EncodingError(f"is not {mapping.encoding}", line_no=line_no) from ex
                if line_no == 1:
                    text = text.removeprefix("\ufeff")
                if line_no <= mapping.skip_rows:
                    if line_no == mapping.header_row:
                        indexes, width = _header(text, mapping, line_no)
                    continue
                if not text.strip():
                    blank_line = blank_line or line_no  # tolerated at the end of the file only
                    continue
                if blank_line is not None:
                    raise RecordError("blank line between rows", line_no=blank_line, record_type="data")
                try:
                    record = _row(text, line_no, line_no - mapping.skip_rows, mapping, indexes, width)
                except RecordError as err:
                    if terminated:
                        raise
                    raise RecordOrderError(
                        f"file ends inside a row ({err.message})",
                        line_no=line_no,
                        record_type="data",
                        field=err.field,
                        value=err.value,
                    ) from err
                receipt = record[1]
                if receipt is not None:
                    if receipt in receipts:
                        raise FieldError(
                            f"repeats the receipt number of line {receipts[receipt]} (a duplicated line)",
                            line_no=line_no,
                            record_type="data",
                            field="receipt_number",
                            value=receipt,
                        )
                    receipts[receipt] = line_no
                yield record[0]
                produced += 1
                if limit is not None and produced >= limit:
                    return
        if line_no < mapping.skip_rows:
            raise RecordOrderError(
                f"file ends before its {mapping.skip_rows} header rows",
                line_no=max(line_no, 1),
                record_type="header",
            )


def _header(text: str, mapping: Mapping, line_no: int) -> tuple[dict[str, int], int]:
    """The column index of each mapped meaning, read from the header row; and the row width."""
    location: dict[str, Any] = {"line_no": line_no, "record_type": "header"}
    try:
        names = [_normalise(c) for c in _split(text, mapping.delimiter)]
    except csv.Error as ex:
        raise RecordError(f"is not valid CSV: {ex}", **location) from ex
    if mapping.header is not None and tuple(names) != mapping.header:
        unknown = [n for n in names if n not in mapping.header]
        missing = [n for n in mapping.header if n not in names]
        if unknown:
            raise FieldError(
                f"is a column the mapping {mapping.name} does not know (header: {', '.join(mapping.header)})",
                field="header",
                value=unknown[0],
                **location,
            )
        detail = f"column {missing[0]!r} is missing" if missing else "columns are in another order"
        raise FieldError(
            f"differs from the mapping {mapping.name}'s header: {detail}",
            field="header",
            value=missing[0] if missing else None,
            **location,
        )
    indexes: dict[str, int] = {}
    for meaning, ref in mapping.columns.items():
        if isinstance(ref, int):
            indexes[meaning] = ref - 1
            continue
        if names.count(ref) != 1:
            raise FieldError(
                f"column {ref!r} (columns.{meaning} of mapping {mapping.name}) "
                + ("is missing" if ref not in names else "appears twice"),
                field=meaning,
                value=ref,
                **location,
            )
        indexes[meaning] = names.index(ref)
    return indexes, len(names)


def _row(
    text: str, line_no: int, record_no: int, mapping: Mapping, indexes: dict[str, int], width: int | None
) -> tuple[PaymentRecord, str | None]:
    """One data row → its record and its receipt number (``None`` when the mapping has none)."""
    location: dict[str, Any] = {"line_no": line_no, "record_type": "data", "record_no": record_no}
    try:
        cells = _split(text, mapping.delimiter)
    except csv.Error as ex:
        raise RecordError(f"is not valid CSV: {ex}", **location) from ex
    needed = max(indexes.values()) + 1
    if (width is not None and len(cells) != width) or len(cells) < needed:
        expected = width if width is not None else needed
        raise RecordLengthError(
            expected, len(cells), f"row has {len(cells)} columns, expected {expected}", **location
        )

    def cell(meaning: str) -> str:
        return cells[indexes[meaning]].strip()

    def error(meaning: str, message: str) -> FieldError:
        return FieldError(message, field=meaning, value=cells[indexes[meaning]], **location)

    try:
        amount = parse_amount(cell("amount"))
    except ValueError:
        raise error("amount", "is not an amount in yen") from None
    try:
        day = parse_date(cell("paid_date"), mapping.date_format)
    except ValueError:
        raise error("paid_date", f"is not a date ({mapping.date_format})") from None
    if not EARLIEST_PAID_DATE <= day <= LATEST_PAID_DATE:
        raise error("paid_date", f"is not between {EARLIEST_PAID_DATE} and {LATEST_PAID_DATE}")
    hour, minute = NOON.hour, NOON.minute
    if "paid_time" in indexes:
        try:
            hour, minute = parse_hhmm(_normalise(cell("paid_time")).replace(":", "").zfill(4))
        except ValueError:
            raise error("paid_time", "is not a time HHMM") from None
    branch = _normalise(cell("branch"))
    if not (1 <= len(branch) <= 3 and branch.isascii() and branch.isdigit()):
        raise error("branch", "is not a branch code of up to 3 digits")
    receipt: str | None = None
    if "receipt_number" in indexes:
        receipt = _normalise(cell("receipt_number"))
        if not receipt or len(receipt) > 20:
            raise error("receipt_number", "is not a receipt number (1-20 characters)")
    if "barcode" in indexes:
        digits = _normalise(cell("barcode")).removeprefix("EAN").replace(" ", "").replace("-", "")
        if len(digits) != 44 or not (digits.isascii() and digits.isdigit()):
            raise error("barcode", "is not the 44 digits of a payment barcode")
        barcode = check_barcode(digits, **location)
        if amount != barcode.amount:
            raise error("amount", f"differs from the barcode amount {barcode.amount}")
        code, prefix, consignor = digits, barcode.issuer_prefix, barcode.consignor_code
        agent, number, reissue, expiry = (
            barcode.agent_code,
            barcode.payment_number,
            barcode.reissue_count,
            barcode.expiry,
        )
    else:
        number = _normalise(cell("payment_number")).replace("-", "").replace(" ", "")
        if len(number) != 16 or not (number.isascii() and number.isdigit()):
            raise error("payment_number", "is not a 16-digit payment number")
        code = prefix = consignor = agent = ""
        reissue, expiry = NO_REISSUE, None
    record = PaymentRecord(
        line_no=line_no,
        kind="confirmed",
        kind_code=KIND_CODE,
        barcode=code,
        issuer_prefix=prefix,
        agent_code=agent,
        consignor_code=consignor,
        payment_number=number,
        reissue_count=reissue,
        barcode_expiry=expiry,
        amount=amount,
        paid_at=datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=JST),
        channel_code=CHANNEL,
        store_code=mapping.bank_code + branch.zfill(3),
        transfer_date=None,
        accounting_date=None,
        capture_date=None,
        postal_correction=False,
    )
    return record, receipt


__all__ = [
    "CHANNEL",
    "MAPPING_DIR",
    "NAME",
    "NO_REISSUE",
    "Adapter",
    "Mapping",
    "MappingError",
    "configure",
    "load_mapping",
    "load_mappings",
    "mapping_dirs",
    "parse_amount",
    "parse_date",
]
