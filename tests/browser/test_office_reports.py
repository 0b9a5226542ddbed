"""The office reports in Chromium, as an accounting clerk uses them: 収納日報 of a 収入日 (pick the day,
read the table, download the PDF), 委託徴収計算書 of an agent and a period (pick them, read it, download the
CSV). Visible text is Japanese only, no ISO date; screenshots: test-artifacts/office-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from gateway.access import users
from tests.pages.pagetools import FORBIDDEN
from tests.pages.pagetools import ISO_DATE
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login
from tests.reports import conftest as reports_world
from tests.reports.conftest import Week

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

week = reports_world.week
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def _clerk_text(page: Any) -> str:
    text: str = page.locator("body").inner_text()
    for word in (*FORBIDDEN, "matched", "gross", "net", "arrears"):
        assert word not in text, (page.url, word)
    assert ISO_DATE.search(text) is None, (page.url, ISO_DATE.search(text))
    return text


def test_accounting_reads_and_downloads_the_office_reports(
    chromium: Any, live_server: str, week: Week
) -> None:
    week.day1()
    week.day2()
    week.clock.set("2026-12-07T09:00:00")
    users.create_user(week.ctx, "acc-kato", "accounting", PASSWORD)
    context = chromium.new_context(
        locale="ja-JP", viewport={"width": 1024, "height": 800}, accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
    browser_login(
        page,
        live_server,
        "acc-kato",
        next="/staff/reports/collection",
        landing=re.compile(re.escape(live_server + "/staff/reports/collection") + r".*"),
    )
    # opens on the latest 収入日 with entries: 2026-12-04, when the agent's credit matched
    expect(page.locator("h1")).to_contain_text("令和8年12月4日 収入分")
    expect(page.locator("table.collection-lines tfoot tr.grand-total")).to_contain_text("28,000円")
    _clerk_text(page)
    _shot(page, "office-collection.png")

    page.fill("input#date", "2026-12-03")
    page.click("button:has-text('表示')")
    page.wait_for_url("**/staff/reports/collection?date=2026-12-03")
    expect(page.locator("body")).to_contain_text("この収入日の収入はありません。")
    page.click("a[rel=next]")
    page.wait_for_url("**/staff/reports/collection?date=2026-12-04")
    with page.expect_download() as info:
        page.click("a.button:has-text('PDF')")
    assert info.value.suggested_filename == "shuno-nippo-20261204.pdf"
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")

    page.click("nav[aria-label=帳票] a:has-text('委託徴収計算書')")
    page.wait_for_url("**/staff/reports/statement")
    page.select_option("select#agent", "12345")
    page.fill("input#from", "2026-12-01")
    page.fill("input#to", "2026-12-31")
    page.click("button:has-text('表示')")
    page.wait_for_url("**/staff/reports/statement?*")
    expect(page.locator("table.statement-days tbody")).to_contain_text("27,571円")
    expect(page.locator("table.statement-days tbody")).to_contain_text("一致")
    expect(page.locator("table.statement-credits")).to_contain_text("101")
    _clerk_text(page)
    _shot(page, "office-statement.png")
    with page.expect_download() as info:
        page.click("a.button:has-text('CSV')")
    assert info.value.suggested_filename == "keisansho-12345-20261201-20261231.csv"
    assert (
        Path(info.value.path()).read_bytes().decode("utf-8-sig").startswith("収納代行会社コード,区分,振込日")
    )
    assert errors == []
    context.close()
