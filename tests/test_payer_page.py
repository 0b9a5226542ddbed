"""The payer's slip page behind the QR code: what it shows, what it must not, headers, 404 rules; the office's
contact and the 取扱期限 on both pages, and the QR caption on paper saying what the page says."""

from __future__ import annotations

import datetime
import io
import re

import pytest
import zxingcpp
from PIL import Image

from barcodes import qr
from gateway.issuing import documents
from gateway.issuing import slips as slip_service
from tests.helpers import PRIVACY_WORDS
from tests.helpers import make_claim
from tests.pdf.pdf_samples import read_pdf

JST = datetime.timezone(datetime.timedelta(hours=9))


@pytest.fixture
def slip(ctx):
    make_claim(
        ctx, amount=12_345, legal_basis="art78", debtor_name="見本 秘匿名", debtor_address="見本県隠町1番"
    )
    (issued,) = slip_service.issue_slips(
        ctx, "T-0001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    return issued


def _path(ctx, slip) -> str:  # type: ignore[no-untyped-def]
    url = slip_service.payer_url(ctx, slip)
    assert url.startswith("http://127.0.0.1:8000/p/")
    return url.removeprefix("http://127.0.0.1:8000")


def test_the_qr_code_decodes_to_the_payer_page(ctx, client, slip):
    url = slip_service.payer_url(ctx, slip)
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.qr_png(url))))
    assert result.text == url
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200


def test_page_shows_what_the_payer_needs(ctx, client, slip):
    response = client.get(_path(ctx, slip))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "12,345円" in html
    assert "2600000000100100" in html
    assert "令和8年12月15日" in html  # due date
    assert "令和9年1月14日" in html  # barcode expiry
    assert "<svg" in html


def test_page_carries_no_name_reason_or_welfare_word(ctx, client, slip):
    html = client.get(_path(ctx, slip)).get_data(as_text=True)
    for text in ("見本 秘匿名", "隠町", "art78", "返還金", "REF-T-0001", "T-0001", *PRIVACY_WORDS):
        assert text not in html, text


def test_private_headers(ctx, client, slip):
    response = client.get(_path(ctx, slip))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    missing = client.get("/p/not-a-token")
    assert missing.status_code == 404
    assert missing.headers["Cache-Control"] == "no-store"
    assert "noindex" in missing.headers["X-Robots-Tag"]


def test_void_slip_is_404(ctx, client, slip):
    path = _path(ctx, slip)
    slip_service.void_slip(ctx, slip.slip_number, "test")
    assert client.get(path).status_code == 404


def test_superseded_slip_is_404_and_the_reissue_has_its_own_page(ctx, client, slip):
    path = _path(ctx, slip)
    new = slip_service.reissue_slip(ctx, slip.slip_number)
    assert client.get(path).status_code == 404
    assert client.get(_path(ctx, new)).status_code == 200


def test_expired_slip_is_404(ctx, client, slip, clock):
    path = _path(ctx, slip)
    clock.set(datetime.datetime(2027, 1, 14, 23, 59, tzinfo=JST))  # last accepted day
    assert client.get(path).status_code == 200
    clock.set(datetime.datetime(2027, 1, 15, 0, 1, tzinfo=JST))
    assert client.get(path).status_code == 404


def test_tokens_are_unguessable_and_distinct(ctx, slip):
    make_claim(ctx, "T-0002")
    (other,) = slip_service.issue_slips(ctx, "T-0002")
    first, second = slip_service.payer_token(ctx, slip), slip_service.payer_token(ctx, other)
    assert first != second
    assert len(first) >= 32
    assert slip.payment_number not in first


def test_paid_slip_is_404_from_the_moment_money_is_pending(ctx, client, slip):
    path = _path(ctx, slip)
    from gateway.casework import payments

    payments.record_payment(
        ctx, slip.slip_number, 12_345, datetime.date(2026, 11, 27), "window", "paid at counter"
    )
    assert client.get(path).status_code == 404


