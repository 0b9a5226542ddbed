"""The office's business calendar: Japanese national holidays, weekends and the year-end closure.

Office days exclude Saturdays, Sundays, national holidays (the ``holidays`` package, which follows the
Cabinet Office list including substitute and citizens' holidays) and 29 December – 3 January (the
municipal year-end closure under 地方自治法 §4-2). Every date the gateway computes goes through here.

>>> is_office_day(datetime.date(2026, 11, 23))   # 勤労感謝の日
False
>>> next_office_day(datetime.date(2026, 12, 29))
datetime.date(2027, 1, 4)
>>> add_months(datetime.date(2026, 1, 31), 1)
datetime.date(2026, 2, 28)
"""

from __future__ import annotations

import calendar as _calendar
import datetime
import functools


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[datetime.date]:
    # Imported on first use: it is the heaviest import of a slip's path, and most commands never need a date.
    import holidays

    return frozenset(holidays.country_holidays("JP", years=year).keys())


def is_holiday(day: datetime.date) -> bool:
    """A national holiday (祝日, 振替休日, 国民の休日)."""
    return day in _holidays(day.year)


def is_year_end_closure(day: datetime.date) -> bool:
    """29 December to 3 January."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_office_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and not is_holiday(day) and not is_year_end_closure(day)


def next_office_day(day: datetime.date) -> datetime.date:
    """``day`` itself when the office is open, else the next day it is."""
    while not is_office_day(day):
        day += datetime.timedelta(days=1)
    return day


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later, clipped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def monthly_due_dates(first: datetime.date, count: int) -> list[datetime.date]:
    """Due dates for ``count`` monthly instalments from ``first``: each month's day (clipped to the month's
    end), moved to the next office day. Months are counted from ``first``, not from a moved date, so a
    holiday in one month does not shift the next.

    >>> monthly_due_dates(datetime.date(2026, 10, 31), 3)
    [datetime.date(2026, 11, 2), datetime.date(2026, 11, 30), datetime.date(2027, 1, 4)]
    """
    return [next_office_day(add_months(first, i)) for i in range(count)]


def office_days_between(start: datetime.date, end: datetime.date) -> int:
    """Office days in the half-open range ``[start, end)``."""
    days = 0
    day = start
    while day < end:
        days += is_office_day(day)
        day += datetime.timedelta(days=1)
    return days
