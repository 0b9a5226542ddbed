"""Every rule of spec/settlement-formats.md's reconciliation, in one place.

The per-record rules are plain functions (which fiscal year money belongs to, lateness, what an agent owes).
The rules that raise an exception on a payment are declarations (:class:`PaymentRule`, one per kind, in
:data:`PAYMENT_RULES`): the SQL condition the engine runs, the exception's detail and key, and a Python
predicate that says the same thing for one row; ``tests/reconciliation/test_rules_sql.py`` checks that the
two agree on generated rows. The engine builds its suspects prefilter from the same conditions.

>>> fiscal_year_of(datetime.date(2027, 3, 31)), fiscal_year_of(datetime.date(2027, 4, 1))
(2026, 2027)
>>> revenue_year(datetime.date(2027, 4, 15), claim_fiscal_year=2026)   # 出納整理期間: the earlier year
RevenueYear(fiscal_year=2026, arrears=False)
>>> revenue_year(datetime.date(2027, 6, 1), claim_fiscal_year=2026)
RevenueYear(fiscal_year=2027, arrears=True)
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciliation import vocabulary

KINDS = vocabulary.KINDS
"""The exception vocabulary (see :mod:`reconciliation.vocabulary`)."""

CLOSING_PERIOD_END = (5, 31)
"""出納整理期間: receipts from 1 April to 31 May may still belong to the fiscal year that ended in March."""


def fiscal_year_of(day: datetime.date) -> int:
    """The fiscal year (April to March) a date falls in, named by its starting calendar year."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class RevenueYear:
    fiscal_year: int
    """歳入所属年度."""
    arrears: bool
    """True for 滞納繰越分 (a claim of an earlier fiscal year), False for 現年度分."""


def in_closing_period(receipt_date: datetime.date) -> bool:
    """Whether a receipt date falls in the closing period (1 April to 31 May).

    >>> in_closing_period(datetime.date(2027, 5, 31)), in_closing_period(datetime.date(2027, 6, 1))
    (True, False)
    """
    return receipt_date.month in (4, 5) and (receipt_date.month, receipt_date.day) <= CLOSING_PERIOD_END


def revenue_year(receipt_date: datetime.date, claim_fiscal_year: int) -> RevenueYear:
    """Which fiscal year received money belongs to, and whether it is arrears.

    Money for an earlier year's claim received from 1 April to 31 May belongs to the year that just ended
    (the closing period); otherwise money belongs to the fiscal year of its receipt date. It is current-year
    money (現年度分) when that year is the claim's own, arrears (滞納繰越分) when the claim is older.

    >>> revenue_year(datetime.date(2027, 5, 31), 2025)
    RevenueYear(fiscal_year=2026, arrears=True)
    >>> revenue_year(datetime.date(2027, 4, 1), 2027)
    RevenueYear(fiscal_year=2027, arrears=False)
    """
    year = fiscal_year_of(receipt_date)
    if in_closing_period(receipt_date) and claim_fiscal_year < year:
        year -= 1
    return RevenueYear(fiscal_year=year, arrears=claim_fiscal_year < year)


def revenue_year_sql(receipt_date: datetime.date, claim_fiscal_year: str) -> tuple[str, str, dict[str, Any]]:
    """:func:`revenue_year` for one receipt date as SQL over a claim's fiscal year column: the SQL of the
    fiscal year, of the arrears flag, and their parameters.

    >>> revenue_year_sql(datetime.date(2027, 4, 15), "c.fiscal_year")[2]
    {'revenue_year': 2027, 'revenue_closing': True}
    """
    year = "CASE WHEN :revenue_closing AND {c} < :revenue_year THEN :revenue_year - 1 ELSE :revenue_year END"
    fiscal = year.format(c=claim_fiscal_year)
    params = {
        "revenue_year": fiscal_year_of(receipt_date),
        "revenue_closing": in_closing_period(receipt_date),
    }
    return fiscal, f"{claim_fiscal_year} < {fiscal}", params