# --- the office's contact, the 取扱期限, and the QR caption (issue 11) -----------------------------------

AFTER_EXPIRY = (
    "取扱期限を過ぎた場合は、指定金融機関(見本銀行)の窓口でお手元の納付書によりお支払いいただけます。"
)


def _assert_contact_block(html: str) -> None:
    assert "<h2>取扱期限を過ぎたら</h2>" in html
    assert AFTER_EXPIRY in html
    assert "<h2>お問い合わせ先</h2>" in html
    assert "見本市 会計課 収納係" in html
    assert '<a class="tel" href="tel:00000000000">000-0000-0000</a>' in html
    assert "平日 8時30分〜17時15分" in html


def test_page_says_where_to_pay_after_expiry_and_whom_to_call(ctx, client, slip):
    html = client.get(_path(ctx, slip)).get_data(as_text=True)
    _assert_contact_block(html)
    assert "期限を過ぎたら金融機関の窓口" not in html  # the old vague sentence is gone


def test_not_found_page_shows_the_contact_and_no_slip_data(ctx, client, slip, clock):
    unknown = client.get("/p/not-a-token")
    clock.set(datetime.datetime(2027, 1, 15, 0, 1, tzinfo=JST))  # the slip has expired
    expired = client.get(_path(ctx, slip))
    for response in (unknown, expired):
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        _assert_contact_block(html)
        assert "この納付書は表示できません" in html
        for text in (
            "12,345",
            slip.payment_number,
            slip.slip_number,
            "<svg",
            "令和8年12月15日",
            *PRIVACY_WORDS,
        ):
            assert text not in html, text
    assert unknown.get_data() == expired.get_data()  # nothing tells an expired slip from an unknown link


@pytest.fixture
def office(overrides):  # type: ignore[no-untyped-def]
    """A configured office (synthetic) instead of the demo's defaults; requested before ``ctx``."""
    overrides.update(
        issuer_name="試験市",
        contact_name="試験市 会計課 収納係",
        contact_phone="０１２－３４５－６７８９",
        contact_hours="平日 9時〜17時",
        counter_bank="指定金融機関(試験銀行)の窓口",
    )


def test_pages_show_the_configured_office_contact(office, ctx, client, slip):
    for response in (client.get(_path(ctx, slip)), client.get("/p/not-a-token")):
        html = response.get_data(as_text=True)
        assert "試験市 会計課 収納係" in html
        assert '<a class="tel" href="tel:0123456789">012-345-6789</a>' in html
        assert "平日 9時〜17時" in html
        assert "指定金融機関(試験銀行)の窓口でお手元の納付書により" in html
        assert "見本" not in html


def _h1(html: str) -> str:
    (heading,) = re.findall(r"<h1>(.*?)</h1>", html)
    return heading


def test_the_qr_caption_and_the_page_say_the_same(ctx, client, slip):
    out = io.BytesIO()
    documents.render_slip(ctx, slip.slip_number, out)
    pdf = read_pdf(out.getvalue())
    # the caption under the QR code (right of the notice, above the fold), as printed
    caption = [line.strip() for line in pdf.region(0, 160.0, 80.0, 210.0, 92.0).splitlines() if line.strip()]
    assert len(caption) == 2, caption
    html = client.get(_path(ctx, slip)).get_data(as_text=True)
    assert _h1(html) == caption[0] == "スマートフォンで納付書を表示"
    assert f"<title>{caption[0]}</title>" in html
    purpose = re.search(r'<p class="purpose">(.*?)</p>', html, re.DOTALL)
    assert purpose is not None
    assert purpose.group(1).startswith(caption[1].strip("()"))  # 「QRコードでは支払えません」
    # and the slip's own contact is the page's
    for text in ("見本市 会計課 収納係", "000-0000-0000", "平日 8時30分〜17時15分"):
        assert text in pdf.region(0, 0.0, 99.0, 70.0, 297.0)
        assert text in html
