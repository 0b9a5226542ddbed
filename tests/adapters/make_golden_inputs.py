"""Generate the adapters' golden input files and their expected output, independently of the adapters.

Usage: ``.venv/bin/python tests/adapters/make_golden_inputs.py [--force]`` (refuses to overwrite without
``--force``).

Nothing here imports an adapter: every record is assembled from literal values at the byte positions the
spec gives (spec/settlement-formats.md), and the expected records are written from the same literal values
by reading the spec, not by running a parser. Barcodes come from ``barcodes.cvs.compose`` and their parts are
read at the positions ``barcodes.cvs.LAYOUT`` declares (not under test here). The broken files are the
normal files with one deliberate defect each, named for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from barcodes import cvs
from barcodes.cvs import compose
from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import dumps

CRLF = b"\r\n"
FILES: dict[Path, bytes] = {}


def put(name: str, data: bytes | str) -> None:
    FILES[DATA_DIR / name] = data if isinstance(data, bytes) else data.encode("utf-8")


def put_json(name: str, document: dict[str, Any]) -> None:
    put(name, dumps(document) if "records" in document else json.dumps(document, sort_keys=True) + "\n")


def rec(*parts: bytes, length: int) -> bytes:
    record = b"".join(parts)
    assert len(record) == length, (len(record), record)
    return record


def c(text: str, width: int) -> bytes:
    raw = text.encode("cp932")
    assert len(raw) <= width, text
    return raw.ljust(width, b" ")


def n(value: int | str, width: int) -> bytes:
    text = str(value)
    assert text.isdigit() and len(text) <= width, value
    return text.rjust(width, "0").encode()


def barcode(prefix: str, consignor: str, number: str, reissue: int, expiry: date | None, amount: int) -> str:
    return compose(
        issuer_prefix=prefix,
        consignor_code=consignor,
        payment_number=number,
        reissue_count=reissue,
        expiry=expiry,
        amount=amount,
    )


def replace_line(data: bytes, line_no: int, new: bytes, sep: bytes = CRLF) -> bytes:
    lines = data.split(sep)
    lines[line_no - 1] = new
    return sep.join(lines)


def insert_line(data: bytes, line_no: int, new: bytes, sep: bytes = CRLF) -> bytes:
    lines = data.split(sep)
    lines.insert(line_no - 1, new)
    return sep.join(lines)


def line(data: bytes, line_no: int, sep: bytes = CRLF) -> bytes:
    return data.split(sep)[line_no - 1]


def error(
    err: str, line_no: int | None, record_type: str | None, field: str | None, **extra: Any
) -> dict[str, Any]:
    return {"error": err, "line_no": line_no, "record_type": record_type, "field": field, **extra}


# --- fixed120 -------------------------------------------------------------------------------------------


@dataclass
class Pay:
    """One payment as the spec describes it; both the file bytes and the expected record come from this."""

    kind_code: str
    paid_on: str  # YYYYMMDD
    paid_time: str  # HHMM
    barcode: str
    store: str
    channel: str
    capture: str  # YYYYMMDD
    transfer: str | None = None
    accounting: str | None = None
    amount: int | None = None  # dsk_csv 22: the corrected amount

    def expected(self, line_no: int, store: str, channel: str) -> dict[str, Any]:
        b = self.barcode
        yymmdd = b[cvs.EXPIRY.span]
        expiry = None if yymmdd == "999999" else f"20{yymmdd[:2]}-{yymmdd[2:4]}-{yymmdd[4:]}"
        kind = {
            "01": "preliminary",
            "02": "confirmed",
            "03": "cancellation",
            "12": "confirmed",
            "22": "confirmed",
        }
        return {
            "line_no": line_no,
            "kind": kind[self.kind_code],
            "kind_code": self.kind_code,
            "barcode": b,
            "issuer_prefix": b[cvs.ISSUER.span],
            "agent_code": b[cvs.ISSUER.span][1:],
            "consignor_code": b[cvs.CONSIGNOR.span],
            "payment_number": b[cvs.PAYMENT_NUMBER.span],
            "reissue_count": int(b[cvs.REISSUE.span]),
            "barcode_expiry": expiry,
            "amount": self.amount if self.amount is not None else int(b[cvs.AMOUNT.span]),
            "paid_at": f"{iso(self.paid_on)}T{self.paid_time[:2]}:{self.paid_time[2:]}:00+09:00",
            "channel_code": channel,
            "store_code": store,
            "transfer_date": iso(self.transfer) if self.transfer else None,
            "accounting_date": iso(self.accounting) if self.accounting else None,
            "capture_date": iso(self.capture),
            "postal_correction": self.kind_code == "22",
        }


def iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


BC1 = barcode("912345", "00123", "2600000123400100", 0, date(2026, 12, 31), 10000)
BC2 = barcode("912345", "00123", "2600000123500200", 1, date(2027, 1, 31), 25000)
BC3 = barcode("912345", "00123", "2600000123600100", 0, date(2026, 12, 15), 300000)
BC4 = barcode("912345", "00123", "2600000123300300", 0, date(2026, 12, 20), 5000)
BC5 = barcode("912345", "00123", "2500000098700100", 2, None, 1)
BC_FOREIGN = "91929023252070000010123499900299999900154357"  # spec/barcode.md test vector (another agent)

F120_PAYMENTS = [
    Pay("01", "20261127", "0905", BC1, "0012345", "0010", "20261128"),
    Pay("01", "20261127", "1432", BC2, "0000000", "0820", "20261128"),
    Pay("01", "20261127", "2359", BC3, "0456789", "0020", "20261128"),
    Pay("03", "20261127", "2359", BC3, "0456789", "0020", "20261128"),
    Pay("02", "20261120", "1010", BC4, "0000000", "0780", "20261128", "20261204", "20261204"),
    Pay("02", "20261121", "0000", BC5, "0000000", "0910", "20261128", "20261204", "20261205"),
    Pay("01", "20261126", "1145", BC_FOREIGN, "0110002", "0030", "20261128"),
]


def f120_header(created: str, agent: str, consignor: str, name: bytes) -> bytes:
    return rec(
        b"1",
        created.encode(),
        agent.encode(),
        consignor.encode(),
        name.ljust(40, b" "),
        b" " * 61,
        length=120,
    )


def f120_data(p: Pay) -> bytes:
    return rec(
        b"2",  # 1 record type
        p.kind_code.encode(),  # 2-3 data kind
        p.paid_on.encode(),  # 4-11 payment date
        p.paid_time.encode(),  # 12-15 payment time
        p.barcode.encode(),  # 16-59 barcode
        b"000",  # 60-62
        p.store.encode(),  # 63-69 store code
        p.capture.encode(),  # 70-77 capture date
        (p.transfer or "00000000").encode(),  # 78-85 transfer date
        b"00000000",  # 86-93
        (p.accounting or "00000000").encode(),  # 94-101 accounting date
        p.channel.encode(),  # 102-105 channel code
        b" " * 15,  # 106-120
        length=120,
    )


def f120_trailer(payments: list[Pay], *, adjust: dict[str, int] | None = None) -> bytes:
    totals = {}
    for kind in ("01", "02", "03"):
        amounts = [int(p.barcode[cvs.AMOUNT.span]) for p in payments if p.kind_code == kind]
        totals[f"count_{kind}"], totals[f"amount_{kind}"] = len(amounts), sum(amounts)
    for key, delta in (adjust or {}).items():
        totals[key] += delta
    return rec(
        b"8",
        n(totals["count_01"], 6),
        n(totals["amount_01"], 12),
        n(totals["count_02"], 6),
        n(totals["amount_02"], 12),
        n(totals["count_03"], 6),
        n(totals["amount_03"], 12),
        b" " * 65,
        length=120,
    )


F120_END = rec(b"9", b" " * 119, length=120)
F120_NAME = "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ".encode("cp932")


def f120_file(records: list[bytes], *, header: bytes | None = None, trailer: bytes | None = None) -> bytes:
    header = header or f120_header("20261128", "12345", "00123", F120_NAME)
    trailer = trailer or f120_trailer(F120_PAYMENTS)
    return CRLF.join([header, *records, trailer, F120_END]) + CRLF


def make_fixed120() -> None:
    d = "fixed120/"
    data_lines = [f120_data(p) for p in F120_PAYMENTS]
    normal = f120_file(data_lines)
    info = {
        "adapter": "fixed120",
        "kind": "payment",
        "agent_code": "12345",
        "consignor_code": "00123",
        "consignor_name": "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ",
        "created_on": "2026-11-28",
    }
    records = [p.expected(i + 2, p.store, p.channel) for i, p in enumerate(F120_PAYMENTS)]
    put(d + "20261128_daily.txt", normal)
    put_json(
        d + "20261128_daily.txt.expected.json",
        {"archive_name": "20261128-fixed120-12345-00123.txt", "info": info, "records": records},
    )
    # The same file with bare LF and without the final line break: accepted, same records.
    put(d + "20261128_daily-lf.txt", normal.replace(CRLF, b"\n").removesuffix(b"\n"))
    put_json(
        d + "20261128_daily-lf.txt.expected.json",
        {"archive_name": "20261128-fixed120-12345-00123.txt", "info": info, "records": records},
    )
    # A valid file from a consignor this office does not have: parses; the ingest service rejects it.
    foreign = f120_file(
        data_lines, header=f120_header("20261128", "54321", "99999", "ﾎｶﾉｲﾀｸｼｬ".encode("cp932"))
    )
    put(d + "foreign-consignor.txt", foreign)
    foreign_info = info | {"agent_code": "54321", "consignor_code": "99999", "consignor_name": "ﾎｶﾉｲﾀｸｼｬ"}
    put_json(
        d + "foreign-consignor.txt.expected.json",
        {"archive_name": "20261128-fixed120-54321-99999.txt", "info": foreign_info, "records": records},
    )
    # An empty day: header, trailer of zeros, end.
    put(d + "no-payments.txt", f120_file([], trailer=f120_trailer([])))
    put_json(
        d + "no-payments.txt.expected.json",
        {"archive_name": "20261128-fixed120-12345-00123.txt", "info": info, "records": []},
    )

    def broken(name: str, data: bytes, err: dict[str, Any]) -> None:
        put(d + name, data)
        put_json(d + name + ".error.json", err)

    broken(
        "short-line.txt",
        replace_line(normal, 3, line(normal, 3)[:119]),
        error("RecordLengthError", 3, None, None),
    )
    broken(
        "long-line.txt",
        replace_line(normal, 4, line(normal, 4) + b" "),
        error("RecordLengthError", 4, None, None),
    )
    bad_cd = BC1[:43] + str((int(BC1[43]) + 1) % 10)
    broken(
        "bad-check-digit.txt",
        replace_line(normal, 2, line(normal, 2).replace(BC1.encode(), bad_cd.encode())),
        error("FieldError", 2, "data", "barcode"),
    )
    broken(
        "trailer-sum-off.txt",
        f120_file(data_lines, trailer=f120_trailer(F120_PAYMENTS, adjust={"amount_01": 1})),
        error("ControlTotalMismatch", 9, "trailer", "amount_01"),
    )
    broken(
        "trailer-count-off.txt",
        f120_file(data_lines, trailer=f120_trailer(F120_PAYMENTS, adjust={"count_02": 1})),
        error("ControlTotalMismatch", 9, "trailer", "count_02"),
    )
    broken(
        "unknown-record-type.txt",
        insert_line(normal, 4, b"5" + line(normal, 4)[1:]),
        error("UnknownRecordType", 4, None, "record_type"),
    )
    broken(
        "bad-data-kind.txt",
        replace_line(normal, 2, b"204" + line(normal, 2)[3:]),
        error("FieldError", 2, "data", "data_kind"),
    )
    broken(
        "non-digit-store-code.txt",
        replace_line(normal, 3, line(normal, 3)[:62] + b"A000000" + line(normal, 3)[69:]),
        error("FieldError", 3, "data", "store_code"),
    )
    broken(
        "bad-payment-date.txt",
        replace_line(normal, 2, line(normal, 2)[:3] + b"20261131" + line(normal, 2)[11:]),
        error("FieldError", 2, "data", "payment_date"),
    )
    broken(
        "bad-payment-time.txt",
        replace_line(normal, 2, line(normal, 2)[:11] + b"2460" + line(normal, 2)[15:]),
        error("FieldError", 2, "data", "payment_time"),
    )
    broken(
        "transfer-date-missing.txt",
        replace_line(normal, 6, line(normal, 6)[:77] + b"00000000" + line(normal, 6)[85:]),
        error("FieldError", 6, "data", "transfer_date"),
    )
    broken(
        "transfer-date-on-preliminary.txt",
        replace_line(normal, 2, line(normal, 2)[:77] + b"20261204" + line(normal, 2)[85:]),
        error("FieldError", 2, "data", "transfer_date"),
    )
    broken(
        "fixed-zeros-not-zero.txt",
        replace_line(normal, 2, line(normal, 2)[:59] + b"001" + line(normal, 2)[62:]),
        error("FieldError", 2, "data", "zeros_1"),
    )
    broken(
        "filler-not-spaces.txt",
        replace_line(normal, 2, line(normal, 2)[:119] + b"X"),
        error("FieldError", 2, "data", "filler"),
    )
    broken(
        "truncated.txt",
        normal[: normal.index(line(normal, 5)) + 57],
        error("RecordOrderError", 5, None, None),
    )
    broken(
        "trailer-missing.txt",
        CRLF.join(normal.split(CRLF)[:8]) + CRLF,
        error("RecordOrderError", 9, "trailer", None),
    )
    broken(
        "end-missing.txt",
        CRLF.join(normal.split(CRLF)[:9]) + CRLF,
        error("RecordOrderError", 10, "end", None),
    )
    broken(
        "header-missing.txt",
        CRLF.join(normal.split(CRLF)[1:]),
        error("RecordOrderError", 1, "data", None, identified=False),
    )
    broken(
        "second-header.txt",
        insert_line(normal, 3, line(normal, 1)),
        error("RecordOrderError", 3, "header", None),
    )
    broken(
        "data-after-trailer.txt",
        insert_line(normal, 10, line(normal, 2)),
        error("RecordOrderError", 10, "data", None),
    )
    broken(
        "record-after-end.txt",
        normal + line(normal, 2) + CRLF,
        error("RecordOrderError", 11, "data", None),
    )
    broken(
        "second-trailer.txt",
        insert_line(normal, 10, line(normal, 9)),
        error("RecordOrderError", 10, "trailer", None),
    )
    broken(
        "end-without-trailer.txt",
        CRLF.join([*normal.split(CRLF)[:8], line(normal, 10)]) + CRLF,
        error("RecordOrderError", 9, "end", None),
    )
    utf8_name = "テスト市".encode()  # 12 bytes of UTF-8: not cp932 (0x86 cannot follow 0x83 0xe3)
    broken(
        "wrong-encoding.txt",
        replace_line(normal, 1, f120_header("20261128", "12345", "00123", utf8_name)),
        error("EncodingError", 1, "header", "consignor_name"),
    )


# --- mizuho120 ------------------------------------------------------------------------------------------
# adapters/data/profiles/mizuho120.toml: みずほファクター's 120-byte record. Verified positions: barcode kind
# 16, barcode 17-60, 客層 2 bytes, CVS code 97-102, 予備 103-120; the rest is the profile's assumption.


def mz_header(created: str, agent: str, consignor: str, name: bytes) -> bytes:
    return rec(
        b"1",  # 1 record type
        b"01",  # 2-3 file kind (assumed const 01)
        created.encode(),  # 4-11 creation date
        agent.encode(),  # 12-16 agent code
        consignor.encode(),  # 17-21 consignor code
        name.ljust(40, b" "),  # 22-61 consignor name
        b" " * 59,  # 62-120
        length=120,
    )


def mz_data(p: Pay, *, barcode_kind: bytes = b"1", segment: bytes = b"23") -> bytes:
    return rec(
        b"2",  # 1 record type
        p.kind_code.encode(),  # 2-3 data kind
        p.paid_on.encode(),  # 4-11 payment date
        p.paid_time.encode(),  # 12-15 payment time
        barcode_kind,  # 16 barcode kind
        p.barcode.encode(),  # 17-60 barcode
        p.store.encode(),  # 61-67 store code
        p.capture.encode(),  # 68-75 capture date
        (p.transfer or "00000000").encode(),  # 76-83 transfer date
        (p.accounting or "00000000").encode(),  # 84-91 accounting date
        b"000",  # 92-94
        segment,  # 95-96 客層
        b"00" + p.channel.encode(),  # 97-102 CVS code (6 digits)
        b" " * 18,  # 103-120 予備
        length=120,
    )


def make_mizuho120() -> None:
    d = "mizuho120/"
    payments = F120_PAYMENTS
    data_lines = [mz_data(p) for p in payments]
    header = mz_header("20261128", "12345", "00123", F120_NAME)

    def mz_file(records: list[bytes], *, trailer: bytes | None = None) -> bytes:
        return CRLF.join([header, *records, trailer or f120_trailer(payments), F120_END]) + CRLF

    normal = mz_file(data_lines)
    info = {
        "adapter": "mizuho120",
        "kind": "payment",
        "agent_code": "12345",
        "consignor_code": "00123",
        "consignor_name": "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ",
        "created_on": "2026-11-28",
    }
    archive = "20261128-mizuho120-12345-00123.txt"
    records = [p.expected(i + 2, p.store, p.channel) for i, p in enumerate(payments)]
    put(d + "20261128_daily.txt", normal)
    put_json(
        d + "20261128_daily.txt.expected.json", {"archive_name": archive, "info": info, "records": records}
    )
    put(d + "20261128_daily-lf.txt", normal.replace(CRLF, b"\n").removesuffix(b"\n"))
    put_json(
        d + "20261128_daily-lf.txt.expected.json", {"archive_name": archive, "info": info, "records": records}
    )
    put(d + "no-payments.txt", mz_file([], trailer=f120_trailer([])))
    put_json(d + "no-payments.txt.expected.json", {"archive_name": archive, "info": info, "records": []})

    def broken(name: str, data: bytes, err: dict[str, Any]) -> None:
        put(d + name, data)
        put_json(d + name + ".error.json", err)

    def with_line(line_no: int, start: int, new: bytes) -> bytes:
        """The normal file with 1-based position ``start`` of line ``line_no`` onwards replaced by ``new``."""
        old = line(normal, line_no)
        return replace_line(normal, line_no, old[: start - 1] + new + old[start - 1 + len(new) :])

    broken("bad-kind-code.txt", with_line(2, 2, b"04"), error("FieldError", 2, "data", "data_kind"))
    broken("bad-barcode-kind.txt", with_line(3, 16, b"2"), error("FieldError", 3, "data", "barcode_kind"))
    bad_cd = BC1[:43] + str((int(BC1[43]) + 1) % 10)
    broken(
        "bad-check-digit.txt", with_line(2, 17, bad_cd.encode()), error("FieldError", 2, "data", "barcode")
    )
    broken("bad-payment-time.txt", with_line(2, 12, b"2460"), error("FieldError", 2, "data", "payment_time"))
    broken(
        "bad-capture-date.txt", with_line(4, 68, b"20261300"), error("FieldError", 4, "data", "capture_date")
    )
    broken("cvs-code-not-a-channel.txt", with_line(3, 97, b"12"), error("FieldError", 3, "data", "cvs_code"))
    broken(
        "non-digit-customer-segment.txt",
        with_line(2, 95, b"A "),
        error("FieldError", 2, "data", "customer_segment"),
    )
    broken("zeros-not-zero.txt", with_line(2, 92, b"010"), error("FieldError", 2, "data", "zeros"))
    broken("reserve-not-spaces.txt", with_line(2, 120, b"X"), error("FieldError", 2, "data", "reserve"))
    broken(
        "transfer-date-missing.txt",
        with_line(6, 76, b"00000000"),
        error("FieldError", 6, "data", "transfer_date"),
    )
    broken(
        "accounting-date-on-preliminary.txt",
        with_line(2, 84, b"20261204"),
        error("FieldError", 2, "data", "accounting_date"),
    )
    broken(
        "short-line.txt",
        replace_line(normal, 3, line(normal, 3)[:119]),
        error("RecordLengthError", 3, None, None),
    )
    broken(
        "unknown-record-type.txt",
        insert_line(normal, 4, b"5" + line(normal, 4)[1:]),
        error("UnknownRecordType", 4, None, "record_type"),
    )
    broken(
        "trailer-sum-off.txt",
        mz_file(data_lines, trailer=f120_trailer(payments, adjust={"amount_01": 1})),
        error("ControlTotalMismatch", 9, "trailer", "amount_01"),
    )
    broken(
        "trailer-count-off.txt",
        mz_file(data_lines, trailer=f120_trailer(payments, adjust={"count_03": -1})),
        error("ControlTotalMismatch", 9, "trailer", "count_03"),
    )
    broken(
        "end-missing.txt",
        CRLF.join(normal.split(CRLF)[:9]) + CRLF,
        error("RecordOrderError", 10, "end", None),
    )
    broken(
        "header-missing.txt",
        CRLF.join(normal.split(CRLF)[1:]),
        error("RecordOrderError", 1, "data", None, identified=False),
    )
    broken(
        "data-after-trailer.txt",
        insert_line(normal, 10, line(normal, 2)),
        error("RecordOrderError", 10, "data", None),
    )
    utf8_name = "テスト市".encode()  # 12 bytes of UTF-8: not cp932
    broken(
        "wrong-encoding.txt",
        replace_line(normal, 1, mz_header("20261128", "12345", "00123", utf8_name)),
        error("EncodingError", 1, "header", "consignor_name"),
    )


# --- dsk_csv --------------------------------------------------------------------------------------------

DSK_HEADER = ",".join(
    [
        *(
            "種別",
            "収納日",
            "収納時刻",
            "バーコード情報",
            "ユーザー使用欄１",
            "ユーザー使用欄２",
            "印紙フラグ",
        ),
        *("金額", "コンビニ本部コード", "コンビニ名", "コンビニ店舗コード", "振込日", "データ作成日"),
    ]
)  # as spec §2 prints it (full-width １ and ２)
BC_POST_1 = barcode("912345", "00123", "2600000124000100", 0, None, 8000)
BC_POST_2 = barcode("912345", "00123", "2600000124100100", 0, None, 12000)
BC_LAWSON = barcode("912345", "00123", "2600000124200100", 0, date(2026, 12, 31), 7777)

# (payment, chain code, chain name, dsk store code)
DSK_ROWS = [
    (Pay("01", "20261127", "0905", BC1, "012345", "010", "20261128"), "セブン－イレブン"),
    (Pay("01", "20261127", "1432", BC2, "000000", "820", "20261128"), "PayPay"),
    (Pay("03", "20261127", "1432", BC2, "000000", "820", "20261128"), "PayPay"),
    (Pay("02", "20261120", "1010", BC4, "110003", "030", "20261128", "20261204"), "ファミリーマート"),
    (Pay("12", "20261125", "0000", BC_POST_1, "091001", "911", "20261128", "20261204"), "郵便振替（窓口）"),
    (
        Pay("22", "20261125", "0000", BC_POST_2, "091002", "910", "20261128", "20261204", amount=12500),
        "郵便振替",
    ),
    (Pay("01", "20261127", "2359", BC_LAWSON, "110002", "020", "20261128"), "ローソン"),
]


def dsk_row(p: Pay, name: str, *, amount: int | None = None) -> str:
    b = p.barcode
    value = amount if amount is not None else (p.amount if p.amount is not None else int(b[cvs.AMOUNT.span]))
    # spec: 利用者データ1 = barcode digits 14–19, 利用者データ2 = digits 20–30 (payment number, reissue)
    split = cvs.PAYMENT_NUMBER.start + 6
    user_1, user_2, stamp = (
        b[cvs.PAYMENT_NUMBER.start : split],
        b[split : cvs.EXPIRY.start],
        b[cvs.STAMP.span],
    )
    return (
        f"{p.kind_code},{p.paid_on},{p.paid_time},EAN{b},{user_1},{user_2},{stamp},{value},{p.channel},"
        f'"{name}",{p.store},{p.transfer or "0"},{p.capture}'
    )


def make_dsk_csv() -> None:
    d = "dsk_csv/"
    rows = [dsk_row(p, name) for p, name in DSK_ROWS]

    def file(lines: list[str], *, newline: str = "\r\n", final: bool = True) -> str:
        return newline.join([DSK_HEADER, *lines]) + (newline if final else "")

    normal = file(rows)
    info = {
        "adapter": "dsk_csv",
        "kind": "payment",
        "agent_code": "12345",
        "consignor_code": "00123",
        "consignor_name": None,
        "created_on": "2026-11-28",
    }
    records = [p.expected(i + 2, p.store, "0" + p.channel) for i, (p, _) in enumerate(DSK_ROWS)]
    expected = {"archive_name": "20261128-dsk_csv-12345-00123.csv", "info": info, "records": records}
    put(d + "20261128_daily.csv", normal.encode("cp932"))
    put_json(d + "20261128_daily.csv.expected.json", expected)
    put(d + "20261128_daily-utf8-bom.csv", b"\xef\xbb\xbf" + file(rows, newline="\n", final=False).encode())
    put_json(d + "20261128_daily-utf8-bom.csv.expected.json", expected)
    put(d + "20261128_daily-utf8.csv", normal.encode())
    put_json(d + "20261128_daily-utf8.csv.expected.json", expected)
    put(d + "header-only.csv", file([]).encode("cp932"))
    put_json(
        d + "header-only.csv.expected.json",
        {"archive_name": None, "info": info | dict.fromkeys(("agent_code", "consignor_code", "created_on")),
         "records": []},
    )  # fmt: skip
    # Barcodes of another consignor: well formed, parse; the ingest service decides (by its configuration).
    foreign_bc = barcode("954321", "99999", "2600000000100100", 0, date(2026, 12, 31), 4321)
    foreign = Pay("01", "20261127", "1200", foreign_bc, "110005", "020", "20261128")
    put(d + "foreign-consignor.csv", file([dsk_row(foreign, "ローソン")]).encode("cp932"))
    put_json(
        d + "foreign-consignor.csv.expected.json",
        {
            "archive_name": "20261128-dsk_csv-54321-99999.csv",
            "info": info | {"agent_code": "54321", "consignor_code": "99999"},
            "records": [foreign.expected(2, "110005", "0020")],
        },
    )

    def broken(name: str, text: str | bytes, err: dict[str, Any]) -> None:
        put(d + name, text.encode("cp932") if isinstance(text, str) else text)
        put_json(d + name + ".error.json", err)

    def with_row(index: int, row: str) -> list[str]:
        return [*rows[:index], row, *rows[index + 1 :]]

    cols = rows[2].split(",")
    broken(
        "columns-disagree.csv",
        file(with_row(2, ",".join([*cols[:5], "01234999999", *cols[6:]]))),
        error("FieldError", 4, "data", "user_field_2"),
    )
    cols0 = rows[0].split(",")
    broken(
        "user-field-1-disagrees.csv",
        file(with_row(0, ",".join([*cols0[:4], "999999", *cols0[5:]]))),
        error("FieldError", 2, "data", "user_field_1"),
    )
    broken(
        "stamp-flag-disagrees.csv",
        file(with_row(0, ",".join([*cols0[:6], "1", *cols0[7:]]))),
        error("FieldError", 2, "data", "stamp_flag"),
    )
    broken(
        "amount-mismatch.csv",
        file(with_row(0, dsk_row(DSK_ROWS[0][0], DSK_ROWS[0][1], amount=10001))),
        error("FieldError", 2, "data", "amount"),
    )
    bad_cd = BC1[:43] + str((int(BC1[43]) + 1) % 10)
    broken(
        "bad-check-digit.csv",
        file(with_row(0, rows[0].replace(BC1, bad_cd))),
        error("FieldError", 2, "data", "barcode"),
    )
    broken(
        "barcode-without-ean.csv",
        file(with_row(0, rows[0].replace("EAN", ""))),
        error("FieldError", 2, "data", "barcode"),
    )
    broken(
        "unknown-record-type.csv",
        file(with_row(3, "05" + rows[3][2:])),
        error("UnknownRecordType", 5, "data", "kind"),
    )
    broken(
        "short-row.csv",
        file(with_row(1, rows[1].rsplit(",", 1)[0])),
        error("RecordLengthError", 3, "data", None),
    )
    broken(
        "truncated.csv",
        file(rows, final=False)[:-40],
        error("RecordOrderError", 8, "data", None),
    )
    broken(
        "transfer-date-on-preliminary.csv",
        file(with_row(0, rows[0].rsplit(",", 2)[0] + ",20261204,20261128")),
        error("FieldError", 2, "data", "transfer_date"),
    )
    broken(
        "transfer-date-missing.csv",
        file(with_row(3, rows[3].rsplit(",", 2)[0] + ",0,20261128")),
        error("FieldError", 5, "data", "transfer_date"),
    )
    broken(
        "four-digit-chain-code.csv",
        file(with_row(0, rows[0].replace(",010,", ",0010,"))),
        error("FieldError", 2, "data", "chain_code"),
    )
    broken(
        "bad-payment-date.csv",
        file(with_row(0, rows[0].replace(",20261127,", ",20260229,"))),
        error("FieldError", 2, "data", "payment_date"),
    )
    broken(
        "header-missing.csv",
        "\r\n".join(rows) + "\r\n",
        error("RecordOrderError", 1, "header", None, identified=False),
    )
    broken(
        "blank-line-between-rows.csv",
        file([*rows[:2], "", *rows[2:]]),
        error("RecordLengthError", 4, None, None),
    )
    # The whole file in EUC-JP: neither UTF-8 nor cp932. Which line fails first in cp932 is reasoned here
    # from the bytes, not by the adapter: EUC-JP kana/kanji are two bytes 0xA1–0xFE, which cp932 reads as a
    # half-width kana (0xA1–0xDF) or a lead byte (0xE0–0xFC) wanting a trail byte 0x40–0xFC.
    eucjp = normal.replace("－", "-").encode("euc_jp")  # EUC-JP has no full-width hyphen-minus
    first_bad = next(i for i, raw in enumerate(eucjp.split(b"\n"), 1) if not _decodes(raw, "cp932"))
    broken("wrong-encoding-eucjp.csv", eucjp, error("EncodingError", first_bad, None, None))


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


# --- zengin ---------------------------------------------------------------------------------------------


@dataclass
class Account:
    bank_code: str
    bank_name: str
    branch_code: str
    branch_name: str
    account_type: str
    account_number: str  # as in the file (7 digits transfer, 10 digits statement)
    account_name: str


ACCOUNT_1 = Account("0999", "ﾃｽﾄｷﾞﾝｺｳ", "123", "ﾎﾝﾃﾝ", "1", "0123456", "ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ")
ACCOUNT_2 = Account("0999", "ﾃｽﾄｷﾞﾝｺｳ", "456", "ｴｷﾏｴｼﾃﾝ", "2", "7654321", "ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ")


@dataclass
class Transfer:
    inquiry: str  # 6 digits
    value_date: str  # 令和 YYMMDD
    amount: int
    remitter_code: str  # 10 digits or ""
    remitter_name: str
    bank_name: str
    branch_name: str
    cancelled: bool
    edi: str


TRANSFERS_1 = [
    Transfer(
        "000101", "081204", 5001, "1234500123", "ﾃｽﾄｼﾕｳﾉｳﾀﾞｲｺｳ(ｶ", "ﾃｽﾄｷﾞﾝｺｳ", "ﾎﾝﾃﾝ", False, "SETTLE20261204"
    ),
    Transfer("000102", "081204", 10000, "", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐﾅﾐｷﾞﾝｺｳ", "ｷﾀｼﾃﾝ", False, ""),
    Transfer("000103", "081204", 10000, "", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐﾅﾐｷﾞﾝｺｳ", "ｷﾀｼﾃﾝ", True, ""),
]
TRANSFERS_2 = [
    Transfer("000007", "081203", 300000, "9876543210", "ﾃｽﾄﾀﾞｲｺｳ(ｶ", "ﾃｽﾄｷﾞﾝｺｳ", "ﾎﾝﾃﾝ", False, "BATCH-0007"),
]


def zt_header(a: Account, created: str, date_from: str, date_to: str) -> bytes:
    return rec(
        b"1",  # type
        b"01",  # 種別コード
        b"0",  # コード区分
        created.encode(),  # 作成日
        date_from.encode(),  # 勘定日(自)
        date_to.encode(),  # 勘定日(至)
        a.bank_code.encode(),  # 銀行コード 4
        c(a.bank_name, 15),
        a.branch_code.encode(),  # 支店コード 3
        c(a.branch_name, 15),
        a.account_type.encode(),  # 預金種目 1
        a.account_number.encode(),  # 口座番号 7
        c(a.account_name, 40),
        b" " * 93,
        length=200,
    )


def zt_data(t: Transfer, *, remitter_name: bytes | None = None, flag: bytes | None = None) -> bytes:
    return rec(
        b"2",
        t.inquiry.encode(),  # 照会番号 6
        t.value_date.encode(),  # 勘定日 6
        t.value_date.encode(),  # 起算日 6
        n(t.amount, 10),  # 金額 10
        b"0" * 10,  # うち他店券金額 10
        t.remitter_code.encode() if t.remitter_code else b" " * 10,  # 振込依頼人コード 10
        remitter_name if remitter_name is not None else c(t.remitter_name, 48),  # 振込依頼人名 48
        c(t.bank_name, 15),  # 仕向銀行名 15
        c(t.branch_name, 15),  # 仕向店名 15
        flag or (b"1" if t.cancelled else b"0"),  # 取消区分 1
        c(t.edi, 20),  # EDI情報 20
        b" " * 52,
        length=200,
    )


def zt_trailer(transfers: list[Transfer], *, adjust: int = 0) -> bytes:
    active = [t.amount for t in transfers if not t.cancelled]
    cancelled = [t.amount for t in transfers if t.cancelled]
    return rec(
        b"8",
        n(len(active), 6),
        n(sum(active) + adjust, 12),
        n(len(cancelled), 6),
        n(sum(cancelled), 12),
        b" " * 163,
        length=200,
    )


Z_END = rec(b"9", b" " * 199, length=200)


def zt_expected(a: Account, t: Transfer, line_no: int) -> dict[str, Any]:
    return {
        "line_no": line_no,
        "format": "transfer",
        "bank_code": a.bank_code,
        "branch_code": a.branch_code,
        "account_type": a.account_type,
        "account_number": a.account_number.lstrip("0"),
        "value_date": f"{2018 + int(t.value_date[:2])}-{t.value_date[2:4]}-{t.value_date[4:]}",
        "inquiry_number": t.inquiry.lstrip("0"),
        "amount": t.amount,
        "remitter_code": t.remitter_code,
        "remitter_name": t.remitter_name,
        "direction": "credit",
        "cancelled": t.cancelled,
        "transaction_type": None,
        "bank_name": a.bank_name,
        "branch_name": a.branch_name,
        "account_name": a.account_name,
        "originating_bank_name": t.bank_name,
        "originating_branch_name": t.branch_name,
        "edi_info": t.edi,
        "description": None,
    }


def make_zengin_transfer() -> None:
    d = "zengin_transfer/"
    header_1 = zt_header(ACCOUNT_1, "081204", "081204", "081204")
    group_1 = [header_1, *(zt_data(t) for t in TRANSFERS_1), zt_trailer(TRANSFERS_1)]
    normal = CRLF.join([*group_1, Z_END]) + CRLF
    info = {
        "adapter": "zengin_transfer",
        "kind": "bank",
        "agent_code": None,
        "consignor_code": None,
        "consignor_name": None,
        "created_on": "2026-12-04",
    }
    records = [zt_expected(ACCOUNT_1, t, i + 2) for i, t in enumerate(TRANSFERS_1)]
    put(d + "20261204_transfer.txt", normal)
    put_json(
        d + "20261204_transfer.txt.expected.json",
        {"archive_name": "20261204-zengin_transfer.txt", "info": info, "records": records},
    )
    # Two accounts, records back to back without any line break; line_no is then the record number.
    group_2 = [
        zt_header(ACCOUNT_2, "081204", "081203", "081203"),
        *(zt_data(t) for t in TRANSFERS_2),
        zt_trailer(TRANSFERS_2),
    ]
    put(d + "several-accounts-no-line-breaks.dat", b"".join([*group_1, *group_2, Z_END]))
    put_json(
        d + "several-accounts-no-line-breaks.dat.expected.json",
        {
            "archive_name": "20261204-zengin_transfer.dat",
            "info": info,
            "records": [*records, zt_expected(ACCOUNT_2, TRANSFERS_2[0], 7)],
        },
    )

    def broken(name: str, data: bytes, err: dict[str, Any]) -> None:
        put(d + name, data)
        put_json(d + name + ".error.json", err)

    broken(
        "short-record.txt",
        replace_line(normal, 3, line(normal, 3)[:199]),
        error("RecordLengthError", 3, None, None),
    )
    broken(
        "trailer-sum-off.txt",
        CRLF.join([*group_1[:-1], zt_trailer(TRANSFERS_1, adjust=-1), Z_END]) + CRLF,
        error("ControlTotalMismatch", 5, "trailer", "transfer_amount"),
    )
    broken(
        "trailer-sum-off-second-group-no-line-breaks.dat",
        b"".join([*group_1, *group_2[:-1], zt_trailer(TRANSFERS_2, adjust=100), Z_END]),
        error("ControlTotalMismatch", 8, "trailer", "transfer_amount"),
    )
    broken(
        "unknown-record-type.txt",
        insert_line(normal, 3, b"7" + line(normal, 3)[1:]),
        error("UnknownRecordType", 3, None, "record_type"),
    )
    broken(
        "header-missing.txt",
        CRLF.join(normal.split(CRLF)[1:]),
        error("RecordOrderError", 1, "data", None, identified=False),
    )
    broken(
        "data-after-trailer.txt",
        insert_line(normal, 6, line(normal, 2)),
        error("RecordOrderError", 6, "data", None),
    )
    broken(
        "trailer-missing.txt",
        CRLF.join([*group_1[:-1], Z_END]) + CRLF,
        error("RecordOrderError", 5, "end", None),
    )
    broken(
        "end-missing.txt",
        CRLF.join(group_1) + CRLF,
        error("RecordOrderError", 6, None, None),
    )
    broken(
        "next-header-without-trailer.txt",
        CRLF.join([*group_1[:-1], *group_2, Z_END]) + CRLF,
        error("RecordOrderError", 5, None, None),
    )
    broken(
        "second-trailer.txt",
        CRLF.join([*group_1, group_1[-1], Z_END]) + CRLF,
        error("RecordOrderError", 6, "trailer", None),
    )
    broken(
        "record-after-end.txt",
        normal + line(normal, 2) + CRLF,
        error("RecordOrderError", 7, None, None),
    )
    ebcdic = line(normal, 1)[:3] + b"1" + line(normal, 1)[4:]
    broken(
        "ebcdic-code-class.txt",
        replace_line(normal, 1, ebcdic),
        error("FieldError", 1, "header", "code_class", identified=False),
    )
    broken(
        "truncated-no-line-breaks.dat",
        b"".join([*group_1, *group_2, Z_END])[:1234],
        error("RecordOrderError", 7, None, None),
    )
    broken(
        "bad-value-date.txt",
        replace_line(normal, 2, line(normal, 2)[:7] + b"081332" + line(normal, 2)[13:]),
        error("FieldError", 2, "data", "value_date"),
    )
    broken(
        "heisei-date.txt",
        replace_line(normal, 2, line(normal, 2)[:7] + b"010401" + line(normal, 2)[13:]),
        error("FieldError", 2, "data", "value_date"),
    )
    broken(
        "bad-cancellation-flag.txt",
        replace_line(normal, 3, zt_data(TRANSFERS_1[1], flag=b"2")),
        error("FieldError", 3, "data", "cancellation"),
    )
    bad_name = ("ﾔﾏﾀﾞ ﾀﾛｳ".encode("cp932") + b"\x81\x20").ljust(48, b" ")  # a cp932 lead byte without trail
    broken(
        "wrong-encoding.txt",
        replace_line(normal, 3, zt_data(TRANSFERS_1[1], remitter_name=bad_name)),
        error("EncodingError", 3, "data", "remitter_name"),
    )


@dataclass
class Movement:
    inquiry: str  # 8 digits
    value_date: str  # 令和 YYMMDD
    direction: str  # 1 credit, 2 debit
    transaction_type: str  # 2 digits
    amount: int
    remitter_code: str
    remitter_name: str
    bank_name: str
    branch_name: str
    description: str
    edi: str


MOVEMENTS_1 = [
    Movement(
        "00000201",
        "081201",
        "1",
        "11",
        5001,
        "1234500123",
        "ﾃｽﾄｼﾕｳﾉｳﾀﾞｲｺｳ(ｶ",
        "ﾃｽﾄｷﾞﾝｺｳ",
        "ﾎﾝﾃﾝ",
        "ﾌﾘｺﾐ",
        "SETTLE20261201",
    ),
    Movement("00000202", "081202", "2", "14", 3000, "", "", "", "", "ﾃｽｳﾘﾖｳ", ""),
    Movement("00000203", "081204", "1", "11", 10000, "", "ﾔﾏﾀﾞ ﾀﾛｳ", "ﾐﾅﾐｷﾞﾝｺｳ", "ｷﾀｼﾃﾝ", "ﾌﾘｺﾐ", ""),
]
MOVEMENTS_2 = [
    Movement("00000011", "081203", "1", "10", 2500, "", "", "", "", "ｹﾞﾝｷﾝ", ""),
]
STATEMENT_ACCOUNT_1 = Account("0999", "ﾃｽﾄｷﾞﾝｺｳ", "123", "ﾎﾝﾃﾝ", "1", "0000123456", "ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ")
STATEMENT_ACCOUNT_2 = Account("0999", "ﾃｽﾄｷﾞﾝｺｳ", "123", "ﾎﾝﾃﾝ", "4", "0009876543", "ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ")


def zs_header(a: Account, created: str, date_from: str, date_to: str, opening: int) -> bytes:
    return rec(
        b"1",
        b"03",  # 種別コード
        b"0",  # コード区分
        created.encode(),
        date_from.encode(),
        date_to.encode(),
        a.bank_code.encode(),  # 4
        c(a.bank_name, 15),
        a.branch_code.encode(),  # 3
        c(a.branch_name, 15),
        b"   ",  # ダミー 3
        a.account_type.encode(),  # 1
        a.account_number.encode(),  # 10
        c(a.account_name, 40),
        b"1",  # 貸越区分
        b"1",  # 通帳・証書区分
        n(opening, 14),  # 取引前残高
        b" " * 71,
        length=200,
    )


def zs_data(m: Movement, *, direction: bytes | None = None) -> bytes:
    return rec(
        b"2",
        m.inquiry.encode(),  # 照会番号 8
        m.value_date.encode(),  # 勘定日 6
        m.value_date.encode(),  # 預入払出日 6
        direction or m.direction.encode(),  # 入払区分 1
        m.transaction_type.encode(),  # 取引区分 2
        n(m.amount, 12),  # 取引金額 12
        b"0" * 12,  # うち他店券金額 12
        b"0" * 6,  # 交換呈示日
        b"0" * 6,  # 不渡返還日
        b"0",  # 手形小切手区分
        b"0" * 7,  # 手形小切手番号
        b"0" * 3,  # 僚店番号
        m.remitter_code.encode() if m.remitter_code else b" " * 10,  # 振込依頼人コード 10
        c(m.remitter_name, 48),
        c(m.bank_name, 15),
        c(m.branch_name, 15),
        c(m.description, 20),
        c(m.edi, 20),
        b" ",
        length=200,
    )


def zs_trailer(movements: list[Movement], opening: int, *, adjust: int = 0) -> bytes:
    credits = [m.amount for m in movements if m.direction == "1"]
    debits = [m.amount for m in movements if m.direction == "2"]
    return rec(
        b"8",
        n(len(credits), 7),
        n(sum(credits), 13),
        n(len(debits), 7),
        n(sum(debits) + adjust, 13),
        b"1",
        n(opening + sum(credits) - sum(debits), 14),
        b" " * 144,
        length=200,
    )


def zs_expected(a: Account, m: Movement, line_no: int) -> dict[str, Any]:
    return {
        "line_no": line_no,
        "format": "statement",
        "bank_code": a.bank_code,
        "branch_code": a.branch_code,
        "account_type": a.account_type,
        "account_number": a.account_number.lstrip("0"),
        "value_date": f"{2018 + int(m.value_date[:2])}-{m.value_date[2:4]}-{m.value_date[4:]}",
        "inquiry_number": m.inquiry.lstrip("0"),
        "amount": m.amount,
        "remitter_code": m.remitter_code,
        "remitter_name": m.remitter_name,
        "direction": {"1": "credit", "2": "debit"}[m.direction],
        "cancelled": False,
        "transaction_type": m.transaction_type,
        "bank_name": a.bank_name,
        "branch_name": a.branch_name,
        "account_name": a.account_name,
        "originating_bank_name": m.bank_name,
        "originating_branch_name": m.branch_name,
        "edi_info": m.edi,
        "description": m.description,
    }


def make_zengin_statement() -> None:
    d = "zengin_statement/"
    group_1 = [
        zs_header(STATEMENT_ACCOUNT_1, "081204", "081201", "081204", 1_000_000),
        *(zs_data(m) for m in MOVEMENTS_1),
        zs_trailer(MOVEMENTS_1, 1_000_000),
    ]
    normal = CRLF.join([*group_1, Z_END]) + CRLF
    info = {
        "adapter": "zengin_statement",
        "kind": "bank",
        "agent_code": None,
        "consignor_code": None,
        "consignor_name": None,
        "created_on": "2026-12-04",
    }
    records = [zs_expected(STATEMENT_ACCOUNT_1, m, i + 2) for i, m in enumerate(MOVEMENTS_1)]
    put(d + "20261204_statement.txt", normal)
    put_json(
        d + "20261204_statement.txt.expected.json",
        {"archive_name": "20261204-zengin_statement.txt", "info": info, "records": records},
    )
    group_2 = [
        zs_header(STATEMENT_ACCOUNT_2, "081204", "081203", "081203", 0),
        *(zs_data(m) for m in MOVEMENTS_2),
        zs_trailer(MOVEMENTS_2, 0),
    ]
    put(d + "several-accounts-no-line-breaks.dat", b"".join([*group_1, *group_2, Z_END]))
    put_json(
        d + "several-accounts-no-line-breaks.dat.expected.json",
        {
            "archive_name": "20261204-zengin_statement.dat",
            "info": info,
            "records": [*records, zs_expected(STATEMENT_ACCOUNT_2, MOVEMENTS_2[0], 7)],
        },
    )

    def broken(name: str, data: bytes, err: dict[str, Any]) -> None:
        put(d + name, data)
        put_json(d + name + ".error.json", err)

    broken(
        "short-record.txt",
        replace_line(normal, 2, line(normal, 2)[:150]),
        error("RecordLengthError", 2, None, None),
    )
    broken(
        "trailer-sum-off.txt",
        CRLF.join([*group_1[:-1], zs_trailer(MOVEMENTS_1, 1_000_000, adjust=1), Z_END]) + CRLF,
        error("ControlTotalMismatch", 5, "trailer", "debit_amount"),
    )
    broken(
        "bad-direction.txt",
        replace_line(normal, 3, zs_data(MOVEMENTS_1[1], direction=b"3")),
        error("FieldError", 3, "data", "direction"),
    )
    broken(
        "unknown-record-type.txt",
        insert_line(normal, 2, b"3" + line(normal, 2)[1:]),
        error("UnknownRecordType", 2, None, "record_type"),
    )
    broken(
        "header-missing.txt",
        CRLF.join(normal.split(CRLF)[1:]),
        error("RecordOrderError", 1, "data", None, identified=False),
    )
    broken(
        "data-after-trailer-no-line-breaks.dat",
        b"".join([*group_1, group_2[1], *group_2, Z_END]),
        error("RecordOrderError", 6, "data", None),
    )
    broken(
        "truncated.txt",
        normal[:500],
        error("RecordOrderError", 3, None, None),
    )


def make_crashers() -> None:
    """Odd inputs with no expectation except: no adapter raises anything but a SettlementFileError."""
    d = "crashers/"
    garbage = bytes((i * 7919 + 13) % 256 for i in range(4096))  # deterministic "random" bytes
    f120 = FILES[DATA_DIR / "fixed120/20261128_daily.txt"]
    zt = FILES[DATA_DIR / "zengin_transfer/20261204_transfer.txt"]
    put(d + "empty", b"")
    put(d + "one-line-break", b"\r\n")
    put(d + "nul-bytes", b"\0" * 1000)
    put(d + "binary-garbage", garbage)
    put(d + "long-line-without-break", b"1" * 100_000)
    put(d + "fixed120-header-only.txt", line(f120, 1) + CRLF)
    put(d + "fixed120-header-then-long-line.txt", line(f120, 1) + CRLF + b"2" * 10_000 + CRLF)
    put(d + "fixed120-cr-only.txt", f120.replace(CRLF, b"\r"))
    put(d + "fixed120-header-record-type-only.txt", b"1")
    put(d + "dsk-header-only-utf16.csv", (DSK_HEADER + "\r\n").encode("utf-16"))
    put(d + "dsk-unterminated-quote.csv", (DSK_HEADER + '\r\n01,20261127,0905,"EAN9191').encode("cp932"))
    put(d + "dsk-header-then-garbage.csv", (DSK_HEADER + "\r\n").encode("cp932") + garbage)
    put(d + "zengin-header-only.txt", line(zt, 1))
    put(d + "zengin-header-lf-then-garbage.txt", line(zt, 1) + b"\n" + garbage)
    put(d + "zengin-records-of-199.dat", b"".join(r[:199] for r in zt.split(CRLF)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args()
    make_fixed120()
    make_mizuho120()
    make_dsk_csv()
    make_zengin_transfer()
    make_zengin_statement()
    make_crashers()
    existing = [p for p in FILES if p.exists() and p.read_bytes() != FILES[p]]
    if existing and not args.force:
        sys.exit(f"{len(existing)} files would change (e.g. {existing[0]}); rerun with --force")
    for path, data in FILES.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"wrote {len(FILES)} files under {DATA_DIR}")


if __name__ == "__main__":
    main()
