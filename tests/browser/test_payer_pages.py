"""The payer page and its not-found page in Chromium at a phone's width: the heading the QR caption promises,
the 取扱期限 paragraph and the office's contact with a working tel: link, nothing wider than the screen.
Screenshots: test-artifacts/payer-slip.png, payer-not-found.png."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from gateway.pdf import wording
from tests.helpers import make_claim

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def slip(ctx: Context) -> Slip:
    make_claim(ctx, "R08-00001", debtor_name="見本 一郎", amount=45_000)
    (issued,) = slip_service.issue_slips(
        ctx, "R08-00001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    return issued


def _phone_page(chromium: Any) -> tuple[Any, Any]:
    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="ja-JP")
    return context, context.new_page()


def _check_contact(page: Any) -> None:
    expect(page.locator("section.after-expiry h2")).to_have_text(wording.AFTER_EXPIRY_HEADING)
    expect(page.locator("section.after-expiry")).to_contain_text(
        "取扱期限を過ぎた場合は、指定金融機関(見本銀行)の窓口でお手元の納付書によりお支払いいただけます。"
    )
    contact = page.locator("section.contact")
    expect(contact.locator("h2")).to_have_text(wording.CONTACT_HEADING)
    expect(contact).to_contain_text("見本市 会計課 収納係")
    expect(contact).to_contain_text("平日 8時30分〜17時15分")
    tel = contact.locator("a.tel")
    expect(tel).to_have_text("000-0000-0000")
    expect(tel).to_have_attribute("href", "tel:00000000000")
    # the whole block is on the phone's screen width: no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = tel.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]


def test_payer_page_on_a_phone(chromium: Any, live_server: str, ctx: Context, slip: Slip) -> None:
    url = slip_service.payer_url(ctx, slip).replace("http://127.0.0.1:8000", live_server)
    context, page = _phone_page(chromium)
    page.goto(url)
    expect(page.locator("h1")).to_have_text(wording.PAYER_PAGE_PURPOSE)
    expect(page.locator("p.purpose")).to_contain_text(wording.QR_NOT_FOR_PAYMENT)
    expect(page.locator(".amount")).to_have_text("45,000円")
    _check_contact(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "payer-slip.png"), full_page=True)
    context.close()


def test_not_found_page_on_a_phone(chromium: Any, live_server: str, slip: Slip) -> None:
    context, page = _phone_page(chromium)
    response = page.goto(f"{live_server}/p/not-a-token")
    assert response is not None
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("この納付書は表示できません")
    _check_contact(page)
    assert page.locator(".amount").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "payer-not-found.png"), full_page=True)
    context.close()
