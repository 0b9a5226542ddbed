"""Concurrency: two ingests of one file and two reconciliation runs at the same time, in threads (one process,
two connections) and in two processes, on SQLite and (CI's PostgreSQL pass) on PostgreSQL.

The contract (docs/settlements.md, gateway.intake.ingest): a file is stored once — of two deliveries of
the same bytes one is ``accepted``, the other ``duplicate_file``; reconciliation places each record once
however many runs overlap (the rerun reports zeros). Threads of one ingest at a time are in
tests/ingest/test_bulk.py; a run overlapping an ingest on PostgreSQL in tests/reconciliation/.
"""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from gateway.intake import ingest
from gateway.money import reconcile
from tests.conftest import OPERATOR
from tests.security.workload import CONFIRMED
from tests.security.workload import RECONCILED
from tests.security.workload import RECORDS
from tests.security.workload import as_json
from tests.security.workload import gateway_cli
from tests.security.workload import prepare
from tests.security.workload import state


def _together(target: Any, n: int = 2) -> list[Any]:
    """Run ``target()`` in ``n`` threads released at the same instant; their results (errors re-raised)."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            barrier.wait(30)
            results.append(target())
        except BaseException as ex:  # re-raised below
            errors.append(ex)

    threads = [threading.Thread(target=go) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(results) == n
    return results


def _processes(cli_env: dict[str, str], cwd: Any, *args: str) -> list[subprocess.CompletedProcess[str]]:
    """Start ``gateway ARGS`` twice at once (each its own interpreter and connection)."""
    return _together(lambda: gateway_cli(cli_env, cwd, *args))


def test_two_ingests_of_one_file_in_two_processes_store_it_once(ctx, cli_env, db_url, tmp_path):
    path = prepare(ctx, tmp_path)
    runs = _processes(cli_env, tmp_path, "settlements", "ingest", str(path), "--json")
    results = [as_json(r)["files"][0] for r in runs]
    assert sorted(r["status"] for r in results) == ["accepted", "duplicate_file"]
    assert sum(r["new_records"] for r in results) == RECORDS
    got = state(db_url)
    assert (got["files"], got["records"], got["identities"], got["queued"]) == (1, RECORDS, RECORDS, RECORDS)


def test_two_reconciliation_runs_at_once_in_threads_place_each_record_once(runtime, ctx, db_url, tmp_path):
    path = prepare(ctx, tmp_path)
    assert ingest.ingest_file(ctx, path).status == "accepted"
    ctx.session.commit()

    def run() -> reconcile.RunResult:
        with runtime.context(OPERATOR) as c:
            return reconcile.run(c)

    results = _together(run)
    assert sum(r.matched for r in results) == RECORDS
    assert sum(r.confirmed for r in results) == CONFIRMED
    assert sum(r.exceptions_opened for r in results) == 0
    assert state(db_url) == RECONCILED
    again = reconcile.run(ctx)
    assert (again.matched, again.confirmed, again.cancelled, again.exceptions_opened) == (0, 0, 0, 0)
    assert state(db_url) == RECONCILED


def test_two_reconciliation_runs_at_once_in_two_processes_place_each_record_once(
    ctx, cli_env, db_url, tmp_path
):
    path = prepare(ctx, tmp_path)
    assert ingest.ingest_file(ctx, path).status == "accepted"
    ctx.session.commit()

    runs = [as_json(r) for r in _processes(cli_env, tmp_path, "reconcile", "--json")]
    assert sum(r["matched"] for r in runs) == RECORDS
    assert sum(r["confirmed"] for r in runs) == CONFIRMED
    assert sum(r["exceptions_opened"] for r in runs) == 0
    assert state(db_url) == RECONCILED
