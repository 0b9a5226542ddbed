"""Staff pages in a real browser: sign in, the claims list, a claim, a slip PDF download."""

from __future__ import annotations

import datetime

import pytest

from gateway.access import users
from gateway.issuing import slips as slip_service
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect


@pytest.fixture
def data(ctx):  # type: ignore[no-untyped-def]
    users.create_user(ctx, "web-finance", "finance", PASSWORD)
    users.create_user(ctx, "web-accounting", "accounting", PASSWORD)
    make_claim(ctx, "R08-00001", debtor_ref="A", debtor_name="見本 一郎", amount=45_000)
    make_claim(ctx, "R08-00002", debtor_ref="B", debtor_name="試験 花子", amount=12_000)
    slip_service.issue_slips(ctx, "R08-00001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15)))


def _open_claim(page, base: str, number: str) -> None:  # type: ignore[no-untyped-def]
    """Follow the claim's link and wait until its page has loaded."""
    page.click(f"text={number}")
    page.wait_for_url(f"{base}/staff/claims/{number}")
    page.wait_for_load_state("load")


def test_finance_signs_in_sees_claims_and_downloads_a_slip(chromium, live_server, data, tmp_path):
    context = chromium.new_context(accept_downloads=True)
    page = context.new_page()
    browser_login(page, live_server, "web-finance", next="/staff/claims")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert "R08-00001" in rows.nth(0).inner_text()
    assert "45,000" in rows.nth(0).inner_text()
    _open_claim(page, live_server, "R08-00001")
    expect(page.locator("body")).to_contain_text("見本 一郎")
    with page.expect_download() as info:
        page.click("a.button:has-text('PDF')")
    download = info.value
    assert download.suggested_filename == "nofusho-2600000000100100-0.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(tmp_path / "claim.png"), full_page=True)
    context.close()


def test_accounting_sees_no_names_and_no_pdf_button(chromium, live_server, data):
    context = chromium.new_context()
    page = context.new_page()
    browser_login(page, live_server, "web-accounting", next="/staff/claims")
    _open_claim(page, live_server, "R08-00001")
    html = page.content()
    assert "見本 一郎" not in html
    assert page.locator("a.button:has-text('PDF')").count() == 0
    context.close()


def test_issuing_from_the_page(chromium, live_server, data):
    context = chromium.new_context()
    page = context.new_page()
    browser_login(page, live_server, "web-finance", next="/staff/claims")
    _open_claim(page, live_server, "R08-00002")
    page.check("input[value=instalments]")
    page.fill("input[name=instalments]", "2")
    # First the preview of the plan, then the issue; wait for each page's text rather than reading the page
    # mid-navigation.
    page.click("button:has-text('発行内容を確認する')")
    expect(page.locator("body")).to_contain_text("発行する納付書(まだ発行していません)")
    page.click("button:has-text('枚発行する')")
    expect(page.locator("body")).to_contain_text("2 件の納付書を発行しました")
    expect(page.locator("table.slips tbody tr")).to_have_count(2)
    context.close()
