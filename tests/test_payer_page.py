"""The payer's slip page behind the QR code: what it shows, what it must not, headers, 404 rules."""

from __future__ import annotations

import datetime
import io

import pytest
import zxingcpp
from PIL import Image

from barcodes import qr
from gateway.issuing import slips as slip_service
from tests.helpers import PRIVACY_WORDS
from tests.helpers import make_claim

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
