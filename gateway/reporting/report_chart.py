"""The daily report's chart: the last 30 received dates, drawn on the server as SVG (no script; the staff
pages' CSP forbids inline JavaScript, and the standalone file must open anywhere).

Two panels share the day axis: amounts (yen) and counts, each with preliminary, confirmed and cancelled
records side by side, the count panel also with the exceptions opened that day. Days the office is closed
are shaded, the report's own day is highlighted. The SVG carries a ``<title>`` and a ``<desc>`` (with the
30-day totals) for screen readers, each day a ``<title>`` tooltip; the page adds the figures as a table.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

import jinja2

from gateway import business_calendar as cal

WIDTH = 960
LEFT = 84
RIGHT = 16
AMOUNT_TOP = 48
AMOUNT_HEIGHT = 150
COUNT_TOP = AMOUNT_TOP + AMOUNT_HEIGHT + 40
COUNT_HEIGHT = 100
HEIGHT = COUNT_TOP + COUNT_HEIGHT + 40


# Okabe-Ito colours: told apart with the common colour-vision deficiencies; the legend names each.
class Series(NamedTuple):
    """One series of the chart: the figures' key, its legend label and its colour."""

    key: str
    label: str
    colour: str


SERIES = (
    Series("preliminary", "速報", "#56B4E9"),
    Series("confirmed", "確報", "#0072B2"),
    Series("cancelled", "取消", "#D55E00"),
)
EXCEPTIONS = Series("exceptions", "例外発生", "#CC79A7")
WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True)
class DayFigures:
    """One day of the chart: records received per kind, and exceptions opened."""

    day: datetime.date
    counts: dict[str, int]
    amounts: dict[str, int]
    exceptions_opened: int


@functools.cache
def jinja_env() -> jinja2.Environment:
    """The templates outside Flask (the command line and the scheduler render the standalone page)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gateway", "templates"),
        autoescape=jinja2.select_autoescape(("html", "svg")),
        undefined=jinja2.StrictUndefined,
    )


def nice_scale(maximum: int, minimum_top: int = 1) -> tuple[int, int]:
    """(top, step) of an axis: a 1-2-5 step, at most four steps up to a top at or above ``maximum``.

    >>> nice_scale(0), nice_scale(7), nice_scale(63_000, 1000), nice_scale(1_250_000, 1000)
    ((1, 1), (8, 2), (80000, 20000), (1500000, 500000))
    """
    maximum = max(maximum, minimum_top)
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if step * 4 >= maximum:
                return -(-maximum // step) * step, step
        magnitude *= 10


def yen_label(value: int) -> str:
    """An axis label: ``120万`` for round ten-thousands, else ``1,500``.

    >>> yen_label(1_200_000), yen_label(1_500), yen_label(0)
    ('120万', '1,500', '0')
    """
    if value and value % 10_000 == 0:
        return f"{value // 10_000:,}万"
    return f"{value:,}"


def _num(value: float) -> str:
    """Coordinates with one decimal, without a trailing ``.0``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _describe(days: Sequence[DayFigures]) -> str:
    parts = []
    for series in SERIES:
        count = sum(d.counts[series.key] for d in days)
        amount = sum(d.amounts[series.key] for d in days)
        parts.append(f"{series.label} {count:,}件 {amount:,}円")
    opened = sum(d.exceptions_opened for d in days)
    busiest = max(days, key=lambda d: (sum(d.amounts.values()), d.day))
    text = (
        f"受信日ごとの件数と金額（{days[0].day:%Y/%m/%d}〜{days[-1].day:%Y/%m/%d}）。"
        f"{len(days)}日間の合計: {'、'.join(parts)}、例外発生 {opened:,}件。"
    )
    if sum(busiest.amounts.values()):
        text += f"金額が最も多い日: {busiest.day:%Y/%m/%d}（{sum(busiest.amounts.values()):,}円）。"
    return text


def _day_title(d: DayFigures) -> str:
    figures = " / ".join(f"{s.label} {d.counts[s.key]:,}件 {d.amounts[s.key]:,}円" for s in SERIES)
    return f"{d.day:%Y/%m/%d}（{WEEKDAYS[d.day.weekday()]}） {figures} / 例外発生 {d.exceptions_opened:,}件"


