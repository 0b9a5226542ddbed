"""The shortest path through the engine (a worked example for new tests): agent, claim, slip, a fixed120
file with a preliminary record, then its confirmation."""

from __future__ import annotations

import datetime
import types
from pathlib import Path

from adapters import fixed120
from gateway.services import agents as agent_service
from gateway.services import claims as claim_service
from gateway.services import ingest
from gateway.services import reconcile
from gateway.services import slips as slip_service
from tests.helpers import make_claim

JST = datetime.timezone(datetime.timedelta(hours=9))


def rec(kind_code, barcode, paid_at, *, store="0001234", channel="0020", transfer=None):  # type: ignore[no-untyped-def]
    return types.SimpleNamespace(
        kind_code=kind_code,
        barcode=barcode,
        paid_at=paid_at,
        channel_code=channel,
        store_code=store,
        transfer_date=transfer,
        accounting_date=transfer,
        capture_date=paid_at.date(),
    )


def write(path: Path, records) -> Path:  # type: ignore[no-untyped-def]
    with path.open("wb") as fh:
        fixed120.write(
            fh,
            created_on=datetime.date(2026, 12, 1),
            agent_code="12345",
            consignor_code="00123",
            consignor_name="ﾐﾎﾝｼ",
            records=records,
        )
    return path


def test_preliminary_then_confirmed(ctx, tmp_path):
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code="12345",
            name="見本収納代行",
            channels=("0020",),
            adapters=("fixed120",),
            remitter_name="ﾐﾎﾝｼｭｳﾉｳ",
        ),
    )
    make_claim(ctx, amount=12_000)
    (slip,) = slip_service.issue_slips(
        ctx, "T-0001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    paid = datetime.datetime(2026, 12, 2, 14, 32, tzinfo=JST)
    assert (
        ingest.ingest_file(ctx, write(tmp_path / "d1.txt", [rec("01", slip.barcode, paid)])).status
        == "accepted"
    )
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 1
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 0
    assert claim_service.show_claim(ctx, "T-0001")["pending_amount"] == 12_000
    ingest.ingest_file(
        ctx, write(tmp_path / "d2.txt", [rec("02", slip.barcode, paid, transfer=datetime.date(2026, 12, 10))])
    )
    assert reconcile.run(ctx, datetime.date(2026, 12, 8)).confirmed == 1
    doc = claim_service.show_claim(ctx, "T-0001")
    assert (doc["status"], doc["paid_amount"], doc["slips"][0]["status"]) == ("paid", 12_000, "paid")
