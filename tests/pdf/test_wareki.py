"""令和 years, fiscal years and dates."""

from __future__ import annotations

import datetime

import pytest

from gateway.pdf import wareki


@pytest.mark.parametrize(
    ("year", "label"),
    [(2019, "令和元年度"), (2020, "令和2年度"), (2026, "令和8年度"), (2030, "令和12年度")],
)
def test_fiscal_year_label(year: int, label: str) -> None:
    assert wareki.fiscal_year_label(year) == label


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (datetime.date(2019, 5, 1), "令和元年5月1日"),
        (datetime.date(2019, 12, 31), "令和元年12月31日"),
        (datetime.date(2020, 1, 1), "令和2年1月1日"),
        (datetime.date(2026, 11, 30), "令和8年11月30日"),
    ],
)
def test_wareki_date(day: datetime.date, text: str) -> None:
    assert wareki.wareki_date(day) == text


def test_before_reiwa_is_refused() -> None:
    with pytest.raises(ValueError, match="令和"):
        wareki.wareki_date(datetime.date(2019, 4, 30))
    with pytest.raises(ValueError, match="令和"):
        wareki.fiscal_year_label(2018)