def is_late(paid_date: datetime.date, due_date: datetime.date, barcode_expiry: datetime.date) -> bool:
    """Paid after the printed due date but within the barcode expiry: valid money, flagged late.

    >>> d = datetime.date
    >>> due, expiry = d(2026, 12, 15), d(2027, 1, 14)
    >>> is_late(d(2026, 12, 16), due, expiry), is_late(d(2027, 1, 15), due, expiry), is_late(due, due, expiry)
    (True, False, False)
    """
    return due_date < paid_date <= barcode_expiry


def is_late_sql(paid: str, slip: str) -> str:
    """:func:`is_late` in SQL: record or payment ``paid`` against slip ``slip``."""
    return f"({paid}.paid_date > {slip}.due_date AND {paid}.paid_date <= {slip}.barcode_expiry)"


def paid_after_expiry(paid_date: datetime.date, barcode_expiry: datetime.date | None) -> bool:
    """Paid after the last day registers accept the barcode (``None`` = no limit).

    >>> paid_after_expiry(datetime.date(2027, 1, 15), datetime.date(2027, 1, 14))
    True
    >>> paid_after_expiry(datetime.date(2027, 1, 14), datetime.date(2027, 1, 14)), paid_after_expiry(
    ...     datetime.date(2030, 1, 1), None)
    (False, False)
    """
    return barcode_expiry is not None and paid_date > barcode_expiry


def unconfirmed_too_long(paid_date: datetime.date, as_of: datetime.date, days: int) -> bool:
    """A preliminary payment still unconfirmed more than ``days`` calendar days after it was paid.

    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 15), 14)
    False
    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 16), 14)
    True
    """
    return (as_of - paid_date).days > days


UNCONFIRMED_SQL = "p.state = 'preliminary' AND p.source = 'agent' AND p.paid_date < :cutoff"
""":func:`unconfirmed_too_long` in SQL over payments ``p``, with ``cutoff`` = as_of − days (the engine's
ageing step raises ``unconfirmed_preliminary`` for these)."""


def unconfirmed_cutoff(as_of: datetime.date, days: int) -> datetime.date:
    """The ``cutoff`` parameter of :data:`UNCONFIRMED_SQL`: paid before it is unconfirmed too long.

    >>> unconfirmed_cutoff(datetime.date(2026, 11, 16), 14)
    datetime.date(2026, 11, 2)
    """
    return as_of - datetime.timedelta(days=days)


@dataclass(frozen=True)
class FeeLine:
    """Items of one remittance charged at one fee and tax rate."""

    items: int
    fee_per_item: int
    tax_rate_bp: int


@dataclass(frozen=True)
class Owed:
    gross: int
    fees: int
    fee_tax: int
    expected: int


