"""Benchmark: server time of the main staff pages with 100,000 claims and 1,000,000 payments.

Run from the repository root::

    .venv/bin/python -m bench.pages [--runs 20] [--claims 100000] [--payments 1000000] [--rebuild]

1. Builds once into ``bench/out/pages-<claims>-<payments>/`` (rebuilt when the migrations change, or with
   ``--rebuild``), a SQLite database of synthetic data: staff accounts, agent 12345, ``--claims`` claims
   imported through ``gateway.issuing.claims.import_claims`` from a generated CSV (encrypted debtors and
   the name blind index, as the office's import writes them), one issued slip per claim and ``--payments``
   confirmed agent payments spread over October and November 2026 (both bulk-inserted like
   ``bench/ingest.py``'s set-up, mirroring the rows the reconciliation run writes), then twelve small
   fixed120 settlement files taken in with ``ingest_file`` and one ``reconcile.run`` — so the file list,
   the exceptions queue and the reports have real rows.
2. Signs in as finance, accounting, auditor (and the other roles for their start page) with the Flask test
   client, on a clock pinned to 2026-12-01 10:00 Japan time, and requests each page ``--runs`` times after
   one warm-up request: p50/p95 of the wall time of the request in this process (no network, no browser).
   Pages whose endpoint does not exist (yet) are listed as skipped. Goal: p95 ≤ 200 ms.

Never part of the test suite: it prints its figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import io
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ingest import AGENT  # noqa: E402
from bench.ingest import CHANNELS  # noqa: E402
from bench.ingest import CONSIGNOR  # noqa: E402
from bench.ingest import SLIP_DUE  # noqa: E402
from bench.ingest import SLIP_EXPIRY  # noqa: E402
from bench.ingest import Row  # noqa: E402

JST = ZoneInfo("Asia/Tokyo")
OUT = ROOT / "bench" / "out"
DATA_KEY = base64.urlsafe_b64encode(b"p" * 32).decode()
NOW = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=JST)
PASSWORD = "bench password 2026"
ROLES = ("finance", "accounting", "auditor", "approver", "admin", "print_vendor")
CHUNK = 50_000
GOAL_MS = 200.0

SURNAMES = ("見本", "試験", "仮名", "例示", "架空")
SUFFIX = "一二三四五六七八九十上中下東西南北山川田"
GIVEN = ("一郎", "花子", "次郎", "桜", "太郎", "葵", "健", "陽菜")
KANA_SURNAMES = ("ミホン", "シケン", "カメイ", "レイジ", "カクウ")
KANA_GIVEN = ("イチロウ", "ハナコ", "ジロウ", "サクラ", "タロウ", "アオイ", "ケン", "ヒナ")


def family_name(i: int) -> str:
    """1,000 distinct synthetic family names, about 100 debtors each."""
    return SURNAMES[i % 5] + SUFFIX[(i // 5) % 20] + SUFFIX[(i // 100) % 10]


def full_name(i: int) -> str:
    return f"{family_name(i)} {GIVEN[i % 8]}{SUFFIX[(i // 1000) % 20]}"


def claim_number(i: int) -> str:
    return f"B-{i:07d}"


def claims_csv(count: int) -> bytes:
    out = io.StringIO()
    out.write("number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,debtor_kana,postal_code,")
    out.write("debtor_address,decided_on\n")
    for i in range(1, count + 1):
        amount = 20_000 + (i * 7919) % 280_000
        kana = f"{KANA_SURNAMES[i % 5]} {KANA_GIVEN[i % 8]}"
        out.write(
            f"{claim_number(i)},art63,{amount},2026,REF{i:08d},{full_name(i)},{kana},999-{i % 10000:04d},"
            f"見本県見本市中央{i % 9 + 1}丁目{i % 30 + 1}番,2026-09-01\n"
        )
    return out.getvalue().encode()


# -- the database ---------------------------------------------------------------------------------------


def _settings(workdir: Path) -> Any:
    from gateway.config import load_settings

    return load_settings(
        environ={},
        overrides={
            "database_url": f"sqlite:///{workdir / 'pages.sqlite3'}",
            "data_key": DATA_KEY,
            "secret_key": "bench-pages",
            "instance_dir": str(workdir / "instance"),
            "archive_dir": str(workdir / "archive"),
            "inbox_dir": str(workdir / "inbox"),
            "scheduler": False,
        },
    )


def _schema_tag() -> str:
    versions = sorted(p.name for p in (ROOT / "gateway" / "migrations" / "versions").glob("*.py"))
    return hashlib.sha256("\n".join(versions).encode()).hexdigest()[:12]


def _runtime(workdir: Path) -> Any:
    from gateway.runtime import Runtime

    runtime = Runtime.load(_settings(workdir))
    runtime.clock = lambda: NOW.astimezone(datetime.UTC)
    return runtime


def _step(what: str, began: float) -> float:
    now = time.perf_counter()
    print(f"  {what}: {now - began:.1f} s", file=sys.stderr, flush=True)
    return now


def build(workdir: Path, claims: int, payments: int) -> None:
    """Fill a fresh database (see the module docstring)."""
    import sqlalchemy as sa

    from gateway import migrate
    from gateway.access import agents
    from gateway.access import users
    from gateway.context import Actor
    from gateway.crypto import Keyring
    from gateway.db import dispose_engines
    from gateway.issuing import claims as claim_service

    for name in ("pages.sqlite3", "pages.sqlite3-wal", "pages.sqlite3-shm", "built.json"):
        (workdir / name).unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"building {claims:,} claims and {payments:,} payments in {workdir} (once) …", file=sys.stderr)
    began = time.perf_counter()
    url = _settings(workdir).database_url
    migrate.upgrade(url)
    migrate.check_fingerprint(url, Keyring.from_data_key(DATA_KEY).fingerprint)
    runtime = _runtime(workdir)
    with runtime.context(Actor(kind="cli", name="bench")) as ctx:
        for role in ROLES:
            users.create_user(ctx, f"bench-{role}", role, PASSWORD)
        agents.add_agent(
            ctx,
            agents.AgentInput(
                code=AGENT,
                name="見本収納代行株式会社",
                consignor_code=CONSIGNOR,
                channels=CHANNELS,
                fee_per_item=130,
                tax_rate="10",
                fee_valid_from=datetime.date(2026, 4, 1),
            ),
        )
        began = _step("users and agent", began)
        result = claim_service.import_claims(ctx, claims_csv(claims), "bench-claims.csv")
        assert not getattr(result, "errors", None), result
        began = _step(f"import_claims of {claims:,} rows (encrypted debtors, name index)", began)
        agent_id = ctx.session.execute(sa.text(f"SELECT id FROM agents WHERE code = '{AGENT}'")).scalar_one()
        ids = dict(ctx.session.execute(sa.text("SELECT number, id FROM claims")).all())
        amounts = dict(ctx.session.execute(sa.text("SELECT id, amount FROM claims")).all())
        slip_rows = _insert_slips(ctx, ids, amounts, claims)
        began = _step(f"{claims:,} slips", began)
        _insert_payments(ctx, slip_rows, payments, agent_id)
        began = _step(f"{payments:,} payments", began)
        _settlement_files(ctx, workdir, slip_rows)
        began = _step("settlement files and reconciliation", began)
        ctx.session.execute(sa.text("ANALYZE"))
        ctx.session.commit()
    dispose_engines()
    (workdir / "built.json").write_text(json.dumps(_tag(claims, payments)))


def _tag(claims: int, payments: int) -> dict[str, Any]:
    return {"claims": claims, "payments": payments, "schema": _schema_tag()}


def _insert_slips(
    ctx: Any, ids: dict[str, int], amounts: dict[int, int], count: int
) -> list[tuple[Any, ...]]:
    """One issued slip per claim (mirrors ``bench/ingest.py``); returns (claim id, slip id, payment number,
    barcode, amount) per claim serial."""
    import sqlalchemy as sa

    from barcodes import cvs
    from gateway.models import Slip
    from gateway.models.base import table_of

    issued = datetime.datetime(2026, 9, 15, 1, 0, tzinfo=datetime.UTC)
    batch: list[dict[str, Any]] = []
    out: list[tuple[Any, ...]] = []
    for serial in range(1, count + 1):
        claim_id = ids[claim_number(serial)]
        amount = amounts[claim_id]
        number = cvs.compose_payment_number(2026, serial, 1)
        barcode = cvs.compose(
            issuer_prefix="9" + AGENT,
            consignor_code=CONSIGNOR,
            payment_number=number,
            reissue_count=0,
            expiry=SLIP_EXPIRY,
            amount=min(amount, 299_999),
        )
        out.append((claim_id, serial, number, barcode, amount))
        batch.append(
            {
                "id": serial,
                "claim_id": claim_id,
                "payment_number": number,
                "instalment": 1,
                "reissue_count": 0,
                "amount": min(amount, 299_999),
                "due_date": SLIP_DUE,
                "barcode_expiry": SLIP_EXPIRY,
                "barcode": barcode,
                "status": "issued",
                "token_hash": hashlib.sha256(number.encode()).hexdigest(),
                "enc_token": "v1:bench",
                "issued_at": issued,
                "issued_on": issued.date(),
                "status_changed_at": issued,
            }
        )
        if len(batch) >= CHUNK:
            ctx.session.execute(sa.insert(table_of(Slip)), batch)
            batch = []
    if batch:
        ctx.session.execute(sa.insert(table_of(Slip)), batch)
    ctx.session.commit()
    return out


def _insert_payments(ctx: Any, slips: list[tuple[Any, ...]], count: int, agent_id: int) -> None:
    """Confirmed agent payments as the reconciliation run writes them, over 1 October – 28 November 2026:
    each claim gets ``count / claims`` small instalments, so no balance goes negative."""
    import sqlalchemy as sa

    from gateway.models import Payment
    from gateway.models.base import table_of

    start = datetime.date(2026, 10, 1)
    batch: list[dict[str, Any]] = []
    for i in range(count):
        claim_id, slip_id, number, _barcode, amount = slips[i % len(slips)]
        paid_date = start + datetime.timedelta(days=(i * 7) % 59)
        paid_at = datetime.datetime.combine(paid_date, datetime.time(8 + i % 12, i % 60), tzinfo=JST)
        transfer = paid_date + datetime.timedelta(days=9)
        received = datetime.datetime.combine(paid_date + datetime.timedelta(days=1), datetime.time(6), JST)
        confirmed = datetime.datetime.combine(transfer, datetime.time(6), tzinfo=JST)
        channel = CHANNELS[i % len(CHANNELS)]
        batch.append(
            {
                "claim_id": claim_id,
                "slip_id": slip_id,
                "payment_number": number,
                "reissue_count": 0,
                "amount": max(1, amount // 20),
                "state": "confirmed",
                "source": "agent",
                "channel_code": channel,
                "store_code": "0000000" if channel >= "0780" else f"{(i * 31) % 10_000_000:07d}",
                "agent_id": agent_id,
                "paid_at": paid_at,
                "paid_date": paid_date,
                "late": False,
                "transfer_date": transfer,
                "received_at": received,
                "received_date": received.date(),
                "confirmed_at": confirmed,
                "receipt_date": transfer,
                "fiscal_year": 2026,
                "arrears": False,
                "created_at": received,
                "updated_at": confirmed,
            }
        )
        if len(batch) >= CHUNK:
            ctx.session.execute(sa.insert(table_of(Payment)), batch)
            batch = []
    if batch:
        ctx.session.execute(sa.insert(table_of(Payment)), batch)
    ctx.session.commit()


def _settlement_files(ctx: Any, workdir: Path, slips: list[tuple[Any, ...]]) -> None:
    """Twelve daily fixed120 files (preliminaries, their confirmations, a few barcodes of no slip) taken in
    with ``ingest_file``, then one reconciliation run: real rows for the file list and the queue."""
    from adapters import fixed120
    from barcodes import cvs
    from gateway.intake import ingest
    from gateway.money import reconcile

    folder = workdir / "files"
    folder.mkdir(exist_ok=True)
    for day in range(12):
        created = datetime.date(2026, 11, 16) + datetime.timedelta(days=day)
        records: list[Row] = []
        for k in range(200):
            serial = 1 + (day * 997 + k * 131) % len(slips)
            barcode = slips[serial - 1][3]
            if k % 40 == 0:  # a slip of no claim here: an unknown_slip exception
                barcode = cvs.compose(
                    issuer_prefix="9" + AGENT,
                    consignor_code=CONSIGNOR,
                    payment_number=cvs.compose_payment_number(2026, 900_000 + day * 200 + k, 1),
                    reissue_count=0,
                    expiry=SLIP_EXPIRY,
                    amount=5_000,
                )
            paid_at = datetime.datetime.combine(created, datetime.time(9 + k % 10, k % 60), tzinfo=JST)
            kind = "02" if k % 2 else "01"
            transfer = created + datetime.timedelta(days=5) if kind == "02" else None
            records.append(
                Row(
                    kind_code=kind,
                    barcode=barcode,
                    paid_at=paid_at - datetime.timedelta(days=1),
                    channel_code=CHANNELS[k % len(CHANNELS)],
                    store_code=f"{k:07d}",
                    transfer_date=transfer,
                    accounting_date=transfer,
                    capture_date=created,
                )
            )
        path = folder / f"agent-{created:%Y%m%d}.dat"
        with open(path, "wb") as out:
            fixed120.write(
                out,
                created_on=created,
                agent_code=AGENT,
                consignor_code=CONSIGNOR,
                consignor_name="ﾍﾞﾝﾁﾏｰｸ",
                records=records,
            )
        ingest.ingest_file(ctx, path)
    reconcile.run(ctx, NOW.date())


# -- timing ---------------------------------------------------------------------------------------------


def _sign_in(app: Any, role: str) -> Any:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF token on /login"
    response = client.post(
        "/login", data={"name": f"bench-{role}", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302, f"bench-{role} cannot sign in"
    return client


def pages(claims: int) -> list[tuple[str, str, str]]:
    """(label, role, URL) of the main pages."""
    probe = 4_242 % claims + 1
    day = "2026-11-27"
    out = []
    for role in ("finance", "accounting", "auditor"):
        out += [
            ("claims list", role, "/staff/claims"),
            ("claims: search by number", role, f"/staff/claims?q={claim_number(probe)}"),
        ]
        if role == "finance":  # only roles that see names search them
            out += [
                ("claims: search by full name", role, f"/staff/claims?q={full_name(probe)}"),
                ("claims: search by family name", role, f"/staff/claims?q={family_name(probe)}"),
            ]
        out += [
            ("claim page", role, f"/staff/claims/{claim_number(probe)}"),
            ("exceptions queue", role, "/staff/exceptions"),
            ("settlement files", role, "/staff/settlements"),
            ("daily report", role, f"/staff/reports/daily/{day}"),
        ]
    out += [("audit log", "auditor", "/staff/audit"), ("accounting export", "accounting", "/staff/exports")]
    out += [("today", role, "/staff/today") for role in ROLES]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    from werkzeug.exceptions import HTTPException

    from gateway import create_app

    workdir = OUT / f"pages-{args.claims}-{args.payments}"
    marker = workdir / "built.json"
    fresh = marker.exists() and json.loads(marker.read_text()) == _tag(args.claims, args.payments)
    if args.rebuild or not fresh:
        build(workdir, args.claims, args.payments)
    app = create_app(runtime=_runtime(workdir))
    app.config.update(PROPAGATE_EXCEPTIONS=False)
    adapter = app.url_map.bind("localhost")
    clients: dict[str, Any] = {}
    rows, skipped = [], []
    for label, role, url in pages(args.claims):
        try:
            endpoint, _ = adapter.match(url.split("?")[0], method="GET")
        except HTTPException:
            skipped.append(f"{label} ({url})")
            continue
        client = clients.get(role) or clients.setdefault(role, _sign_in(app, role))
        warm = client.get(url)  # warm-up (templates, caches); a search must find the probe claim
        if "?q=" in url and claim_number(4_242 % args.claims + 1) not in warm.get_data(as_text=True):
            label += " (NOT FOUND)"
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            status = client.get(url).status_code
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        rows.append((label, role, endpoint, status, p50, p95))

    size = f"{args.claims:,} claims, {args.payments:,} payments"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nStaff pages, {size}, {args.runs} runs each after a warm-up (SQLite, Flask test client)")
    print(f"load average while timing: {load} on {os.cpu_count()} CPUs (a busy machine inflates p95)\n")
    print(f"| {'page':<30} | {'role':<12} | status | p50 ms | p95 ms | p95 ≤ {GOAL_MS:.0f} ms |")
    print(f"|{'-' * 32}|{'-' * 14}|--------|--------|--------|-------------|")
    for label, role, _endpoint, status, p50, p95 in rows:
        ok = "yes" if p95 <= GOAL_MS and status < 400 else "**NO**"
        print(f"| {label:<30} | {role:<12} | {status:>6} | {p50:>6.1f} | {p95:>6.1f} | {ok:<11} |")
    if skipped:
        print("\nSkipped (no such page yet): " + "; ".join(skipped))


if __name__ == "__main__":
    main()
