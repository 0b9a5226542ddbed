"""The shortest path through the engine (a worked example for new tests): agent, claim, slip, a fixed120
file with a preliminary record, then its confirmation."""

from __future__ import annotations

import datetime
from pathlib import Path

from gateway.intake import ingest
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.helpers import add_fixed120_agent
from tests.helpers import fixed120_record
from tests.helpers import make_claim
from tests.helpers import write_fixed120

JST = datetime.timezone(datetime.timedelta(hours=9))


def write(path: Path, records) -> Path:  # type: ignore[no-untyped-def]
    return write_fixed120(path, records, created_on=datetime.date(2026, 12, 1))


def test_preliminary_then_confirmed(ctx, tmp_path):
    add_fixed120_agent(ctx)
    make_claim(ctx, amount=12_000)
    (slip,) = slip_service.issue_slips(
        ctx, "T-0001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    paid = datetime.datetime(2026, 12, 2, 14, 32, tzinfo=JST)
    preliminary = fixed120_record("01", slip.barcode, paid)
    assert ingest.ingest_file(ctx, write(tmp_path / "d1.txt", [preliminary])).status == "accepted"
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 1
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 0
    assert overview.show_claim(ctx, "T-0001")["pending_amount"] == 12_000
    confirmed = fixed120_record("02", slip.barcode, paid, transfer=datetime.date(2026, 12, 10))
    ingest.ingest_file(ctx, write(tmp_path / "d2.txt", [confirmed]))
    assert reconcile.run(ctx, datetime.date(2026, 12, 8)).confirmed == 1
    doc = overview.show_claim(ctx, "T-0001")
    assert (doc["status"], doc["paid_amount"], doc["slips"][0]["status"]) == ("paid", 12_000, "paid")