def owed(gross: int, lines: Iterable[FeeLine], mode: str) -> Owed:
    """What an agent owes for one transfer date: the gross, or net of its fees and their consumption tax.

    Fees are items × fee per item; the tax is computed once per rate on the fee total of that rate and
    rounded down (one invoice per remittance, as the qualified-invoice rules round per rate).

    >>> owed(100_000, [FeeLine(3, 130, 1000), FeeLine(1, 60, 1000)], "net")
    Owed(gross=100000, fees=450, fee_tax=45, expected=99505)
    >>> owed(100_000, [FeeLine(3, 130, 1000)], "gross").expected
    100000
    """
    lines = list(lines)
    fees = sum(line.items * line.fee_per_item for line in lines)
    by_rate: dict[int, int] = {}
    for line in lines:
        by_rate[line.tax_rate_bp] = by_rate.get(line.tax_rate_bp, 0) + line.items * line.fee_per_item
    tax = sum(total * rate // 10_000 for rate, total in by_rate.items())
    if mode not in ("gross", "net"):
        raise ValueError(f"remittance mode must be gross or net, not {mode!r}")
    expected = gross if mode == "gross" else gross - fees - tax
    return Owed(gross=gross, fees=fees, fee_tax=tax, expected=expected)


def remittance_status(expected: int, credited: int, credits: bool, *, overdue: bool) -> str:
    """The three-way match of one agent and transfer date: ``matched`` when the bank ``credits`` add up to
    what the agent owes, ``mismatch`` when they do not or none came by the deadline (``overdue``; a
    ``remittance_mismatch`` exception is then open), else ``pending``.

    >>> remittance_status(500, 500, True, overdue=False), remittance_status(500, 0, False, overdue=False)
    ('matched', 'pending')
    >>> remittance_status(500, 0, False, overdue=True), remittance_status(500, 490, True, overdue=False)
    ('mismatch', 'mismatch')
    """
    if credited == expected and credits:
        return "matched"
    return "mismatch" if credits or overdue else "pending"


CONFIRMATION_DIFFERS = "p.amount <> r.amount OR p.paid_date <> r.paid_date"
"""SQL over a payment ``p`` and the record ``r`` paired with it (a confirmation, or a late preliminary): they
disagree, and ``confirmation_differs`` is raised (:func:`confirmation_differs`)."""


def confirmation_differs(row: Row) -> bool:
    """A preliminary and its confirmation that disagree on the amount or the payment date; the confirmation
    stands.

    >>> day = datetime.date(2026, 12, 1)
    >>> row = {"p.amount": 20_000, "p.paid_date": day, "r.paid_date": day}
    >>> confirmation_differs({**row, "r.amount": 19_000}), confirmation_differs({**row, "r.amount": 20_000})
    (True, False)
    """
    return bool(row["p.amount"] != row["r.amount"] or row["p.paid_date"] != row["r.paid_date"])


CANCEL_AFTER_CONFIRMATION = """EXISTS (SELECT 1 FROM payments p WHERE p.payment_number = r.payment_number
                                     AND p.state = 'confirmed' AND p.source = 'agent')"""
"""SQL over a cancellation record ``r`` that no open preliminary took: an agent's payment of its number is
confirmed already (:func:`leftover_cancellation`)."""

CANCEL_WITHOUT_PRELIMINARY = f"""NOT {CANCEL_AFTER_CONFIRMATION}
    AND EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = r.payment_number)"""
"""SQL over such a record: nothing to cancel, though the payment number is one of this office's slips."""


def leftover_cancellation(confirmed: Iterable[str], slips: Iterable[str], payment_number: str) -> str | None:
    """The exception for a cancellation of ``payment_number`` that matched no open preliminary payment:
    ``cancel_after_confirmation`` when an agent's payment of the number is ``confirmed``,
    ``cancel_without_preliminary`` when there is none but the number is one of the office's ``slips``,
    else ``None`` (``unknown_slip`` then takes it).

    >>> leftover_cancellation(["0001"], ["0001", "0002"], "0001"), leftover_cancellation([], ["0002"], "0002")
    ('cancel_after_confirmation', 'cancel_without_preliminary')
    >>> leftover_cancellation([], ["0002"], "0003") is None
    True
    """
    if payment_number in set(confirmed):
        return "cancel_after_confirmation"
    return "cancel_without_preliminary" if payment_number in set(slips) else None


# -- the rules that raise an exception on a payment ---------------------------------------------------------

Row = Mapping[str, Any]
"""One row as the rules see it: ``"p.amount"`` (payment), ``"s.amount"`` (its slip), ``"a.channels"``
(its agent) …; a missing slip or agent reads as ``None``, as a LEFT JOIN does."""

PAYMENT_RECORDS = "COALESCE(p.preliminary_record_id, p.confirmed_record_id)"
"""The record ids an exception on payment ``p`` holds, unless its rule says otherwise."""

JOINS: dict[str, str] = {"s": "slips s ON s.id = p.slip_id", "a": "agents a ON a.id = p.agent_id"}
"""What a rule's condition may read besides the payment ``p``: its slip ``s`` or its agent ``a``."""


@dataclass(frozen=True)
class PaymentRule:
    """One exception kind raised on the payments a run touched: ``condition`` (SQL over ``p`` and the
    table ``reads``) and ``predicate`` (the same over a :data:`Row`) say which; ``detail`` (name → SQL) what
    the exception shows; ``key`` (SQL) which payment it is about, so that a rerun raises nothing new;
    ``records`` (SQL) the record id the exception holds."""

    kind: str
    reads: str
    condition: str
    predicate: Callable[[Row], bool]
    detail: Mapping[str, str]
    key: str = "p.id"
    records: str = PAYMENT_RECORDS


PAYMENT_RULES: list[PaymentRule] = []
"""The checks on every payment a run creates or changes, in the order they are raised (declared below)."""


def payment_rule(
    kind: str, *, reads: str, condition: str, detail: Mapping[str, str], **more: str
) -> Callable[[Callable[[Row], bool]], Callable[[Row], bool]]:
    """Declare the :class:`PaymentRule` of ``kind`` with the predicate it decorates."""

    def declare(predicate: Callable[[Row], bool]) -> Callable[[Row], bool]:
        PAYMENT_RULES.append(PaymentRule(kind, reads, condition, predicate, detail, **more))
        return predicate

    return declare


def _known(*values: Any) -> bool:
    """None of the values is NULL (SQL's comparisons with NULL are never true)."""
    return all(v is not None for v in values)


@payment_rule(
    "amount_mismatch",
    reads="s",
    condition="p.source IN ('agent', 'manual') AND p.amount <> s.amount",
    detail={"slip_amount": "s.amount", "paid_amount": "p.amount"},
    key="p.id || ':' || p.amount",  # a later different amount is a new mismatch
    records="COALESCE(p.correction_record_id, p.confirmed_record_id, p.preliminary_record_id)",
)
def _slip_amount_differs(row: Row) -> bool:
    """An agent's or a clerk's payment whose amount is not its slip's.

    >>> _slip_amount_differs({"p.source": "agent", "p.amount": 12_000, "s.amount": 12_500})
    True
    >>> _slip_amount_differs({"p.source": "matched", "p.amount": 12_000, "s.amount": 12_500})
    False
    """
    return (
        row["p.source"] in ("agent", "manual")
        and _known(row["s.amount"], row["p.amount"])
        and (row["p.amount"] != row["s.amount"])
    )


@payment_rule(
    "paid_after_expiry",
    reads="s",
    condition="p.source = 'agent' AND p.paid_date > s.barcode_expiry",
    detail={"paid_date": "p.paid_date", "barcode_expiry": "s.barcode_expiry"},
)
def _paid_after_expiry(row: Row) -> bool:
    """An agent's payment made after its slip's barcode expired (:func:`paid_after_expiry`).

    >>> row = {"p.source": "agent", "p.paid_date": datetime.date(2027, 1, 15)}
    >>> _paid_after_expiry({**row, "s.barcode_expiry": datetime.date(2027, 1, 14)})
    True
    >>> _paid_after_expiry({**row, "s.barcode_expiry": None})
    False
    """
    return row["p.source"] == "agent" and paid_after_expiry(row["p.paid_date"], row["s.barcode_expiry"])


@payment_rule(
    "paid_void_slip", reads="s", condition="s.status = 'void'", detail={"void_reason": "s.void_reason"}
)
def _slip_void(row: Row) -> bool:
    """Any payment on a slip the office made void.

    >>> _slip_void({"s.status": "void"}), _slip_void({"s.status": "paid"}), _slip_void({"s.status": None})
    (True, False, False)
    """
    return bool(row["s.status"] == "void")


def channel_enabled(channel: str, channels: str) -> bool:
    """Whether ``channel`` is one of an agent's comma-separated enabled ``channels``.

    >>> channel_enabled("0010", "0010,0020"), channel_enabled("0820", "0010,0020")
    (True, False)
    >>> channel_enabled("001", "0010"), channel_enabled("0010", "0010")
    (False, True)
    """
    return f",{channel}," in f",{channels},"


@payment_rule(
    "unexpected_channel",
    reads="a",
    condition="""p.source = 'agent'
                 AND (',' || a.channels || ',') NOT LIKE ('%,' || p.channel_code || ',%')""",
    detail={"channel_code": "p.channel_code", "enabled": "a.channels"},
)
def _channel_not_enabled(row: Row) -> bool:
    """An agent's payment through a channel its contract does not enable (:func:`channel_enabled`).

    >>> _channel_not_enabled({"p.source": "agent", "p.channel_code": "0820", "a.channels": "0010,0020"})
    True
    >>> _channel_not_enabled({"p.source": "agent", "p.channel_code": "0820", "a.channels": None})
    False
    """
    channel, channels = row["p.channel_code"], row["a.channels"]
    return row["p.source"] == "agent" and _known(channel, channels) and not channel_enabled(channel, channels)


def suspects_condition(rules: Iterable[PaymentRule] = PAYMENT_RULES) -> str:
    """The prefilter: SQL true for a payment (with its slip ``s`` and agent ``a`` LEFT JOINed) that some
    rule would raise an exception for, built from the rules' own conditions.

    >>> print(suspects_condition(PAYMENT_RULES[2:3]))
    ((s.status = 'void'))
    """
    return "(" + " OR ".join(f"({rule.condition})" for rule in rules) + ")"


# -- unknown payments ---------------------------------------------------------------------------------------

UNKNOWN_SLIP_CONDITION = """NOT (r.issuer_prefix = :prefix AND r.consignor_code = :consignor
    AND EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = r.payment_number))"""
"""SQL over a settlement record ``r``: it pays no slip of this office (``prefix``/``consignor``)."""

UNKNOWN_PAYMENT_IDENTITY = (
    "issuer_prefix",
    "consignor_code",
    "payment_number",
    "reissue_count",
    "paid_at",
    "store_code",
)
"""The record columns that name one payment, so that its preliminary, confirmation and cancellation make
one ``unknown_slip`` exception."""


def unknown_slip_key(r: str, instant: Callable[[str], str]) -> str:
    """SQL: the key of the ``unknown_slip`` exception of record ``r``'s payment, ``unknown_slip:`` and the
    :data:`UNKNOWN_PAYMENT_IDENTITY` joined by ``:`` (``instant`` writes ``paid_at`` as fixed UTC text).

    >>> print(unknown_slip_key("r", lambda c: f"utc({c})"))
    'unknown_slip' || ':' || r.issuer_prefix || ':' || r.consignor_code || ':' || r.payment_number || ':' ||
    r.reissue_count || ':' || utc(r.paid_at) || ':' || r.store_code
    """
    columns = [instant(f"{r}.{c}") if c == "paid_at" else f"{r}.{c}" for c in UNKNOWN_PAYMENT_IDENTITY]
    return " || ':' || ".join(["'unknown_slip'", *columns])


UNKNOWN_SLIP_DETAIL = {
    "kind": "r.kind",
    "kind_code": "r.kind_code",
    "payment_number": "r.payment_number",
    "paid_date": "r.paid_date",
    "issuer_prefix": "r.issuer_prefix",
    "consignor_code": "r.consignor_code",
}
"""What an ``unknown_slip`` exception shows (of its first record)."""


def unknown_slip(row: Row, office: tuple[str, str], our_numbers: Iterable[str]) -> bool:
    """A record of a payment this office never issued a slip for: another issuer or consignor, or a payment
    number none of ``our_numbers``.

    >>> row = {"r.issuer_prefix": "919123", "r.consignor_code": "45001", "r.payment_number": "0001"}
    >>> unknown_slip(row, ("919123", "45001"), ["0001"]), unknown_slip(row, ("919123", "45001"), ["0002"])
    (False, True)
    >>> unknown_slip(row, ("919290", "23252"), ["0001"])
    True
    """
    ours = (row["r.issuer_prefix"], row["r.consignor_code"]) == office
    return not (ours and row["r.payment_number"] in set(our_numbers))
