"""The 44-digit payment barcode: spec vectors, every single-digit change, composition, the strict check."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from barcodes import cvs
from barcodes.exceptions import BarcodeError
from barcodes.exceptions import InvalidChecksum
from barcodes.exceptions import InvalidComponent
from barcodes.exceptions import InvalidFormat
from barcodes.exceptions import InvalidLength

VECTORS = (
    "91912345012345678901234567890101033101230003",
    "91942386178953917853935692730103073110312903",
    "91929023252070000010123499900299999900154357",
    "91929023252070000010123499900399999911066327",
    "91929023219420000000000037554399999999999999",
)
ISSUED = "91912345001232600000123400300026013100100001"


@pytest.mark.parametrize("vector", VECTORS)
def test_every_spec_vector_is_valid(vector):
    assert cvs.validate(vector) == vector
    assert cvs.is_valid(vector)


@pytest.mark.parametrize("vector", VECTORS)
def test_every_single_digit_change_is_caught(vector):
    for position in range(44):
        for digit in "0123456789":
            if digit == vector[position]:
                continue
            changed = vector[:position] + digit + vector[position + 1 :]
            assert not cvs.is_valid(changed), (position, digit)
            with pytest.raises(BarcodeError):
                cvs.validate(changed)


@pytest.mark.parametrize(
    ("value", "error", "field"),
    [
        ("9191234501234567890123456789010103310123000", InvalidLength, "barcode"),
        ("919123450123456789012345678901010331012300030", InvalidLength, "barcode"),
        ("9191234501234567890123456789010103310123000X", InvalidFormat, "barcode"),
        ("92912345012345678901234567890101033101230002", InvalidFormat, "ai"),
        ("91912345012345678901234567890101033101230004", InvalidChecksum, "check_digit"),
        ("91912345001232600000123400300026023100100000", InvalidComponent, "expiry"),  # 2026-02-31
    ],
)
def test_typed_errors_name_the_field(value, error, field):
    with pytest.raises(error) as info:
        cvs.validate(value)
    assert info.value.field == field


def test_no_expiry_parses_as_none():
    assert cvs.parse("91929023219420000000000037554399999999999999").expiry is None


def test_compose_then_parse_gives_the_fields_back():
    digits = cvs.compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number="2600000123400300",
        reissue_count=0,
        expiry=datetime.date(2026, 1, 31),
        amount=10_000,
    )
    assert digits == ISSUED
    parsed = cvs.parse(digits)
    assert (parsed.issuer_prefix, parsed.consignor_code, parsed.payment_number) == (
        "912345",
        "00123",
        "2600000123400300",
    )
    assert (parsed.reissue_count, parsed.expiry, parsed.stamp_flag, parsed.amount) == (
        0,
        datetime.date(2026, 1, 31),
        0,
        10_000,
    )
    assert parsed.agent_code == "12345"
    assert parsed.digits == ISSUED


def test_format_is_the_two_line_text_and_compact_reverses_it():
    text = cvs.format(ISSUED)
    assert text == "(91)912345-00123-2600000123400300\n0-260131-0-010000-1"
    assert cvs.compact(text) == ISSUED


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuer_prefix": "912346"}, "issuer_prefix"),
        ({"consignor_code": "00124"}, "consignor_code"),
        ({"amount": 300_001}, "amount"),
        ({"amount": 0}, "amount"),
        ({"stamp_flag": 1}, "stamp_flag"),
        ({"expiry": None}, "expiry"),
        ({"payment_number": "2600000123400301"}, "payment_number"),  # reserved digits must be 00
    ],
)
def test_the_strict_check_for_issued_slips(changes, field):
    fields = {
        "issuer_prefix": "912345",
        "consignor_code": "00123",
        "payment_number": "2600000123400300",
        "reissue_count": 0,
        "expiry": datetime.date(2026, 1, 31),
        "amount": 10_000,
        "stamp_flag": 0,
    }
    fields.update(changes)
    digits = cvs.compose(**fields)
    assert cvs.is_valid(digits)  # well formed for everybody else …
    with pytest.raises(InvalidComponent) as info:  # … but not a slip this office issues
        cvs.validate_issued(digits, issuer_prefix="912345", consignor_code="00123")
    assert info.value.field == field


@settings(max_examples=200, deadline=None)
@given(
    serial=st.integers(1, 999_999_999),
    instalment=st.integers(1, 999),
    year=st.integers(2000, 2099),
    reissue=st.integers(0, 9),
    amount=st.integers(1, 300_000),
    expiry=st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)),
)
def test_composed_barcodes_always_validate_and_round_trip(serial, instalment, year, reissue, amount, expiry):
    number = cvs.compose_payment_number(year, serial, instalment)
    digits = cvs.compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number=number,
        reissue_count=reissue,
        expiry=expiry,
        amount=amount,
    )
    parsed = cvs.validate_issued(digits, issuer_prefix="912345", consignor_code="00123")
    assert (parsed.payment_number, parsed.reissue_count, parsed.expiry, parsed.amount) == (
        number,
        reissue,
        expiry,
        amount,
    )
    assert cvs.parse_payment_number(number) == cvs.PaymentNumber(year % 100, serial, instalment)
