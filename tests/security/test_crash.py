"""Crash safety: an ingest or a reconciliation run killed with SIGKILL at a chosen step leaves nothing
half-written, and the rerun stores and reconciles every record exactly once.

The kill is deterministic: the CLI runs in a subprocess with ``GATEWAY_CRASH_AT=<point>``
(``gateway.faults.crash_point``), which makes the process kill itself at that step — no timing involved.
Ingest crashes run with chunks of 3 records (10 in the file), so ``ingest.after_first_chunk`` dies with one
chunk inserted and three more to come. Runs on SQLite and, in CI's PostgreSQL pass, on PostgreSQL (the same
tests; ``db_url`` decides).
"""

from __future__ import annotations

import hashlib
import signal
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.security.workload import AMOUNT
from tests.security.workload import CONFIRMED
from tests.security.workload import RECONCILED
from tests.security.workload import RECORDS
from tests.security.workload import as_json
from tests.security.workload import gateway_cli
from tests.security.workload import gateway_here
from tests.security.workload import prepare
from tests.security.workload import state

INGEST_POINTS = (
    "archive.before_link",
    "archive.after_link",
    "ingest.after_archive",
    "ingest.after_file_row",
    "ingest.after_first_chunk",
    "ingest.after_records",
    "ingest.before_commit",
)
RECONCILE_POINTS = (
    "reconcile.after_payments",
    "reconcile.after_match",
    "reconcile.before_statuses",
    "reconcile.before_commit",
)
INGESTED = {"files": 1, "records": RECORDS, "identities": RECORDS, "queued": RECORDS, "payments": 0}
NOTHING = {"files": 0, "records": 0, "identities": 0, "queued": 0, "payments": 0}


def _subset(got: Mapping[str, object], keys: Mapping[str, object]) -> dict[str, object]:
    return {k: got[k] for k in keys}


def _killed(done) -> None:  # type: ignore[no-untyped-def]
    assert done.returncode == -signal.SIGKILL, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == ""  # it printed no result it did not commit


def _archived(archive_dir: str, data: bytes) -> list[Path]:
    sha = hashlib.sha256(data).hexdigest()
    return sorted(p for p in Path(archive_dir).rglob("*") if p.is_file() and sha in p.name)


@pytest.mark.slow
@pytest.mark.parametrize("point", INGEST_POINTS)
def test_killed_ingest_leaves_nothing_and_the_rerun_stores_each_record_once(
    ctx, cli_env, db_url, tmp_path, point
):
    path = prepare(ctx, tmp_path)

    _killed(
        gateway_cli(
            cli_env, tmp_path, "settlements", "ingest", str(path), "--json", crash_at=point, chunk_rows=3
        )
    )
    assert _subset(state(db_url), NOTHING) == NOTHING

    (result,) = as_json(gateway_here(cli_env, "settlements", "ingest", str(path), "--json"))["files"]
    assert (result["status"], result["records"], result["new_records"], result["duplicate_records"]) == (
        "accepted",
        RECORDS,
        RECORDS,
        0,
    )
    assert result["amount"] == RECORDS * AMOUNT
    assert _subset(state(db_url), INGESTED) == INGESTED
    # the original is archived once (the killed run's copy, if any, was not doubled or replaced)
    (original,) = _archived(cli_env["GATEWAY_ARCHIVE_DIR"], path.read_bytes())
    assert not [p for p in Path(cli_env["GATEWAY_ARCHIVE_DIR"]).rglob(".incoming-*")]
    restored = tmp_path / "restored"
    done = gateway_here(cli_env, "settlements", "original", result["sha256"], "-o", str(restored))
    assert done.returncode == 0, done.stderr
    assert restored.read_bytes() == path.read_bytes()
    assert original.stat().st_size > 0

    # a third delivery is a duplicate; reconciliation places every record once
    (again,) = as_json(gateway_here(cli_env, "settlements", "ingest", str(path), "--json"))["files"]
    assert again["status"] == "duplicate_file"
    run = as_json(gateway_here(cli_env, "reconcile", "--json"))
    assert (run["matched"], run["confirmed"], run["exceptions_opened"]) == (RECORDS, CONFIRMED, 0)
    assert state(db_url) == RECONCILED


@pytest.mark.slow
@pytest.mark.parametrize("point", RECONCILE_POINTS)
def test_killed_reconciliation_changes_nothing_and_the_rerun_places_each_record_once(
    ctx, cli_env, db_url, tmp_path, point
):
    path = prepare(ctx, tmp_path)
    (result,) = as_json(gateway_here(cli_env, "settlements", "ingest", str(path), "--json"))["files"]
    assert result["status"] == "accepted"
    before = state(db_url)
    assert _subset(before, INGESTED) == INGESTED

    _killed(gateway_cli(cli_env, tmp_path, "reconcile", "--json", crash_at=point))
    assert state(db_url) == before  # no payment, status or exception of the killed run survives

    run = as_json(gateway_here(cli_env, "reconcile", "--json"))
    assert (run["matched"], run["confirmed"], run["exceptions_opened"]) == (RECORDS, CONFIRMED, 0)
    assert state(db_url) == RECONCILED
    rerun = as_json(gateway_here(cli_env, "reconcile", "--json"))
    assert (rerun["matched"], rerun["confirmed"], rerun["cancelled"], rerun["exceptions_opened"]) == (
        0,
        0,
        0,
        0,
    )
    assert state(db_url) == RECONCILED


@pytest.mark.slow
def test_a_crash_point_that_is_not_set_does_nothing(ctx, cli_env, db_url, tmp_path):
    """The hook is inert for any other name: a run with an unknown point completes normally."""
    path = prepare(ctx, tmp_path)
    (result,) = as_json(
        gateway_cli(cli_env, tmp_path, "settlements", "ingest", str(path), "--json", crash_at="nowhere")
    )["files"]
    assert result["status"] == "accepted"
    as_json(gateway_here(cli_env, "reconcile", "--json"))
    assert state(db_url) == RECONCILED
