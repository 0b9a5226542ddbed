"""Nothing is lost when an ingest commits while a reconciliation run is in progress (PostgreSQL, where the
two can overlap; SQLite has one writer at a time)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.intake import ingest
from gateway.money import reconcile
from reconciliation import matching
from tests.conftest import OPERATOR
from tests.ingest.conftest import INGEST_DATA
from tests.ingest.conftest import add_agent


def _queued(conn: Any) -> list[int]:
    return list(conn.execute(sa.text("SELECT record_id FROM unreconciled_records ORDER BY 1")).scalars())


@pytest.mark.postgres
def test_records_ingested_during_a_run_wait_for_the_next_run(ctx, runtime, db_url, monkeypatch):
    add_agent(ctx)
    first = ingest.ingest_file(ctx, INGEST_DATA / "overlap-a.txt")
    ctx.session.commit()
    assert first.new_records == 5

    # Hold the run just before it sweeps the queue.
    paused, release = threading.Event(), threading.Event()
    real = matching._cancel_exceptions

    def held(q):  # type: ignore[no-untyped-def]
        paused.set()
        assert release.wait(30)
        real(q)

    monkeypatch.setattr(matching, "_cancel_exceptions", held)
    errors: list[BaseException] = []
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            with runtime.context(OPERATOR) as c:
                outcome["run"] = reconcile.run(c)
        except BaseException as ex:  # reported below
            errors.append(ex)

    def ingest_second() -> None:
        try:
            with runtime.context(OPERATOR) as c:
                outcome["second"] = ingest.ingest_file(c, INGEST_DATA / "overlap-b.txt")
                c.session.commit()
        except BaseException as ex:
            errors.append(ex)

    runner = threading.Thread(target=run)
    runner.start()
    assert paused.wait(30)
    second = threading.Thread(target=ingest_second)
    second.start()
    # The ingest has to wait for the run (it queues its records in a table the run holds).
    engine = sa.create_engine(db_url)
    try:
        deadline = time.monotonic() + 20
        waiting = 0
        while time.monotonic() < deadline and not waiting and second.is_alive():
            with engine.connect() as conn:
                waiting = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            time.sleep(0.05)
        assert waiting == 1, "the second ingest did not wait for the run"
        release.set()
        runner.join(30)
        second.join(30)
        assert not errors, errors
        assert outcome["run"].exceptions_opened == 5  # the first file's records: no slips in this office
        with engine.connect() as conn:
            new_ids = conn.execute(
                sa.text("SELECT id FROM settlement_records WHERE file_id = :f ORDER BY id"),
                {"f": outcome["second"].file_id},
            )
            assert _queued(conn) == list(new_ids.scalars())
            assert len(_queued(conn)) == outcome["second"].new_records == 3
    finally:
        release.set()
        engine.dispose()
    monkeypatch.setattr(matching, "_cancel_exceptions", real)
    again = reconcile.run(ctx)
    # The second file's three records, all of payments with no slip in this office: the confirmation of
    # 1234 and the cancellation of 1235 join their payments' unknown_slip exceptions of the first run; the
    # preliminary of 1236 is a new payment, one new exception.
    assert again.exceptions_opened == 1
    records = ctx.session.execute(
        sa.text("SELECT record_ids FROM recon_exceptions WHERE kind = 'unknown_slip'")
    ).scalars()
    held = sorted(int(i) for ids in records for i in (json.loads(ids) if isinstance(ids, str) else ids))
    assert held == sorted(
        ctx.session.execute(sa.text("SELECT id FROM settlement_records")).scalars()
    )  # every record of both files, each in one exception
    assert list(ctx.session.execute(sa.text("SELECT record_id FROM unreconciled_records")).scalars()) == []
