"""Write the ingestion test inputs into ``tests/data/ingest`` (by hand; overwrites only with --force).

The ``fixed120`` files are assembled from literal fields at the positions of spec/settlement-formats.md §1,
without the adapters, so a mistake in the adapters' writer cannot hide one in the reader. The bank statement
uses ``adapters.zengin_statement.write`` (the zengin layouts are long; the adapter tests check that writer
byte for byte). The expected ``*.expected.json`` beside each input were written by hand from the literal
records below (counts and sums added up in the comments), not produced by the code under test.

    .venv/bin/python tests/ingest/make_data.py [--force]
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

OUT = Path(__file__).parents[1] / "data" / "ingest"

# Valid barcodes of this office (agent 12345, consignor 00123), from tests/data/adapters (amount in 38-43).
B1 = "91912345001232600000123400100026123100100003"  # 10,000 yen, expiry 2026-12-31
B2 = "91912345001232600000123500200127013100250003"  # 25,000 yen
B3 = "91912345001232600000123600100026121503000003"  # 300,000 yen
B4 = "91912345001232600000123300300026122000050000"  # 5,000 yen
B5 = "91912345001232600000124200100026123100077779"  # 7,777 yen
B6 = "91912345001232600000124000100099999900080008"  # 8,000 yen, no expiry


def header(created: str, agent: str = "12345", consignor: str = "00123") -> bytes:
    name = "ﾃｽﾄｼ ｶｲｹｲｶﾝﾘｼｬ".encode("cp932").ljust(40, b" ")
    return b"1" + created.encode() + agent.encode() + consignor.encode() + name + b" " * 61


def data(kind: str, day: str, hhmm: str, barcode: str, store: str, capture: str, channel: str,
         transfer: str = "00000000") -> bytes:  # fmt: skip
    accounting = transfer  # 94-101: the accounting date, given for 02 only (as the transfer date)
    line = f"2{kind}{day}{hhmm}{barcode}000{store}{capture}{transfer}00000000{accounting}{channel}" + " " * 15
    assert len(line) == 120, len(line)
    return line.encode("ascii")


def trailer(c1: int, a1: int, c2: int, a2: int, c3: int, a3: int) -> bytes:
    return f"8{c1:06d}{a1:012d}{c2:06d}{a2:012d}{c3:06d}{a3:012d}".encode() + b" " * 65


def fixed120(path: Path, records: list[bytes]) -> None:
    path.write_bytes(b"".join(r + b"\r\n" for r in records) + b"9" + b" " * 119 + b"\r\n")


def write_all() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    r4a = data("01", "20261127", "2359", B5, "0456789", "20261128", "0020")
    r5a = data("01", "20261127", "1100", B6, "0001111", "20261128", "0030")
    fixed120(
        OUT / "overlap-a.txt",
        [
            header("20261128"),
            data("01", "20261127", "0905", B1, "0012345", "20261128", "0010"),  # 10,000
            data("01", "20261127", "1432", B2, "0000000", "20261128", "0820"),  # 25,000
            data("02", "20261120", "1010", B4, "0000000", "20261128", "0780", "20261204"),  # 5,000
            r4a,  # 7,777
            r5a,  # 8,000
            trailer(4, 50_777, 1, 5_000, 0, 0),  # 01: 10,000 + 25,000 + 7,777 + 8,000
        ],
    )
    fixed120(
        OUT / "overlap-b.txt",
        [
            header("20261129"),
            # the last two rows of overlap-a again, captured a day later (capture date is not identity)
            data("01", "20261127", "2359", B5, "0456789", "20261129", "0020"),  # 7,777 (known)
            data("01", "20261127", "1100", B6, "0001111", "20261129", "0030"),  # 8,000 (known)
            data("03", "20261127", "1432", B2, "0000000", "20261129", "0820"),  # 25,000 new
            data("01", "20261128", "0930", B3, "0456789", "20261129", "0020"),  # 300,000 new
            data("02", "20261127", "0905", B1, "0012345", "20261129", "0010", "20261205"),  # 10,000 new
            trailer(3, 315_777, 1, 10_000, 1, 25_000),  # 01: 7,777 + 8,000 + 300,000
        ],
    )
    twin = data("01", "20261127", "1200", B1, "0012345", "20261128", "0010")
    fixed120(
        OUT / "identical-rows.txt",
        [
            header("20261128"),
            twin,  # 10,000
            twin,  # 10,000: the same slip, store and minute again is a second payment
            data("01", "20261127", "1201", B1, "0012345", "20261128", "0010"),  # 10,000, a minute later
            trailer(3, 30_000, 0, 0, 0, 0),
        ],
    )
    twin_later = data("01", "20261127", "1200", B1, "0012345", "20261129", "0010")
    fixed120(
        OUT / "identical-rows-three.txt",
        [header("20261129"), twin_later, twin_later, twin_later, trailer(3, 30_000, 0, 0, 0, 0)],
    )
    _bank_statement()


def _bank_statement() -> None:
    sys.path.insert(0, str(Path(__file__).parents[2]))
    from adapters import zengin_statement
    from adapters.records import BankRecord

    def credit(inquiry: str, amount: int, name: str) -> BankRecord:
        return BankRecord(
            line_no=0, format="statement", bank_code="0999", branch_code="123", account_type="1",
            account_number="123456", value_date=datetime.date(2026, 12, 4), inquiry_number=inquiry,
            amount=amount, remitter_code="", remitter_name=name, direction="credit", cancelled=False,
            transaction_type="11",
        )  # fmt: skip

    group = zengin_statement.Group(
        created_on=datetime.date(2026, 12, 5),
        value_date_from=datetime.date(2026, 12, 4),
        value_date_to=datetime.date(2026, 12, 4),
        bank_code="0999",
        bank_name="ﾃｽﾄｷﾞﾝｺｳ",
        branch_code="123",
        branch_name="ﾎﾝﾃﾝ",
        account_type="1",
        account_number="123456",
        account_name="ﾃｽﾄｼｶｲｹｲｶﾝﾘｼｬ",
        records=(
            # the credit the transfer notice 20261204_transfer.txt reports as inquiry 101 (6 digits there)
            credit("101", 5_001, "ﾃｽﾄｼﾕｳﾉｳﾀﾞｲｺｳ(ｶ"),
            credit("301", 2_000, "ｽｽﾞｷ ﾊﾅｺ"),  # a direct transfer: a person's name (synthetic)
        ),
        opening_balance=1_000_000,
    )
    with open(OUT / "same-credit-statement.txt", "wb") as out:
        zengin_statement.write(out, [group])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing inputs")
    args = parser.parse_args()
    if any(OUT.glob("*.txt")) and not args.force:
        raise SystemExit(f"{OUT} has inputs already; use --force to overwrite")
    write_all()


if __name__ == "__main__":
    main()
