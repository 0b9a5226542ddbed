"""One convention for dates, times, years and money on every page and report (the staff templates' filters,
registered by :mod:`gateway.pages.formats`; the standalone daily report uses them too).

The convention (documented in docs/staff-pages.md):

* a date in running text and headings: 令和8年12月3日 (``wareki``);
* a date in a dense table or a form field's hint: 2026/12/03 (``ymd``);
* a time: Japan time to the minute, 2026/12/03 08:30 (``jst``); never seconds, never an ISO string;
* a fiscal year: 令和8年度 (``nendo``);
* an amount: 12,345円 (``yen``); a count: 1,234 (``count``).

Every filter accepts ``None``/empty (→ ``—``), a ``date``/``datetime`` or its ISO text, so templates never
format by hand. Naive datetimes are taken as UTC (the database stores UTC).

>>> ymd("2026-12-03"), wareki("2026-12-03"), nendo(2026), yen(12345), yen(-500)
('2026/12/03', '令和8年12月3日', '令和8年度', '12,345円', '-500円')
>>> jst("2026-11-05T23:30:00+00:00"), jst(None)
('2026/11/06 08:30', '—')
"""

from __future__ import annotations

import datetime
from typing import Any

from gateway.models.base import JST
from gateway.pdf.wareki import fiscal_year_label
from gateway.pdf.wareki import wareki_date

EMPTY = "—"


def _as_date(value: Any) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return _as_datetime(value).date()
    if isinstance(value, datetime.date):
        return value
    text = str(value)
    if "T" in text or len(text) > 10:
        return _as_datetime(text).date()
    return datetime.date.fromisoformat(text)


def _as_datetime(value: Any) -> datetime.datetime:
    at = value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(str(value))
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.UTC)
    return at.astimezone(JST)


def ymd(value: Any) -> str:
    """A date for tables: 2026/12/03 (a datetime is taken in Japan time)."""
    day = _as_date(value)
    return EMPTY if day is None else day.strftime("%Y/%m/%d")


def wareki(value: Any) -> str:
    """A date for text: 令和8年12月3日 (dates before 令和 fall back to 2019/04/30 form)."""
    day = _as_date(value)
    if day is None:
        return EMPTY
    try:
        return wareki_date(day)
    except ValueError:
        return day.strftime("%Y/%m/%d")


def jst(value: Any) -> str:
    """An instant in Japan time to the minute: 2026/12/03 08:30."""
    if value is None or value == "":
        return EMPTY
    return _as_datetime(value).strftime("%Y/%m/%d %H:%M")


def nendo(value: Any) -> str:
    """A fiscal year: 2026 → 令和8年度."""
    if value is None or value == "":
        return EMPTY
    try:
        return fiscal_year_label(int(value))
    except ValueError:
        return f"{int(value)}年度"


def yen(value: Any) -> str:
    """An amount of money: 12,345円."""
    if value is None or value == "":
        return EMPTY
    return f"{int(value):,}円"


def count(value: Any) -> str:
    """A count with thousands separators: 1,234."""
    if value is None or value == "":
        return EMPTY
    return f"{int(value):,}"


FILTERS = {"ymd": ymd, "wareki": wareki, "jst": jst, "nendo": nendo, "yen": yen, "count": count}
