"""Claims the office has decided: record, import, adjust, close (decisions taken elsewhere), show.

The gateway records decisions; it takes none. ``close`` stores a write-off, extinction or cancellation that
the office decided, with its date and reason.
"""

from __future__ import annotations

import csv
import datetime
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
from gateway.models import Claim
from gateway.models import ClaimAdjustment
from gateway.models import Slip
from gateway.models.base import table_of
from gateway.models.base import utcnow
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.claims import LEGAL_BASES
from gateway.services import balances

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


def validate_claim(data: ClaimInput, *, line: int | None = None, file: str | None = None) -> ClaimInput:
    """Check and normalise one claim; raise InvalidInput naming the field."""

    def bad(fieldname: str, message: str) -> InvalidInput:
        return InvalidInput(message, file=file, line=line, field=fieldname)

    number = _clean(data.number) or ""
    if not _NUMBER.match(number):
        raise bad("number", f"claim number {number!r} must be 1-32 letters, digits or '-'")
    if data.legal_basis not in LEGAL_BASES:
        raise bad("legal_basis", f"legal basis {data.legal_basis!r} is not one of {', '.join(LEGAL_BASES)}")
    if not isinstance(data.amount, int) or isinstance(data.amount, bool) or data.amount < 1:
        raise bad("amount", f"amount must be a whole number of yen of at least 1, got {data.amount!r}")
    if data.amount > 9_999_999_999:
        raise bad("amount", f"amount {data.amount} is implausibly large")
    if not 2000 <= data.fiscal_year <= 2099:
        raise bad("fiscal_year", f"fiscal year {data.fiscal_year} is outside 2000-2099")
    ref = _clean(data.debtor_ref)
    name = _clean(data.debtor_name)
    if not ref or len(ref) > 64:
        raise bad("debtor_ref", "debtor reference is required (at most 64 characters)")
    if not name or len(name) > 100:
        raise bad("debtor_name", "debtor name is required (at most 100 characters)")
    postal = _clean(data.postal_code)
    if postal is not None:
        m = _POSTAL.match(unicodedata.normalize("NFKC", postal))
        if not m:
            raise bad("postal_code", f"postal code {postal!r} must be 7 digits (123-4567)")
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
            raise bad(key, "looks like an individual number (個人番号); the gateway must not store one")
    if values["debtor_address"] is not None and len(values["debtor_address"] or "") > 200:
        raise bad("debtor_address", "address is longer than 200 characters")
    return ClaimInput(
        number=number,
        legal_basis=data.legal_basis,
        amount=data.amount,
        fiscal_year=data.fiscal_year,
        postal_code=postal,
        decided_on=data.decided_on,
        assessment_date=data.assessment_date,
        **values,  # type: ignore[arg-type]
    )


def get_claim(ctx: Context, number: str) -> Claim:
    claim = ctx.session.exec(select(Claim).where(Claim.number == number)).first()
    if claim is None:
        raise NotFound(f"claim {number} not found", field="number")
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
        raise Conflict(f"claim {data.number} already exists", field="number")
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
    raise InvalidInput("file is neither UTF-8 nor Shift_JIS (cp932)", file=file, line=1)


def _parse_date(value: str | None, column: str, line: int, file: str) -> datetime.date | None:
    if not value:
        return None
    try:
        text = unicodedata.normalize("NFKC", value).replace("/", "-")
        return datetime.date.fromisoformat(text)
    except ValueError as ex:
        raise InvalidInput(
            f"{value!r} is not a date (YYYY-MM-DD)", file=file, line=line, field=column
        ) from ex


def _parse_int(value: str | None, column: str, line: int, file: str) -> int:
    text = unicodedata.normalize("NFKC", value or "").replace(",", "").strip()
    if not re.fullmatch(r"\d+", text):
        raise InvalidInput(f"{value!r} is not a whole number", file=file, line=line, field=column)
    return int(text)


