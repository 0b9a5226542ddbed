"""Benchmark: ingest a 1,000,000-record ``fixed120`` file, beside a raw ``sqlite3`` baseline of the same run.

Usage (from the repository root)::

    .venv/bin/python bench/ingest.py [--records 1000000] [--keep DIR] [--postgres URL]

1. The file is written with ``adapters.fixed120.write`` (about 122 MB for a million records).
2. Baseline, in a child process: read the same file, slice each data record's fields, and insert them with
   plain ``sqlite3.executemany`` (chunks of 50,000, one transaction) into a fresh table with an index on the
   payment number.
3. Ingest, in a child process: a fresh SQLite database migrated with ``gateway.migrate``, agent 12345
   registered, then ``gateway.intake.ingest.ingest_file`` (the function behind ``gateway settlements
   ingest``): archive (SHA-256 + sealing), parse, identities, staging ``executemany`` and
   ``INSERT … SELECT … ON CONFLICT DO NOTHING`` into ``settlement_records`` (eight indexes), one transaction.
   Only the ``ingest_file`` call is timed (migrating the empty database is not).
4. With ``--postgres URL`` (a server URL, e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``): the
   same ingest into a fresh PostgreSQL database through ``COPY`` (the database is dropped afterwards).

5. With ``--reconcile`` (issue 4): the file holds one preliminary and one confirmed record for each of
   ``records / 2`` slips (claims and slips are bulk-inserted first, untimed), and after the ingest a third
   child runs ``gateway.money.reconcile.run`` on that database (timed): 500,000 confirmed payments,
   1,000,000 records marked, checks, slip and claim statuses with their log, remittances. The baseline
   child then also runs :func:`raw_reconcile`, the same end state in plain ``sqlite3``; the issue-4 target
   compares ingest + reconcile with raw ingest + raw reconcile, and the ratios to the raw ingest alone
   are printed beside it.

6. With ``--unknown`` (issue 10): the default file (no slip of it exists in the office's database, so every
   payment of it is an ``unknown_slip`` exception), ingested and then reconciled (timed); goal: ingest +
   reconcile ≤ 3 × the raw ingest baseline, peak RSS ≤ 300 MB. With ``--postgres`` too, the same on
   PostgreSQL beside a raw ``COPY`` of the same rows into a plain table of the same server, measured in the
   same run (goal ≤ 3 ×).

Peak RSS is each child's own maximum resident set (``os.wait4``), so it includes the interpreter and, for
the ingest, the imported gateway. Targets (issue 3): ingest time ≤ 3 × baseline, peak RSS ≤ 300 MB.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from typing import NamedTuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JST = ZoneInfo("Asia/Tokyo")
CHANNELS = ("0010", "0020", "0030", "0050", "0080", "0820", "0780", "0800")
POOL = 50_000
"""Distinct barcodes (composing a check digit costs ~10 µs; a million would dominate the set-up)."""
CHUNK = 50_000
AGENT = "12345"
CONSIGNOR = "00123"


class Row(NamedTuple):
    """A light ``PaymentRecordLike`` for the writer."""

    kind_code: str
    barcode: str
    paid_at: datetime.datetime
    channel_code: str
    store_code: str
    transfer_date: datetime.date | None
    accounting_date: datetime.date | None
    capture_date: datetime.date | None


def rows(count: int) -> Iterator[Row]:
    """Synthetic records: three kinds, eight channels, payments spread over 30 days by the minute."""
    from barcodes import cvs

    start = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=JST)
    barcodes = [
        cvs.compose(
            issuer_prefix="9" + AGENT,
            consignor_code=CONSIGNOR,
            payment_number=cvs.compose_payment_number(2026, 1 + i, 1 + i % 12),
            reissue_count=i % 3,
            expiry=datetime.date(2027, 1 + i % 12, 1 + i % 28),
            amount=1 + (i * 7919) % 300_000,
        )
        for i in range(POOL)
    ]
    for i in range(count):
        paid_at = start + datetime.timedelta(minutes=(i * 37) % (30 * 24 * 60))
        kind = "02" if i % 3 == 1 else ("03" if i % 97 == 0 else "01")
        paid_day = paid_at.date()
        confirmed = paid_day + datetime.timedelta(days=9) if kind == "02" else None
        channel = CHANNELS[i % len(CHANNELS)]
        yield Row(
            kind_code=kind,
            barcode=barcodes[i % POOL],
            paid_at=paid_at,
            channel_code=channel,
            store_code="0000000" if channel >= "0780" else f"{(i * 31) % 10_000_000:07d}",
            transfer_date=confirmed,
            accounting_date=confirmed,
            capture_date=paid_day + datetime.timedelta(days=1),
        )


SLIP_EXPIRY = datetime.date(2027, 1, 31)
SLIP_DUE = datetime.date(2027, 1, 4)


def slip_barcodes(count: int) -> Iterator[tuple[int, str, str, int]]:
    """(claim serial, payment number, barcode, amount) of ``count`` synthetic single-slip claims."""
    from barcodes import cvs

    for serial in range(1, count + 1):
        number = cvs.compose_payment_number(2026, serial, 1)
        amount = 1_000 + (serial * 7919) % 299_000
        barcode = cvs.compose(
            issuer_prefix="9" + AGENT,
            consignor_code=CONSIGNOR,
            payment_number=number,
            reissue_count=0,
            expiry=SLIP_EXPIRY,
            amount=amount,
        )
        yield serial, number, barcode, amount


def matchable_rows(count: int, kinds: tuple[str, ...] = ("01", "02")) -> Iterator[Row]:
    """One preliminary and, later in the file, one confirmed record per slip (``kinds`` picks the halves: a
    ``count``-record pair of files, one per kind, holds the same records)."""
    start = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=JST)
    slips = count // 2
    for kind in kinds:
        for serial, _number, barcode, _amount in slip_barcodes(slips):
            paid_at = start + datetime.timedelta(minutes=(serial * 37) % (25 * 24 * 60))
            paid_day = paid_at.date()
            transfer = paid_day + datetime.timedelta(days=9) if kind == "02" else None
            channel = CHANNELS[serial % len(CHANNELS)]
            yield Row(
                kind_code=kind,
                barcode=barcode,
                paid_at=paid_at,
                channel_code=channel,
                store_code="0000000" if channel >= "0780" else f"{(serial * 31) % 10_000_000:07d}",
                transfer_date=transfer,
                accounting_date=transfer,
                capture_date=paid_day + datetime.timedelta(days=1),
            )


def write_file(
    path: Path, count: int, matchable: bool = False, kinds: tuple[str, ...] = ("01", "02")
) -> None:
    from adapters import fixed120

    with open(path, "wb", buffering=1 << 20) as out:
        fixed120.write(
            out,
            created_on=datetime.date(2026, 12, 1),
            agent_code=AGENT,
            consignor_code=CONSIGNOR,
            consignor_name="ﾍﾞﾝﾁﾏｰｸ",
            records=matchable_rows(count, kinds) if matchable else rows(count),
        )


def insert_claims_and_slips(ctx: Any, count: int) -> None:
    """Bulk-insert ``count`` claims of one synthetic debtor, each with one live slip (set-up, untimed)."""
    import hashlib

    import sqlalchemy as sa

    from gateway import pii
    from gateway.models import Claim
    from gateway.models import Slip

    debtor, _ = pii.upsert_debtor(ctx, pii.DebtorData(ref="BENCH", name="見本 ベンチ"))
    now = datetime.datetime(2026, 10, 30, tzinfo=datetime.UTC)
    claims, slips = [], []
    for serial, number, barcode, amount in slip_barcodes(count):
        claims.append(
            {
                "id": serial,
                "number": f"B-{serial:07d}",
                "legal_basis": "art63",
                "amount": amount,
                "original_amount": amount,
                "fiscal_year": 2026,
                "status": "open",
                "debtor_id": debtor.id,
                "created_at": now,
                "updated_at": now,
            }
        )
        slips.append(
            {
                "claim_id": serial,
                "payment_number": number,
                "instalment": 1,
                "reissue_count": 0,
                "amount": amount,
                "due_date": SLIP_DUE,
                "barcode_expiry": SLIP_EXPIRY,
                "barcode": barcode,
                "status": "issued",
                "token_hash": hashlib.sha256(number.encode()).hexdigest(),
                "enc_token": "v1:bench",
                "issued_at": now,
                "issued_on": now.date(),
                "status_changed_at": now,
            }
        )
        if len(claims) >= CHUNK:
            ctx.session.execute(sa.insert(Claim.__table__), claims)
            ctx.session.execute(sa.insert(Slip.__table__), slips)
            claims, slips = [], []
    if claims:
        ctx.session.execute(sa.insert(Claim.__table__), claims)
        ctx.session.execute(sa.insert(Slip.__table__), slips)
    ctx.session.commit()


def child_reconcile(workdir: Path, url: str, as_of: str = "2026-12-01") -> dict[str, Any]:
    """``reconcile.run`` on the database the ingest child filled (timed), as of that Japan date."""
    from gateway.context import Actor
    from gateway.money import reconcile
    from gateway.runtime import Runtime

    key = base64.urlsafe_b64encode(b"b" * 32).decode()
    runtime = Runtime.load(_settings(url, workdir, key))
    with runtime.context(Actor(kind="cli", name="bench")) as ctx:
        records = ctx.session.execute(
            __import__("sqlalchemy").text("SELECT count(*) FROM unreconciled_records")
        ).scalar_one()
        day = datetime.date.fromisoformat(as_of)
        began, cpu = time.perf_counter(), time.process_time()
        result = reconcile.run(ctx, day)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        again = reconcile.run(ctx, day)
    return {
        "records": records,
        "seconds": elapsed,
        "cpu": cpu,
        "result": result.as_json(),
        "rerun": again.as_json(),
    }


# -- children


def raw_reconcile(con: sqlite3.Connection, slips: int) -> dict[str, Any]:
    """The raw baseline of reconciliation: the end state ``reconcile.run`` reaches on the bench's data,
    in the fewest plain ``sqlite3`` statements (set-up of claims and slips untimed).

    Pair each preliminary record with its confirmation (same payment number, barcode, date, time and
    store), insert one confirmed payment per pair on its slip, mark both records processed, mark the slips
    and claims paid; one transaction. Everything the gateway adds is left out on purpose: the pairing and
    exception rules for anything but a clean pair, instalment and reissue sums, the status log, audit,
    foreign keys, the indexes the other steps and the pages need, the three-way match."""
    con.execute("CREATE TABLE claims (id INTEGER PRIMARY KEY, amount INTEGER NOT NULL, status TEXT NOT NULL)")
    con.execute(
        "CREATE TABLE slips (id INTEGER PRIMARY KEY, claim_id INTEGER NOT NULL, "
        "payment_number TEXT NOT NULL UNIQUE, amount INTEGER NOT NULL, status TEXT NOT NULL)"
    )
    con.execute(
        "CREATE TABLE payments (id INTEGER PRIMARY KEY, claim_id INTEGER NOT NULL, slip_id INTEGER NOT NULL, "
        "payment_number TEXT NOT NULL, amount INTEGER NOT NULL, state TEXT NOT NULL, paid_date TEXT, "
        "paid_time TEXT, store_code TEXT, channel_code TEXT, transfer_date TEXT, "
        "preliminary_record_id INTEGER, confirmed_record_id INTEGER, confirmed_at TEXT)"
    )
    con.execute("CREATE INDEX ix_payments_payment_number ON payments (payment_number)")
    con.execute("CREATE INDEX ix_payments_claim_id ON payments (claim_id)")
    con.execute("BEGIN")
    for serial, number, _barcode, amount in slip_barcodes(slips):
        con.execute("INSERT INTO claims VALUES (?, ?, 'open')", (serial, amount))
        con.execute("INSERT INTO slips VALUES (?, ?, ?, ?, 'issued')", (serial, serial, number, amount))
    con.execute("COMMIT")
    now = datetime.datetime.now(datetime.UTC).isoformat(" ")
    began, cpu = time.perf_counter(), time.process_time()
    con.execute("BEGIN")
    con.execute("CREATE TEMP TABLE pairs (pid INTEGER PRIMARY KEY, cid INTEGER NOT NULL)")
    con.execute(
        "INSERT INTO pairs SELECT max(CASE WHEN kind_code = '01' THEN id END), "
        "max(CASE WHEN kind_code = '02' THEN id END) FROM records WHERE processed_at IS NULL "
        "AND kind_code IN ('01', '02') GROUP BY payment_number, barcode, paid_date, paid_time, store_code "
        "HAVING count(*) = 2 AND min(kind_code) <> max(kind_code)"
    )
    con.execute(
        "INSERT INTO payments (claim_id, slip_id, payment_number, amount, state, paid_date, paid_time, "
        "store_code, channel_code, transfer_date, preliminary_record_id, confirmed_record_id, confirmed_at) "
        "SELECT s.claim_id, s.id, a.payment_number, c.amount, 'confirmed', a.paid_date, a.paid_time, "
        "a.store_code, a.channel_code, c.transfer_date, a.id, c.id, ? FROM pairs x "
        "JOIN records a ON a.id = x.pid JOIN records c ON c.id = x.cid "
        "JOIN slips s ON s.payment_number = a.payment_number",
        (now,),
    )
    con.execute(
        "UPDATE records SET processed_at = ? "
        "WHERE id IN (SELECT pid FROM pairs UNION ALL SELECT cid FROM pairs)",
        (now,),
    )
    con.execute(
        "UPDATE slips SET status = 'paid' WHERE id IN (SELECT p.slip_id FROM payments p "
        "JOIN slips s ON s.id = p.slip_id WHERE p.amount >= s.amount)"
    )
    con.execute(
        "UPDATE claims SET status = 'paid' WHERE id IN (SELECT p.claim_id FROM payments p "
        "JOIN claims c ON c.id = p.claim_id WHERE p.amount = c.amount)"
    )
    con.execute("COMMIT")
    paid = con.execute("SELECT count(*) FROM claims WHERE status = 'paid'").fetchone()[0]
    return {"seconds": time.perf_counter() - began, "cpu": time.process_time() - cpu, "claims_paid": paid}


def child_baseline(path: Path, workdir: Path, slips: int = 0) -> dict[str, Any]:
    """Read, slice, ``sqlite3.executemany`` into a table indexed on the payment number (and, with
    ``slips``, :func:`raw_reconcile` on the result)."""
    db = workdir / "baseline.sqlite3"
    began, cpu = time.perf_counter(), time.process_time()
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE records (id INTEGER PRIMARY KEY, line_no INTEGER, kind_code TEXT, paid_date TEXT, "
        "paid_time TEXT, barcode TEXT, payment_number TEXT, amount INTEGER, store_code TEXT, "
        "capture_date TEXT, transfer_date TEXT, accounting_date TEXT, channel_code TEXT, processed_at TEXT)"
    )
    con.execute("CREATE INDEX ix_records_payment_number ON records (payment_number)")
    sql = (
        "INSERT INTO records (line_no, kind_code, paid_date, paid_time, barcode, payment_number, amount, "
        "store_code, capture_date, transfer_date, accounting_date, channel_code) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    con.execute("BEGIN")
    chunk: list[tuple[Any, ...]] = []
    count = 0
    for row in _sliced(path):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            con.executemany(sql, chunk)
            count += len(chunk)
            chunk.clear()
    con.executemany(sql, chunk)
    count += len(chunk)
    con.execute("COMMIT")
    doc = {"records": count, "seconds": time.perf_counter() - began, "cpu": time.process_time() - cpu}
    if slips:
        doc["reconcile"] = {"records": count, **raw_reconcile(con, slips)}
    con.close()
    return doc


def _sliced(path: Path) -> Iterator[tuple[Any, ...]]:
    """The baselines' rows: each data record's fields sliced at the fixed120 positions, nothing checked."""
    with open(path, "rb", buffering=1 << 20) as f:
        for line_no, line in enumerate(f, 1):
            if line[:1] != b"2":
                continue
            s = line.decode("ascii")
            yield (
                line_no, s[1:3], s[3:11], s[11:15], s[15:59], s[28:44], int(s[52:58]), s[62:69],
                s[69:77], s[77:85], s[93:101], s[101:105],
            )  # fmt: skip


def child_copy(path: Path, url: str) -> dict[str, Any]:
    """The PostgreSQL baseline: read, slice and ``COPY`` into a plain table indexed on the payment number,
    one transaction, on the same server as the ingest."""
    import psycopg
    import sqlalchemy as sa

    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    began, cpu = time.perf_counter(), time.process_time()
    count = 0
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        cur.execute(
            "CREATE TABLE raw_records (id BIGSERIAL PRIMARY KEY, line_no INTEGER, kind_code TEXT, "
            "paid_date TEXT, paid_time TEXT, barcode TEXT, payment_number TEXT, amount BIGINT, "
            "store_code TEXT, capture_date TEXT, transfer_date TEXT, accounting_date TEXT, channel_code TEXT)"
        )
        cur.execute("CREATE INDEX ix_raw_records_payment_number ON raw_records (payment_number)")
        columns = (
            "line_no, kind_code, paid_date, paid_time, barcode, payment_number, amount, store_code, "
            "capture_date, transfer_date, accounting_date, channel_code"
        )
        with cur.copy(f"COPY raw_records ({columns}) FROM STDIN") as copy:
            for row in _sliced(path):
                copy.write_row(row)
                count += 1
    return {"records": count, "seconds": time.perf_counter() - began, "cpu": time.process_time() - cpu}


def _settings(url: str, workdir: Path, key: str) -> Any:
    from gateway.config import load_settings

    return load_settings(
        environ={},
        overrides={
            "database_url": url,
            "data_key": key,
            "secret_key": "bench",
            "instance_dir": str(workdir / "instance"),
            "archive_dir": str(workdir / "archive"),
            "scheduler": False,
        },
    )


def child_ingest(path: Path, workdir: Path, url: str, slips: int = 0) -> dict[str, Any]:
    """A fresh migrated database, agent 12345 (and ``slips`` claims with a slip each), then ``ingest_file``
    (timed). ``slips`` < 0: the database exists already (the second file of ``--split``)."""
    from gateway import migrate
    from gateway.access import agents
    from gateway.context import Actor
    from gateway.crypto import Keyring
    from gateway.intake import ingest
    from gateway.runtime import Runtime

    key = base64.urlsafe_b64encode(b"b" * 32).decode()
    if slips >= 0:
        migrate.upgrade(url)
        migrate.check_fingerprint(url, Keyring.from_data_key(key).fingerprint)
    runtime = Runtime.load(_settings(url, workdir, key))
    with runtime.context(Actor(kind="cli", name="bench")) as ctx:
        if slips >= 0:
            agents.add_agent(
                ctx,
                agents.AgentInput(
                    code=AGENT, name="bench agent", consignor_code=CONSIGNOR, channels=CHANNELS
                ),
            )
        if slips > 0:
            insert_claims_and_slips(ctx, slips)
        began, cpu = time.perf_counter(), time.process_time()
        result = ingest.ingest_file(ctx, path)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    if result.status != "accepted":
        raise SystemExit(f"ingest failed: {result.as_json()}")
    return {"records": result.records, "new_records": result.new_records, "seconds": elapsed, "cpu": cpu}


def run_child(*args: str) -> tuple[dict[str, Any], float]:
    """Run this script as a child; its JSON result and its peak RSS in MiB."""
    proc = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed with exit code {proc.returncode}")
    return json.loads(out), usage.ru_maxrss / 1024  # Linux reports KiB


def _report(
    label: str,
    result: dict[str, Any],
    rss: float,
    baseline: dict[str, Any] | None = None,
    against: str = "baseline",
) -> None:
    rate = result["records"] / result["seconds"]
    ratio = ""
    if baseline:
        ratio = (
            f"; {result['seconds'] / baseline['seconds']:.2f} × {against} wall, "
            f"{result['cpu'] / baseline['cpu']:.2f} × CPU"
        )
    print(
        f"{label:<30} {result['records']:>9,} records: wall {result['seconds']:6.2f} s "
        f"({rate:>7,.0f} records/s), CPU {result['cpu']:6.2f} s; peak RSS {rss:5.1f} MiB{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the file (and databases) here and keep them")
    parser.add_argument("--postgres", metavar="URL", help="also measure the COPY path on this server")
    parser.add_argument(
        "--reconcile", action="store_true", help="matchable data, then time reconciliation too"
    )
    parser.add_argument(
        "--split",
        action="store_true",
        help="with --reconcile: also the usual day-to-day shape, preliminaries and confirmations in two "
        "files, each ingested and reconciled in turn",
    )
    parser.add_argument(
        "--unknown",
        action="store_true",
        help="reconcile the default file too: no slip of it exists, every payment is an unknown_slip",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "baseline":
            doc = child_baseline(Path(rest[0]), Path(rest[1]), int(rest[2]) if len(rest) > 2 else 0)
        elif kind == "reconcile":
            doc = child_reconcile(Path(rest[0]), rest[1], *rest[2:3])
        elif kind == "copy":
            doc = child_copy(Path(rest[0]), rest[1])
        else:
            doc = child_ingest(Path(rest[0]), Path(rest[1]), rest[2], int(rest[3]) if len(rest) > 3 else 0)
        print(json.dumps(doc))
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        path = workdir / f"bench-{'reconcile' if args.reconcile else 'ingest'}-{args.records}.txt"
        began = time.perf_counter()
        write_file(path, args.records, matchable=args.reconcile)
        size = path.stat().st_size / 1e6
        print(f"wrote {args.records:,} records ({size:.1f} MB) in {time.perf_counter() - began:.1f} s")
        base_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="baseline-"))
        slips = str(args.records // 2 if args.reconcile else 0)
        base, base_rss = run_child("baseline", str(path), str(base_dir), slips)
        _report("baseline sqlite3.executemany", base, base_rss)
        if args.reconcile:
            _report("baseline raw reconcile", base["reconcile"], base_rss)
            if base["reconcile"]["claims_paid"] != int(slips):
                raise SystemExit(f"raw reconcile paid {base['reconcile']['claims_paid']} claims, not {slips}")
        ingest_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="ingest-"))
        url = f"sqlite:///{ingest_dir / 'gateway.sqlite3'}"
        got, rss = run_child("ingest", str(path), str(ingest_dir), url, slips)
        _report("ingest_file (SQLite)", got, rss, base)
        ratio = got["seconds"] / base["seconds"]
        verdict = "met" if ratio <= 3 and rss <= 300 else "NOT met"
        print(f"targets (≤ 3 × baseline, ≤ 300 MB peak RSS): {verdict} ({ratio:.2f} ×, {rss:.0f} MiB)")
        if args.reconcile:
            _reconcile("SQLite", ingest_dir, url, got, base, rss)
            if args.split:
                _split(workdir, args.records, base)
        if args.unknown:
            _unknown("SQLite", ingest_dir, url, got, base, rss)
        if args.postgres:
            _postgres(args.postgres, path, workdir, base, slips, unknown=args.unknown)


def _reconcile(
    label: str, workdir: Path, url: str, ingested: dict[str, Any], base: dict[str, Any], ingest_rss: float
) -> None:
    """Time ``reconcile.run``; compare ingest + reconcile with the raw baseline of the same work (the issue-4
    target) and, for the record, with the raw ingest alone."""
    rec, rss = run_child("reconcile", str(workdir), url)
    raw = base["reconcile"]
    _report(f"reconcile.run ({label})", rec, rss, raw, against="raw reconcile")
    print(f"  run: {json.dumps(rec['result'])}")
    print(f"  rerun (must be all zeros): {json.dumps(rec['rerun'])}")
    total = ingested["seconds"] + rec["seconds"]
    raw_total = base["seconds"] + raw["seconds"]
    ratio = total / raw_total
    peak = max(rss, ingest_rss)
    if label == "SQLite":
        verdict = "met" if ratio <= 3 and peak <= 300 else "NOT met"
        verdict = f"targets (≤ 3 ×, ≤ 300 MB): {verdict}"
    else:
        verdict = "no target (the raw baseline is SQLite)"
    print(
        f"ingest + reconcile ({label}): {total:.2f} s = {ratio:.2f} × the raw baseline of the same work "
        f"({raw_total:.2f} s), peak RSS {peak:.0f} MiB; {verdict}"
    )
    print(
        f"  beside the raw ingest alone ({base['seconds']:.2f} s): reconcile.run "
        f"{rec['seconds'] / base['seconds']:.2f} ×, ingest + reconcile {total / base['seconds']:.2f} ×"
    )


def _unknown(
    label: str, workdir: Path, url: str, ingested: dict[str, Any], raw: dict[str, Any], ingest_rss: float
) -> None:
    """Reconcile a file none of whose slips exist (every payment an ``unknown_slip``); ingest + reconcile
    against the raw ingest of the same rows (goal ≤ 3 ×; on SQLite also ≤ 300 MB peak RSS)."""
    rec, rss = run_child("reconcile", str(workdir), url)
    _report(f"reconcile.run, all unknown ({label})", rec, rss)
    print(f"  run: {json.dumps(rec['result'])}")
    print(f"  rerun (must be all zeros): {json.dumps(rec['rerun'])}")
    total = ingested["seconds"] + rec["seconds"]
    ratio = total / raw["seconds"]
    peak = max(rss, ingest_rss)
    met = ratio <= 3 and (peak <= 300 or label != "SQLite")
    print(
        f"ingest + reconcile, all unknown ({label}): {total:.2f} s = {ratio:.2f} × the raw ingest "
        f"({raw['seconds']:.2f} s), peak RSS {peak:.0f} MiB; goal ≤ 3 ×"
        + (", ≤ 300 MB" if label == "SQLite" else "")
        + f": {'met' if met else 'NOT met'}"
    )


def _split(workdir: Path, records: int, base: dict[str, Any]) -> None:
    """The same records as two files (all preliminaries, then all confirmations), each ingested and then
    reconciled: the general path (payments inserted preliminary, then confirmed by an update). No target;
    the end state is the one the raw baseline reaches in one pass."""
    split_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="split-"))
    url = f"sqlite:///{split_dir / 'gateway.sqlite3'}"
    total, peak = 0.0, 0.0
    for step, kinds in enumerate((("01",), ("02",))):
        path = split_dir / f"bench-split-{kinds[0]}.txt"
        write_file(path, records, matchable=True, kinds=kinds)
        got, rss = run_child("ingest", str(path), str(split_dir), url, str(records // 2 if step == 0 else -1))
        _report(f"split: ingest_file {kinds[0]}", got, rss, base)
        # the preliminaries are reconciled as they arrive (no ageing yet), the confirmations as of 1 December
        rec, rec_rss = run_child(
            "reconcile", str(split_dir), url, "2026-11-02" if step == 0 else "2026-12-01"
        )
        _report(f"split: reconcile.run {kinds[0]}", rec, rec_rss, base)
        print(f"  run: {json.dumps(rec['result'])}")
        total += got["seconds"] + rec["seconds"]
        peak = max(peak, rss, rec_rss)
    raw_total = base["seconds"] + base["reconcile"]["seconds"]
    print(
        f"split ingest + reconcile (SQLite): {total:.2f} s = {total / raw_total:.2f} × the raw baseline "
        f"of the same work, {total / base['seconds']:.2f} × the raw ingest alone, peak RSS {peak:.0f} MiB "
        "(no target)"
    )


def _postgres(
    server: str,
    path: Path,
    workdir: Path,
    baseline: dict[str, Any],
    slips: str = "0",
    *,
    unknown: bool = False,
) -> None:
    import sqlalchemy as sa

    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
        pg_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="ingest-pg-"))
        got, rss = run_child("ingest", str(path), str(pg_dir), url, slips)
        _report("ingest_file (PostgreSQL COPY)", got, rss, baseline)
        if slips != "0":
            _reconcile("PostgreSQL", pg_dir, url, got, baseline, rss)
        if unknown:
            raw, raw_rss = run_child("copy", str(path), url)
            _report("raw COPY (PostgreSQL)", raw, raw_rss)
            _unknown("PostgreSQL", pg_dir, url, got, raw, rss)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
