"""Claims the office has decided: record, import, adjust, close (decisions taken elsewhere), show.

The gateway records decisions; it takes none. ``close`` stores a write-off, extinction or cancellation that
the office decided, with its date and reason.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway import pii
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import AuditEvent
from gateway.models import Claim
from gateway.models import ClaimAdjustment
from gateway.models import Debtor
from gateway.models import Slip
from gateway.models.base import table_of
from gateway.models.base import utcnow
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.claims import LEGAL_BASES
from gateway.money import balances
from gateway.money import reconcile

_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_POSTAL = re.compile(r"^(\d{3})-?(\d{4})$")


@dataclass(frozen=True)
class ClaimInput:
    """A decided claim as it arrives from staff or the welfare system."""

    number: str
    legal_basis: str
    amount: int
    fiscal_year: int
    debtor_ref: str
    debtor_name: str
    debtor_kana: str | None = None
    postal_code: str | None = None
    debtor_address: str | None = None
    decided_on: datetime.date | None = None
    assessment_number: str | None = None
    assessment_date: datetime.date | None = None
    revenue_item: str | None = None

    @property
    def debtor(self) -> pii.DebtorData:
        return pii.DebtorData(
            ref=self.debtor_ref,
            name=self.debtor_name,
            kana=self.debtor_kana,
            postal_code=self.postal_code,
            address=self.debtor_address,
        )


def is_individual_number(value: str) -> bool:
    """Whether ``value`` is a 12-digit 個人番号 with a valid check digit (番号法施行令 §8).

    >>> is_individual_number("123456789018")
    True
    >>> is_individual_number("123456789012")
    False
    """
    digits = unicodedata.normalize("NFKC", value).replace("-", "").replace(" ", "")
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), start=1))
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = unicodedata.normalize("NFC", str(value)).strip()
    return text or None


def claim_problems(
    data: ClaimInput, *, line: int | None = None, file: str | None = None
) -> tuple[ClaimInput | None, list[InvalidInput]]:
    """Check and normalise one claim: the clean claim, or every problem found (each naming its field, with a
    catalogue key for the Japanese text)."""
    problems: list[InvalidInput] = []

    def bad(fieldname: str, message: str, key: str, **params: Any) -> None:
        problems.append(InvalidInput(message, file=file, line=line, field=fieldname, key=key, params=params))

    number = _clean(data.number) or ""
    if not _NUMBER.match(number):
        bad(
            "number",
            f"claim number {number!r} must be 1-32 letters, digits or '-'",
            "claim.bad_number",
            value=number[:40],
        )
    if data.legal_basis not in LEGAL_BASES:
        bad(
            "legal_basis",
            f"legal basis {data.legal_basis!r} is not one of {', '.join(LEGAL_BASES)}",
            "claim.bad_legal_basis",
            value=str(data.legal_basis)[:40],
            choices=", ".join(LEGAL_BASES),
        )
    if not isinstance(data.amount, int) or isinstance(data.amount, bool) or data.amount < 1:
        bad(
            "amount",
            f"amount must be a whole number of yen of at least 1, got {data.amount!r}",
            "claim.bad_amount",
            value=str(data.amount)[:20],
        )
    elif data.amount > 9_999_999_999:
        bad(
            "amount",
            f"amount {data.amount} is implausibly large",
            "claim.amount_too_large",
            value=str(data.amount),
        )
    if not 2000 <= data.fiscal_year <= 2099:
        bad(
            "fiscal_year",
            f"fiscal year {data.fiscal_year} is outside 2000-2099",
            "claim.bad_fiscal_year",
            value=str(data.fiscal_year),
        )
    ref = _clean(data.debtor_ref)
    name = _clean(data.debtor_name)
    if not ref or len(ref) > 64:
        bad("debtor_ref", "debtor reference is required (at most 64 characters)", "claim.debtor_ref_required")
    if not name or len(name) > 100:
        bad("debtor_name", "debtor name is required (at most 100 characters)", "claim.debtor_name_required")
    postal = _clean(data.postal_code)
    if postal is not None:
        m = _POSTAL.match(unicodedata.normalize("NFKC", postal))
        if not m:
            bad(
                "postal_code",
                f"postal code {postal!r} must be 7 digits (123-4567)",
                "claim.bad_postal_code",
                value=postal[:20],
            )
        else:
            postal = f"{m.group(1)}-{m.group(2)}"
    values = {
        "debtor_ref": ref,
        "debtor_name": name,
        "debtor_kana": _clean(data.debtor_kana),
        "debtor_address": _clean(data.debtor_address),
        "assessment_number": _clean(data.assessment_number),
        "revenue_item": _clean(data.revenue_item),
    }
    for key, value in values.items():
        if value is not None and is_individual_number(value):
            bad(
                key,
                "looks like an individual number (個人番号); the gateway must not store one",
                "claim.individual_number",
            )
    if values["debtor_address"] is not None and len(values["debtor_address"] or "") > 200:
        bad("debtor_address", "address is longer than 200 characters", "claim.address_too_long")
    if problems:
        return None, problems
    return (
        ClaimInput(
            number=number,
            legal_basis=data.legal_basis,
            amount=data.amount,
            fiscal_year=data.fiscal_year,
            postal_code=postal,
            decided_on=data.decided_on,
            assessment_date=data.assessment_date,
            **values,  # type: ignore[arg-type]
        ),
        [],
    )


def validate_claim(data: ClaimInput, *, line: int | None = None, file: str | None = None) -> ClaimInput:
    """Check and normalise one claim; raise InvalidInput naming the (first bad) field."""
    clean, problems = claim_problems(data, line=line, file=file)
    if problems:
        raise problems[0]
    assert clean is not None
    return clean


def get_claim(ctx: Context, number: str) -> Claim:
    claim = ctx.session.exec(select(Claim).where(Claim.number == number)).first()
    if claim is None:
        raise NotFound(
            f"claim {number} not found", field="number", key="claim.not_found", params={"number": number}
        )
    return claim


def _new_claim(ctx: Context, data: ClaimInput) -> Claim:
    debtor, debtor_change = pii.upsert_debtor(ctx, data.debtor)
    if debtor_change == "updated":
        ctx.record("debtor.update", "debtor", debtor.id, via_claim=data.number)
    assert debtor.id is not None
    now = utcnow()
    claim = Claim(
        number=data.number,
        legal_basis=data.legal_basis,
        amount=data.amount,
        original_amount=data.amount,
        fiscal_year=data.fiscal_year,
        assessment_number=data.assessment_number,
        assessment_date=data.assessment_date,
        revenue_item=data.revenue_item,
        decided_on=data.decided_on,
        debtor_id=debtor.id,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(claim)
    ctx.session.flush()
    ctx.record("claim.create", "claim", claim.number, amount=claim.amount, legal_basis=claim.legal_basis)
    return claim


@mutation("claim.create")
def create_claim(ctx: Context, data: ClaimInput) -> Claim:
    """Record a decided claim. A claim number already in use is a conflict."""
    data = validate_claim(data)
    if ctx.session.exec(select(Claim.id).where(Claim.number == data.number)).first() is not None:
        raise Conflict(
            f"claim {data.number} already exists",
            field="number",
            key="claim.exists",
            params={"number": data.number},
        )
    return _new_claim(ctx, data)


# -- CSV import

IMPORT_COLUMNS = (
    "number",
    "legal_basis",
    "amount",
    "fiscal_year",
    "debtor_ref",
    "debtor_name",
    "debtor_kana",
    "postal_code",
    "debtor_address",
    "decided_on",
    "assessment_number",
    "assessment_date",
    "revenue_item",
)
REQUIRED_COLUMNS = ("number", "legal_basis", "amount", "fiscal_year", "debtor_ref", "debtor_name")
#: Header words that mean someone tried to send what the gateway must never hold.
FORBIDDEN_COLUMN_WORDS = {
    "individual number": ("個人番号", "マイナンバー", "mynumber", "my_number", "individual_number"),
    "case data": (
        "ケース",
        "case",
        "世帯",
        "household",
        "保護",
        "扶助",
        "受給",
        "recipient",
        "benefit",
        "病歴",
        "diagnosis",
        "caseworker",
    ),
}
MAX_IMPORT_ERRORS = 20


@dataclass
class ImportResult:
    file: str
    rows: int = 0
    created: int = 0
    unchanged: int = 0
    claims: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "rows": self.rows, "created": self.created, "unchanged": self.unchanged}


def _decode(raw: bytes, file: str) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        "file is neither UTF-8 nor Shift_JIS (cp932)",
        file=file,
        line=1,
        field="encoding",
        key="import.encoding",
    )


def _parse_date(value: str | None, column: str, line: int, file: str) -> datetime.date | None:
    if not value or not value.strip():
        return None
    try:
        text = unicodedata.normalize("NFKC", value).strip().replace("/", "-")
        return datetime.date.fromisoformat(text)
    except ValueError as ex:
        raise InvalidInput(
            f"{value!r} is not a date (YYYY-MM-DD)",
            file=file,
            line=line,
            field=column,
            key="import.not_a_date",
            params={"value": value.strip()[:20]},
        ) from ex


def _parse_int(value: str | None, column: str, line: int, file: str) -> int:
    text = unicodedata.normalize("NFKC", value or "").replace(",", "").strip()
    if not text:
        raise InvalidInput(f"{column} is empty", file=file, line=line, field=column, key="import.required")
    if not re.fullmatch(r"\d+", text):
        raise InvalidInput(
            f"{value!r} is not a whole number",
            file=file,
            line=line,
            field=column,
            key="import.not_a_number",
            params={"value": (value or "").strip()[:20]},
        )
    return int(text)


def _header_problems(header: list[str], file: str) -> tuple[list[str], list[InvalidInput]]:
    """The normalised column names and every problem of the header line."""
    columns = [unicodedata.normalize("NFKC", h).strip().lower() for h in header]
    problems: list[InvalidInput] = []
    forbidden: set[str] = set()
    for column in columns:
        for what, words in FORBIDDEN_COLUMN_WORDS.items():
            if column not in forbidden and any(w in column for w in words):
                forbidden.add(column)
                problems.append(
                    InvalidInput(
                        f"column {column!r} carries {what}; the gateway must not receive it",
                        file=file,
                        line=1,
                        field=column,
                        key="import.individual_number_column"
                        if what == "individual number"
                        else "import.case_data_column",
                        params={"column": column[:40]},
                    )
                )
    unknown = [c for c in columns if c not in IMPORT_COLUMNS and c not in forbidden]
    if unknown:
        problems.append(
            InvalidInput(
                f"unknown column(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(IMPORT_COLUMNS)}",
                file=file,
                line=1,
                field=unknown[0],
                key="import.unknown_columns",
                params={"columns": "、".join(f"「{c[:40]}」" for c in unknown)},
            )
        )
    for missing in [c for c in REQUIRED_COLUMNS if c not in columns]:
        problems.append(
            InvalidInput(
                f"missing column(s) {missing}",
                file=file,
                line=1,
                field=missing,
                key="import.missing_column",
                params={"column": missing},
            )
        )
    if len(set(columns)) != len(columns):
        problems.append(
            InvalidInput("a column appears twice", file=file, line=1, key="import.repeated_column")
        )
    return columns, problems


def _check_header(header: list[str], file: str) -> list[str]:
    columns, problems = _header_problems(header, file)
    if problems:
        raise problems[0]
    return columns


def _claim_rows(raw: bytes, file: str) -> Iterator[tuple[int, ClaimInput | None, list[InvalidInput]]]:
    """(line, clean claim or None, problems) for each row; header problems come first, as line 1."""
    reader = csv.reader(io.StringIO(_decode(raw, file), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("file is empty", file=file, line=1, key="import.empty") from None
    columns, problems = _header_problems(header, file)
    if problems:
        yield 1, None, problems
        return
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            yield (
                line,
                None,
                [
                    InvalidInput(
                        f"row has {len(row)} columns, header has {len(columns)}",
                        file=file,
                        line=line,
                        key="import.column_count",
                        params={"count": len(row), "header": len(columns)},
                    )
                ],
            )
            continue
        yield line, *_row_claim(dict(zip(columns, row, strict=True)), line, file)


def _row_claim(values: dict[str, str], line: int, file: str) -> tuple[ClaimInput | None, list[InvalidInput]]:
    errors: list[InvalidInput] = []

    def number(column: str) -> int:
        try:
            return _parse_int(values.get(column), column, line, file)
        except InvalidInput as ex:
            errors.append(ex)
            return 0

    def day(column: str) -> datetime.date | None:
        try:
            return _parse_date(values.get(column), column, line, file)
        except InvalidInput as ex:
            errors.append(ex)
            return None

    claim = ClaimInput(
        number=values["number"],
        legal_basis=values["legal_basis"].strip(),
        amount=number("amount"),
        fiscal_year=number("fiscal_year"),
        debtor_ref=values["debtor_ref"],
        debtor_name=values["debtor_name"],
        debtor_kana=values.get("debtor_kana"),
        postal_code=values.get("postal_code"),
        debtor_address=values.get("debtor_address"),
        decided_on=day("decided_on"),
        assessment_number=values.get("assessment_number"),
        assessment_date=day("assessment_date"),
        revenue_item=values.get("revenue_item"),
    )
    clean, more = claim_problems(claim, line=line, file=file)
    # A cell that did not parse is reported once, not again by the checks of its parsed stand-in.
    parsed_bad = {e.field for e in errors}
    errors += [p for p in more if p.field not in parsed_bad]
    return (clean if not errors else None), errors


def read_claims_csv(raw: bytes, file: str) -> Iterator[tuple[int, ClaimInput]]:
    """Yield (line, validated claim) for each row; raise InvalidInput on the first bad cell."""
    for line, claim, problems in _claim_rows(raw, file):
        if problems:
            raise problems[0]
        assert claim is not None
        yield line, claim


def _same_claim(claim: Claim, data: ClaimInput) -> bool:
    return (
        claim.legal_basis == data.legal_basis
        and claim.original_amount == data.amount
        and claim.fiscal_year == data.fiscal_year
        and claim.assessment_number == data.assessment_number
        and claim.assessment_date == data.assessment_date
        and claim.revenue_item == data.revenue_item
        and claim.decided_on == data.decided_on
    )


@mutation("claims.import")
def import_claims(ctx: Context, raw: bytes, file: str) -> ImportResult:
    """Import a claims CSV: every row or none.

    A row whose claim number already exists with the same content is ``unchanged`` (importing a file twice
    changes nothing); with different content it is an error — use ``claims adjust``. New debtors and claims
    are inserted with executemany, so a 10,000-row file takes seconds, not minutes.
    """
    name = Path(file).name
    result = ImportResult(file=name)
    seen: dict[str, int] = {}
    rows: list[tuple[int, ClaimInput]] = []
    for line, data in read_claims_csv(raw, name):
        if data.number in seen:
            raise _repeated(data.number, seen[data.number], name, line)
        seen[data.number] = line
        rows.append((line, data))
    result.rows = len(rows)
    existing = _existing_claims(ctx, [d.number for _, d in rows])
    debtor_ids = _debtor_ids(ctx, [d.debtor_ref for _, d in rows if d.number in existing])
    errors: list[InvalidInput] = []
    new: list[ClaimInput] = []
    for line, data in rows:
        claim = existing.get(data.number)
        if claim is None:
            new.append(data)
        elif _same_claim(claim, data) and claim.debtor_id == debtor_ids.get(data.debtor_ref):
            result.unchanged += 1
        else:
            errors.append(_exists_differs(data.number, name, line))
    if errors:
        first = errors[0]
        raise InvalidInput(
            first.message,
            file=first.file,
            line=first.line,
            field=first.field,
            details={"errors": [e.details | {"message": e.message} for e in errors[:MAX_IMPORT_ERRORS]]},
        )
    if new:
        debtors = pii.upsert_debtors(ctx, [d.debtor for d in new])
        for debtor_id, change in debtors.values():
            if change == "updated":
                ctx.record("debtor.update", "debtor", debtor_id, via_file=name)
        now = utcnow()
        ctx.session.execute(
            sa.insert(table_of(Claim)),
            [
                {
                    "number": d.number,
                    "legal_basis": d.legal_basis,
                    "amount": d.amount,
                    "original_amount": d.amount,
                    "fiscal_year": d.fiscal_year,
                    "assessment_number": d.assessment_number,
                    "assessment_date": d.assessment_date,
                    "revenue_item": d.revenue_item,
                    "decided_on": d.decided_on,
                    "status": "open",
                    "debtor_id": debtors[d.debtor_ref][0],
                    "created_at": now,
                    "updated_at": now,
                }
                for d in new
            ],
        )
        for d in new:
            ctx.record(
                "claim.create", "claim", d.number, amount=d.amount, legal_basis=d.legal_basis, via_file=name
            )
        result.created = len(new)
        result.claims = [d.number for d in new]
    ctx.record(
        "claims.import", "file", name, rows=result.rows, created=result.created, unchanged=result.unchanged
    )
    ctx.record("claims.import_file", "claims_file", file_sha256(raw), file=name, rows=result.rows)
    return result


def _repeated(number: str, first: int, file: str, line: int) -> InvalidInput:
    return InvalidInput(
        f"claim {number} repeats line {first}",
        file=file,
        line=line,
        field="number",
        key="import.repeated_number",
        params={"number": number, "first": first},
    )


def _exists_differs(number: str, file: str, line: int) -> InvalidInput:
    return InvalidInput(
        f"claim {number} exists with other content; use `claims adjust` to change it",
        file=file,
        line=line,
        field="number",
        key="import.exists_differs",
        params={"number": number},
    )


def file_sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def imported_before(ctx: Context, sha256: str) -> AuditEvent | None:
    """The audit event of an earlier import of exactly this file (by its SHA-256), if any."""
    return ctx.session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "claims.import_file", AuditEvent.target_id == sha256)
        .order_by(col(AuditEvent.id))
    ).first()


#: How many errors a preview lists (a file with more is wrong as a whole; the count says how many).
PREVIEW_ERRORS = 1000


@dataclass
class ImportPreview:
    """What importing a file would do, computed without writing anything (the staff page's preview)."""

    file: str
    sha256: str
    rows: int = 0
    new: int = 0
    unchanged: int = 0
    new_amount: int = 0
    sample: list[ClaimInput] = field(default_factory=list)
    errors: list[InvalidInput] = field(default_factory=list)
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0


def preview_import(ctx: Context, raw: bytes, file: str, *, sample: int = 5) -> ImportPreview:
    """Check a claims CSV as :func:`import_claims` would, collecting every error by row and column."""
    name = Path(file).name
    out = ImportPreview(file=name, sha256=file_sha256(raw))

    def problem(ex: InvalidInput) -> None:
        out.error_count += 1
        if len(out.errors) < PREVIEW_ERRORS:
            out.errors.append(ex)

    seen: dict[str, int] = {}
    rows: list[tuple[int, ClaimInput]] = []
    try:
        for line, data, problems in _claim_rows(raw, name):
            for ex in problems:
                problem(ex)
            if data is None:
                continue
            if data.number in seen:
                problem(_repeated(data.number, seen[data.number], name, line))
                continue
            seen[data.number] = line
            rows.append((line, data))
    except InvalidInput as ex:  # undecodable or empty: nothing else can be said
        problem(ex)
        return out
    existing = _existing_claims(ctx, [d.number for _, d in rows])
    debtor_ids = _debtor_ids(ctx, [d.debtor_ref for _, d in rows if d.number in existing])
    for line, data in rows:
        claim = existing.get(data.number)
        if claim is None:
            out.new += 1
            out.new_amount += data.amount
            if len(out.sample) < sample:
                out.sample.append(data)
        elif _same_claim(claim, data) and claim.debtor_id == debtor_ids.get(data.debtor_ref):
            out.unchanged += 1
        else:
            problem(_exists_differs(data.number, name, line))
    out.errors.sort(
        key=lambda e: (e.line or 0, IMPORT_COLUMNS.index(e.field) if e.field in IMPORT_COLUMNS else 99)
    )
    out.rows = len({e.line for e in out.errors if e.line and e.line > 1} | {line for line, _ in rows})
    return out


@mutation("debtor.reindex_names")
def reindex_names(ctx: Context, *, batch: int = 1000) -> int:
    """Build the name blind index of every debtor that has none (debtors written before it existed).

    Needs the data key (it decrypts names in the process, a machine read logged as one event, not a view).
    Returns how many debtors were indexed.
    """
    done = 0
    while ids := pii.debtors_without_name_index(ctx, batch):
        done += pii.index_names_of(ctx, ids)
        if len(ids) < batch:
            break
    ctx.record("debtor.reindex_names", "debtor", None, debtors=done)
    return done


def _existing_claims(ctx: Context, numbers: list[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        for claim in ctx.session.exec(select(Claim).where(Claim.number.in_(chunk))):  # type: ignore[attr-defined]
            found[claim.number] = claim
    return found


def _debtor_ids(ctx: Context, refs: list[str]) -> dict[str, int]:
    """Debtor id per reference, for the references that exist (looked up by blind index)."""
    index = {pii.ref_index(ctx, ref): ref for ref in set(refs)}
    out: dict[str, int] = {}
    keys = list(index)
    for start in range(0, len(keys), 500):
        for ref_index, debtor_id in ctx.session.execute(
            sa.select(col(Debtor.ref_index), col(Debtor.id)).where(
                col(Debtor.ref_index).in_(keys[start : start + 500])
            )
        ):
            out[index[ref_index]] = debtor_id
    return out


# -- changes and decisions


@mutation("claim.adjust")
def adjust_claim(
    ctx: Context, number: str, amount: int, reason: str, decided_on: datetime.date | None = None
) -> Claim:
    """Record a changed assessment (変更・減額調定). Money already collected is never touched; a claim reduced
    below what was paid shows a refund due."""
    claim = get_claim(ctx, number)
    if claim.status in CLOSED_STATUSES:
        raise Conflict(
            f"claim {number} is {claim.status}; a closed claim is not adjusted",
            field="number",
            key="claim.closed_no_change",
        )
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput(
            f"amount must be a whole number of yen, got {amount!r}",
            field="amount",
            key="form.not_a_number",
            params={"field": "amount", "value": str(amount)[:20]},
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required", field="reason", key="form.required", params={"field": "reason"}
        )
    if amount == claim.amount:
        raise InvalidInput(
            f"claim {number} already has amount {amount}",
            field="amount",
            key="claim.same_amount",
            params={"amount": f"{amount:,}"},
        )
    live = balances.balance(ctx, claim)
    if (
        amount < claim.amount
        and live.live_slip_amount
        and amount < live.paid_amount + live.pending_amount + live.live_slip_amount
    ):
        # Live slips would ask for more than is owed: staff must void or reissue them first.
        raise Conflict(
            f"live slips cover {live.live_slip_amount} yen; void them before reducing the claim to {amount}",
            field="amount",
            details={"live_slips": _live_slip_numbers(ctx, claim)},
            key="claim.live_slips_above",
            params={"amount": f"{live.live_slip_amount:,}"},
        )
    ctx.session.add(
        ClaimAdjustment(
            claim_id=claim.id,  # type: ignore[arg-type]
            old_amount=claim.amount,
            new_amount=amount,
            reason=reason.strip(),
            decided_on=decided_on,
            actor=ctx.actor.label,
        )
    )
    ctx.record(
        "claim.adjust", "claim", number, old_amount=claim.amount, new_amount=amount, reason=reason.strip()
    )
    claim.amount = amount
    claim.updated_at = utcnow()
    ctx.session.add(claim)
    reconcile.refresh_claim_statuses(ctx, [claim.id])  # type: ignore[list-item]
    return claim


def _live_slip_numbers(ctx: Context, claim: Claim) -> list[str]:
    slips = ctx.session.exec(select(Slip).where(Slip.claim_id == claim.id, Slip.status == "issued")).all()
    return [s.slip_number for s in slips]


@mutation("claim.close")
def close_claim(ctx: Context, number: str, status: str, decided_on: datetime.date, reason: str) -> Claim:
    """Record a decision taken elsewhere (write-off, extinction, cancellation). Live slips are voided so no
    one is asked to pay a closed claim; money that still arrives is kept and shows up in reconciliation."""
    if status not in CLOSED_STATUSES:
        raise InvalidInput(
            f"status must be one of {', '.join(CLOSED_STATUSES)}",
            field="status",
            key="form.choose",
            params={"field": "status"},
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required", field="reason", key="form.required", params={"field": "reason"}
        )
    claim = get_claim(ctx, number)
    if claim.status in CLOSED_STATUSES:
        raise Conflict(
            f"claim {number} is already {claim.status}", field="number", key="claim.closed_no_change"
        )
    for slip in ctx.session.exec(select(Slip).where(Slip.claim_id == claim.id, Slip.status == "issued")):
        slip.status = "void"
        slip.void_reason = f"claim {status}: {reason.strip()}"
        slip.status_changed_at = ctx.now()
        ctx.session.add(slip)
        ctx.record("slip.void", "slip", slip.slip_number, reason=slip.void_reason)
    claim.status = status
    claim.closed_on = decided_on
    claim.close_reason = reason.strip()
    claim.updated_at = utcnow()
    ctx.session.add(claim)
    ctx.record(
        "claim.close", "claim", number, status=status, decided_on=decided_on.isoformat(), reason=reason
    )
    return claim


# -- views


def claim_summary(claim: Claim, bal: balances.Balance) -> dict[str, Any]:
    """The claim's own fields and balances (no debtor, no slips)."""
    return {
        "number": claim.number,
        "legal_basis": claim.legal_basis,
        "amount": claim.amount,
        "original_amount": claim.original_amount,
        "fiscal_year": claim.fiscal_year,
        "status": claim.status,
        "paid_amount": bal.paid_amount,
        "pending_amount": bal.pending_amount,
        "balance": bal.balance,
        "refund_due_amount": bal.refund_due_amount,
        "assessment_number": claim.assessment_number,
        "assessment_date": claim.assessment_date.isoformat() if claim.assessment_date else None,
        "revenue_item": claim.revenue_item,
        "decided_on": claim.decided_on.isoformat() if claim.decided_on else None,
        "closed_on": claim.closed_on.isoformat() if claim.closed_on else None,
        "close_reason": claim.close_reason,
    }


def list_claims(
    ctx: Context, *, status: str | None = None, limit: int = 100, after: str | None = None
) -> list[tuple[Claim, balances.Balance]]:
    """Claims ordered by number, keyset-paginated."""
    query = select(Claim).order_by(col(Claim.number)).limit(limit)
    if status:
        query = query.where(Claim.status == status)
    if after:
        query = query.where(Claim.number > after)
    rows = ctx.session.exec(query).all()
    bals = balances.balances(ctx, rows)
    return [(c, bals[c.id]) for c in rows if c.id is not None]


def claims_for(ctx: Context, numbers: Iterable[str]) -> list[Claim]:
    return list(_existing_claims(ctx, list(numbers)).values())


# -- the staff search


@dataclass(frozen=True)
class ClaimQuery:
    """What the claims list is filtered by. ``q`` is one search box: a claim number (or its beginning), a
    debtor reference, a payment number (16 digits), a slip number (payment number-reissue), a barcode
    (44 digits), or a debtor's full name, kana or family name (blind index; only for roles that see names)."""

    q: str = ""
    status: str | None = None
    fiscal_year: int | None = None
    due_from: datetime.date | None = None
    due_to: datetime.date | None = None


@dataclass
class ClaimPage:
    """One page of the list: rows, the total, the 1-based position of the first row and the cursors."""

    rows: list[tuple[Claim, balances.Balance]]
    total: int
    first: int
    previous: str | None
    next: str | None
    name_searched: bool = False


_CODE_LIKE = re.compile(r"^[0-9A-Za-z-]*[0-9][0-9A-Za-z-]*$")


def _search_conditions(ctx: Context, query: ClaimQuery) -> tuple[list[Any], bool]:
    conditions: list[Any] = []
    name_searched = False
    term = unicodedata.normalize("NFKC", query.q or "").strip()
    if term:
        anyof: list[Any] = []
        if _NUMBER.match(term):
            # A prefix: a range on the unique index (SQLite compares bytes); LIKE elsewhere, where the
            # collation may order '-' unexpectedly.
            if ctx.settings.is_sqlite:
                anyof.append(sa.and_(col(Claim.number) >= term, col(Claim.number) < term + "\U0010ffff"))
            else:
                anyof.append(col(Claim.number).like(f"{term}%"))
        slip_match = re.fullmatch(r"(\d{16})(?:-(\d))?", term)
        if slip_match:
            anyof.append(
                col(Claim.id).in_(
                    sa.select(col(Slip.claim_id)).where(col(Slip.payment_number) == slip_match.group(1))
                )
            )
        if re.fullmatch(r"\d{44}", term):
            anyof.append(col(Claim.id).in_(sa.select(col(Slip.claim_id)).where(col(Slip.barcode) == term)))
        if len(term) <= 64:
            by_ref = sa.select(col(Debtor.id)).where(col(Debtor.ref_index) == pii.ref_index(ctx, term))
            anyof.append(col(Claim.debtor_id).in_(by_ref))
        if not _CODE_LIKE.match(term) and pii.may_see(ctx, "name") and len(term) <= 100:
            ensure_name_index(ctx)
            name_searched = True
            by_name = pii.find_debtors_by_name(ctx, term, purpose="claims.search")
            if by_name is not None:
                anyof.append(col(Claim.debtor_id).in_(by_name))
        conditions.append(sa.or_(*anyof) if anyof else sa.false())
    if query.status:
        conditions.append(col(Claim.status) == query.status)
    if query.fiscal_year:
        conditions.append(col(Claim.fiscal_year) == query.fiscal_year)
    if query.due_from or query.due_to:
        due = sa.select(col(Slip.claim_id)).where(col(Slip.status) == "issued")
        if query.due_from:
            due = due.where(col(Slip.due_date) >= query.due_from)
        if query.due_to:
            due = due.where(col(Slip.due_date) <= query.due_to)
        conditions.append(col(Claim.id).in_(due))
    return conditions, name_searched


def search_claims(
    ctx: Context,
    query: ClaimQuery,
    *,
    limit: int = 50,
    after: str | None = None,
    before: str | None = None,
) -> ClaimPage:
    """One page of claims by number, keyset-paginated both ways (``after``/``before`` a claim number), with
    the total and the position (two COUNTs on indexed columns, never an OFFSET)."""
    conditions, name_searched = _search_conditions(ctx, query)
    page = select(Claim).where(*conditions).limit(limit)
    if before:
        page = page.where(col(Claim.number) < before).order_by(col(Claim.number).desc())
    else:
        if after:
            page = page.where(col(Claim.number) > after)
        page = page.order_by(col(Claim.number))
    rows = list(ctx.session.exec(page).all())
    if before:
        rows.reverse()
    total = (
        ctx.session.execute(sa.select(sa.func.count()).select_from(Claim).where(*conditions)).scalar() or 0
    )
    first = 1
    if rows:
        ahead = (
            sa.select(sa.func.count())
            .select_from(Claim)
            .where(*conditions, col(Claim.number) < rows[0].number)
        )
        first = (ctx.session.execute(ahead).scalar() or 0) + 1
    bals = balances.balances(ctx, rows)
    return ClaimPage(
        rows=[(c, bals[c.id]) for c in rows if c.id is not None],
        total=total,
        first=first,
        previous=rows[0].number if rows and first > 1 else None,
        next=rows[-1].number if rows and first + len(rows) - 1 < total else None,
        name_searched=name_searched,
    )


#: Databases whose name index this process found complete (every later debtor write indexes itself).
_NAME_INDEX_COMPLETE: set[str] = set()


def ensure_name_index(ctx: Context) -> None:
    """Index the names of debtors written before the name index existed (once, on the first name search
    after an upgrade; ``gateway claims reindex-names`` does it ahead of time). Checked once per process."""
    url = ctx.settings.database_url
    if url in _NAME_INDEX_COMPLETE:
        return
    if pii.debtors_without_name_index(ctx, 1):
        reindex_names(ctx)
    _NAME_INDEX_COMPLETE.add(url)
