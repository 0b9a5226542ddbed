"""``zengin_statement``: the bank's account statement (全銀協 入出金取引明細, 種別コード 03; spec §3).

Accounting departments often receive this rather than the transfer notice. 200-byte records, cp932
half-width, Japanese-era ``YYMMDD`` dates, with or without line breaks, one header…trailer group per account
before the end record. It lists credits **and** debits (入払区分 ``1``/``2``); the adapter yields both with
their ``direction`` and the ingest layer keeps only the credits for matching. Each trailer's 入金件数,
入金額合計, 出金件数 and 出金額合計 are checked.

More information:

* ../shared/spec/settlement-formats.md §3, second table (the contract)
* ../shared/background/domain.md §4.5
* https://github.com/diva-osaka/Diva.Zengin (``Records/入出金取引明細*.cs``)

>>> import io, datetime
>>> group = Group(created_on=datetime.date(2026, 12, 4), value_date_from=datetime.date(2026, 12, 1),
...               value_date_to=datetime.date(2026, 12, 4), bank_code="0001", bank_name="ﾃｽﾄｷﾞﾝｺｳ",
...               branch_code="001", branch_name="ﾎﾝﾃﾝ", account_type="1", account_number="1234567",
...               account_name="ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ", opening_balance=5000)
>>> out = io.BytesIO()
>>> write(out, [group], line_breaks=False)
0
>>> len(out.getvalue()), out.getvalue()[:4], out.getvalue()[400:401]
(600, b'1030', b'9')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from typing import BinaryIO
from typing import ClassVar

from adapters._zengin import RECORD_LENGTH
from adapters._zengin import Group
from adapters._zengin import ZenginAdapter
from adapters._zengin import digit_field
from adapters._zengin import era_date
from adapters._zengin import format_era_date
from adapters._zengin import join_record
from adapters._zengin import optional_era_date
from adapters._zengin import text_field
from adapters._zengin import write_groups
from adapters.errors import FieldError
from adapters.fixedwidth import Field
from adapters.fixedwidth import RecordLayout
from adapters.records import BankRecord
from adapters.records import normalise_number

HEADER = RecordLayout(
    "header",
    b"1",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"1"),  # Header `1`
        Field("type_code", 2, 3, "N"),  # 種別コード `03` 2
        Field("code_class", 4, 4, "N"),  # コード区分 1
        Field("created_on", 5, 10, "N"),  # 作成日 6
        Field("value_date_from", 11, 16, "N"),  # 勘定日(自) 6
        Field("value_date_to", 17, 22, "N"),  # 勘定日(至) 6
        Field("bank_code", 23, 26, "N"),  # 銀行コード 4
        Field("bank_name", 27, 41, "C"),  # 銀行名 15
        Field("branch_code", 42, 44, "N"),  # 支店コード 3
        Field("branch_name", 45, 59, "C"),  # 支店名 15
        Field("dummy_1", 60, 62, "X"),  # ダミー 3
        Field("account_type", 63, 63, "N"),  # 預金種目 1
        Field("account_number", 64, 73, "N"),  # 口座番号 10
        Field("account_name", 74, 113, "C"),  # 口座名 40
        Field("overdraft_flag", 114, 114, "N"),  # 貸越区分 1
        Field("passbook_flag", 115, 115, "N", blank_ok=True),  # 通帳・証書区分 1
        Field("opening_balance", 116, 129, "N"),  # 取引前残高 14
        Field("dummy", 130, 200, "X"),  # ダミー 71
    ),
)

DATA = RecordLayout(
    "data",
    b"2",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"2"),  # Data record: type `2`
        Field("inquiry_number", 2, 9, "N"),  # 照会番号 8
        Field("value_date", 10, 15, "N"),  # 勘定日 6
        Field("transaction_date", 16, 21, "N", blank_ok=True),  # 預入払出日 6
        Field("direction", 22, 22, "N"),  # 入払区分 1 (`1` credit, `2` debit)
        Field("transaction_type", 23, 24, "N"),  # 取引区分 2
        Field("amount", 25, 36, "N"),  # 取引金額 12
        Field("other_bank_amount", 37, 48, "N", blank_ok=True),  # うち他店券金額 12
        Field("exchange_date", 49, 54, "N", blank_ok=True),  # 交換呈示日 6
        Field("dishonour_date", 55, 60, "N", blank_ok=True),  # 不渡返還日 6
        Field("bill_type", 61, 61, "N", blank_ok=True),  # 手形小切手区分 1
        Field("bill_number", 62, 68, "N", blank_ok=True),  # 手形小切手番号 7
        Field("branch_office_number", 69, 71, "N", blank_ok=True),  # 僚店番号 3
        Field("remitter_code", 72, 81, "N", blank_ok=True),  # 振込依頼人コード 10
        Field("remitter_name", 82, 129, "C"),  # 振込依頼人名または契約者番号 48
        Field("originating_bank_name", 130, 144, "C"),  # 仕向銀行名 15
        Field("originating_branch_name", 145, 159, "C"),  # 仕向店名 15
        Field("description", 160, 179, "C"),  # 摘要内容 20
        Field("edi_info", 180, 199, "C"),  # EDI情報 20
        Field("dummy", 200, 200, "X"),  # ダミー 1
    ),
)

TRAILER = RecordLayout(
    "trailer",
    b"8",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"8"),  # trailer `8`
        Field("credit_count", 2, 8, "N"),  # 入金件数 7
        Field("credit_amount", 9, 21, "N"),  # 入金額合計 13
        Field("debit_count", 22, 28, "N"),  # 出金件数 7
        Field("debit_amount", 29, 41, "N"),  # 出金額合計 13
        Field("overdraft_flag", 42, 42, "N"),  # 貸越区分 1
        Field("closing_balance", 43, 56, "N"),  # 取引後残高 14
        Field("dummy", 57, 200, "X"),  # ダミー 144
    ),
)

END = RecordLayout(
    "end",
    b"9",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"9"),  # End `9` (as in the transfer notice)
        Field("dummy", 2, 200, "X"),  # ダミー 199
    ),
)

DIRECTIONS: dict[str, Any] = {"1": "credit", "2": "debit"}


class Adapter(ZenginAdapter):
    """Reads 入出金取引明細 files; yields ``BankRecord(format="statement")`` credits and debits."""

    name: ClassVar[str] = "zengin_statement"
    type_code: ClassVar[bytes] = b"03"
    HEADER = HEADER
    DATA = DATA
    TRAILER = TRAILER
    END = END
    TRAILER_CHECKS = (
        ("credit_count", "credit_count", "count of credits (入金件数)"),
        ("credit_amount", "credit_amount", "sum of credits (入金額合計)"),
        ("debit_count", "debit_count", "count of debits (出金件数)"),
        ("debit_amount", "debit_amount", "sum of debits (出金額合計)"),
    )

    def record(
        self, header: dict[str, Any], values: dict[str, str], line_no: int, record_no: int
    ) -> BankRecord:
        location: dict[str, Any] = {"line_no": line_no, "record_type": "data", "record_no": record_no}
        direction = DIRECTIONS.get(values["direction"])
        if direction is None:
            raise FieldError(
                "is not 1 (credit) or 2 (debit)", field="direction", value=values["direction"], **location
            )
        optional_era_date(values["transaction_date"], "transaction_date", **location)
        return BankRecord(
            line_no=line_no,
            format="statement",
            bank_code=header["bank_code"],
            branch_code=header["branch_code"],
            account_type=header["account_type"],
            account_number=normalise_number(header["account_number"]),
            value_date=era_date(values["value_date"], "value_date", **location),
            inquiry_number=normalise_number(values["inquiry_number"]),
            amount=int(values["amount"]),
            remitter_code=values["remitter_code"],
            remitter_name=values["remitter_name"],
            direction=direction,
            cancelled=False,
            transaction_type=values["transaction_type"],
            bank_name=header["bank_name"],
            branch_name=header["branch_name"],
            account_name=header["account_name"],
            originating_bank_name=values["originating_bank_name"],
            originating_branch_name=values["originating_branch_name"],
            edi_info=values["edi_info"],
            description=values["description"],
        )

    def accumulate(self, totals: dict[str, int], record: BankRecord) -> None:
        totals[record.direction + "_count"] += 1
        totals[record.direction + "_amount"] += record.amount


def _header(group: Group) -> bytes:
    return join_record(
        (
            b"1030",
            format_era_date(group.created_on).encode(),
            format_era_date(group.value_date_from).encode(),
            format_era_date(group.value_date_to).encode(),
            digit_field(group.bank_code, 4, "bank_code"),
            text_field(group.bank_name, 15, "bank_name"),
            digit_field(group.branch_code, 3, "branch_code"),
            text_field(group.branch_name, 15, "branch_name"),
            b"   ",
            digit_field(group.account_type, 1, "account_type"),
            digit_field(group.account_number, 10, "account_number"),
            text_field(group.account_name, 40, "account_name"),
            b"1" if group.opening_balance >= 0 else b"2",
            b"1",  # 通帳・証書区分: passbook
            digit_field(abs(group.opening_balance), 14, "opening_balance"),
            b" " * 71,
        )
    )


def _data(group: Group, record: BankRecord) -> bytes:
    value_date = format_era_date(record.value_date).encode()
    direction = {"credit": b"1", "debit": b"2"}[record.direction]
    return join_record(
        (
            b"2",
            digit_field(record.inquiry_number, 8, "inquiry_number"),
            value_date,
            value_date,  # 預入払出日: the value date
            direction,
            digit_field(record.transaction_type or "11", 2, "transaction_type"),
            digit_field(record.amount, 12, "amount"),
            b"0" * 12,
            b"0" * 6,
            b"0" * 6,
            b"0",
            b"0" * 7,
            b"0" * 3,
            digit_field(record.remitter_code, 10, "remitter_code") if record.remitter_code else b" " * 10,
            text_field(record.remitter_name, 48, "remitter_name"),
            text_field(record.originating_bank_name, 15, "originating_bank_name"),
            text_field(record.originating_branch_name, 15, "originating_branch_name"),
            text_field(record.description, 20, "description"),
            text_field(record.edi_info, 20, "edi_info"),
            b" ",
        )
    )


def _trailer(group: Group) -> bytes:
    credits = [r.amount for r in group.records if r.direction == "credit"]
    debits = [r.amount for r in group.records if r.direction == "debit"]
    closing = group.opening_balance + sum(credits) - sum(debits)
    return join_record(
        (
            b"8",
            digit_field(len(credits), 7, "credit_count"),
            digit_field(sum(credits), 13, "credit_amount"),
            digit_field(len(debits), 7, "debit_count"),
            digit_field(sum(debits), 13, "debit_amount"),
            b"1" if closing >= 0 else b"2",
            digit_field(abs(closing), 14, "closing_balance"),
            b" " * 144,
        )
    )


def write(out: BinaryIO, groups: Iterable[Group], *, line_breaks: bool = True) -> int:
    """Write an account statement: per group a header, its records and a trailer, then the end record.

    The trailer's closing balance is the group's ``opening_balance`` plus credits minus debits (貸越区分
    ``1`` when not negative, ``2`` otherwise). Returns the number of data records.

    Raises:
        ValueError: a value that does not fit its field.
    """
    return write_groups(out, groups, header=_header, data=_data, trailer=_trailer, line_breaks=line_breaks)


__all__ = ["DATA", "END", "HEADER", "TRAILER", "Adapter", "Group", "write"]
