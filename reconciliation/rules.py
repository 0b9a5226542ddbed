"""The rules of reconciliation, as plain functions.

>>> fiscal_year_of(datetime.date(2027, 3, 31)), fiscal_year_of(datetime.date(2027, 4, 1))
(2026, 2027)
>>> revenue_year(datetime.date(2027, 4, 15), claim_fiscal_year=2026)   # 出納整理期間: the earlier year
RevenueYear(fiscal_year=2026, arrears=False)
>>> revenue_year(datetime.date(2027, 6, 1), claim_fiscal_year=2026)
RevenueYear(fiscal_year=2027, arrears=True)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

KINDS = (
    "unknown_slip",
    "amount_mismatch",
    "duplicate_payment",
    "paid_after_expiry",
    "paid_void_slip",
    "overpayment",
    "unexpected_channel",
    "cancel_without_preliminary",
    "cancel_after_confirmation",
    "confirmation_differs",
    "unconfirmed_preliminary",
    "remittance_mismatch",
)
"""The exception vocabulary (spec/interfaces.md); nothing else is ever raised."""

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
    in_closing = receipt_date.month in (4, 5) and (receipt_date.month, receipt_date.day) <= CLOSING_PERIOD_END
    if in_closing and claim_fiscal_year < year:
        year -= 1
    return RevenueYear(fiscal_year=year, arrears=claim_fiscal_year < year)


def is_late(paid_date: datetime.date, due_date: datetime.date, barcode_expiry: datetime.date) -> bool:
    """Paid after the printed due date but within the barcode expiry: valid money, flagged late.

    >>> d = datetime.date
    >>> due, expiry = d(2026, 12, 15), d(2027, 1, 14)
    >>> is_late(d(2026, 12, 16), due, expiry), is_late(d(2027, 1, 15), due, expiry), is_late(due, due, expiry)
    (True, False, False)
    """
    return due_date < paid_date <= barcode_expiry


def paid_after_expiry(paid_date: datetime.date, barcode_expiry: datetime.date | None) -> bool:
    """Paid after the last day registers accept the barcode (``None`` = no limit)."""
    return barcode_expiry is not None and paid_date > barcode_expiry


def unconfirmed_too_long(paid_date: datetime.date, as_of: datetime.date, days: int) -> bool:
    """A preliminary payment still unconfirmed more than ``days`` calendar days after it was paid.

    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 15), 14)
    False
    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 16), 14)
    True
    """
    return (as_of - paid_date).days > days


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
