"""The office's contact and the after-expiry sentence on the slip: where they are printed, that they fit,
and what a contact may not say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.pdf import slip as slip_module
from gateway.pdf import wording
from gateway.pdf.model import ContactBlock
from gateway.pdf.model import PrivacyWordError
from gateway.pdf.model import SlipContentError
from gateway.pdf.model import SlipDocument
from gateway.pdf.slip import render_slip_pdf
from tests.pdf.pdf_samples import CONTACT
from tests.pdf.pdf_samples import Box
from tests.pdf.pdf_samples import RenderedPdf
from tests.pdf.pdf_samples import page_geometry
from tests.pdf.pdf_samples import slip_fields

Render = Callable[..., RenderedPdf]

WINDOW = (23.0, 13.0, 113.0, 58.0)
PAYER_PART = (0.0, 99.0, 70.0, 297.0)
STORE_PART = (70.0, 99.0, 140.0, 297.0)
OFFICE_PART = (140.0, 99.0, 210.0, 297.0)
TOP_CONTACT = (118.0, 37.0, 175.0, 56.0)
SENTENCE = "取扱期限を過ぎた場合は、指定金融機関(見本銀行)の窓口でこの納付書によりお支払いいただけます。"


def _flat(text: str) -> str:
    return text.replace("\r", "").replace("\n", "")


def _contact(**overrides: str) -> ContactBlock:
    values: dict[str, Any] = {
        "name": CONTACT.name,
        "phone": CONTACT.phone,
        "hours": CONTACT.hours,
        "counter_bank": CONTACT.counter_bank,
    }
    values.update(overrides)
    return ContactBlock(**values)


def test_the_payers_part_says_where_to_pay_after_expiry_and_whom_to_call(
    render_pdf: Render, slip: SlipDocument
) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    payer = pdf.region(0, *PAYER_PART)
    assert SENTENCE in _flat(payer)
    for line in ("お問い合わせ先", "みほん市 会計課 収納係", "電話 000-1111-2222", "平日 8時30分〜17時15分"):
        assert line in payer, line
    # the store's part and the office's part stay as they were: no contact there
    for box in (STORE_PART, OFFICE_PART):
        assert "収納係" not in pdf.region(0, *box)
        assert "000-1111-2222" not in pdf.region(0, *box)


def test_the_contact_is_under_the_title_outside_the_envelope_window(
    render_pdf: Render, slip: SlipDocument
) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    top = pdf.region(0, *TOP_CONTACT)
    for line in ("お問い合わせ先", "みほん市 会計課 収納係", "電話 000-1111-2222", "平日 8時30分〜17時15分"):
        assert line in top, line
    assert pdf.region(0, *WINDOW).strip() == ""  # nothing of it shows through the window
    page = pdf.pages[0]
    assert page.count("000-1111-2222") == 2
    assert page.count("お問い合わせ先") == 2


def _text_boxes(data: bytes, area: Box) -> list[Box]:
    left, top, right, bottom = area
    return [
        o
        for o in page_geometry(data).objects
        if o[0] >= left and o[2] <= right and o[1] >= top and o[3] <= bottom and o[2] - o[0] < 69
    ]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


@pytest.mark.parametrize(
    "contact",
    [
        CONTACT,
        # the longest texts the configuration accepts, in the widest characters
        _contact(name="見" * 24, hours="見" * 24, counter_bank="見" * 30, phone="0000-00-0000"),
    ],
    ids=["sample", "longest"],
)
def test_the_contact_fits_between_the_seal_and_the_stamp_box(
    render_pdf: Render, contact: ContactBlock
) -> None:
    issuer = "みほん市見本区見本出張所"  # a long issuer name: the issuer lines beside the seal wrap
    pdf = render_pdf(render_slip_pdf, SlipDocument(**slip_fields(contact=contact, issuer_name=issuer)))
    boxes = _text_boxes(pdf.data, (0.0, 190.0, 70.0, 297.0))
    limit = slip_module.STAMP_BOX_TOP_MM - 5.0
    contact_boxes = [b for b in boxes if b[3] <= limit]
    # a rule, the sentence, the heading and three lines; below them only the stamp box and its label
    assert len(contact_boxes) >= 6, contact_boxes
    assert len([b for b in boxes if b[3] > limit]) == 2, boxes
    for box in contact_boxes:
        # within the part's margins (0.2 mm: the rule's line width)
        assert box[0] >= slip_module.PART_MARGIN_MM - 0.2, box
        assert box[2] <= slip_module.PART_WIDTH_MM - slip_module.PART_MARGIN_MM + 0.2, box
    for a in contact_boxes:
        for b in contact_boxes:
            assert a is b or not _overlaps(a, b), (a, b)
    # the top block stays left of the QR code (quiet zone included) and right of the window
    qr_left = slip_module.QR_RIGHT_MM - 45 * slip_module.QR_MODULE_MM
    for box in _text_boxes(pdf.data, (115.0, 38.0, 210.0, 55.0)):
        assert box[2] <= qr_left, box
        assert box[0] >= WINDOW[2], box
    text = _flat(pdf.region(0, *PAYER_PART))
    assert contact.name in text
    assert contact.hours in text


def test_a_slip_without_a_contact_is_refused() -> None:
    with pytest.raises(SlipContentError) as info:
        SlipDocument(**slip_fields(contact=None))
    assert info.value.field == "contact"
    fields = slip_fields()
    del fields["contact"]
    with pytest.raises(TypeError):
        SlipDocument(**fields)


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("name", "見本市 保護課"),
        ("name", "見本市福祉事務所 収納係"),
        ("name", "生活保護係"),
        ("name", "ｹｰｽﾜｰｶｰ"),  # half-width kana: the same word after NFKC
        ("hours", "福祉の日を除く平日"),
        ("counter_bank", "見本扶助銀行の窓口"),
    ],
)
def test_a_contact_with_a_privacy_word_is_refused(field: str, text: str) -> None:
    with pytest.raises(PrivacyWordError) as info:
        _contact(**{field: text})
    assert info.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "見" * 25}, "name"),
        ({"hours": "見" * 25}, "hours"),
        ({"counter_bank": "見" * 31}, "counter_bank"),
        ({"phone": "03-1234-567"}, "phone"),  # 9 digits
        ({"phone": "03(1234)5678"}, "phone"),
        ({"phone": "+81-3-1234-5678"}, "phone"),
        ({"phone": "03--1234-5678"}, "phone"),
        ({"phone": "3-1234-56789"}, "phone"),
    ],
)
def test_a_contact_that_cannot_be_printed_is_refused(overrides: dict[str, str], field: str) -> None:
    with pytest.raises(SlipContentError) as info:
        _contact(**overrides)
    assert info.value.field == field


def test_full_width_phone_is_printed_half_width(render_pdf: Render) -> None:
    contact = _contact(phone="０１２０－０００－０００")
    assert contact.phone == "0120-000-000"
    pdf = render_pdf(render_slip_pdf, SlipDocument(**slip_fields(contact=contact)))
    assert "電話 0120-000-000" in pdf.region(0, *PAYER_PART)


def test_the_qr_caption_is_the_shared_wording(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    caption = pdf.region(0, 160.0, 80.0, 210.0, 92.0)
    assert wording.PAYER_PAGE_PURPOSE in caption
    assert f"({wording.QR_NOT_FOR_PAYMENT})" in caption
