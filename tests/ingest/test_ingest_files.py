"""ingest_file: every adapter's golden files, duplicates, overlaps, rejections storing nothing, atomicity."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.errors import SettlementFileError
from gateway.intake import ingest
from gateway.models import BankRecord
from gateway.models import SettlementFile
from gateway.models import SettlementRecord
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import INGEST_DATA
from tests.ingest.conftest import PUBLIC_SAMPLE
from tests.ingest.conftest import add_agent

JST = datetime.timezone(datetime.timedelta(hours=9))
PAYMENT_GOLDEN = sorted(
    p for name in ("fixed120", "dsk_csv") for p in (ADAPTER_DATA / name).glob("*.expected.json")
)
BANK_GOLDEN = sorted(
    p
    for name in ("zengin_transfer", "zengin_statement")
    for p in (ADAPTER_DATA / name).glob("*.expected.json")
)
BROKEN = sorted(p for p in ADAPTER_DATA.glob("*/*.error.json"))


def _expected(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text(encoding="utf-8"))


def _input_of(expected: Path) -> Path:
    return expected.with_name(expected.name.removesuffix(".expected.json").removesuffix(".error.json"))


def _records(ctx, file_id: int) -> list[SettlementRecord]:  # type: ignore[no-untyped-def]
    ctx.session.commit()
    stmt = (
        sa.select(SettlementRecord)
        .where(SettlementRecord.file_id == file_id)
        .order_by(SettlementRecord.line_no)
    )
    return list(ctx.session.execute(stmt).scalars())


@pytest.mark.parametrize("expected_path", PAYMENT_GOLDEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_payment_golden_files_are_stored_record_by_record(ctx, expected_path):
    expected = _expected(expected_path)
    info = expected["info"]
    # the file's own agent, with its consignor code (the foreign-consignor files name 54321/99999); a file
    # without data rows does not say, so it is named
    add_agent(ctx, info["agent_code"] or "12345", consignor_code=info["consignor_code"] or "00123")
    path = _input_of(expected_path)

    result = ingest.ingest_file(ctx, path, agent_code=None if info["agent_code"] else "12345")

    want = expected["records"]
    assert result.status == "accepted", result.error
    assert result.adapter == info["adapter"]
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (result.records, result.new_records, result.duplicate_records) == (len(want), len(want), 0)
    assert result.amount == sum(r["amount"] for r in want)
    assert result.counts_by_kind == dict(Counter(r["kind_code"] for r in want))
    sums: Counter[str] = Counter()
    for r in want:
        sums[r["kind_code"]] += r["amount"]
    assert result.amounts_by_kind == dict(sums)
    stored = _records(ctx, result.file_id)
    assert len(stored) == len(want)
    # every new record waits for reconciliation, and nothing else does
    queued = set(ctx.session.execute(sa.text("SELECT record_id FROM unreconciled_records")).scalars())
    assert queued == {row.id for row in stored}
    for row, rec in zip(stored, want, strict=True):
        assert row.line_no == rec["line_no"]
        assert (row.kind, row.kind_code, row.barcode, row.amount) == (
            rec["kind"],
            rec["kind_code"],
            rec["barcode"],
            rec["amount"],
        )
        assert (row.issuer_prefix, row.consignor_code, row.payment_number, row.reissue_count) == (
            rec["issuer_prefix"],
            rec["consignor_code"],
            rec["payment_number"],
            rec["reissue_count"],
        )
        paid_at = datetime.datetime.fromisoformat(rec["paid_at"])
        assert row.paid_at == paid_at
        assert row.paid_date == paid_at.astimezone(JST).date()
        for name in ("barcode_expiry", "transfer_date", "accounting_date", "capture_date"):
            value = getattr(row, name)
            assert (value.isoformat() if value else None) == rec[name], name
        assert (row.channel_code, row.store_code, row.postal_correction) == (
            rec["channel_code"],
            rec["store_code"],
            rec["postal_correction"],
        )
        assert row.received_date == datetime.date(2026, 11, 27)  # the clock fixture's Japan date
        assert row.occurrence == 1 and row.identity.endswith(":1")


def test_public_dsk_sample_ingests_then_is_a_duplicate_file(ctx, counts):
    add_agent(ctx, "29023", adapters=("dsk_csv",), consignor_code="25207")

    first = ingest.ingest_file(ctx, PUBLIC_SAMPLE)
    assert first.status == "accepted", first.error
    assert (first.records, first.new_records, first.amount) == (16, 16, 519_319)
    assert first.counts_by_kind == {"01": 6, "02": 5, "03": 1, "12": 2, "22": 2}
    assert first.amounts_by_kind == {"01": 156_832, "02": 146_227, "03": 10_605, "12": 50_435, "22": 155_220}
    before = counts()

    second = ingest.ingest_file(ctx, PUBLIC_SAMPLE)
    assert second.status == "duplicate_file"
    assert (second.records, second.new_records, second.duplicate_records) == (16, 0, 16)
    assert second.sha256 == first.sha256
    assert counts() == before


@pytest.mark.parametrize("expected_path", BANK_GOLDEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_bank_golden_files_encrypt_remitters_and_resolve_the_agent(ctx, expected_path):
    # the agent's remitter name as staff type it (full-width): the blind index compares after NFKC
    add_agent(ctx, remitter_name="テストシユウノウダイコウ(カ")
    expected = _expected(expected_path)
    want = expected["records"]

    result = ingest.ingest_file(ctx, _input_of(expected_path))

    assert result.status == "accepted", result.error
    assert result.records == result.new_records == len(want)
    assert result.amount == sum(r["amount"] for r in want)
    buckets = Counter("cancelled" if r["cancelled"] else r["direction"] for r in want)
    assert result.counts_by_kind == dict(buckets)
    ctx.session.commit()
    rows = list(
        ctx.session.execute(
            sa.select(BankRecord).where(BankRecord.file_id == result.file_id).order_by(BankRecord.line_no)
        ).scalars()
    )
    assert [r.line_no for r in rows] == [r["line_no"] for r in want]
    for row, rec in zip(rows, want, strict=True):
        assert (row.bank_code, row.branch_code, row.account_number, row.inquiry_number) == (
            rec["bank_code"],
            rec["branch_code"],
            rec["account_number"],
            rec["inquiry_number"],
        )
        assert row.value_date.isoformat() == rec["value_date"]
        assert (row.amount, row.direction, row.cancelled) == (
            rec["amount"],
            rec["direction"],
            rec["cancelled"],
        )
        name = rec["remitter_name"]
        if name:
            assert name not in (row.enc_remitter_name or "")
            assert ctx.keys.decrypt_field(row.enc_remitter_name, "bank_records.remitter_name") == name
            assert row.remitter_key == ctx.keys.blind_index(name, "remitter")
        else:
            assert row.enc_remitter_name is None and row.remitter_key is None
        is_agent = name == "ﾃｽﾄｼﾕｳﾉｳﾀﾞｲｺｳ(ｶ"
        assert (row.agent_id is not None) == is_agent


@pytest.mark.parametrize(
    "name",
    [
        "overlap-a.txt",
        "overlap-b.txt",
        "identical-rows.txt",
        "identical-rows-three.txt",
        "same-credit-statement.txt",
    ],
)
def test_ingest_data_files_alone(ctx, agent, name):
    result = ingest.ingest_file(ctx, INGEST_DATA / name)
    assert result.as_json() == _expected(INGEST_DATA / f"{name}.expected.json")


@pytest.mark.parametrize("sequence", list(_expected(INGEST_DATA / "sequences.json"))[1:])
def test_sequences_count_duplicate_records(ctx, agent, sequence):
    steps = _expected(INGEST_DATA / "sequences.json")[sequence]
    for step in steps:
        result = ingest.ingest_file(ctx, INGEST_DATA / step["file"])
        got = {k: result.as_json()[k] for k in step if k != "file"}
        assert got == {k: v for k, v in step.items() if k != "file"}, step["file"]


def test_identical_rows_get_occurrence_numbers(ctx, agent):
    result = ingest.ingest_file(ctx, INGEST_DATA / "identical-rows.txt")
    rows = _records(ctx, result.file_id)
    assert [r.occurrence for r in rows] == [1, 2, 1]
    assert rows[0].identity.split(":")[0] == rows[1].identity.split(":")[0] != rows[2].identity.split(":")[0]


def test_overlapping_file_links_only_new_records_to_itself(ctx, agent):
    a = ingest.ingest_file(ctx, INGEST_DATA / "overlap-a.txt")
    b = ingest.ingest_file(ctx, INGEST_DATA / "overlap-b.txt")
    assert [r.line_no for r in _records(ctx, a.file_id)] == [2, 3, 4, 5, 6]
    assert [r.line_no for r in _records(ctx, b.file_id)] == [4, 5, 6]
    # the second file queues its three new records for reconciliation, not the two it repeats
    queued = ctx.session.execute(sa.text("SELECT record_id FROM unreconciled_records ORDER BY 1")).scalars()
    assert list(queued) == sorted(r.id for f in (a, b) for r in _records(ctx, f.file_id))
    ctx.session.commit()
    stored = ctx.session.execute(sa.select(SettlementFile).where(SettlementFile.id == b.file_id)).scalar_one()
    assert (stored.records, stored.new_records, stored.duplicate_records, stored.amount) == (5, 3, 2, 350_777)
    assert stored.file_name == "overlap-b.txt" and stored.source == "cli" and stored.kind == "payment"
    assert stored.created_on == datetime.date(2026, 11, 29)


@pytest.mark.parametrize("error_path", BROKEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_broken_files_are_rejected_with_the_located_error_and_store_nothing(ctx, agent, counts, error_path):
    expected = _expected(error_path)
    path = _input_of(error_path)
    adapter = error_path.parent.name
    before = counts()

    # a file its own adapter does not identify is named explicitly, as an operator would
    result = ingest.ingest_file(ctx, path, adapter=None if expected.get("identified", True) else adapter)

    assert result.status == "rejected"
    assert result.new_records == result.records == 0
    assert result.error is not None
    assert isinstance(result.exception, SettlementFileError)
    assert type(result.exception).__name__ == expected["error"]
    assert result.error["line"] == expected.get("line_no")
    assert result.error["field"] == expected.get("field")
    assert path.name in result.error["message"]
    if expected.get("line_no") is not None:
        assert f"line {expected['line_no']}" in result.error["message"]
    assert counts() == before


def test_unknown_and_ambiguous_formats_are_rejected(ctx, agent, counts, tmp_path):
    before = counts()
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello\n")
    result = ingest.ingest_file(ctx, unknown)
    assert result.status == "rejected" and type(result.exception).__name__ == "UnknownFileFormat"
    named = ingest.ingest_file(ctx, INGEST_DATA / "overlap-a.txt", adapter="no_such_adapter")
    assert named.status == "rejected" and type(named.exception).__name__ == "UnknownAdapter"
    assert counts() == before


FOREIGN = ADAPTER_DATA / "fixed120" / "foreign-consignor.txt"
FIXED = ADAPTER_DATA / "fixed120" / "20261128_daily.txt"
DSK = ADAPTER_DATA / "dsk_csv" / "20261128_daily.csv"
DSK_FOREIGN = ADAPTER_DATA / "dsk_csv" / "foreign-consignor.csv"


@pytest.mark.parametrize(
    ("setup", "path", "field", "line"),
    [
        pytest.param({}, FOREIGN, "agent_code", 1, id="unknown agent"),
        pytest.param({"code": "54321"}, FOREIGN, "consignor_code", 1, id="foreign consignor"),
        pytest.param(
            {"code": "54321", "enabled": False, "consignor_code": "99999"},
            FOREIGN,
            "agent_code",
            1,
            id="disabled",
        ),
        pytest.param({"adapters": ("dsk_csv",)}, FIXED, "adapter", 1, id="fixed120 not configured"),
        pytest.param({"adapters": ("fixed120",)}, DSK, "adapter", 2, id="dsk_csv not configured"),
        pytest.param({}, DSK_FOREIGN, "barcode", 2, id="dsk_csv unknown agent"),
    ],
)
def test_files_of_agents_not_contracted_for_them_are_refused(ctx, counts, setup, path, field, line):
    add_agent(ctx, **setup)
    before = counts()

    result = ingest.ingest_file(ctx, path)

    assert result.status == "rejected"
    assert isinstance(result.exception, ingest.FileRefused)
    assert (result.error["line"], result.error["field"]) == (line, field)
    assert path.name in result.error["message"]
    assert counts() == before


def test_explicit_agent_must_agree_with_the_header(ctx, agent, counts):
    add_agent(ctx, "54321", consignor_code="99999")
    before = counts()
    result = ingest.ingest_file(ctx, ADAPTER_DATA / "fixed120" / "20261128_daily.txt", agent_code="54321")
    assert result.status == "rejected" and result.error["field"] == "agent_code"
    assert counts() == before
    ok = ingest.ingest_file(ctx, ADAPTER_DATA / "fixed120" / "20261128_daily.txt", agent_code="12345")
    assert ok.status == "accepted"


def test_header_only_dsk_file_needs_an_explicit_agent(ctx, agent):
    path = ADAPTER_DATA / "dsk_csv" / "header-only.csv"
    refused = ingest.ingest_file(ctx, path)
    assert refused.status == "rejected" and refused.error["field"] == "agent_code"
    named = ingest.ingest_file(ctx, path, agent_code="12345")
    assert (named.status, named.records) == ("accepted", 0)


def test_a_crash_mid_file_stores_nothing_and_a_rerun_completes(ctx, agent, counts, monkeypatch, tmp_path):
    """A failure after some chunks were inserted (here: in the second chunk) rolls the whole file back."""
    path = tmp_path / "big.txt"
    _write_big_fixed120(path, 7)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2)
    calls = {"n": 0}
    real_add = ingest._Bulk.add

    def failing_add(self, rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk unplugged")
        real_add(self, rows)

    before = counts()
    monkeypatch.setattr(ingest._Bulk, "add", failing_add)
    with pytest.raises(RuntimeError, match="disk unplugged"):
        ingest.ingest_file(ctx, path)
    assert counts() == before

    monkeypatch.setattr(ingest._Bulk, "add", real_add)
    result = ingest.ingest_file(ctx, path)
    assert (result.status, result.records, result.new_records) == ("accepted", 7, 7)
    assert counts()["settlement_records"] == 7


def test_a_trailer_error_after_many_chunks_rolls_everything_back(ctx, agent, counts, monkeypatch, tmp_path):
    path = tmp_path / "bad-trailer.txt"
    _write_big_fixed120(path, 9, trailer_off=1)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2)
    before = counts()
    result = ingest.ingest_file(ctx, path)
    assert result.status == "rejected"
    assert result.error["line"] == 11 and result.error["field"] == "amount_01"
    assert counts() == before


def test_progress_reports_records_stored(ctx, agent, monkeypatch, tmp_path):
    path = tmp_path / "five.txt"
    _write_big_fixed120(path, 5)
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 2)
    seen: list[int] = []
    ingest.ingest_file(ctx, path, progress=seen.append)
    assert seen == [2, 4, 5]


def test_archive_holds_the_original_before_parsing_even_when_rejected(ctx, agent):
    from gateway.intake import archive

    path = ADAPTER_DATA / "fixed120" / "trailer-sum-off.txt"
    result = ingest.ingest_file(ctx, path)
    assert result.status == "rejected"
    assert b"".join(archive.read_original(ctx, result.sha256)) == path.read_bytes()


def test_rejected_file_is_audited(ctx, agent):
    from gateway.models import AuditEvent

    result = ingest.ingest_file(ctx, ADAPTER_DATA / "fixed120" / "short-line.txt")
    ctx.session.commit()
    events = ctx.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "settlement_file.reject")
    ).scalars()
    (event,) = list(events)
    assert event.detail["sha256"] == result.sha256 and event.detail["error"]["line"] == result.error["line"]


def _write_big_fixed120(path: Path, count: int, trailer_off: int = 0) -> None:
    """``count`` preliminary records of 10,000 yen, one minute apart (independent of the adapters' writer)."""
    barcode = "91912345001232600000123400100026123100100003"
    lines = [b"1" + b"20261128" + b"12345" + b"00123" + b"X".ljust(40) + b" " * 61]
    for i in range(count):
        minute = f"{i // 60:02d}{i % 60:02d}"
        lines.append(
            f"20120261127{minute}{barcode}0000012345202611280000000000000000000000000010{' ' * 15}".encode()
        )
    total = 10_000 * count + trailer_off
    lines.append(f"8{count:06d}{total:012d}{0:06d}{0:012d}{0:06d}{0:012d}".encode() + b" " * 65)
    lines.append(b"9" + b" " * 119)
    path.write_bytes(b"".join(line + b"\r\n" for line in lines))
