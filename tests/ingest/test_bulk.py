"""The bulk path: many chunks, COPY on PostgreSQL, concurrent deliveries of the same file."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.context import Actor
from gateway.intake import ingest
from gateway.models import SettlementRecord

BARCODES = (
    ("91912345001232600000123400100026123100100003", 10_000),
    ("91912345001232600000123500200127013100250003", 25_000),
    ("91912345001232600000123600100026121503000003", 300_000),
)


def write_file(path: Path, count: int) -> tuple[int, int]:
    """``count`` preliminary records cycling through three barcodes, one minute apart; (count, sum)."""
    lines = [b"1" + b"20261128" + b"12345" + b"00123" + b"X".ljust(40) + b" " * 61]
    total = 0
    start = datetime.datetime(2026, 11, 1, 0, 0)
    for i in range(count):
        barcode, amount = BARCODES[i % 3]
        paid = (start + datetime.timedelta(minutes=i)).strftime("%Y%m%d%H%M")
        lines.append(f"201{paid}{barcode}0000012345202611280000000000000000000000000010{' ' * 15}".encode())
        total += amount
    lines.append(f"8{count:06d}{total:012d}{0:06d}{0:012d}{0:06d}{0:012d}".encode() + b" " * 65)
    lines.append(b"9" + b" " * 119)
    path.write_bytes(b"".join(line + b"\r\n" for line in lines))
    return count, total


def test_many_chunks_keep_file_order_and_totals(ctx, agent, monkeypatch, tmp_path):
    monkeypatch.setattr(ingest, "CHUNK_ROWS", 1000)
    _, total = write_file(tmp_path / "many.txt", 3500)
    # 3,500 records: 1,167 × 10,000 + 1,167 × 25,000 + 1,166 × 300,000
    assert total == 1167 * 10_000 + 1167 * 25_000 + 1166 * 300_000 == 390_645_000

    result = ingest.ingest_file(ctx, tmp_path / "many.txt")

    assert (result.records, result.new_records, result.amount) == (3500, 3500, 390_645_000)
    ctx.session.commit()
    lines = (
        ctx.session.execute(sa.select(SettlementRecord.line_no).order_by(SettlementRecord.id)).scalars().all()
    )
    assert lines == list(range(2, 3502))
    total_paid = ctx.session.execute(sa.select(sa.func.sum(SettlementRecord.amount))).scalar_one()
    assert total_paid == 390_645_000


@pytest.mark.postgres
def test_postgres_stages_with_copy(ctx, agent, monkeypatch, tmp_path):
    import psycopg

    monkeypatch.setattr(ingest, "CHUNK_ROWS", 1000)
    copies: list[str] = []
    real_copy = psycopg.Cursor.copy

    def spy(self, statement, *args, **kwargs):  # type: ignore[no-untyped-def]
        copies.append(str(statement))
        return real_copy(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", spy)
    write_file(tmp_path / "pg.txt", 2500)

    result = ingest.ingest_file(ctx, tmp_path / "pg.txt")

    assert (result.status, result.new_records) == ("accepted", 2500)
    assert len(copies) == 3 and all(c.startswith("COPY gw_stage_payment") for c in copies)
    ctx.session.commit()
    paid_at = ctx.session.execute(
        sa.select(SettlementRecord.paid_at).where(SettlementRecord.line_no == 2)
    ).scalar_one()
    assert paid_at == datetime.datetime(
        2026, 11, 1, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=9))
    )


def test_the_same_file_delivered_twice_at_once_is_stored_once(runtime, agent, tmp_path):
    path = tmp_path / "twice.txt"
    write_file(path, 2000)
    results: list[ingest.FileResult] = []
    barrier = threading.Barrier(2)

    def deliver() -> None:
        with runtime.context(Actor(kind="system", name="inbox")) as c:
            barrier.wait()
            results.append(ingest.ingest_file(c, path, source="inbox"))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == ["accepted", "duplicate_file"]
    with runtime.context(Actor(kind="cli", name="t")) as c:
        assert (
            c.session.execute(sa.select(sa.func.count()).select_from(SettlementRecord)).scalar_one() == 2000
        )
