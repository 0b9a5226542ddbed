"""令和 (Reiwa) dates and fiscal years as printed on slips.

Only the 令和 era is supported: slips are issued from 2026 on, and a date before 2019-05-01 is refused rather
than printed in the wrong era. The first year of an era is 元年.

>>> reiwa_year(2019), reiwa_year(2026)
('令和元年', '令和8年')
>>> fiscal_year_label(2026)
'令和8年度'
>>> wareki_date(datetime.date(2026, 11, 30))
'令和8年11月30日'
>>> wareki_date(datetime.date(2019, 4, 30))
Traceback (most recent call last):
    ...
ValueError: 2019-04-30 is before the 令和 era (2019-05-01)
"""

from __future__ import annotations

import datetime

REIWA_START = datetime.date(2019, 5, 1)


def reiwa_year(year: int) -> str:
    """The 令和 name of a calendar or fiscal year: 2019 → 令和元年, 2026 → 令和8年.

    Raises:
        ValueError: ``year`` is before 2019.
    """
    if year < REIWA_START.year:
        raise ValueError(f"{year} is before the 令和 era")
    n = year - REIWA_START.year + 1
    return "令和元年" if n == 1 else f"令和{n}年"


def fiscal_year_label(fiscal_year: int) -> str:
    """The fiscal year (April to March) named by its starting year: 2026 → 令和8年度, 2019 → 令和元年度.

    FY2019 began under 平成 but is officially called 令和元年度.

    Raises:
        ValueError: ``fiscal_year`` is before 2019.
    """
    return f"{reiwa_year(fiscal_year)}度"


def wareki_date(day: datetime.date) -> str:
    """A date in 令和 form: 2026-11-30 → 令和8年11月30日.

    Raises:
        ValueError: ``day`` is before 2019-05-01.
    """
    if day < REIWA_START:
        raise ValueError(f"{day.isoformat()} is before the 令和 era ({REIWA_START.isoformat()})")
    return f"{reiwa_year(day.year)}{day.month}月{day.day}日"
