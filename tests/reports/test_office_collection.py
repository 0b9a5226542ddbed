"""収納日報: its totals equal the daily report's and the 消込データ's for the same day, its lines equal what
the scenario's inputs say (computed here from the data file, not by the code under test), and its CSV is
the golden file beside the input."""

from __future__ import annotations

import datetime
from collections import defaultdict
from pathlib import Path

import pytest
from sqlmodel import col
from sqlmodel import select

from gateway.context import Context
from gateway.models import AccountingEntry
from gateway.money import ledger
from gateway.reporting import office
from gateway.reporting import reports
from tests.conftest import Clock
from tests.reports import office_day
from tests.reports.conftest import Week
from tests.reports.office_day import DAY

#: What the test expects a claim without a revenue item to be listed under (its legal basis, as named).
BASIS_NAMES = {"art63": "第63条返還金", "art77": "第77条徴収金", "art78": "第78条徴収金"}
CHANNEL_NAMES = {"window": "窓口", "bank": "金融機関窓口", "transfer": "口座振込"}


@pytest.fixture
def built(ctx: Context, clock: Clock, tmp_path: Path) -> Context:
    office_day.build(ctx, clock, tmp_path)
    return ctx


def _expected() -> dict[tuple[int, str, str, bool], list[int]]:
    """(fiscal year of the money, channel, revenue item, arrears) → [count, amount], from the inputs alone:
    on a 収入日 in December the money belongs to that fiscal year, and a claim of an earlier year is
    arrears."""
    money_year = DAY.year if DAY.month >= 4 else DAY.year - 1
    cells: dict[tuple[int, str, str, bool], list[int]] = defaultdict(lambda: [0, 0])
    for r in office_day.receipts():
        item = r.revenue_item or BASIS_NAMES[r.legal_basis]
        cell = cells[(money_year, r.channel, item, r.fiscal_year < money_year)]
        cell[0] += 1
        cell[1] += r.amount
    return cells


def test_lines_are_what_the_inputs_say(built: Context) -> None:
    doc = office.daily_collection(built, DAY)
    found: dict[tuple[int, str, str, bool], list[int]] = {}
    for ln in doc.lines:
        assert ln.channel_code is not None
        for arrears, figure in ((False, ln.current), (True, ln.arrears)):
            if figure.count:
                found[(ln.fiscal_year, ln.channel_code, ln.revenue_item, arrears)] = [
                    figure.count,
                    figure.amount,
                ]
    assert found == dict(_expected())
    # several channels, items and both halves are really there (the scenario tests what it claims to)
    assert len({k[1] for k in found}) >= 5 and len({k[2] for k in found}) == 3
    assert doc.current.count and doc.arrears.count


def test_totals_equal_the_daily_report_and_the_export(built: Context) -> None:
    doc = office.daily_collection(built, DAY)
    inputs = office_day.receipts()
    agent_money = sum(r.amount for r in inputs if r.channel not in CHANNEL_NAMES)
    staff_money = sum(r.amount for r in inputs if r.channel in CHANNEL_NAMES)
    assert doc.total == office.Figure(len(inputs), agent_money + staff_money)

    daily = reports.daily(built, DAY)["totals"]
    # Everything received that day was booked that day: confirmed records with that transfer date, credited
    # gross the same day, and staff receipts paid that day.
    assert daily["expected_remittances"]["gross"] == agent_money
    assert daily["bank_credits"]["credited"] == agent_money
    assert daily["manual_receipts"]["amount"] == staff_money
    assert doc.total.amount == daily["expected_remittances"]["gross"] + daily["manual_receipts"]["amount"]
    assert doc.total.count == daily["expected_remittances"]["records"] + daily["manual_receipts"]["count"]
    preview = reports.export_preview(built, DAY)
    assert (preview.rows, preview.amount) == (doc.total.count, doc.total.amount)
    # subtotals add up to the totals
    for subtotals in (doc.by_channel, doc.by_item, doc.by_year):
        assert office._sum_figures([s.total for s in subtotals]) == doc.total
    assert sum(ln.current.amount for ln in doc.lines) == doc.current.amount


def test_a_correction_is_a_negative_line_on_the_day_it_was_made(built: Context, clock: Clock) -> None:
    entry = built.session.exec(select(AccountingEntry).order_by(col(AccountingEntry.id))).first()
    assert entry is not None
    clock.set("2026-12-07T10:00:00")
    ledger.reverse_entries(built, entry.payment_id, "test correction")
    built.session.commit()
    later = office.daily_collection(built, datetime.date(2026, 12, 7))
    assert later.total == office.Figure(1, -entry.amount)
    assert office.daily_collection(built, DAY).total.amount == sum(r.amount for r in office_day.receipts())


def test_an_empty_day(built: Context) -> None:
    doc = office.daily_collection(built, datetime.date(2026, 12, 2))
    assert doc.lines == () and doc.total == office.Figure()
    rows = office.collection_csv(doc).decode("utf-8-sig").splitlines()
    assert rows[-1] == "2026/12/02,合計,,,,0,0,0,0,0,0"


def test_csv_golden(built: Context) -> None:
    doc = office.daily_collection(built, DAY)
    golden = office_day.DATA / "office-day.collection.csv"
    office_day.regenerate(golden, office.collection_csv(doc))
    assert office.collection_csv(doc) == golden.read_bytes()
    assert office.collection_csv(doc, "cp932").decode("cp932") == golden.read_bytes().decode("utf-8-sig")


def test_over_a_period_received_and_booked_add_up(week: Week) -> None:
    """On other days the two reports differ by design (received vs booked); over a period in which every
    remittance matched, what the daily reports received equals what the 収納日報 booked."""
    week.day1()
    week.day2()
    days = [datetime.date(2026, 12, 1) + datetime.timedelta(days=i) for i in range(5)]
    received = booked = 0
    for day in days:
        totals = reports.daily(week.ctx, day)["totals"]
        received += totals["expected_remittances"]["gross"] + totals["manual_receipts"]["amount"]
        booked += office.daily_collection(week.ctx, day).total.amount
    # G 6,000 (received 12/02) and A 12,000 + B 10,000 (received 12/04), all with transfer date 12/04
    assert received == booked == 28_000
    assert office.daily_collection(week.ctx, datetime.date(2026, 12, 2)).total.amount == 0
    assert (
        reports.daily(week.ctx, datetime.date(2026, 12, 2))["totals"]["expected_remittances"]["gross"]
        == 6_000
    )