def daily_chart(days: Sequence[DayFigures], report_day: datetime.date) -> str:
    """The SVG markup for ``days`` (oldest first); ``report_day`` is highlighted."""
    plot_width = WIDTH - LEFT - RIGHT
    column = plot_width / len(days)
    amount_top, amount_step = nice_scale(max(max(d.amounts.values()) for d in days), 1000)
    count_top, count_step = nice_scale(max(max(*d.counts.values(), d.exceptions_opened) for d in days), 1)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc" '
        f'font-family="Hiragino Sans, Noto Sans JP, Yu Gothic, system-ui, sans-serif" font-size="11">',
        '<title id="chart-title">直近30日の受信データ（受信日別）</title>',
        f'<desc id="chart-desc">{escape(_describe(days))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    # legend
    x = LEFT
    for series in (*SERIES, EXCEPTIONS):
        out.append(f'<rect x="{x}" y="12" width="12" height="12" fill="{series.colour}"/>')
        out.append(f'<text x="{x + 16}" y="22" fill="#1d2430">{escape(series.label)}</text>')
        x += 28 + 13 * len(series.label)
    out.append(
        f'<text x="{WIDTH - RIGHT}" y="22" text-anchor="end" fill="#5b6676">'
        "灰色: 閉庁日　枠: 表示中の日</text>"
    )
    # day backgrounds: closed days shaded, the report's day framed
    for i, d in enumerate(days):
        x0 = LEFT + i * column
        if not cal.is_office_day(d.day):
            out.append(
                f'<rect x="{_num(x0)}" y="{AMOUNT_TOP}" width="{_num(column)}" '
                f'height="{COUNT_TOP + COUNT_HEIGHT - AMOUNT_TOP}" fill="#eef1f5"/>'
            )
        if d.day == report_day:
            out.append(
                f'<rect x="{_num(x0 + 0.5)}" y="{AMOUNT_TOP - 4}" width="{_num(column - 1)}" '
                f'height="{COUNT_TOP + COUNT_HEIGHT - AMOUNT_TOP + 8}" fill="#fff6d6" stroke="#a86a00"/>'
            )
    out += _axis(AMOUNT_TOP, AMOUNT_HEIGHT, amount_top, amount_step, yen_label, "金額（円）")
    out += _axis(COUNT_TOP, COUNT_HEIGHT, count_top, count_step, lambda v: f"{v:,}", "件数")
    # one group per day: bars in both panels, the date label, a tooltip
    for i, d in enumerate(days):
        x0 = LEFT + i * column
        out.append(f'<g class="day" data-date="{d.day.isoformat()}"><title>{escape(_day_title(d))}</title>')
        out.append(
            f'<rect x="{_num(x0)}" y="{AMOUNT_TOP}" width="{_num(column)}" '
            f'height="{COUNT_TOP + COUNT_HEIGHT - AMOUNT_TOP}" fill="transparent"/>'
        )
        amount_values = [(d.amounts[s.key], s.colour) for s in SERIES]
        out += _bars(x0, column, amount_values, AMOUNT_TOP, AMOUNT_HEIGHT, amount_top)
        count_values = [(d.counts[s.key], s.colour) for s in SERIES]
        count_values.append((d.exceptions_opened, EXCEPTIONS.colour))
        out += _bars(x0, column, count_values, COUNT_TOP, COUNT_HEIGHT, count_top)
        label = f"{d.day.month}/{d.day.day}" if d.day.day == 1 or i == 0 else str(d.day.day)
        weight = ' font-weight="700"' if d.day == report_day else ""
        out.append(
            f'<text x="{_num(x0 + column / 2)}" y="{COUNT_TOP + COUNT_HEIGHT + 14}" text-anchor="middle" '
            f'fill="#1d2430"{weight}>{label}</text>'
        )
        out.append(
            f'<text x="{_num(x0 + column / 2)}" y="{COUNT_TOP + COUNT_HEIGHT + 27}" text-anchor="middle" '
            f'fill="#5b6676" font-size="9">{WEEKDAYS[d.day.weekday()]}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def _axis(
    top: int, height: int, scale_top: int, step: int, fmt: Callable[[int], str], title: str
) -> list[str]:
    out = [f'<text x="4" y="{top - 8}" fill="#5b6676">{escape(title)}</text>']
    for value in range(0, scale_top + 1, step):
        y = top + height - height * value / scale_top
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="{"#8a94a3" if value == 0 else "#d9dee6"}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{_num(y + 4)}" text-anchor="end" fill="#5b6676">'
            f"{escape(fmt(value))}</text>"
        )
    return out


def _bars(
    x0: float, column: float, values: list[tuple[int, str]], top: int, height: int, scale_top: int
) -> list[str]:
    inner = column * 0.8
    width = inner / len(values)
    out = []
    for j, (value, colour) in enumerate(values):
        if value <= 0:
            continue
        bar = max(1.0, height * value / scale_top)  # a small value stays visible
        x = x0 + (column - inner) / 2 + j * width
        out.append(
            f'<rect x="{_num(x)}" y="{_num(top + height - bar)}" width="{_num(max(width - 1, 1))}" '
            f'height="{_num(bar)}" fill="{colour}"/>'
        )
    return out
