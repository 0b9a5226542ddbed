"""Bank-counter data end to end: a slip paid at the designated bank's counter after its 取扱期限 arrives as
the bank's CSV (mapping ``example``), is ingested, reconciled as confirmed money and exported to accounting.

Runs on the database the test session uses (SQLite, or PostgreSQL with GATEWAY_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import datetime
import io
import json
import types
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapters import bank_counter
from adapters import fixed120
from gateway.cli import main
from gateway.context import Context
from gateway.intake import ingest
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from gateway.money import reconcile
from gateway.reporting import reports
from tests.conftest import Clock
from tests.helpers import make_claim
from tests.ingest.conftest import add_agent

JST = datetime.timezone(datetime.timedelta(hours=9))
DUE = datetime.date(2026, 11, 30)
HEADER = "受付番号,領収日,店番,納付番号,金額"
UNKNOWN_NUMBER = "2600000999900100"


def counter_file(path: Path, rows: list[tuple[str, datetime.date, str, str, str]]) -> Path:
    """A file of the example bank (cp932, CRLF): (receipt, paid date, branch, payment number, amount)."""
    lines = [HEADER] + [f"{r},{d:%Y%m%d},{b},{n},{a}" for r, d, b, n, a in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def issue(ctx: Context, number: str = "T-0001", amount: int = 12_000) -> Slip:
    make_claim(ctx, number, amount=amount)
    (slip,) = slip_service.issue_slips(ctx, number, slip_service.Plan(first_due_date=DUE))
    return slip


def one(ctx: Context, sql: str, **params: Any) -> Any:
    return ctx.session.execute(sa.text(sql), params).one()


def exceptions(ctx: Context) -> dict[str, int]:
    rows = ctx.session.execute(sa.text("SELECT kind, count(*) FROM recon_exceptions GROUP BY kind")).all()
    return {kind: int(n) for kind, n in rows}


@pytest.fixture
def office(ctx: Context) -> Context:
    """This office's agent 12345 (the barcodes' agent): store channels only, no bank_counter adapter."""
    add_agent(ctx)
    return ctx


def test_a_slip_paid_at_the_bank_after_its_expiry_is_matched_paid_and_exported(
    office: Context, clock: Clock, tmp_path: Path
) -> None:
    ctx = office
    slip = issue(ctx)
    paid_on = slip.barcode_expiry + datetime.timedelta(days=2)  # after the 取扱期限: only the bank takes it
    clock.set(datetime.datetime.combine(paid_on + datetime.timedelta(days=1), datetime.time(9), tzinfo=JST))
    path = counter_file(
        tmp_path / "ocr-1.csv",
        [
            ("000101", paid_on, "012", slip.payment_number, '"12,000"'),
            ("000102", paid_on, "105", UNKNOWN_NUMBER, "5000"),
        ],
    )
    result = ingest.ingest_file(ctx, path)
    assert result.status == "accepted", result.error
    assert (result.adapter, result.records, result.new_records, result.amount) == (
        "bank_counter",
        2,
        2,
        17_000,
    )
    assert result.counts_by_kind == {"02": 2}
    stored = one(
        ctx,
        "SELECT barcode, issuer_prefix, consignor_code, reissue_count, channel_code, store_code, kind, "
        "transfer_date FROM settlement_records WHERE payment_number = :n",
        n=slip.payment_number,
    )
    assert tuple(stored) == ("", "912345", "00123", -1, "bank", "9990012", "confirmed", None)

    run = reconcile.run(ctx)
    assert run.matched == 1 and run.confirmed == 1
    assert exceptions(ctx) == {"unknown_slip": 1}  # no unexpected_channel, no paid_after_expiry
    payment = one(
        ctx,
        "SELECT p.state, p.source, p.channel_code, p.amount, p.paid_date, p.receipt_date, p.fiscal_year, "
        "p.arrears, p.slip_id, c.status FROM payments p JOIN claims c ON c.id = p.claim_id",
    )
    assert payment.state == "confirmed" and payment.channel_code == "bank" and payment.amount == 12_000
    assert str(payment.paid_date) == str(paid_on) == str(payment.receipt_date)  # received by the bank itself
    assert (payment.fiscal_year, bool(payment.arrears), payment.slip_id) == (2026, False, slip.id)
    assert payment.status == "paid"
    assert one(ctx, "SELECT status FROM slips WHERE id = :i", i=slip.id).status == "paid"

    rows = list(reports.accounting_export(ctx, paid_on))
    assert [(r.claim_number, r.amount, r.channel, r.payment_date) for r in rows] == [
        ("T-0001", 12_000, "bank", paid_on)
    ]
    assert reports.channel_label(rows[0].channel) == "金融機関窓口"
    exported = tmp_path / "export.csv"
    reports.write_accounting_export(ctx, paid_on, exported, "utf-8")
    body = list(csv.reader(io.StringIO(exported.read_bytes().decode("utf-8-sig"), newline="")))
    assert body[1][7] == "12000" and body[1][12] == "bank"

    again = reconcile.run(ctx)  # nothing new: nothing changes, nothing booked twice
    assert (again.matched, again.confirmed, again.exceptions_opened) == (0, 0, 0)
    assert one(ctx, "SELECT count(*) AS n FROM accounting_entries").n == 1


def test_the_same_file_twice_is_a_duplicate_and_known_records_in_another_file_add_nothing(
    office: Context, tmp_path: Path
) -> None:
    ctx = office
    slip = issue(ctx)
    day = datetime.date(2026, 11, 26)
    first = [("000101", day, "012", slip.payment_number, "12000")]
    path = counter_file(tmp_path / "a.csv", first)
    assert ingest.ingest_file(ctx, path).new_records == 1
    assert ingest.ingest_file(ctx, path).status == "duplicate_file"
    # the next day's file repeats yesterday's row (an overlapping delivery) and adds a new one
    overlap = counter_file(tmp_path / "b.csv", [*first, ("000102", day, "105", UNKNOWN_NUMBER, "5000")])
    result = ingest.ingest_file(ctx, overlap)
    assert (result.status, result.records, result.new_records, result.duplicate_records) == (
        "accepted",
        2,
        1,
        1,
    )
    reconcile.run(ctx)
    assert one(ctx, "SELECT count(*) AS n FROM payments").n == 1


def test_a_rejected_file_stores_nothing_and_names_line_and_field(
    office: Context, tmp_path: Path, counts: Any
) -> None:
    ctx = office
    before = counts()
    path = counter_file(
        tmp_path / "bad.csv", [("000101", datetime.date(2026, 11, 26), "012", UNKNOWN_NUMBER, '"12,00"')]
    )
    result = ingest.ingest_file(ctx, path)
    assert result.status == "rejected"
    assert result.error is not None and (result.error["line"], result.error["field"]) == (2, "amount")
    assert counts() == before


def test_a_payment_number_names_the_newest_reissue(office: Context, tmp_path: Path) -> None:
    ctx = office
    slip = issue(ctx)
    reissued = slip_service.reissue_slip(ctx, f"{slip.payment_number}-{slip.reissue_count}")
    path = counter_file(
        tmp_path / "r.csv", [("1", datetime.date(2026, 11, 26), "1", slip.payment_number, "12000")]
    )
    assert ingest.ingest_file(ctx, path).new_records == 1
    reconcile.run(ctx)
    assert one(ctx, "SELECT slip_id FROM payments").slip_id == reissued.id
    assert exceptions(ctx) == {}


def test_the_bank_counter_money_does_not_confirm_a_stores_preliminary(
    office: Context, clock: Clock, tmp_path: Path
) -> None:
    """Paid twice: at a store (速報 only so far) and at the bank. Two payments and a duplicate_payment, not a
    store payment confirmed by the bank's data."""
    ctx = office
    slip = issue(ctx)
    agent_file = tmp_path / "store.txt"  # the agent's 速報 file, through the format's own writer
    with agent_file.open("wb") as out:
        fixed120.write(
            out,
            created_on=datetime.date(2026, 11, 25),
            agent_code="12345",
            consignor_code="00123",
            consignor_name="ﾐﾎﾝ",
            records=[_store_record(slip, datetime.datetime(2026, 11, 25, 14, 0, tzinfo=JST))],
        )
    assert ingest.ingest_file(ctx, agent_file).new_records == 1
    reconcile.run(ctx)
    bank = counter_file(
        tmp_path / "bank.csv", [("1", datetime.date(2026, 11, 26), "012", slip.payment_number, "12000")]
    )
    assert ingest.ingest_file(ctx, bank).new_records == 1
    reconcile.run(ctx)
    states = ctx.session.execute(sa.text("SELECT channel_code, state FROM payments ORDER BY id")).all()
    assert [tuple(s) for s in states] == [("0010", "preliminary"), ("bank", "confirmed")]
    assert exceptions(ctx) == {"duplicate_payment": 1}


