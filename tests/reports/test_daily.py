"""The daily report on the week of conftest.py: figures worked out by hand from the files' rows, a past day's
report that does not change when the next day's data arrives, CSV encodings, the HTML page and its chart."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import types
from pathlib import Path

import sqlalchemy as sa

from adapters import dsk_csv
from barcodes.cvs import compose
from gateway.issuing import slips as slip_service
from gateway.reporting import reports
from tests.helpers import make_claim
from tests.reports.conftest import DAY1
from tests.reports.conftest import DAY2
from tests.reports.conftest import Week
from tests.reports.conftest import at
from tests.reports.conftest import record
from tests.reports.conftest import write_fixed120

D = datetime.date
ZERO = {"count": 0, "amount": 0}


def fig(count: int, amount: int) -> dict[str, int]:
    return {"count": count, "amount": amount}


def received_row(paid: str, channel: str, name: str, **kinds: dict[str, int]) -> dict[str, object]:
    return {
        "paid_date": paid,
        "channel_code": channel,
        "channel_name": name,
        "preliminary": kinds.get("preliminary", ZERO),
        "confirmed": kinds.get("confirmed", ZERO),
        "cancelled": kinds.get("cancelled", ZERO),
    }


def test_day1_figures_by_hand(week: Week) -> None:
    week.day1()
    week.clock.set("2026-12-03T08:00:00")  # the next morning: day 1 is over and reconciled
    doc = reports.daily(week.ctx, DAY1)
    assert doc["received_date"] == "2026-12-02"
    assert doc["final"] is True
    assert doc["pending"] == {"day_open": False, "unreconciled_records": 0, "unreconciled_bank_records": 0}
    assert doc["received"] == [
        received_row("2026-11-27", "0010", "セブン-イレブン", confirmed=fig(1, 6_000)),
        received_row("2026-11-30", "0820", "PayPay", preliminary=fig(1, 25_000)),
        received_row("2026-12-01", "0010", "セブン-イレブン", preliminary=fig(2, 13_000)),  # B + unknown
        received_row("2026-12-01", "0020", "ローソン", preliminary=fig(2, 20_000), cancelled=fig(1, 8_000)),
        received_row("2026-12-01", "0030", "ファミリーマート", preliminary=fig(1, 5_000)),
    ]
    # B was paid on 2026-12-01, the day after its due date, within the barcode expiry.
    assert doc["late"] == [
        {
            "paid_date": "2026-12-01",
            "channel_code": "0010",
            "channel_name": "セブン-イレブン",
            "count": 1,
            "amount": 10_000,
        }
    ]
    assert doc["manual_receipts"] == []
    assert {r["kind"]: (r["opened"], r["resolved"]) for r in doc["exceptions"]} == {
        "unknown_slip": (1, 0),
        "unexpected_channel": (1, 0),
    }
    assert doc["claims"] == {"paid_off": ["T-0007"], "reopened": []}
    # G's 6,000 for transfer 2026-12-04, net: fee 130, tax 13 (10 % of 130, rounded down).
    assert doc["expected_remittances"] == [
        {
            "agent_code": "12345",
            "agent_name": "見本収納代行",
            "transfer_date": "2026-12-04",
            "mode": "net",
            "records": 1,
            "gross": 6_000,
            "fees": 130,
            "fee_tax": 13,
            "expected": 5_857,
        }
    ]
    assert doc["bank_credits"] == [] and doc["unmatched_credits"] == []
    totals = doc["totals"]
    assert totals["received"] == {
        "preliminary": fig(6, 63_000),
        "confirmed": fig(1, 6_000),
        "cancelled": fig(1, 8_000),
    }
    assert totals["late"] == fig(1, 10_000)
    assert totals["exceptions"] == {"opened": 2, "resolved": 0, "reopened": 0}
    assert totals["claims_paid_off"] == 1
    assert totals["expected_remittances"]["expected"] == 5_857


def test_day2_figures_by_hand(week: Week) -> None:
    week.day1()
    week.day2()
    week.clock.set("2026-12-05T08:00:00")
    doc = reports.daily(week.ctx, DAY2)
    assert doc["final"] is True
    assert doc["received"] == [
        received_row("2026-12-01", "0010", "セブン-イレブン", confirmed=fig(1, 10_000)),
        received_row("2026-12-01", "0020", "ローソン", confirmed=fig(1, 12_000)),
    ]
    assert doc["late"] == []  # B's first record arrived on day 1
    assert doc["exceptions"] == []
    assert doc["claims"] == {"paid_off": ["T-0001", "T-0002"], "reopened": []}
    assert doc["expected_remittances"] == [
        {
            "agent_code": "12345",
            "agent_name": "見本収納代行",
            "transfer_date": "2026-12-04",
            "mode": "net",
            "records": 2,
            "gross": 22_000,
            "fees": 260,
            "fee_tax": 26,
            "expected": 21_714,
        }
    ]
    assert doc["bank_credits"] == [
        {
            "value_date": "2026-12-04",
            "agent_code": "12345",
            "agent_name": "見本収納代行",
            "count": 1,
            "amount": 27_571,
            "cancelled_count": 0,
            "cancelled_amount": 0,
            "credited": 27_571,
        }
    ]
    assert doc["unmatched_credits"] == [
        {
            "value_date": "2026-12-04",
            "count": 1,
            "amount": 4_000,
            "cancelled_count": 0,
            "cancelled_amount": 0,
            "credited": 4_000,
        }
    ]
    assert doc["totals"]["bank_credits"]["credited"] == 27_571


def test_a_past_days_report_never_changes(week: Week) -> None:
    week.day1()
    week.clock.set("2026-12-04T08:00:00")
    before = reports.json_bytes(reports.daily(week.ctx, DAY1))
    week.day2()  # confirmations, a matched remittance, claims paid off, receipt dates, accounting entries
    week.clock.set("2026-12-09T08:00:00")
    week.reconcile()  # a later run (ageing, remittances re-evaluated) changes nothing of day 1 either
    after = reports.json_bytes(reports.daily(week.ctx, DAY1))
    assert after == before
    assert json.loads(after)["final"] is True


def test_a_day_not_over_or_not_reconciled_is_not_final(week: Week) -> None:
    week.day1()
    doc = reports.daily(week.ctx, DAY1)  # 2026-12-02 09:00: the day is still going
    assert doc["final"] is False and doc["pending"]["day_open"] is True
    week.clock.set("2026-12-04T09:00:00")
    s = week.slips
    week.ingest(_fixed120(week, "late.txt", [record("01", s["C"].barcode, at("2026-12-03T10:00"), "0820")]))
    week.clock.set("2026-12-05T09:00:00")
    doc = reports.daily(week.ctx, DAY2)
    assert doc["final"] is False
    assert doc["pending"] == {"day_open": False, "unreconciled_records": 1, "unreconciled_bank_records": 0}


def _fixed120(week: Week, name: str, records: list[types.SimpleNamespace]) -> Path:
    return write_fixed120(week.folder / name, week.ctx.today(), records)


def test_postal_correction_replaces_its_record_across_days(week: Week) -> None:
    """A ``12`` on day 1 and its ``22`` (corrected 7,000 → 6,500) on day 2: day 2 adds −500 yen and no item,
    so the two days add up to what the agent owes for the transfer date (only the ``22``)."""
    ctx = week.ctx
    make_claim(ctx, "T-0010", amount=7_000, assessment_number="2026-0110")
    (slip,) = slip_service.issue_slips(ctx, "T-0010", slip_service.Plan(first_due_date=D(2026, 12, 15)))
    postal = compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number=slip.payment_number,
        reissue_count=0,
        expiry=None,
        amount=7_000,
    )
    paid = at("2026-12-01T00:00")
    transfer = D(2026, 12, 10)

    def deliver(name: str, row: types.SimpleNamespace) -> None:
        path = week.folder / name
        with path.open("wb") as fh:
            dsk_csv.write(fh, [row])
        week.ingest(path)
        week.reconcile()

    week.clock.set("2026-12-02T09:00:00")
    deliver("postal-12.csv", record("12", postal, paid, "0910", store="000000", transfer=transfer))
    week.clock.set("2026-12-04T09:00:00")
    deliver(
        "postal-22.csv", record("22", postal, paid, "0910", store="000000", transfer=transfer, amount=6_500)
    )
    week.clock.set("2026-12-05T09:00:00")
    (day1,) = reports.daily(ctx, DAY1)["expected_remittances"]
    (day2,) = reports.daily(ctx, DAY2)["expected_remittances"]
    assert (day1["records"], day1["gross"], day1["fees"], day1["fee_tax"]) == (1, 7_000, 130, 13)
    assert (day2["records"], day2["gross"], day2["fees"], day2["fee_tax"]) == (0, -500, 0, 0)
    assert reports.daily(ctx, DAY2)["totals"]["postal_corrections"] == fig(1, 6_500)
    engine_gross = ctx.session.execute(
        sa.text("SELECT gross FROM remittances WHERE transfer_date = :d"), {"d": transfer.isoformat()}
    ).scalar_one()
    assert day1["gross"] + day2["gross"] == engine_gross == 6_500


# -- CSV


def _rows(body: bytes, encoding: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode(encoding), newline="")))


def test_csv_is_utf8_with_bom_and_flat(week: Week) -> None:
    week.day1()
    body = reports.daily_csv(reports.daily(week.ctx, DAY1))
    assert body.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in body
    rows = _rows(body, "utf-8-sig")
    assert tuple(rows[0]) == reports.DAILY_CSV_COLUMNS
    cancelled = [r for r in rows if r["section"] == "received" and r["item"] == "cancelled"]
    assert cancelled == [
        {
            "received_date": "2026-12-02",
            "section": "received",
            "item": "cancelled",
            "paid_date": "2026-12-01",
            "channel_code": "0020",
            "channel_name": "ローソン",
            "agent_code": "",
            "transfer_date": "",
            "value_date": "",
            "claim_number": "",
            "count": "1",
            "amount": "8000",
        }
    ]
    total = {r["item"]: (r["count"], r["amount"]) for r in rows if r["section"] == "total"}
    assert total["received_preliminary"] == ("6", "63000")
    assert total["expected_remittance_expected"] == ("1", "5857")
    assert [r["claim_number"] for r in rows if r["section"] == "claims_paid_off"] == ["T-0007"]


def test_csv_in_cp932_for_excel(week: Week) -> None:
    week.day1()
    body = reports.daily_csv(reports.daily(week.ctx, DAY1), "cp932")
    assert not body.startswith(b"\xef\xbb\xbf")
    assert "ファミリーマート".encode("cp932") in body
    assert any(r["channel_name"] == "ローソン" for r in _rows(body, "cp932"))


def test_cp932_replaces_what_it_cannot_hold_visibly() -> None:
    stats = reports.EncodeStats()
    # 𠮷 (U+20BB7) is not in cp932; 髙 is (an IBM extension); the wave dash maps to the full-width tilde.
    out = reports.encode_text("𠮷田 髙橋 9〜17時", "cp932", stats)
    assert out.decode("cp932") == "〓田 髙橋 9～17時"
    assert stats.replaced == 1


def test_csv_cells_cannot_start_a_formula() -> None:
    assert reports.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert reports.csv_cell("@SUM(1)") == "'@SUM(1)"
    assert reports.csv_cell(-12_000) == "-12000"  # a negative amount stays a number


# -- HTML


def test_html_page_has_the_tables_and_a_30_day_chart(week: Week) -> None:
    week.day1()
    week.day2()
    html = reports.render_daily_html(week.ctx, reports.daily(week.ctx, DAY2))
    assert html.startswith("<!doctype html>")
    assert "<script" not in html
    (svg,) = re.findall(r"<svg.*?</svg>", html, re.S)
    assert 'role="img"' in svg and '<title id="chart-title">' in svg and '<desc id="chart-desc">' in svg
    days = re.findall(r'<g class="day" data-date="(\d{4}-\d{2}-\d{2})">', svg)
    assert len(days) == 30
    assert days[0] == "2026-11-05" and days[-1] == "2026-12-04"
    # day 1's bars: 6 preliminary records of 63,000 yen, 1 confirmed, 1 cancelled, 2 exceptions opened
    (day1,) = re.findall(r'<g class="day" data-date="2026-12-02"><title>(.*?)</title>', svg)
    assert "速報 6件 63,000円" in day1 and "取消 1件 8,000円" in day1 and "例外発生 2件" in day1
    assert "27,571円" in html  # the bank credit
    assert "見本 ﾀﾛｳ" not in html and "ﾐﾎﾝ ﾀﾛｳ" not in html  # no remitter name


def test_chart_scale() -> None:
    from gateway.reporting.report_chart import nice_scale

    assert nice_scale(0) == (1, 1)
    assert nice_scale(63_000, 1000) == (80_000, 20_000)
    assert nice_scale(4) == (4, 1)


# -- the scheduled job


def test_daily_report_job_writes_yesterdays_files(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    week.day1()
    week.day2()
    week.clock.set("2026-12-05T07:00:00")
    counts = reports.daily_report_job(week.ctx)
    folder = Path(settings.instance_dir) / "reports" / "daily"
    assert counts["date"] == "2026-12-04" and counts["final"] is True and counts["files"] == 3
    assert counts["records"] == 2 and counts["amount"] == 22_000
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-12-04.csv",
        "2026-12-04.html",
        "2026-12-04.json",
    ]
    assert (folder / "2026-12-04.json").read_bytes() == reports.json_bytes(reports.daily(week.ctx, DAY2))
    assert (folder / "2026-12-04.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert 'class="day"' in (folder / "2026-12-04.html").read_text("utf-8")
    assert counts["rewritten"] == []


def test_the_job_rewrites_a_file_written_before_it_was_final(week: Week, settings) -> None:  # type: ignore[no-untyped-def]
    folder = Path(settings.instance_dir) / "reports" / "daily"
    s = week.slips
    week.day1()
    week.clock.set("2026-12-02T23:00:00")
    week.ingest(
        _fixed120(week, "evening.txt", [record("01", s["C"].barcode, at("2026-12-02T20:00"), "0820")])
    )
    week.clock.set("2026-12-03T07:00:00")  # the job runs before the morning reconciliation
    assert reports.daily_report_job(week.ctx)["final"] is False
    assert json.loads((folder / "2026-12-02.json").read_bytes())["pending"]["unreconciled_records"] == 1
    week.reconcile()
    week.clock.set("2026-12-04T07:00:00")
    counts = reports.daily_report_job(week.ctx)
    assert counts["date"] == "2026-12-03" and counts["rewritten"] == ["2026-12-02"] and counts["files"] == 6
    doc = json.loads((folder / "2026-12-02.json").read_bytes())
    assert doc["final"] is True and doc["totals"]["received"]["preliminary"] == fig(7, 88_000)
    week.clock.set("2026-12-05T07:00:00")
    assert reports.daily_report_job(week.ctx)["rewritten"] == []  # final files are left alone
