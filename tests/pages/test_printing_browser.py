"""Print batches in Chromium as a clerk does it: create a batch (with its confirmation) → download the PDF →
record the mailing date; then the print contractor's view. Screenshots: test-artifacts/print-*.png."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.access import users
from gateway.context import Context
from gateway.issuing import slips as slip_service
from tests.conftest import Clock
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def data(ctx: Context) -> None:
    users.create_user(ctx, "web-finance", "finance", PASSWORD)
    users.create_user(ctx, "web-printer", "print_vendor", PASSWORD)
    make_claim(ctx, "R08-00001", debtor_ref="A", debtor_name="見本 一郎", amount=45_000)
    make_claim(
        ctx, "R08-00002", debtor_ref="B", debtor_name="試験 花子", amount=12_000, postal_code="999-0002"
    )
    for number in ("R08-00001", "R08-00002"):
        slip_service.issue_slips(ctx, number, slip_service.Plan(first_due_date=datetime.date(2026, 12, 15)))


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_create_download_and_record_mailing(
    chromium: Any, live_server: str, data: None, tmp_path: Path, clock: Clock
) -> None:
    context = chromium.new_context(
        accept_downloads=True, viewport={"width": 1024, "height": 800}, locale="ja-JP"
    )
    page = context.new_page()
    browser_login(page, live_server, "web-finance", next="/staff/print-batches")
    expect(page.locator("table.print-batches")).to_contain_text("印刷バッチはありません")
    page.click("text=印刷バッチを作成する")
    page.wait_for_url(f"{live_server}/staff/print-batches/new")
    page.fill("#due_from", "2026-12-01")
    page.fill("#due_to", "2026-12-31")
    _shot(page, "print-new.png")
    page.click("button:has-text('印刷する内容を確認する')")
    page.wait_for_url("**/staff/print-batches/new?confirm=1*")
    expect(page.locator("section.confirm")).to_contain_text("2枚")
    expect(page.locator("section.confirm")).to_contain_text("57,000円")
    _shot(page, "print-confirm.png")
    page.click("button:has-text('この内容で印刷バッチを作成する')")
    page.wait_for_url(f"{live_server}/staff/print-batches/1")
    expect(page.locator(".flash.ok")).to_contain_text("印刷バッチ 1 を作成しました")

    with page.expect_download() as info:
        page.click("text=PDF(納付書と封筒)をダウンロード")
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")

    clock.advance(days=3)  # handed to the post on Monday: the Friday session has timed out, sign in again
    browser_login(page, live_server, "web-finance", next="/staff/print-batches/1")
    page.fill("#mailed_on", "2026-11-30")
    page.click("button:has-text('発送日を記録する')")
    expect(page.locator(".flash.ok")).to_contain_text("発送日を令和8年11月30日と記録しました")
    expect(page.locator("dl.fields")).to_contain_text("令和8年11月30日")
    _shot(page, "print-batch.png")

    page.click("text=印刷バッチ一覧へ戻る")
    page.wait_for_url(f"{live_server}/staff/print-batches")
    expect(page.locator("table.print-batches")).to_contain_text("2026/11/30")
    _shot(page, "print-list.png")
    context.close()

    vendor = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = vendor.new_page()
    browser_login(page, live_server, "web-printer", next="/staff/print-batches")
    expect(page.locator("header nav")).to_have_text("今日印刷")
    expect(page.locator("table.print-batches")).to_contain_text("表示期限")
    page.click("text=印刷バッチ 1")
    page.wait_for_url(f"{live_server}/staff/print-batches/1")
    assert page.locator("text=再印刷(PDF").count() == 0
    _shot(page, "print-vendor.png")
    vendor.close()
