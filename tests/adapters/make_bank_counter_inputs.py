"""Generate the ``bank_counter`` golden inputs and their expected output, independently of the adapter.

Usage: ``.venv/bin/python tests/adapters/make_bank_counter_inputs.py [--force]`` (refuses to overwrite
without ``--force``).

Like ``make_golden_inputs.py``: nothing here imports the adapter. The files are what the synthetic bank of
``adapters/data/bank_mappings/example.toml`` (見本銀行, bank code 9990) would deliver — cp932, CRLF, one
header row ``受付番号,領収日,店番,納付番号,金額`` — and the expected records are written from the same
literal values by reading the mapping and docs/settlements.md ("The bank counter"), not by running a parser.
The broken files are the normal file with one defect each, named for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.adapters.adapter_golden import DATA_DIR
from tests.adapters.adapter_golden import dumps

FOLDER = DATA_DIR / "bank_counter"
HEADER = "受付番号,領収日,店番,納付番号,金額"
BANK = "9990"


@dataclass(frozen=True)
class Row:
    receipt: str
    paid: str  # YYYYMMDD
    branch: str
    number: str
    amount_text: str
    amount: int

    def line(self) -> str:
        amount = f'"{self.amount_text}"' if "," in self.amount_text else self.amount_text
        return f"{self.receipt},{self.paid},{self.branch},{self.number},{amount}"

    def expected(self, line_no: int) -> dict[str, Any]:
        day = f"{self.paid[:4]}-{self.paid[4:6]}-{self.paid[6:]}"
        return {
            "accounting_date": None,
            "agent_code": "",
            "amount": self.amount,
            "barcode": "",
            "barcode_expiry": None,
            "capture_date": None,
            "channel_code": "bank",
            "consignor_code": "",
            "issuer_prefix": "",
            "kind": "confirmed",
            "kind_code": "02",
            "line_no": line_no,
            "paid_at": f"{day}T12:00:00+09:00",
            "payment_number": self.number,
            "postal_correction": False,
            "reissue_count": -1,
            "store_code": BANK + self.branch,
            "transfer_date": None,
        }


ROWS = [
    # claim serial 1234, instalment 3 and 4 (this office's slips in the tests), and a number no slip has
    Row("000101", "20261203", "012", "2600000123400300", "12,000", 12000),
    Row("000102", "20261203", "012", "2600000123400400", "8000", 8000),
    Row("000103", "20261204", "105", "2600000999900100", "300,000", 300000),
]


def encode(lines: list[str], *, final: bool = True) -> bytes:
    return ("\r\n".join(lines) + ("\r\n" if final else "")).encode("cp932")


def normal_lines() -> list[str]:
    return [HEADER, *(r.line() for r in ROWS)]


def error(kind: str, line_no: int, record_type: str, field: str) -> dict[str, Any]:
    return {"error": kind, "field": field, "line_no": line_no, "record_type": record_type}


def files() -> dict[Path, bytes]:
    out: dict[Path, bytes] = {}

    def put(name: str, data: bytes, document: dict[str, Any], *, expected: bool) -> None:
        out[FOLDER / name] = data
        suffix = ".expected.json" if expected else ".error.json"
        text = dumps(document) if expected else json.dumps(document, sort_keys=True) + "\n"
        out[FOLDER / (name + suffix)] = text.encode("utf-8")

    info = {
        "adapter": "bank_counter",
        "agent_code": None,
        "consignor_code": None,
        "consignor_name": None,
        "created_on": "2026-12-03",
        "kind": "payment",
    }
    records = [r.expected(i) for i, r in enumerate(ROWS, start=2)]
    document = {"archive_name": "20261203-bank_counter-9990.csv", "info": info, "records": records}
    put("20261204_counter.csv", encode(normal_lines()), document, expected=True)
    # UTF-8 is not this mapping's encoding: the header does not decode as the mapping says, so the adapter
    # does not claim the file (an office whose bank sends UTF-8 writes encoding = "utf-8" in its mapping).
    put(
        "wrong-encoding-utf8.csv",
        "\r\n".join(normal_lines()).encode("utf-8") + b"\r\n",
        {
            **error("UnknownFileFormat", 0, "", ""),
            "identified": False,
            "line_no": None,
            "record_type": None,
            "field": None,
        },
        expected=False,
    )
    put(
        "header-only.csv",
        encode([HEADER]),
        {"archive_name": None, "info": {**info, "created_on": None}, "records": []},
        expected=True,
    )
    # a blank line after the last row is tolerated
    put("trailing-blank-line.csv", encode([*normal_lines(), ""]), document, expected=True)

    def broken(name: str, lines: list[str], err: dict[str, Any], *, final: bool = True) -> None:
        put(name, encode(lines, final=final), err, expected=False)

    def with_line(index: int, text: str) -> list[str]:
        lines = normal_lines()
        lines[index] = text
        return lines

    for name, index, old, new, err in (
        ("bad-amount.csv", 2, ",8000", ",8O00", error("FieldError", 3, "data", "amount")),
        ("bad-amount-grouping.csv", 1, '"12,000"', '"12,00"', error("FieldError", 2, "data", "amount")),
        ("zero-amount.csv", 2, ",8000", ",0", error("FieldError", 3, "data", "amount")),
        ("bad-date.csv", 3, "20261204", "20261232", error("FieldError", 4, "data", "paid_date")),
        ("bad-date-format.csv", 1, "20261203", "2026/12/03", error("FieldError", 2, "data", "paid_date")),
        ("bad-payment-number.csv", 2, "0400,", "040,", error("FieldError", 3, "data", "payment_number")),
        ("bad-branch.csv", 1, ",012,", ",12A,", error("FieldError", 2, "data", "branch")),
        ("unknown-column.csv", 0, "金額", "金額,備考", error("FieldError", 1, "header", "header")),
        ("missing-header-column.csv", 0, ",金額", "", error("FieldError", 1, "header", "header")),
        ("missing-column.csv", 2, ",8000", "", error("RecordLengthError", 3, "data", None)),
    ):
        lines = normal_lines()
        assert old in lines[index], (name, old)
        broken(name, with_line(index, lines[index].replace(old, new)), err)
    broken("duplicate-line.csv", [*normal_lines()[:3], ROWS[1].line(), ROWS[2].line()],
           error("FieldError", 4, "data", "receipt_number"))  # fmt: skip
    broken("blank-line-between-rows.csv", [*normal_lines()[:2], "", *normal_lines()[2:]],
           error("RecordError", 3, "data", None))  # fmt: skip
    cut = normal_lines()
    cut[-1] = cut[-1][:-4]  # the file ends inside the last row: its amount column is gone
    cut[-1] = cut[-1].rsplit(",", 1)[0]
    broken("cut-inside-row.csv", cut, error("RecordOrderError", 4, "data", None), final=False)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    FOLDER.mkdir(parents=True, exist_ok=True)
    written = 0
    for path, data in files().items():
        if path.exists() and path.read_bytes() == data:
            continue
        if path.exists() and not args.force:
            print(f"would change: {path.relative_to(DATA_DIR)} (use --force)")
            continue
        path.write_bytes(data)
        written += 1
    print(f"{written} files written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
