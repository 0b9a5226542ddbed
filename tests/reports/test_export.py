"""The accounting export (消込データ): keyed on the receipt date, stable columns, reversing rows, no names."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import sqlalchemy as sa

from gateway.money import ledger
from gateway.reporting import reports
from tests.reports.conftest import DAY2
from tests.reports.conftest import Week

HEADER = [
    "収入日",
    "債権番号",
    "調定番号",
    "調定日",
    "歳入科目",
    "歳入所属年度",
    "現年度・滞納繰越",
    "金額",
    "収納ID",
    "消込ID",
    "取消対象消込ID",
    "収納日",
    "収納チャネル",
]


def export(week: Week, day: datetime.date, tmp: Path, encoding: str = "utf-8") -> bytes:
    path = tmp / f"export-{day.isoformat()}-{encoding}.csv"
    reports.write_accounting_export(week.ctx, day, path, encoding)
    return path.read_bytes()


def parse(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding), newline="")))


def entry_ids(week: Week) -> dict[str, int]:
    """Claim number → its accounting entry id (read from the table, not from the export)."""
    rows = week.ctx.session.execute(
        sa.text("SELECT c.number, a.id FROM accounting_entries a JOIN claims c ON c.id = a.claim_id")
    ).all()
    return {number: int(i) for number, i in rows}


def payment_ids(week: Week) -> dict[str, int]:
    rows = week.ctx.session.execute(
        sa.text(
            "SELECT c.number, p.id FROM payments p JOIN claims c ON c.id = p.claim_id "
            "WHERE p.state = 'confirmed'"
        )
    ).all()
    return {number: int(i) for number, i in rows}


def test_export_of_a_receipt_date_by_hand(week: Week, tmp_path: Path) -> None:
    week.day1()
    week.day2()  # the 27,571 credit matches transfer date 2026-12-04: G, A and B get that receipt date
    body = export(week, DAY2, tmp_path)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = parse(body)
    assert rows[0] == HEADER
    entries, payments = entry_ids(week), payment_ids(week)
    expected = {
        "T-0001": [
            "2026-12-04",
            "T-0001",
            "2026-0101",
            "2026-11-01",
            "返還金",
            "2026",
            "現年度",
            "12000",
            str(payments["T-0001"]),
            str(entries["T-0001"]),
            "",
            "2026-12-01",
            "0020",
        ],
        "T-0002": [
            "2026-12-04",
            "T-0002",
            "2026-0102",
            "2026-11-01",
            "返還金",
            "2026",
            "現年度",
            "10000",
            str(payments["T-0002"]),
            str(entries["T-0002"]),
            "",
            "2026-12-01",
            "0010",
        ],
        "T-0007": [
            "2026-12-04",
            "T-0007",
            "2026-0105",
            "2026-11-01",
            "返還金",
            "2026",
            "現年度",
            "6000",
            str(payments["T-0007"]),
            str(entries["T-0007"]),
            "",
            "2026-11-27",
            "0010",
        ],
    }
    assert sorted(rows[1:], key=lambda r: r[1]) == [expected[k] for k in sorted(expected)]
    assert [int(r[9]) for r in rows[1:]] == sorted(int(r[9]) for r in rows[1:])  # in entry order
    assert "見本".encode() not in body and b"REF-" not in body  # no names, no debtor references
    assert export(week, DAY2, tmp_path) == body  # the same date twice: the same bytes
    assert parse(export(week, datetime.date(2026, 12, 3), tmp_path)) == [HEADER]  # nothing received that day


def test_a_correction_is_a_reversing_row_on_its_own_date(week: Week, tmp_path: Path) -> None:
    week.day1()
    week.day2()
    original = export(week, DAY2, tmp_path)
    week.clock.set("2026-12-07T10:00:00")
    entries, payments = entry_ids(week), payment_ids(week)
    ledger.reverse_entries(week.ctx, payments["T-0001"], "correction by test")
    week.ctx.session.commit()
    rows = parse(export(week, datetime.date(2026, 12, 7), tmp_path))
    (reversal,) = rows[1:]
    assert reversal[0] == "2026-12-07"
    assert reversal[1] == "T-0001"
    assert reversal[7] == "-12000"
    assert reversal[8] == str(payments["T-0001"])
    assert reversal[10] == str(entries["T-0001"])  # points at the entry it reverses
    assert export(week, DAY2, tmp_path) == original  # the original date's export is never rewritten


def test_export_in_cp932_and_its_audit_event(week: Week, tmp_path: Path) -> None:
    week.day1()
    week.day2()
    body = export(week, DAY2, tmp_path, "cp932")
    assert not body.startswith(b"\xef\xbb\xbf")
    rows = parse(body, "cp932")
    assert rows[0] == HEADER and len(rows) == 4
    summary = reports.write_accounting_export(week.ctx, DAY2, tmp_path / "again.csv")
    assert (summary.rows, summary.amount) == (3, 28_000)
    events = week.ctx.session.execute(
        sa.text("SELECT count(*) FROM audit_events WHERE action = 'export.accounting'")
    ).scalar_one()
    assert events == 2


def test_export_streams_to_a_binary_stream(week: Week) -> None:
    week.day1()
    week.day2()
    out = io.BytesIO()
    summary = reports.write_accounting_export(week.ctx, DAY2, out)
    assert summary.rows == 3 and summary.bytes == len(out.getvalue())