def _store_record(slip: Slip, paid_at: datetime.datetime) -> Any:
    return types.SimpleNamespace(
        kind_code="01",
        barcode=slip.barcode,
        paid_at=paid_at,
        channel_code="0010",
        store_code="0001234",
        transfer_date=None,
        accounting_date=None,
        capture_date=paid_at.date(),
    )


def test_a_mapping_with_the_44_digits(
    office: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An office mapping (GATEWAY_BANK_MAPPINGS), columns by index, the 44 digits, 和暦 dates, UTF-8."""
    ctx = office
    slip = issue(ctx)
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "mihon_shinkin.toml").write_text(
        'bank_code = "9991"\nencoding = "utf-8"\nskip_rows = 2\ndate_format = "wareki"\n'
        "[columns]\nbarcode = 2\namount = 4\npaid_date = 1\nbranch = 3\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(bank_counter.ENVIRONMENT, str(folder))
    path = tmp_path / "shinkin.csv"
    path.write_text(f"見本信用金庫 収納データ\n\nR8.11.26,{slip.barcode},7,12000\n", encoding="utf-8")
    result = ingest.ingest_file(ctx, path, adapter="bank_counter")  # no header: detection cannot find it
    assert result.status == "rejected"  # the default adapter only detects mappings by their header …
    result = ingest.ingest_file(ctx, path, adapter="bank_counter:mihon_shinkin")
    assert result.status == "accepted", result.error
    stored = one(ctx, "SELECT barcode, reissue_count, store_code, paid_date FROM settlement_records")
    assert (stored.barcode, stored.reissue_count, stored.store_code) == (slip.barcode, 0, "9991007")
    reconcile.run(ctx)
    assert one(ctx, "SELECT state, slip_id FROM payments").slip_id == slip.id
    assert exceptions(ctx) == {}


def test_cli_ingests_a_bank_counter_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    added = run("agents", "add", "12345", "--json", "--name", "見本収納代行", "--adapters", "fixed120",
                "--channels", "0010")  # fmt: skip
    assert added.exit_code == 0, added.output
    path = counter_file(
        tmp_path / "cli.csv", [("1", datetime.date(2026, 11, 26), "012", UNKNOWN_NUMBER, "5000")]
    )
    for args in ((), ("--adapter", "bank_counter")):
        out = run("settlements", "ingest", str(path), "--json", *args)
        doc = json.loads(out.stdout)["files"][0]
        assert doc["adapter"] == "bank_counter"
        assert doc["status"] == ("accepted" if not args else "duplicate_file"), doc
    reconciled = json.loads(run("reconcile", "--json").stdout)
    assert reconciled["by_kind"] == {"unknown_slip": 1}
