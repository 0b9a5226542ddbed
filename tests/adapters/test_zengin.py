"""Zengin transfer notice and statement: era dates, groups, line-break modes, writers, normalisation."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from adapters import _zengin
from adapters import zengin_statement
from adapters import zengin_transfer
from adapters.errors import ControlTotalMismatch
from adapters.records import BankRecord
from tests.adapters.adapter_golden import DATA_DIR

TRANSFER = DATA_DIR / "zengin_transfer" / "20261204_transfer.txt"
TRANSFER_TWO_ACCOUNTS = DATA_DIR / "zengin_transfer" / "several-accounts-no-line-breaks.dat"
STATEMENT = DATA_DIR / "zengin_statement" / "20261204_statement.txt"
STATEMENT_TWO_ACCOUNTS = DATA_DIR / "zengin_statement" / "several-accounts-no-line-breaks.dat"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("070401", datetime.date(2025, 4, 1)),  # spec: 07 = 2025
        ("081127", datetime.date(2026, 11, 27)),  # spec: 08 = 2026
        ("010501", datetime.date(2019, 5, 1)),  # the first day of 令和
        ("100229", datetime.date(2028, 2, 29)),  # 令和10 = 2028, a leap year
    ],
)
def test_era_dates(text: str, expected: datetime.date) -> None:
    assert _zengin.parse_era_date(text) == expected


@pytest.mark.parametrize("text", ["000101", "010430", "081332", "08113", "0811 7", "991231x", "070229"])
def test_invalid_era_dates(text: str) -> None:
    with pytest.raises(ValueError):
        _zengin.parse_era_date(text)


@settings(database=None)
@given(st.dates(min_value=datetime.date(2019, 5, 1), max_value=datetime.date(2117, 12, 31)))
def test_era_dates_round_trip(day: datetime.date) -> None:
    assert _zengin.parse_era_date(_zengin.format_era_date(day)) == day


def test_account_numbers_of_both_formats_compare_equal() -> None:
    """The transfer notice's 7-digit 0123456 and the statement's 10-digit 0000123456 are one account."""
    transfer = next(zengin_transfer.Adapter().parse(TRANSFER))
    statement = next(zengin_statement.Adapter().parse(STATEMENT))
    assert TRANSFER.read_bytes()[60:67] == b"0123456"
    assert STATEMENT.read_bytes()[63:73] == b"0000123456"
    assert transfer.account_number == statement.account_number == "123456"
    assert (transfer.bank_code, transfer.branch_code) == (statement.bank_code, statement.branch_code)


def test_transfer_notice_records_are_credits_with_cancellations_flagged() -> None:
    records = list(zengin_transfer.Adapter().parse(TRANSFER))
    assert {r.direction for r in records} == {"credit"}
    assert [r.cancelled for r in records] == [False, False, True]
    assert {r.format for r in records} == {"transfer"}
    assert all(r.transaction_type is None for r in records)


def test_statement_yields_credits_and_debits() -> None:
    records = list(zengin_statement.Adapter().parse(STATEMENT))
    assert [(r.direction, r.amount, r.transaction_type) for r in records] == [
        ("credit", 5001, "11"),
        ("debit", 3000, "14"),
        ("credit", 10000, "11"),
    ]
    assert not any(r.cancelled for r in records)


def test_several_groups_without_line_breaks_carry_their_own_account() -> None:
    records = list(zengin_transfer.Adapter().parse(TRANSFER_TWO_ACCOUNTS))
    assert [(r.line_no, r.branch_code, r.account_number) for r in records] == [
        (2, "123", "123456"),
        (3, "123", "123456"),
        (4, "123", "123456"),
        (7, "456", "7654321"),
    ]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_line_breaks_of_either_kind_and_none_at_the_end(tmp_path: Path, line_end: bytes) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(TRANSFER.read_bytes().replace(b"\r\n", line_end).removesuffix(line_end))
    assert list(zengin_transfer.Adapter().parse(path)) == list(zengin_transfer.Adapter().parse(TRANSFER))


def test_a_final_line_break_after_unbroken_records_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "t.dat"
    path.write_bytes(TRANSFER_TWO_ACCOUNTS.read_bytes() + b"\r\n")
    assert list(zengin_transfer.Adapter().parse(path)) == list(
        zengin_transfer.Adapter().parse(TRANSFER_TWO_ACCOUNTS)
    )


def test_records_before_a_bad_trailer_were_already_yielded() -> None:
    seen: list[BankRecord] = []
    path = DATA_DIR / "zengin_transfer" / "trailer-sum-off-second-group-no-line-breaks.dat"
    with pytest.raises(ControlTotalMismatch) as caught:
        seen.extend(zengin_transfer.Adapter().parse(path))
    assert len(seen) == 4  # extend() appended each record as it came
    assert (caught.value.calculated, caught.value.control) == (300000, 300100)


def test_the_two_zengin_adapters_never_claim_the_same_file() -> None:
    transfer, statement = zengin_transfer.Adapter(), zengin_statement.Adapter()
    for path in [*DATA_DIR.glob("zengin_*/*.txt"), *DATA_DIR.glob("zengin_*/*.dat")]:
        assert not (transfer.identify(path) and statement.identify(path)), path


def _group(records: list[BankRecord], **overrides: object) -> _zengin.Group:
    first = records[0]
    fields: dict[str, object] = {
        "created_on": datetime.date(2026, 12, 4),
        "value_date_from": datetime.date(2026, 12, 4),
        "value_date_to": datetime.date(2026, 12, 4),
        "bank_code": first.bank_code,
        "bank_name": first.bank_name,
        "branch_code": first.branch_code,
        "branch_name": first.branch_name,
        "account_type": first.account_type,
        "account_number": first.account_number,
        "account_name": first.account_name,
        "records": records,
    }
    fields.update(overrides)
    return _zengin.Group(**fields)  # type: ignore[arg-type]


def test_transfer_writer_reproduces_the_golden_files() -> None:
    records = list(zengin_transfer.Adapter().parse(TRANSFER_TWO_ACCOUNTS))
    groups = [
        _group(records[:3]),
        _group(
            records[3:], value_date_from=datetime.date(2026, 12, 3), value_date_to=datetime.date(2026, 12, 3)
        ),
    ]
    out = io.BytesIO()
    assert zengin_transfer.write(out, groups, line_breaks=False) == 4
    assert out.getvalue() == TRANSFER_TWO_ACCOUNTS.read_bytes()
    out = io.BytesIO()
    zengin_transfer.write(out, groups[:1])
    assert out.getvalue() == TRANSFER.read_bytes()


def test_statement_writer_reproduces_the_golden_file() -> None:
    records = list(zengin_statement.Adapter().parse(STATEMENT))
    group = _group(records, value_date_from=datetime.date(2026, 12, 1), opening_balance=1_000_000)
    out = io.BytesIO()
    assert zengin_statement.write(out, [group]) == 3
    assert out.getvalue() == STATEMENT.read_bytes()


def test_writers_refuse_values_that_do_not_fit() -> None:
    record = next(zengin_transfer.Adapter().parse(TRANSFER))
    long_name = _group([record], account_name="ｱ" * 41)
    with pytest.raises(ValueError):
        zengin_transfer.write(io.BytesIO(), [long_name])
    with pytest.raises(ValueError):
        zengin_transfer.write(io.BytesIO(), [_group([record], created_on=datetime.date(2019, 4, 30))])


def test_info_reads_the_first_header() -> None:
    info = zengin_statement.Adapter().info(STATEMENT_TWO_ACCOUNTS)
    assert (info.adapter, info.kind, info.created_on) == (
        "zengin_statement",
        "bank",
        datetime.date(2026, 12, 4),
    )
    assert info.agent_code is None and info.consignor_code is None
