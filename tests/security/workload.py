"""A small day of payments shared by the crash and concurrency tests: one agent, six claims with one slip
each, and one fixed120 file holding a preliminary record for every slip and the confirmation of four.

After the file is ingested and reconciled: 10 records, 6 payments (4 confirmed, 2 preliminary), claims
T-0001..T-0004 paid, no exceptions. The CLI runs in a subprocess (``gateway_cli``) so it can be killed.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gateway.context import Context
from gateway.issuing import slips as slip_service
from tests.helpers import add_fixed120_agent
from tests.helpers import fixed120_record
from tests.helpers import make_claim
from tests.helpers import write_fixed120

JST = datetime.timezone(datetime.timedelta(hours=9))
SLIPS = 6
CONFIRMED = 4
AMOUNT = 12_000
RECORDS = SLIPS + CONFIRMED
#: What the database holds once the workload's file is ingested and reconciled (``state``).
RECONCILED = {
    "files": 1,
    "records": RECORDS,
    "identities": RECORDS,
    "queued": 0,
    "payments": SLIPS,
    "payment_numbers": SLIPS,
    "payment_amount": SLIPS * AMOUNT,
    "confirmed": CONFIRMED,
    "exceptions": 0,
    "paid_claims": CONFIRMED,
}


def prepare(ctx: Context, directory: Path) -> Path:
    """Agent, claims and slips in the database (committed); the settlement file written to ``directory``."""
    add_fixed120_agent(ctx)
    barcodes = []
    for n in range(1, SLIPS + 1):
        make_claim(ctx, f"T-{n:04d}", amount=AMOUNT, debtor_ref=f"REF-{n:04d}")
        (slip,) = slip_service.issue_slips(
            ctx, f"T-{n:04d}", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
        )
        barcodes.append(slip.barcode)
    ctx.session.commit()
    paid = datetime.datetime(2026, 12, 2, 14, 32, tzinfo=JST)
    records = [fixed120_record("01", b, paid + datetime.timedelta(minutes=i)) for i, b in enumerate(barcodes)]
    records += [
        fixed120_record("02", b, paid + datetime.timedelta(minutes=i), transfer=datetime.date(2026, 12, 10))
        for i, b in enumerate(barcodes[:CONFIRMED])
    ]
    return write_fixed120(directory / "agent-20261203.dat", records, created_on=datetime.date(2026, 12, 3))


def gateway_cli(
    cli_env: dict[str, str], cwd: Path, *args: str, crash_at: str | None = None, chunk_rows: int | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``gateway ARGS`` in a fresh process (``GATEWAY_CRASH_AT`` set when ``crash_at`` is given; ingest
    chunks of ``chunk_rows`` records, so a small file is stored in several)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(cli_env)
    if crash_at:
        env["GATEWAY_CRASH_AT"] = crash_at
    prelude = f"import gateway.intake.ingest as i; i.CHUNK_ROWS = {chunk_rows}; " if chunk_rows else ""
    root = str(Path(__file__).parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", prelude + "from gateway.cli import run; run()", *args],
        env=env,
        cwd=cwd,  # no developer's .env is read
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def gateway_here(cli_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``gateway ARGS`` in this process (Click's runner; no interpreter start-up) — for the runs that are
    not killed."""
    from click.testing import CliRunner

    from gateway.cli import main

    result = CliRunner().invoke(main, list(args), env=cli_env, catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, "")


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def state(db_url: str) -> dict[str, Any]:
    """What the database holds of the workload, read on a connection of its own."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:

            def one(sql: str) -> Any:
                return conn.execute(sa.text(sql)).scalar_one()

            return {
                "files": one("SELECT count(*) FROM settlement_files"),
                "records": one("SELECT count(*) FROM settlement_records"),
                "identities": one("SELECT count(DISTINCT identity) FROM settlement_records"),
                "queued": one("SELECT count(*) FROM unreconciled_records"),
                "payments": one("SELECT count(*) FROM payments"),
                "payment_numbers": one("SELECT count(DISTINCT payment_number) FROM payments"),
                "payment_amount": one("SELECT COALESCE(sum(amount), 0) FROM payments"),
                "confirmed": one("SELECT count(*) FROM payments WHERE state = 'confirmed'"),
                "exceptions": one("SELECT count(*) FROM recon_exceptions"),
                "paid_claims": one("SELECT count(*) FROM claims WHERE status = 'paid'"),
            }
    finally:
        engine.dispose()
