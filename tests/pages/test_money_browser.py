"""Exceptions, payments, refunds, reports and the accounting export in Chromium, as clerks do them: sign in,
resolve an exception, record a counter receipt (with its confirmation), record a refund as paid, open the
daily report and the arrears list, export the 消込データ. Every page's visible text is Japanese with no
internal code and no ISO date; a full-page screenshot of each is saved under test-artifacts/."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.access import users
from gateway.casework import exceptions as exception_service
from tests.exceptions import conftest as exceptions_world
from tests.exceptions.conftest import FINANCE
from tests.exceptions.conftest import World
from tests.pages.pagetools import FORBIDDEN
from tests.pages.pagetools import ISO_DATE
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login
from tests.reports import conftest as reports_world
from tests.reports.conftest import Week

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

world = exceptions_world.world
unknown = exceptions_world.unknown
paid_twice = exceptions_world.paid_twice
week = reports_world.week
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _clerk_text(page: Any) -> str:
    """The page's visible text; fails on an internal code, an English leftover or an ISO date."""
    text: str = page.locator("body").inner_text()
    for word in FORBIDDEN:
        assert word not in text, (page.url, word)
    assert ISO_DATE.search(text) is None, (page.url, ISO_DATE.search(text))
    return text


def _back_on(base: str, path: str) -> re.Pattern[str]:
    """The page asked for, or one of its dated or numbered sub-pages."""
    return re.compile(re.escape(base + path) + r"(/[\d-]+)?$")


def _watch(page: Any) -> list[str]:
    """Server errors and CSP violations seen while the test drives the page."""
    problems: list[str] = []
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type == "error" and "Refused" in m.text else None,
    )
    return problems


def test_finance_resolves_an_exception_and_records_a_counter_receipt(
    chromium: Any, live_server: str, world: World, unknown: int
) -> None:
    world.claim("C2")
    slip = world.slip("C2", due="2026-12-15")
    world.at("2026-11-30T09:00")
    users.create_user(world.ctx, "fin-yamada", "finance", PASSWORD)
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 800})
    page = context.new_page()
    problems = _watch(page)

    browser_login(
        page,
        live_server,
        "fin-yamada",
        next="/staff/exceptions",
        landing=_back_on(live_server, "/staff/exceptions"),
    )
    row = page.locator(f'table.queue tr:has(a[href="/staff/exceptions/{unknown}"])')
    expect(row).to_contain_text("該当納付書なし")
    expect(row).to_contain_text("見本収納代行")
    expect(row).to_contain_text("3日前")
    _clerk_text(page)
    _shot(page, "exceptions-queue.png")

    page.click(f'table.queue a[href="/staff/exceptions/{unknown}"]')
    page.wait_for_url(f"**/staff/exceptions/{unknown}")
    expect(page.locator("h2", has_text="収納データ 1件")).to_be_visible()
    text = _clerk_text(page)
    assert "データ種別" in text and "ローソン" in text
    _shot(page, "exceptions-detail.png")
    form = page.locator('form[data-resolution="no_action"]')
    form.locator("input[name=note]").fill("収納代行会社の試験データ")
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("処理しました")
    expect(page.locator("h1 .badge")).to_have_text("処理済")
    expect(page.locator("table.history")).to_contain_text("fin-yamada")
    _clerk_text(page)
    _shot(page, "exceptions-resolved.png")
    assert world.exc(unknown)["status"] == "resolved"

    page.click("header nav a:has-text('入金記録')")
    page.wait_for_url("**/staff/payments/new")
    page.fill("#slip_number", slip.slip_number)
    page.fill("#amount", "12000")
    page.fill("#paid_on", "2026-11-30")
    page.select_option("#channel", label="窓口")
    page.fill("#reason", "窓口で現金受領 領収書0042")
    _clerk_text(page)
    _shot(page, "payments-new.png")
    page.click("button:has-text('確認する')")
    expect(page.locator("h1")).to_have_text("入金の記録(確認)")
    text = _clerk_text(page)
    assert "C2" in text and "12,000円" in text and "令和8年11月30日" in text
    _shot(page, "payments-confirm.png")
    page.click("button:has-text('この内容で記録する')")
    expect(page.locator(".flash.ok")).to_contain_text("入金を記録しました")
    expect(page.locator(".flash.ok")).to_contain_text("残額は0円です")
    _clerk_text(page)
    _shot(page, "payments-recorded.png")
    assert world.claim_doc("C2")["status"] == "paid"
    assert problems == []
    context.close()


