"""``zengin_transfer``: the bank's transfer notice (全銀協 振込入金通知, 種別コード 01; spec §3).

Used to confirm the agents' lump-sum remittances (and any direct bank transfers) against confirmed records.
200-byte records, cp932 half-width, Japanese-era ``YYMMDD`` dates, with or without line breaks; several
header…trailer groups (one per account) before the end record. The trailer's 振込合計 counts and sums the
data records with 取消区分 ``0``, its 取消合計 those with ``1``. Every record is a credit.

The remitter name (振込依頼人名) can be a debtor's name on a direct transfer: parsed records and archived
originals are personal data.

More information:

* ../shared/spec/settlement-formats.md §3 (the contract)
* ../shared/background/domain.md §4.5
* https://github.com/diva-osaka/Diva.Zengin (``Records/振込入金通知*.cs``)
* http://www.awabank.co.jp/houjin/service/fb/zengin/tsuchi/

>>> import io, datetime
>>> group = Group(created_on=datetime.date(2026, 12, 4), value_date_from=datetime.date(2026, 12, 4),
...               value_date_to=datetime.date(2026, 12, 4), bank_code="0001", bank_name="ﾃｽﾄｷﾞﾝｺｳ",
...               branch_code="001", branch_name="ﾎﾝﾃﾝ", account_type="1", account_number="1234567",
...               account_name="ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ")
>>> out = io.BytesIO()
>>> write(out, [group])
0
>>> out.getvalue()[:67].decode("cp932")
'10100812040812040812040001ﾃｽﾄｷﾞﾝｺｳ       001ﾎﾝﾃﾝ           11234567'
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
        Field("record_type", 1, 1, "N", const=b"1"),  # Header `1`: type 1
        Field("type_code", 2, 3, "N"),  # 種別コード `01` 2
        Field("code_class", 4, 4, "N"),  # コード区分 `0` 1
        Field("created_on", 5, 10, "N"),  # 作成日 6
        Field("value_date_from", 11, 16, "N"),  # 勘定日(自) 6
        Field("value_date_to", 17, 22, "N"),  # 勘定日(至) 6
        Field("bank_code", 23, 26, "N"),  # 銀行コード 4
        Field("bank_name", 27, 41, "C"),  # 銀行名 15
        Field("branch_code", 42, 44, "N"),  # 支店コード 3
        Field("branch_name", 45, 59, "C"),  # 支店名 15
        Field("account_type", 60, 60, "N"),  # 預金種目 1
        Field("account_number", 61, 67, "N"),  # 口座番号 7
        Field("account_name", 68, 107, "C"),  # 口座名 40
        Field("dummy", 108, 200, "X"),  # ダミー 93
    ),
)

DATA = RecordLayout(
    "data",
    b"2",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"2"),  # Data `2`: type 1
        Field("inquiry_number", 2, 7, "N"),  # 照会番号 6
        Field("value_date", 8, 13, "N"),  # 勘定日 6
        Field("start_date", 14, 19, "N", blank_ok=True),  # 起算日 6
        Field("amount", 20, 29, "N"),  # 金額 10
        Field("other_bank_amount", 30, 39, "N", blank_ok=True),  # うち他店券金額 10
        Field("remitter_code", 40, 49, "N", blank_ok=True),  # 振込依頼人コード 10
        Field("remitter_name", 50, 97, "C"),  # 振込依頼人名 48
        Field("originating_bank_name", 98, 112, "C"),  # 仕向銀行名 15
        Field("originating_branch_name", 113, 127, "C"),  # 仕向店名 15
        Field("cancellation", 128, 128, "N"),  # 取消区分 1 (`1` = cancelled)
        Field("edi_info", 129, 148, "C"),  # EDI情報 20
        Field("dummy", 149, 200, "X"),  # ダミー 52
    ),
)

TRAILER = RecordLayout(
    "trailer",
    b"8",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"8"),  # Trailer `8`: type 1
        Field("transfer_count", 2, 7, "N"),  # 振込合計件数 6
        Field("transfer_amount", 8, 19, "N"),  # 振込合計金額 12
        Field("cancelled_count", 20, 25, "N"),  # 取消合計件数 6
        Field("cancelled_amount", 26, 37, "N"),  # 取消合計金額 12
        Field("dummy", 38, 200, "X"),  # ダミー 163
    ),
)

END = RecordLayout(
    "end",
    b"9",
    RECORD_LENGTH,
    (
        Field("record_type", 1, 1, "N", const=b"9"),  # End `9`: type 1
        Field("dummy", 2, 200, "X"),  # ダミー 199
    ),
)


class Adapter(ZenginAdapter):
    """Reads 振込入金通知 files; yields ``BankRecord(format="transfer", direction="credit")``."""

    name: ClassVar[str] = "zengin_transfer"
    type_code: ClassVar[bytes] = b"01"
    HEADER = HEADER
    DATA = DATA
    TRAILER = TRAILER
    END = END
    TRAILER_CHECKS = (
        ("transfer_count", "count", "count of records with 取消区分 0"),
        ("transfer_amount", "amount", "sum of records with 取消区分 0"),
        ("cancelled_count", "cancelled_count", "count of records with 取消区分 1"),
        ("cancelled_amount", "cancelled_amount", "sum of records with 取消区分 1"),
    )

    def record(
        self, header: dict[str, Any], values: dict[str, str], line_no: int, record_no: int
    ) -> BankRecord:
        location: dict[str, Any] = {"line_no": line_no, "record_type": "data", "record_no": record_no}
        if values["cancellation"] not in ("0", "1"):
            raise FieldError("is not 0 or 1", field="cancellation", value=values["cancellation"], **location)
        optional_era_date(values["start_date"], "start_date", **location)
        return BankRecord(
            line_no=line_no,
            format="transfer",
            bank_code=header["bank_code"],
            branch_code=header["branch_code"],
            account_type=header["account_type"],
            account_number=normalise_number(header["account_number"]),
            value_date=era_date(values["value_date"], "value_date", **location),
            inquiry_number=normalise_number(values["inquiry_number"]),
            amount=int(values["amount"]),
            remitter_code=values["remitter_code"],
            remitter_name=values["remitter_name"],
            direction="credit",
            cancelled=values["cancellation"] == "1",
            transaction_type=None,
            bank_name=header["bank_name"],
            branch_name=header["branch_name"],
            account_name=header["account_name"],
            originating_bank_name=values["originating_bank_name"],
            originating_branch_name=values["originating_branch_name"],
            edi_info=values["edi_info"],
            description=None,
        )

    def accumulate(self, totals: dict[str, int], record: BankRecord) -> None:
        prefix = "cancelled_" if record.cancelled else ""
        totals[prefix + "count"] += 1
        totals[prefix + "amount"] += record.amount


def _header(group: Group) -> bytes:
    return join_record(
        (
            b"1010",
            format_era_date(group.created_on).encode(),
            format_era_date(group.value_date_from).encode(),
            format_era_date(group.value_date_to).encode(),
            digit_field(group.bank_code, 4, "bank_code"),
            text_field(group.bank_name, 15, "bank_name"),
            digit_field(group.branch_code, 3, "branch_code"),
            text_field(group.branch_name, 15, "branch_name"),
            digit_field(group.account_type, 1, "account_type"),
            digit_field(group.account_number, 7, "account_number"),
            text_field(group.account_name, 40, "account_name"),
            b" " * 93,
        )
    )


def _data(group: Group, record: BankRecord) -> bytes:
    value_date = format_era_date(record.value_date).encode()
    return join_record(
        (
            b"2",
            digit_field(record.inquiry_number, 6, "inquiry_number"),
            value_date,
            value_date,  # 起算日: the value date
            digit_field(record.amount, 10, "amount"),
            b"0" * 10,
            digit_field(record.remitter_code, 10, "remitter_code") if record.remitter_code else b" " * 10,
            text_field(record.remitter_name, 48, "remitter_name"),
            text_field(record.originating_bank_name, 15, "originating_bank_name"),
            text_field(record.originating_branch_name, 15, "originating_branch_name"),
            b"1" if record.cancelled else b"0",
            text_field(record.edi_info, 20, "edi_info"),
            b" " * 52,
        )
    )


def _trailer(group: Group) -> bytes:
    active = [r.amount for r in group.records if not r.cancelled]
    cancelled = [r.amount for r in group.records if r.cancelled]
    return join_record(
        (
            b"8",
            digit_field(len(active), 6, "transfer_count"),
            digit_field(sum(active), 12, "transfer_amount"),
            digit_field(len(cancelled), 6, "cancelled_count"),
            digit_field(sum(cancelled), 12, "cancelled_amount"),
            b" " * 163,
        )
    )


def write(out: BinaryIO, groups: Iterable[Group], *, line_breaks: bool = True) -> int:
    """Write a transfer notice: per group a header, its records and a trailer, then the end record.

    ``line_breaks=False`` writes the records back to back, as some banks deliver them. Returns the number of
    data records. The records' ``bank_code``/``account_number`` are ignored (the group's are written).

    Raises:
        ValueError: a value that does not fit its field.
    """
    return write_groups(out, groups, header=_header, data=_data, trailer=_trailer, line_breaks=line_breaks)


__all__ = ["DATA", "END", "HEADER", "TRAILER", "Adapter", "Group", "write"]
