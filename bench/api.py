"""Benchmark: the agent API (``POST /api/v1/settlements``) under gunicorn on PostgreSQL.

Run from the repository root (gunicorn is in the ``prod`` extra)::

    .venv/bin/python -m bench.api [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--workers 4] [--threads 4] [--mode public|full] [--bulk-posts 60] [--bulk-clients 4]
        [--clients 32] [--seconds 20] [--pause 0]

1. Creates its own database (``gw_bench_api_<random>``) on the server, migrates it, registers agent 12345
   with its channels and one API client of it, as the operator would with the full process's keys.
2. Starts gunicorn (``wsgi:app``, gthread workers) on 127.0.0.1 only, as the process agents really talk to:
   ``GATEWAY_MODE=public`` with ``GATEWAY_PUBLIC_KEYRING`` (``gateway keys public``) and no data key
   (``--mode full`` serves the same agent API from the full process).
3. Bulk: ``--bulk-posts`` signed posts of 1,000 preliminary records each (valid barcodes of agent 12345;
   the payment numbers need no slip — ingest stores records either way), sent by ``--bulk-clients``
   threads → records/s over the wall time of the phase. Goal ≥ 20,000 records/s.
4. Single: ``--clients`` threads, each with its own HTTP session, send signed one-record posts back to back
   (or ``--pause`` seconds apart) for ``--seconds`` → p50/p99 of the request latency seen by the client.
   Goal p99 ≤ 50 ms. Back to back, 32 clients keep 32 requests in flight: the latency is then 32 ÷ the
   throughput, so the goal needs ≥ 640 posts/s.
   ``--rates 25,50,100`` also runs the 32 clients on a schedule (open loop) at those total rates, latency
   counted from when each post was due: the rate up to which p99 stays within the goal.
5. Stops gunicorn and drops the database, whatever happened.

The load generator runs on the same machine and competes with gunicorn and PostgreSQL for the CPU cores
(Python threads, the GIL and HMAC signing included), so the figures are a lower bound of the server's.
Bounded in count and time, only to 127.0.0.1. Never part of the test suite: it prints and asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import itertools
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from bench.ingest import _settings  # noqa: E402
from gateway.access import clients as client_service  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AGENT = "12345"
CONSIGNOR = "00123"
CHANNELS = ("0010", "0020", "0030", "0820")
POOL = 2_000
PATH = "/api/v1/settlements"
GOAL_RECORDS_PER_S = 20_000
GOAL_P99_MS = 50.0
JST = datetime.timezone(datetime.timedelta(hours=9))


def _signed(key_id: str, secret: str, body: bytes) -> dict[str, str]:
    """Version 2 signature headers (method and path covered) for a POST to PATH, stamped now."""
    headers = client_service.signed_headers(key_id, secret, int(time.time()), body, method="POST", path=PATH)
    headers["Content-Type"] = "application/json"
    return headers


def _barcodes() -> list[tuple[str, int]]:
    from barcodes import cvs

    out = []
    for i in range(POOL):
        amount = 1_000 + (i * 7919) % 299_000
        out.append(
            (
                cvs.compose(
                    issuer_prefix="9" + AGENT,
                    consignor_code=CONSIGNOR,
                    payment_number=cvs.compose_payment_number(2026, 1 + i, 1),
                    reissue_count=0,
                    expiry=datetime.date(2027, 3, 31),
                    amount=amount,
                ),
                amount,
            )
        )
    return out


class Records:
    """Distinct valid preliminary records (record ids unique across threads)."""

    def __init__(self) -> None:
        self.pool = _barcodes()
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.paid_at = (datetime.datetime.now(JST) - datetime.timedelta(hours=1)).replace(microsecond=0)

    def take(self, n: int) -> list[dict[str, Any]]:
        with self.lock:
            numbers = [next(self.counter) for _ in range(n)]
        out = []
        for i in numbers:
            barcode, amount = self.pool[i % POOL]
            out.append(
                {
                    "record_id": f"r{i:09d}",
                    "kind": "preliminary",
                    "barcode": barcode,
                    "amount": amount,
                    "paid_at": (self.paid_at - datetime.timedelta(seconds=i % 3000)).isoformat(),
                    "channel_code": CHANNELS[i % len(CHANNELS)],
                    "store_code": f"{(i * 31) % 10_000_000:07d}",
                }
            )
        return out

    def body(self, n: int) -> bytes:
        records = self.take(n)
        return json.dumps({"batch_id": f"b-{records[0]['record_id']}-{n}", "records": records}).encode()


def _setup(url: str, workdir: Path, key: str) -> tuple[str, str]:
    """Migrate, register agent 12345 and one API client of it; its key id and secret."""
    from gateway import migrate
    from gateway.access import agents
    from gateway.context import Actor
    from gateway.crypto import Keyring
    from gateway.db import dispose_engines
    from gateway.runtime import Runtime

    migrate.upgrade(url)
    migrate.check_fingerprint(url, Keyring.from_data_key(key).fingerprint)
    runtime = Runtime.load(_settings(url, workdir, key))
    with runtime.context(Actor(kind="cli", name="bench")) as ctx:
        agents.add_agent(
            ctx,
            agents.AgentInput(
                code=AGENT,
                name="見本収納代行",
                adapters=("fixed120",),
                channels=CHANNELS,
                remitter_name="ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ",
                fee_per_item=55,
                tax_rate="10",
                fee_valid_from=datetime.date(2026, 4, 1),
            ),
        )
        client, secret = client_service.create_client(ctx, "bench", AGENT)
        key_id = client.key_id
    dispose_engines()
    return key_id, secret


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: argparse.Namespace, url: str, workdir: Path, key: str, port: int) -> subprocess.Popen[bytes]:
    from gateway.crypto import Keyring

    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        GATEWAY_DATABASE_URL=url,
        GATEWAY_SECRET_KEY="bench",
        GATEWAY_INSTANCE_DIR=str(workdir / "instance"),
        GATEWAY_ARCHIVE_DIR=str(workdir / "archive"),
        GATEWAY_INBOX_DIR=str(workdir / "inbox"),
        GATEWAY_SCHEDULER="0",
        GATEWAY_MODE=args.mode,
    )
    if args.mode == "public":
        env.update(GATEWAY_DATA_KEY="", GATEWAY_PUBLIC_KEYRING=Keyring.from_data_key(key).export_public())
    else:
        env.update(GATEWAY_DATA_KEY=key)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.threads),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "60",
        "wsgi:app",
    ]
    log = (workdir / "gunicorn.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {(workdir / 'gunicorn.log').read_text()[-2000:]}")
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    return process
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise SystemExit("gunicorn did not answer /healthz within 60 s")
    except BaseException:
        _stop(process)
        raise


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _post(session: requests.Session, base: str, key_id: str, secret: str, body: bytes) -> requests.Response:
    return session.post(base + PATH, data=body, headers=_signed(key_id, secret, body), timeout=60)


def bulk(base: str, key_id: str, secret: str, records: Records, posts: int, threads: int) -> dict[str, Any]:
    """``posts`` posts of 1,000 records from ``threads`` clients; bodies built before the clock starts."""
    work: queue.Queue[bytes] = queue.Queue()
    for _ in range(posts):
        work.put(records.body(1000))
    statuses: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        with requests.Session() as session:
            while True:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                status = _post(session, base, key_id, secret, body).status_code
                with lock:
                    statuses.append(status)

    started = time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - started
    ok = sum(1 for s in statuses if s == 201)
    return {
        "posts": posts,
        "ok": ok,
        "statuses": sorted(set(statuses)),
        "seconds": elapsed,
        "rps": ok * 1000 / elapsed,
    }


def single(
    base: str,
    key_id: str,
    secret: str,
    records: Records,
    clients: int,
    seconds: float,
    pause: float = 0.0,
    rate: float = 0.0,
) -> dict[str, Any]:
    """``clients`` clients posting one record at a time for ``seconds``: back to back, ``pause`` seconds
    apart, or (``rate`` > 0) on a schedule of ``rate`` posts/s in all. On a schedule the latency counts from
    the time the post was due, so a server that falls behind is charged for the wait (no coordinated
    omission)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = threading.Barrier(clients)

    def run() -> None:
        mine: list[float] = []
        codes: dict[int, int] = {}
        with requests.Session() as session:
            _post(session, base, key_id, secret, records.body(1))  # connect and warm up, not counted
            index = start.wait()
            interval = clients / rate if rate else 0.0
            due = time.perf_counter() + index * interval / clients
            while time.monotonic() < stop_at:
                body = records.body(1)
                headers = _signed(key_id, secret, body)
                if rate:
                    time.sleep(max(0.0, due - time.perf_counter()))
                    t0 = due
                    due += interval
                else:
                    t0 = time.perf_counter()
                response = session.post(base + PATH, data=body, headers=headers, timeout=60)
                mine.append(time.perf_counter() - t0)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                if pause:
                    time.sleep(pause)
        with lock:
            latencies.extend(mine)
            for code, n in codes.items():
                statuses[code] = statuses.get(code, 0) + n

    workers = [threading.Thread(target=run) for _ in range(clients)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "statuses": statuses,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "per_s": len(latencies) / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_SERVER)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--mode", choices=("public", "full"), default="public")
    parser.add_argument("--bulk-posts", type=int, default=60)
    parser.add_argument("--bulk-clients", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds each single-post client waits between posts"
    )
    parser.add_argument(
        "--rates",
        default="",
        help="also run single posts on a schedule at these total posts/s (comma list, e.g. 25,50,100)",
    )
    args = parser.parse_args()
    if not 1 <= args.bulk_posts <= 1000 or not 1 <= args.clients <= 256 or not 1 <= args.seconds <= 300:
        raise SystemExit("bounded: --bulk-posts 1-1000, --clients 1-256, --seconds 1-300")

    import sqlalchemy as sa

    key = base64.urlsafe_b64encode(b"a" * 32).decode()
    name = f"gw_bench_api_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    process = None
    try:
        url = sa.engine.make_url(args.postgres).set(database=name).render_as_string(hide_password=False)
        key_id, secret = _setup(url, workdir, key)
        port = _free_port()
        process = _start(args, url, workdir, key, port)
        base = f"http://127.0.0.1:{port}"
        records = Records()
        print(
            f"gunicorn {args.workers} gthread workers × {args.threads} threads, GATEWAY_MODE={args.mode}, "
            f"PostgreSQL; load generator in this process ({os.cpu_count()} cores shared)"
        )
        bulk(base, key_id, secret, records, min(4, args.bulk_posts), args.bulk_clients)  # warm-up
        b = bulk(base, key_id, secret, records, args.bulk_posts, args.bulk_clients)
        s = single(base, key_id, secret, records, args.clients, args.seconds, args.pause)
        rows = [
            (
                f"bulk: {b['posts']} posts × 1,000 records, {args.bulk_clients} clients",
                f"{b['rps']:,.0f} records/s ({b['seconds']:.1f} s, status {b['statuses']})",
                f"≥ {GOAL_RECORDS_PER_S:,} records/s",
                "met" if b["rps"] >= GOAL_RECORDS_PER_S and b["ok"] == b["posts"] else "NOT met",
            ),
            (
                f"single: {args.clients} clients × {args.seconds:.0f} s"
                + (f", {args.pause:g} s apart" if args.pause else ", back to back")
                + ", p50",
                f"{s['p50_ms']:.1f} ms ({s['requests']:,} requests, {s['per_s']:,.0f}/s, {s['statuses']})",
                "",
                "",
            ),
            (
                "single: p99",
                f"{s['p99_ms']:.1f} ms",
                f"≤ {GOAL_P99_MS:.0f} ms",
                "met" if s["p99_ms"] <= GOAL_P99_MS and set(s["statuses"]) == {201} else "NOT met",
            ),
        ]
        for rate in [float(r) for r in args.rates.split(",") if r.strip()]:
            o = single(base, key_id, secret, records, args.clients, args.seconds, rate=rate)
            rows.append(
                (
                    f"single: {args.clients} clients, {rate:g} posts/s scheduled, p50 / p99",
                    f"{o['p50_ms']:.1f} / {o['p99_ms']:.1f} ms ({o['requests']:,} requests, {o['statuses']})",
                    f"p99 ≤ {GOAL_P99_MS:.0f} ms",
                    "met" if o["p99_ms"] <= GOAL_P99_MS and set(o["statuses"]) == {201} else "NOT met",
                )
            )
        errors = [r for r in rows if "500" in r[1]]
        if errors:
            log = (workdir / "gunicorn.log").read_text(errors="replace")
            print("server errors: the end of the gunicorn log\n" + log[-6000:])
        width = max(len(r[0]) for r in rows)
        print(f"\n{'measure':<{width}}  figure  |  goal: verdict")
        for label, figure, goal, verdict in rows:
            print(f"{label:<{width}}  {figure}" + (f"  |  goal {goal}: {verdict}" if goal else ""))
    finally:
        if process is not None:
            _stop(process)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