def _check_header(header: list[str], file: str) -> list[str]:
    columns = [unicodedata.normalize("NFKC", h).strip().lower() for h in header]
    for column in columns:
        for what, words in FORBIDDEN_COLUMN_WORDS.items():
            if any(w in column for w in words):
                raise InvalidInput(
                    f"column {column!r} carries {what}; the gateway must not receive it",
                    file=file,
                    line=1,
                    field=column,
                )
    unknown = [c for c in columns if c not in IMPORT_COLUMNS]
    if unknown:
        raise InvalidInput(
            f"unknown column(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(IMPORT_COLUMNS)}",
            file=file,
            line=1,
            field=unknown[0],
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InvalidInput(f"missing column(s) {', '.join(missing)}", file=file, line=1, field=missing[0])
    if len(set(columns)) != len(columns):
        raise InvalidInput("a column appears twice", file=file, line=1)
    return columns


def read_claims_csv(raw: bytes, file: str) -> Iterator[tuple[int, ClaimInput]]:
    """Yield (line, validated claim) for each row; raise InvalidInput on the first bad cell."""
    reader = csv.reader(io.StringIO(_decode(raw, file), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("file is empty", file=file, line=1) from None
    columns = _check_header(header, file)
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise InvalidInput(f"row has {len(row)} columns, header has {len(columns)}", file=file, line=line)
        values = dict(zip(columns, row, strict=True))
        claim = ClaimInput(
            number=values["number"],
            legal_basis=values["legal_basis"].strip(),
            amount=_parse_int(values["amount"], "amount", line, file),
            fiscal_year=_parse_int(values["fiscal_year"], "fiscal_year", line, file),
            debtor_ref=values["debtor_ref"],
            debtor_name=values["debtor_name"],
            debtor_kana=values.get("debtor_kana"),
            postal_code=values.get("postal_code"),
            debtor_address=values.get("debtor_address"),
            decided_on=_parse_date(values.get("decided_on"), "decided_on", line, file),
            assessment_number=values.get("assessment_number"),
            assessment_date=_parse_date(values.get("assessment_date"), "assessment_date", line, file),
            revenue_item=values.get("revenue_item"),
        )
        yield line, validate_claim(claim, line=line, file=file)


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
            raise InvalidInput(
                f"claim {data.number} repeats line {seen[data.number]}", file=name, line=line, field="number"
            )
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
            errors.append(
                InvalidInput(
                    f"claim {data.number} exists with other content; use `claims adjust` to change it",
                    file=name,
                    line=line,
                    field="number",
                )
            )
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
    return result


def _existing_claims(ctx: Context, numbers: list[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        for claim in ctx.session.exec(select(Claim).where(Claim.number.in_(chunk))):  # type: ignore[attr-defined]
            found[claim.number] = claim
    return found


def _debtor_ids(ctx: Context, refs: list[str]) -> dict[str, int]:
    """Debtor id per reference, for the references that exist (looked up by blind index)."""
    from gateway.models import Debtor

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
        raise Conflict(f"claim {number} is {claim.status}; a closed claim is not adjusted", field="number")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput(f"amount must be a whole number of yen, got {amount!r}", field="amount")
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    if amount == claim.amount:
        raise InvalidInput(f"claim {number} already has amount {amount}", field="amount")
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
    from gateway.services import ledger

    ledger.refresh_claim_status(ctx, [claim.id])  # type: ignore[list-item]
    return claim


def _live_slip_numbers(ctx: Context, claim: Claim) -> list[str]:
    slips = ctx.session.exec(select(Slip).where(Slip.claim_id == claim.id, Slip.status == "issued")).all()
    return [s.slip_number for s in slips]


@mutation("claim.close")
def close_claim(ctx: Context, number: str, status: str, decided_on: datetime.date, reason: str) -> Claim:
    """Record a decision taken elsewhere (write-off, extinction, cancellation). Live slips are voided so no
    one is asked to pay a closed claim; money that still arrives is kept and shows up in reconciliation."""
    if status not in CLOSED_STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(CLOSED_STATUSES)}", field="status")
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    claim = get_claim(ctx, number)
    if claim.status in CLOSED_STATUSES:
        raise Conflict(f"claim {number} is already {claim.status}", field="number")
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


def show_claim(ctx: Context, number: str, *, with_debtor: bool = True) -> dict[str, Any]:
    """The claim with its slips, payments, adjustments and balance; the debtor as the actor may see it."""
    from gateway.services import ledger
    from gateway.services import slips as slip_service

    claim = get_claim(ctx, number)
    doc = claim_summary(claim, balances.balance(ctx, claim))
    rows = ctx.session.exec(select(Slip).where(Slip.claim_id == claim.id).order_by(Slip.id)).all()  # type: ignore[arg-type]
    doc["slips"] = [slip_service.slip_json(s, claim.number) for s in rows]
    doc["payments"] = ledger.payments_json(ctx, claim)
    doc["adjustments"] = [
        {
            "old_amount": a.old_amount,
            "new_amount": a.new_amount,
            "reason": a.reason,
            "decided_on": a.decided_on.isoformat() if a.decided_on else None,
            "at": a.created_at.isoformat(),
            "by": a.actor,
        }
        for a in ctx.session.exec(
            select(ClaimAdjustment).where(ClaimAdjustment.claim_id == claim.id).order_by(ClaimAdjustment.id)  # type: ignore[arg-type]
        )
    ]
    if with_debtor:
        view = pii.read_debtors(ctx, [claim.debtor_id], purpose="claim.show")[claim.debtor_id]
        doc["debtor"] = {
            "ref": view.ref,
            "name": view.name,
            "kana": view.kana,
            "postal_code": view.postal_code,
            "address": view.address,
        }
    return doc


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