def test_finance_records_that_a_refund_was_paid(
    chromium: Any, live_server: str, world: World, paid_twice: dict[str, Any]
) -> None:
    exception_service.resolve(
        world.as_(FINANCE),
        paid_twice["overpayment"],
        "refund_due",
        note="還付決定 第12号",
        refund=exception_service.RefundInput(decided_on=datetime.date(2026, 11, 26), amount=12_000),
    )
    users.create_user(world.ctx, "fin-mori", "finance", PASSWORD)
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 800})
    page = context.new_page()
    problems = _watch(page)
    browser_login(
        page, live_server, "fin-mori", next="/staff/refunds", landing=_back_on(live_server, "/staff/refunds")
    )
    row = page.locator("table.refunds tr[data-refund]")
    expect(row).to_contain_text("12,000円")
    expect(row).to_contain_text("令和8年度")
    _clerk_text(page)
    _shot(page, "refunds.png")
    row.locator("input[name=refunded_on]").fill("2026-11-27")
    row.locator("button:has-text('還付済みを記録する')").click()
    expect(page.locator(".flash.ok")).to_contain_text("還付済みにしました")
    expect(page.locator("table.refunds")).to_contain_text("該当する還付はありません")
    assert world.exc(paid_twice["overpayment"])["refund"]["status"] == "refunded"
    assert problems == []
    context.close()


def test_accounting_reads_the_reports_and_exports(chromium: Any, live_server: str, week: Week) -> None:
    week.day1()
    week.day2()
    week.clock.set("2026-12-07T09:00:00")
    users.create_user(week.ctx, "acc-ueda", "accounting", PASSWORD)
    context = chromium.new_context(
        locale="ja-JP", viewport={"width": 1024, "height": 800}, accept_downloads=True
    )
    page = context.new_page()
    problems = _watch(page)
    browser_login(
        page,
        live_server,
        "acc-ueda",
        next="/staff/reports/daily",
        landing=_back_on(live_server, "/staff/reports/daily"),
    )
    assert page.url.endswith("/staff/reports/daily/2026-12-04")  # the latest day with data
    expect(page.locator("h1#report-title")).to_contain_text("令和8年12月4日")
    assert page.locator('svg g[class="day"]').count() == 30
    _clerk_text(page)
    _shot(page, "report-daily.png")

    page.click("header nav a:has-text('滞納一覧')")
    page.wait_for_url("**/staff/reports/arrears")
    _clerk_text(page)
    styles = page.eval_on_selector_all(
        "table.arrears-list td.num, table.arrears-list td.date",
        "cells => cells.map(c => getComputedStyle(c).whiteSpace)",
    )
    assert styles and set(styles) == {"nowrap"}  # numbers and dates never wrap at 1024 px
    _shot(page, "report-arrears.png")

    page.click("header nav a:has-text('会計連携')")
    page.wait_for_url("**/staff/exports")
    expect(page.locator(".export-preview h2")).to_contain_text("令和8年12月4日 収入分")
    expect(page.locator(".export-preview")).to_contain_text("3行")
    with page.expect_download() as info:
        page.click("button:has-text('CSVをダウンロード')")
    download = info.value
    assert download.suggested_filename == "keshikomi-20261204.csv"
    assert Path(download.path()).read_bytes().decode("utf-8-sig").startswith("収入日,債権番号")
    page.reload()
    expect(page.locator("table.export-history")).to_contain_text("acc-ueda")
    expect(page.locator("table.export-history")).to_contain_text("2026/12/04")
    _clerk_text(page)
    _shot(page, "exports.png")
    assert problems == []
    context.close()
