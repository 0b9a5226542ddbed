"""Payment slips: issue (with instalment plans), reissue, void, and the payer page lookup.

Rules (spec/barcode.md): each slip 1 … cap yen; slips only for the part of the balance no live slip and no
pending payment covers; monthly due dates moved off closed days; barcode expiry = due date + grace; a
reissue keeps the payment number and amount, counts up, and supersedes the previous slip.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import math
import secrets
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import NoReturn
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from barcodes import cvs
from barcodes.exceptions import BarcodeError
from gateway import business_calendar as cal
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import Conflict
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.issuing.claims import get_claim
from gateway.models import AuditEvent
from gateway.models import Claim
from gateway.models import PrintBatch
from gateway.models import PrintBatchItem
from gateway.models import Slip
from gateway.models.base import table_of
from gateway.models.claims import CLOSED_STATUSES
from gateway.money import balances
from gateway.money import ledger

T = TypeVar("T")

MAX_INSTALMENT = 999
MAX_REISSUE = 9


@dataclass(frozen=True)
class Plan:
    """How to split the uncovered balance: K equal instalments, a monthly amount, or same-day slips.

    With none of them, one slip (refused above the cap).
    """

    instalments: int | None = None
    monthly_amount: int | None = None
    same_due_date: bool = False
    first_due_date: datetime.date | None = None

    def check(self) -> None:
        chosen = sum(x is not None and x is not False for x in (self.instalments, self.monthly_amount)) + int(
            self.same_due_date
        )
        if chosen > 1:
            raise InvalidInput(
                "choose one of instalments, monthly amount or same due date",
                field="plan",
                key="slip.one_plan",
            )
        if self.instalments is not None and not 1 <= self.instalments <= MAX_INSTALMENT:
            raise InvalidInput(
                f"instalments must be 1 … {MAX_INSTALMENT}",
                field="instalments",
                key="slip.bad_instalments",
                params={"max": MAX_INSTALMENT},
            )
        if self.monthly_amount is not None and self.monthly_amount < 1:
            raise InvalidInput(
                "monthly amount must be at least 1 yen", field="monthly_amount", key="slip.bad_monthly_amount"
            )


def smallest_fitting_k(amount: int, cap: int) -> int:
    """The smallest K with floor(amount/K) + amount mod K ≤ cap (the last slip carries the remainder).

    >>> smallest_fitting_k(300_000, 300_000), smallest_fitting_k(300_001, 300_000)
    (1, 2)
    >>> smallest_fitting_k(900_001, 300_000)
    4
    """
    k = max(1, math.ceil(amount / cap))
    while amount // k + amount % k > cap:
        k += 1
    return k


def equal_split(amount: int, k: int) -> list[int]:
    """K amounts, equal, the remainder on the last.

    >>> equal_split(100_000, 3)
    [33333, 33333, 33334]
    """
    base = amount // k
    return [base] * (k - 1) + [base + amount % k]


def monthly_split(amount: int, monthly: int) -> list[int]:
    """Slips of ``monthly`` yen until the amount is covered; the last carries what remains.

    >>> monthly_split(25_000, 10_000)
    [10000, 10000, 5000]
    """
    n = math.ceil(amount / monthly)
    return [monthly] * (n - 1) + [amount - monthly * (n - 1)]


@functools.lru_cache(maxsize=32)
def default_due_date(today: datetime.date) -> datetime.date:
    """End of the next month, moved to the next office day (a common municipal 納期限)."""
    # The calendar (its holiday tables) is imported where due dates are computed: `gateway claims show`
    # reads slips through this module and starts faster without it.
    first_of_next = cal.add_months(today.replace(day=1), 1)
    end = cal.add_months(first_of_next, 1) - datetime.timedelta(days=1)
    return cal.next_office_day(end)


def plan_slips(uncovered: int, plan: Plan, cap: int, today: datetime.date) -> list[tuple[int, datetime.date]]:
    """(amount, due date) for each new slip; raise InvalidInput when a slip would exceed the cap."""
    plan.check()
    first = plan.first_due_date or default_due_date(today)
    if first < today:
        raise InvalidInput(
            f"first due date {first} is in the past",
            field="first_due_date",
            key="slip.due_in_past",
            params={"field": "first_due_date"},
        )
    if plan.instalments:
        amounts = equal_split(uncovered, plan.instalments)
        if plan.instalments > uncovered:
            raise InvalidInput(
                f"{plan.instalments} instalments of {uncovered} yen would include empty slips",
                field="instalments",
                key="slip.too_many_instalments",
                params={"count": plan.instalments, "amount": f"{uncovered:,}"},
            )
        dates = cal.monthly_due_dates(first, len(amounts))
    elif plan.monthly_amount:
        if plan.monthly_amount > cap:
            raise InvalidInput(
                f"monthly amount {plan.monthly_amount} is above the slip cap of {cap} yen",
                field="monthly_amount",
                key="slip.monthly_above_cap",
                params={"cap": f"{cap:,}"},
            )
        amounts = monthly_split(uncovered, plan.monthly_amount)
        dates = cal.monthly_due_dates(first, len(amounts))
    elif plan.same_due_date:
        amounts = equal_split(uncovered, smallest_fitting_k(uncovered, cap))
        dates = [cal.next_office_day(first)] * len(amounts)
    else:
        amounts = [uncovered]
        dates = [cal.next_office_day(first)]
    if len(amounts) > MAX_INSTALMENT:
        raise InvalidInput(
            f"the plan needs {len(amounts)} slips, at most {MAX_INSTALMENT}",
            field="plan",
            key="slip.plan_too_long",
            params={"count": len(amounts), "max": MAX_INSTALMENT},
        )
    if max(amounts) > cap:
        k = smallest_fitting_k(uncovered, cap)
        raise InvalidInput(
            f"{max(amounts)} yen is above the slip cap of {cap} yen; at least {k} slips are needed "
            f"(--instalments {k} or --same-due-date)",
            field="amount",
            details={"cap": cap, "smallest_k": k, "amount": uncovered},
            key="slip.above_cap",
            params={"cap": f"{cap:,}", "k": k},
        )
    return list(zip(amounts, dates, strict=True))


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, hashlib.sha256(token.encode()).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _slip_row(
    ctx: Context,
    claim: Claim,
    *,
    instalment: int,
    amount: int,
    due: datetime.date,
    reissue_count: int = 0,
    supersedes_id: int | None = None,
) -> dict[str, Any]:
    """The column values of one new slip: payment number, barcode (strictly checked) and payer token.

    Raises:
        BarcodeError: the composed barcode fails the strict check of slips this office issues.
    """
    s = ctx.settings
    payment_number = cvs.compose_payment_number(claim.fiscal_year, claim.id or 0, instalment)
    expiry = due + datetime.timedelta(days=s.barcode_grace_days)
    barcode = cvs.compose(
        issuer_prefix=s.issuer_prefix,
        consignor_code=s.consignor_code,
        payment_number=payment_number,
        reissue_count=reissue_count,
        expiry=expiry,
        amount=amount,
        stamp_flag=s.stamp_flag,
    )
    cvs.validate_issued(
        barcode,
        issuer_prefix=s.issuer_prefix,
        consignor_code=s.consignor_code,
        amount_cap=s.slip_amount_cap,
        stamp_flag=s.stamp_flag,
    )
    token, digest = _new_token()
    now = ctx.now()
    return {
        "claim_id": claim.id or 0,
        "payment_number": payment_number,
        "instalment": instalment,
        "reissue_count": reissue_count,
        "amount": amount,
        "due_date": due,
        "barcode_expiry": expiry,
        "barcode": barcode,
        "status": "issued",
        "token_hash": digest,
        "enc_token": ctx.keys.encrypt_field(token, "slip.token") or "",
        "issued_at": now,
        "issued_on": ctx.today(),
        "status_changed_at": now,
        "void_reason": None,
        "supersedes_id": supersedes_id,
    }


def _open_claim(ctx: Context, number: str) -> Claim:
    return _issuable(get_claim(ctx, number), number)


def issue_slips(ctx: Context, claim_number: str, plan: Plan | None = None) -> list[Slip]:
    """Issue slips for the part of the claim's balance no live slip and no pending payment covers.

    The batch of one claim: :func:`issue_slips_for_claims` makes every check and raises its errors as they
    are (a covered balance names the live slips, a plan above the cap the smallest K …).
    """
    return issue_slips_for_claims(ctx, [claim_number], plan)[claim_number]


#: How many refused claims a batch error lists (the count says how many there were).
MAX_BATCH_ERRORS = 20


@mutation("slips.issue")
def issue_slips_for_claims(
    ctx: Context, claim_numbers: Sequence[str], plan: Plan | None = None
) -> dict[str, list[Slip]]:
    """Issue slips for several claims in one audited transaction: every slip or none.

    Each claim gets what :func:`issue_slips` would give it alone (the same plan, every check: the claim
    exists and is open, some balance is uncovered, the plan fits the cap and the instalment numbers, each
    barcode passes the strict check). Claims are loaded, locked and their balances computed with a few
    set-based queries, and the slips are inserted with one executemany. A number given twice counts once.
    Each slip gets its ``slip.issue`` audit event; a batch of several claims adds one ``slips.issue`` event
    with the counts.

    Args:
        claim_numbers: the claims, in the order their slips are numbered and returned.
        plan: how to split each claim's uncovered balance (one slip when None).

    Returns:
        The new slips of each claim, by claim number, in the given order.

    Raises:
        GatewayError: a check failed. With one claim, the check's own error; with several, an error of the
            first refused claim's class and message key, with ``details["claim"]``, ``details["refused"]``
            and ``details["errors"]`` (the first :data:`MAX_BATCH_ERRORS`); nothing is stored.
    """
    plan = plan or Plan()
    numbers = list(dict.fromkeys(claim_numbers))
    claims = _claims_by_number(ctx, numbers)
    ids = sorted(c.id for c in claims.values() if c.id is not None)
    # Lock the claim rows (PostgreSQL) so two requests cannot both see a balance uncovered; always in id
    # order, so two overlapping batches queue instead of deadlocking.
    for chunk in _chunks(ids):
        ctx.session.execute(
            sa.select(col(Claim.id)).where(col(Claim.id).in_(chunk)).order_by(col(Claim.id)).with_for_update()
        )
    bals = balances.balances(ctx, claims.values())
    last_instalment = _last_instalments(ctx, ids)
    cap, today = ctx.settings.slip_amount_cap, ctx.today()
    rows: list[dict[str, Any]] = []
    refused: list[tuple[str, Exception]] = []
    covered: list[tuple[str, Claim]] = []
    for number in numbers:
        try:
            claim = _issuable(claims.get(number), number)
            assert claim.id is not None
            uncovered = bals[claim.id].uncovered_amount
            if uncovered <= 0:
                covered.append((number, claim))
                continue
            parts = plan_slips(uncovered, plan, cap, today)
            start = last_instalment.get(claim.id, 0) + 1
            if start + len(parts) - 1 > MAX_INSTALMENT:
                raise Conflict(
                    f"claim {number} has used its {MAX_INSTALMENT} instalment numbers",
                    field="number",
                    key="slip.instalments_used",
                )
            rows.extend(
                _slip_row(ctx, claim, instalment=start + i, amount=amount, due=due)
                for i, (amount, due) in enumerate(parts)
            )
        except (GatewayError, BarcodeError) as ex:
            refused.append((number, ex))
    refused.extend(_covered_errors(ctx, covered, bals))
    if refused:
        order = {number: i for i, number in enumerate(numbers)}
        refused.sort(key=lambda item: order[item[0]])
        _refuse(refused, batch=len(numbers) > 1)
    slips = _insert_slips(ctx, rows)
    number_of = {c.id: n for n, c in claims.items()}
    out: dict[str, list[Slip]] = {number: [] for number in numbers}
    for slip in slips:
        number = number_of[slip.claim_id]
        out[number].append(slip)
        ctx.record(
            "slip.issue",
            "slip",
            slip.slip_number,
            claim=number,
            amount=slip.amount,
            due_date=slip.due_date.isoformat(),
        )
    if len(numbers) > 1:
        ctx.record(
            "slips.issue",
            None,
            None,
            claims=len(numbers),
            slips=len(slips),
            amount=sum(s.amount for s in slips),
        )
    return out


def claims_without_slips(ctx: Context, claim_numbers: Sequence[str]) -> list[str]:
    """Those of the claims that are open and never had a slip (of any status), in the given order.

    What "issue for the claims of an import that have none yet" passes to :func:`issue_slips_for_claims`;
    unknown numbers are left out.
    """
    numbers = list(dict.fromkeys(claim_numbers))
    has_slip = sa.exists().where(col(Slip.claim_id) == col(Claim.id))
    found: set[str] = set()
    for chunk in _chunks(numbers):
        found.update(
            ctx.session.execute(
                sa.select(col(Claim.number)).where(
                    col(Claim.number).in_(chunk), col(Claim.status).not_in(CLOSED_STATUSES), ~has_slip
                )
            ).scalars()
        )
    return [number for number in numbers if number in found]


@dataclass(frozen=True)
class FirstSlips:
    """The open claims that never had a slip, oldest first, up to a limit: what the batch page offers."""

    numbers: list[str]
    amount: int
    """Sum of those claims' amounts (the slips cover the uncovered balance, at most this)."""
    waiting: int
    """How many such claims there are in all (more than ``numbers`` when the limit cut them)."""


