"""SlipDocument, AddressBlock, SenderBlock and Envelope refuse what must not be printed."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from gateway.pdf.model import PRIVACY_WORDS
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import PrivacyWordError
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipContentError
from gateway.pdf.model import SlipDocument
from tests.pdf.pdf_samples import PAYMENT_NUMBER
from tests.pdf.pdf_samples import SAMPLE_BARCODE
from tests.pdf.pdf_samples import slip_fields


def test_sample_slip_is_accepted_and_barcode_kept_compact() -> None:
    slip = SlipDocument(**slip_fields(barcode="(91)912345-00123-2600000123400300 0-260131-0-010000-1"))
    assert slip.barcode == SAMPLE_BARCODE


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": 10_001}, "amount"),
        ({"amount": 0}, "amount"),
        ({"payment_number": "2600000123400400"}, "payment_number"),
        ({"reissue_count": 1, "slip_number": f"{PAYMENT_NUMBER}-1"}, "reissue_count"),
        ({"slip_number": f"{PAYMENT_NUMBER}-1"}, "slip_number"),
        ({"barcode_expiry": datetime.date(2026, 1, 30)}, "barcode_expiry"),
        ({"due_date": datetime.date(2026, 2, 1)}, "due_date"),
        ({"barcode": SAMPLE_BARCODE[:-1] + "2"}, "barcode"),
        ({"fiscal_year": 2018}, "fiscal_year"),
        ({"instalment": 3, "instalment_count": 2}, "instalment_count"),
        ({"instalment": 0}, "instalment"),
        ({"qr_url": "pay.example.jp/p/x"}, "qr_url"),
        ({"accepted_channels": ()}, "accepted_channels"),
        ({"accepted_channels": ["ローソン"]}, "accepted_channels"),
        ({"issuer_seal_png": b"GIF89a"}, "issuer_seal_png"),
        ({"issuer_name": " "}, "issuer_name"),
        ({"payer_name": ""}, "payer_name"),
    ],
)
def test_slip_refuses_inconsistent_fields(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(SlipContentError) as info:
        SlipDocument(**slip_fields(**overrides))
    assert info.value.field == field


@pytest.mark.parametrize("word", PRIVACY_WORDS)
@pytest.mark.parametrize("field", ["item_label", "reason_line", "payee_label", "issuer_name", "payer_name"])
def test_slip_refuses_privacy_words(word: str, field: str) -> None:
    with pytest.raises(PrivacyWordError) as info:
        SlipDocument(**slip_fields(**{field: f"見本{word}見本"}))
    assert info.value.field == field
    assert info.value.word in word  # 生活保護 is reported as the first listed word it contains


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"notes": ("扶助のお知らせ",)}, "notes"),
        ({"accepted_channels": ("ローソン", "ケースA")}, "accepted_channels"),
    ],
)
def test_privacy_words_in_tuples_are_found(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(PrivacyWordError) as info:
        SlipDocument(**slip_fields(**overrides))
    assert info.value.field == field


def test_privacy_words_in_the_qr_url_are_refused() -> None:
    with pytest.raises(PrivacyWordError) as info:
        SlipDocument(**slip_fields(qr_url="https://pay.example.jp/福祉/p/x"))
    assert info.value.field == "qr_url"


@pytest.mark.parametrize("postal_code", ["1000001", "100-0001", "１００－０００１", "１０００００１"])
def test_address_normalises_the_postal_code(postal_code: str) -> None:
    address = AddressBlock(postal_code=postal_code, address_lines=("みほん市見本町1番地",), name="見本 一郎")
    assert address.postal_code == "100-0001"


def test_address_drops_blank_lines() -> None:
    address = AddressBlock(
        postal_code="100-0001", address_lines=(" みほん市見本町1番地 ", "", "  "), name="見本"
    )
    assert address.address_lines == ("みほん市見本町1番地",)


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"postal_code": "100-001"}, SlipContentError, "postal_code"),
        ({"postal_code": "100-00012"}, SlipContentError, "postal_code"),
        ({"postal_code": "١٠٠-٠٠٠١"}, SlipContentError, "postal_code"),  # Arabic-Indic digits are not ASCII
        ({"address_lines": ()}, SlipContentError, "address_lines"),
        ({"address_lines": ("", " ")}, SlipContentError, "address_lines"),
        ({"address_lines": ["みほん市見本町1番地"]}, SlipContentError, "address_lines"),
        ({"address_lines": ("a", "b", "c", "d")}, SlipContentError, "address_lines"),
        ({"address_lines": ("みほん市保護町1番地",)}, PrivacyWordError, "address_lines"),
        ({"name": ""}, SlipContentError, "name"),
    ],
)
def test_address_refuses(overrides: dict[str, Any], error: type[Exception], field: str) -> None:
    fields: dict[str, Any] = {
        "postal_code": "100-0001",
        "address_lines": ("みほん市見本町1番地",),
        "name": "見本",
    }
    fields.update(overrides)
    with pytest.raises(error) as info:
        AddressBlock(**fields)
    assert getattr(info.value, "field", None) == field


def test_sender_refuses_a_revealing_label() -> None:
    with pytest.raises(PrivacyWordError) as info:
        SenderBlock(sender_label="みほん市福祉事務所")
    assert info.value.field == "sender_label"


def test_envelope_needs_slips() -> None:
    address = AddressBlock(postal_code="100-0001", address_lines=("みほん市見本町1番地",), name="見本")
    with pytest.raises(SlipContentError) as info:
        Envelope(address=address, sender=SenderBlock(sender_label="みほん市"), slips=())
    assert info.value.field == "slips"