def open_claims_without_slips(ctx: Context, limit: int = 500) -> FirstSlips:
    """The open claims that never had a slip of any status, oldest first, at most ``limit`` of them."""
    has_slip = sa.exists().where(col(Slip.claim_id) == col(Claim.id))
    where = (col(Claim.status).not_in(CLOSED_STATUSES), ~has_slip)
    rows = ctx.session.execute(
        sa.select(col(Claim.number), col(Claim.amount)).where(*where).order_by(col(Claim.id)).limit(limit)
    ).all()
    waiting = ctx.session.execute(sa.select(sa.func.count()).select_from(Claim).where(*where)).scalar_one()
    return FirstSlips(
        numbers=[r.number for r in rows], amount=sum(r.amount for r in rows), waiting=int(waiting)
    )


def _chunks(values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _claims_by_number(ctx: Context, numbers: Sequence[str]) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for chunk in _chunks(numbers):
        for claim in ctx.session.exec(select(Claim).where(col(Claim.number).in_(chunk))):
            found[claim.number] = claim
    return found


def _issuable(claim: Claim | None, number: str) -> Claim:
    """The claim, if slips may be issued for it at all (it exists and is not closed)."""
    if claim is None:
        raise NotFound(
            f"claim {number} not found", field="number", key="claim.not_found", params={"number": number}
        )
    if claim.status in CLOSED_STATUSES:
        raise Conflict(
            f"claim {number} is {claim.status}; no slip is issued for it",
            field="number",
            key="slip.claim_closed",
        )
    return claim


def _last_instalments(ctx: Context, claim_ids: Sequence[int]) -> dict[int, int]:
    """The highest instalment number each claim has used (claims without slips are absent)."""
    out: dict[int, int] = {}
    for chunk in _chunks(claim_ids):
        rows = ctx.session.execute(
            sa.select(col(Slip.claim_id).label("claim_id"), sa.func.max(col(Slip.instalment)).label("last"))
            .where(col(Slip.claim_id).in_(chunk))
            .group_by(col(Slip.claim_id))
        )
        out.update({row.claim_id: int(row.last) for row in rows})
    return out


def _covered_errors(
    ctx: Context, covered: list[tuple[str, Claim]], bals: dict[int, balances.Balance]
) -> list[tuple[str, Exception]]:
    """The refusal of each claim whose balance live slips or payments already cover."""
    live: dict[int, list[str]] = {}
    ids = [claim.id for _, claim in covered if claim.id is not None]
    for chunk in _chunks(ids):
        stmt = (
            select(Slip)
            .where(col(Slip.claim_id).in_(chunk), Slip.status == "issued")
            .order_by(col(Slip.claim_id), col(Slip.instalment))
        )
        for slip in ctx.session.exec(stmt):
            live.setdefault(slip.claim_id, []).append(slip.slip_number)
    out: list[tuple[str, Exception]] = []
    for number, claim in covered:
        assert claim.id is not None
        bal, numbers = bals[claim.id], live.get(claim.id, [])
        why = "live slips cover" if numbers else "payments cover"
        out.append(
            (
                number,
                Conflict(
                    f"nothing to issue: {why} the balance of claim {number} ({bal.balance} yen)",
                    field="number",
                    details={
                        "live_slips": numbers,
                        "balance": bal.balance,
                        "pending_amount": bal.pending_amount,
                    },
                    key="slip.covered" if numbers else "slip.paid_covers",
                ),
            )
        )
    return out


def _refuse(refused: list[tuple[str, Exception]], *, batch: bool) -> NoReturn:
    """Raise the refusal: one claim's own error, or one error for the batch naming every refused claim."""
    number, first = refused[0]
    if not batch:
        raise first
    errors = [
        {
            "claim": n,
            "code": ex.code if isinstance(ex, GatewayError) else "invalid_input",
            "message": ex.message if isinstance(ex, GatewayError) else str(ex),
            "details": ex.details if isinstance(ex, GatewayError) else {},
        }
        for n, ex in refused[:MAX_BATCH_ERRORS]
    ]
    message = errors[0]["message"]
    cls = type(first) if isinstance(first, GatewayError) else InvalidInput
    raise cls(
        f"claim {number}: {message} ({len(refused)} claim(s) refused; no slip was issued)",
        field="number",
        details={"claim": number, "refused": len(refused), "errors": errors},
        key=first.key if isinstance(first, GatewayError) else None,
        params=first.params if isinstance(first, GatewayError) else None,
    ) from first


def _insert_slips(ctx: Context, rows: list[dict[str, Any]]) -> list[Slip]:
    """Insert new slips with one executemany, then load them back (by their unique barcodes) in order."""
    if not rows:
        return []
    # No RETURNING: an ordered RETURNING falls back to one statement per row on SQLite.
    ctx.session.execute(sa.insert(table_of(Slip)), rows)
    barcodes = [row["barcode"] for row in rows]
    found: dict[str, Slip] = {}
    for chunk in _chunks(barcodes):
        found.update(
            (s.barcode, s) for s in ctx.session.exec(select(Slip).where(col(Slip.barcode).in_(chunk)))
        )
    return [found[barcode] for barcode in barcodes]


def live_slips(ctx: Context, claim: Claim) -> list[Slip]:
    return list(
        ctx.session.exec(
            select(Slip).where(Slip.claim_id == claim.id, Slip.status == "issued").order_by(Slip.instalment)  # type: ignore[arg-type]
        )
    )


def parse_slip_number(slip_number: str) -> tuple[str, int]:
    payment_number, sep, reissue = slip_number.strip().partition("-")
    if not sep or len(payment_number) != 16 or not payment_number.isdigit() or not reissue.isdigit():
        raise InvalidInput(
            f"slip number {slip_number!r} must look like 2600000123400300-0",
            field="slip_number",
            key="slip.not_found",
            params={"slip_number": slip_number[:40]},
        )
    return payment_number, int(reissue)


def get_slip(ctx: Context, slip_number: str) -> Slip:
    payment_number, reissue = parse_slip_number(slip_number)
    slip = ctx.session.exec(
        select(Slip).where(Slip.payment_number == payment_number, Slip.reissue_count == reissue)
    ).first()
    if slip is None:
        raise NotFound(
            f"slip {slip_number} not found",
            field="slip_number",
            key="slip.not_found",
            params={"slip_number": slip_number},
        )
    return slip


@mutation("slip.reissue")
def reissue_slip(ctx: Context, slip_number: str, due_date: datetime.date | None = None) -> Slip:
    """A new slip for the same instalment and amount, reissue count + 1; the old one is superseded."""
    old = get_slip(ctx, slip_number)
    if old.status != "issued":
        raise Conflict(
            f"slip {slip_number} is {old.status}; only a live slip is reissued",
            field="slip_number",
            key="slip.not_live",
        )
    if old.reissue_count >= MAX_REISSUE:
        raise Conflict(
            f"slip {slip_number} was reissued {MAX_REISSUE} times already",
            field="slip_number",
            key="slip.reissue_limit",
            params={"max": MAX_REISSUE},
        )
    claim = ctx.session.get(Claim, old.claim_id)
    assert claim is not None
    if claim.status in CLOSED_STATUSES:
        raise Conflict(
            f"claim {claim.number} is {claim.status}", field="slip_number", key="slip.claim_closed"
        )
    if ledger.has_open_payment(ctx, old.payment_number):
        raise Conflict(
            f"a payment for slip {slip_number} is pending or confirmed; it is not reissued",
            field="slip_number",
            key="slip.payment_pending",
        )
    due = cal.next_office_day(due_date) if due_date else default_due_date(ctx.today())
    if due < ctx.today():
        raise InvalidInput(
            f"due date {due} is in the past",
            field="due_date",
            key="slip.due_in_past",
            params={"field": "due_date"},
        )
    old.status = "superseded"
    old.status_changed_at = ctx.now()
    ctx.session.add(old)
    new = Slip(
        **_slip_row(
            ctx,
            claim,
            instalment=old.instalment,
            amount=old.amount,
            due=due,
            reissue_count=old.reissue_count + 1,
            supersedes_id=old.id,
        )
    )
    ctx.session.add(new)
    ctx.session.flush()
    ctx.record("slip.reissue", "slip", new.slip_number, supersedes=slip_number, due_date=due.isoformat())
    return new


@mutation("slip.void")
def void_slip(ctx: Context, slip_number: str, reason: str) -> Slip:
    """Void a live slip; a payment that still arrives on it is raised as ``paid_void_slip``."""
    if not reason or not reason.strip():
        raise InvalidInput(
            "a reason is required", field="reason", key="form.required", params={"field": "reason"}
        )
    slip = get_slip(ctx, slip_number)
    if slip.status != "issued":
        raise Conflict(
            f"slip {slip_number} is {slip.status}; only a live slip is voided",
            field="slip_number",
            key="slip.not_live",
        )
    slip.status = "void"
    slip.void_reason = reason.strip()
    slip.status_changed_at = ctx.now()
    ctx.session.add(slip)
    ctx.record("slip.void", "slip", slip_number, reason=reason.strip())
    return slip


def slip_json(slip: Slip, claim_number: str) -> dict[str, Any]:
    return {
        "slip_number": slip.slip_number,
        "claim_number": claim_number,
        "payment_number": slip.payment_number,
        "instalment": slip.instalment,
        "amount": slip.amount,
        "due_date": slip.due_date.isoformat(),
        "barcode_expiry": slip.barcode_expiry.isoformat(),
        "reissue_count": slip.reissue_count,
        "status": slip.status,
        "barcode": slip.barcode,
        "issued_on": slip.issued_on.isoformat(),
        "void_reason": slip.void_reason,
    }


def slip_with_claim(ctx: Context, slip_number: str) -> tuple[Slip, Claim]:
    slip = get_slip(ctx, slip_number)
    claim = ctx.session.get(Claim, slip.claim_id)
    assert claim is not None
    return slip, claim


def payer_token(ctx: Context, slip: Slip) -> str:
    """The slip's payer-page token (for the QR code); only staff processes hold the key to read it."""
    return ctx.keys.decrypt_field(slip.enc_token, "slip.token") or ""


def payer_url(ctx: Context, slip: Slip) -> str:
    return f"{ctx.settings.public_base_url.rstrip('/')}/p/{payer_token(ctx, slip)}"


def slip_for_payer(ctx: Context, token: str) -> Slip | None:
    """The slip behind a payer-page token, or None once it is paid (a store payment is pending counts: it
    must not be paid twice), void, superseded or expired."""
    if not token or len(token) > 64:
        return None
    slip = ctx.session.exec(select(Slip).where(Slip.token_hash == token_hash(token))).first()
    if slip is None or slip.status != "issued" or slip.barcode_expiry < ctx.today():
        return None
    if ledger.has_open_payment(ctx, slip.payment_number):
        return None
    return slip


# -- what the staff pages show


@dataclass(frozen=True)
class IssuePreview:
    """What issuing would create, computed without creating anything."""

    balance: int
    live_slip_amount: int
    uncovered: int
    parts: list[tuple[int, datetime.date]]

    @property
    def total(self) -> int:
        return sum(amount for amount, _ in self.parts)


def preview_issue(ctx: Context, claim_number: str, plan: Plan | None) -> IssuePreview:
    """The plan :func:`issue_slips` would follow now (``plan`` None: only the balances, no plan)."""
    claim = _open_claim(ctx, claim_number)
    bal = balances.balance(ctx, claim)
    parts: list[tuple[int, datetime.date]] = []
    if plan is not None and bal.uncovered_amount > 0:
        parts = plan_slips(bal.uncovered_amount, plan, ctx.settings.slip_amount_cap, ctx.today())
    return IssuePreview(bal.balance, bal.live_slip_amount, bal.uncovered_amount, parts)


def mailing_dates(ctx: Context, slip_ids: list[int]) -> dict[int, datetime.date]:
    """The latest recorded mailing date of each slip that went out in a print batch."""
    out: dict[int, datetime.date] = {}
    for start in range(0, len(slip_ids), 500):
        chunk = slip_ids[start : start + 500]
        rows = ctx.session.execute(
            sa.select(col(PrintBatchItem.slip_id), sa.func.max(col(PrintBatch.mailed_on)))
            .join(PrintBatch, col(PrintBatch.id) == col(PrintBatchItem.batch_id))
            .where(
                col(PrintBatchItem.slip_id).in_(chunk),
                col(PrintBatchItem.skipped_reason).is_(None),
                col(PrintBatch.mailed_on).is_not(None),
            )
            .group_by(col(PrintBatchItem.slip_id))
        ).all()
        out.update({slip_id: mailed for slip_id, mailed in rows})
    return out


def status_events(ctx: Context, slip_number: str) -> list[Any]:
    """The audit events of this slip (issue, void, reissue …), oldest first: who did what, when."""
    return list(
        ctx.session.exec(
            select(AuditEvent)
            .where(AuditEvent.target_type == "slip", AuditEvent.target_id == slip_number)
            .order_by(col(AuditEvent.id))
        ).all()
    )
