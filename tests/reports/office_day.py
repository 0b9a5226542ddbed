"""The 収納日報 scenario of ``tests/data/reports/office-day.json`` built through the real path: agent, claims,
instalment slips, a fixed120 file of confirmed records and the bank's credit ingested on the 収入日, payments
recorded by staff, reconciliation. Shared by the office-report tests (the data file's ``description`` says
what it holds)."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.access import agents as agent_service
from gateway.casework import payments as payment_service
from gateway.context import Context
from gateway.intake import ingest
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.conftest import Clock
from tests.helpers import bank_credit
from tests.helpers import make_claim
from tests.helpers import write_bank_file
from tests.reports.conftest import record
from tests.reports.conftest import write_fixed120

DATA = Path(__file__).resolve().parents[1] / "data" / "reports"
SCENARIO = json.loads((DATA / "office-day.json").read_text("utf-8"))
DAY = datetime.date.fromisoformat(SCENARIO["receipt_date"])
REMITTER = "ﾐﾎﾝｼｭｳﾉｳ"
JST = datetime.timezone(datetime.timedelta(hours=9))


def regenerate(golden: Path, data: bytes) -> None:
    """``KONBINI_REGEN_OFFICE=1`` writes a missing golden file, ``=force`` overwrites one (then read the diff
    before keeping it); otherwise nothing is written and the test compares."""
    mode = os.environ.get("KONBINI_REGEN_OFFICE", "")
    if (mode == "1" and not golden.exists()) or mode == "force":
        golden.write_bytes(data)


@dataclass(frozen=True)
class Receipt:
    """One payment of the scenario as the test sees it (from the data file, not from the gateway)."""

    claim: str
    channel: str
    amount: int
    fiscal_year: int
    revenue_item: str | None
    legal_basis: str


def receipts() -> list[Receipt]:
    """Every payment of the scenario: the agent's confirmed records, then the staff's receipts."""
    claims = {c["number"]: c for c in SCENARIO["claims"]}
    out = []
    for r in [*SCENARIO["confirmed"], *SCENARIO["manual"]]:
        c = claims[r["claim"]]
        out.append(
            Receipt(
                r["claim"],
                r["channel"],
                c["instalment_amount"],
                c["fiscal_year"],
                c["revenue_item"],
                c["legal_basis"],
            )
        )
    return out


def build(ctx: Context, clock: Clock, folder: Path) -> dict[str, Any]:
    """Build the scenario; returns the slips per claim (claim number → list of slips, instalment order)."""
    agent = SCENARIO["agent"]
    clock.set("2026-11-20T10:00:00")
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code=agent["code"],
            name="見本収納代行",
            adapters=("fixed120",),
            remittance_mode=agent["mode"],
            fee_per_item=agent["fee_per_item"],
            tax_rate=agent["tax_rate"],
            fee_valid_from=datetime.date(2026, 4, 1),
            channels=tuple(agent["channels"]),
            remitter_name=REMITTER,
        ),
    )
    slips: dict[str, Any] = {}
    for i, c in enumerate(SCENARIO["claims"], start=1):
        make_claim(
            ctx,
            c["number"],
            amount=c["instalments"] * c["instalment_amount"],
            fiscal_year=c["fiscal_year"],
            legal_basis=c["legal_basis"],
            revenue_item=c["revenue_item"],
            assessment_number=f"{c['fiscal_year']}-{i:04d}",
        )
        slips[c["number"]] = slip_service.issue_slips(
            ctx,
            c["number"],
            slip_service.Plan(instalments=c["instalments"], first_due_date=datetime.date(2026, 12, 15)),
        )
    clock.set(f"{DAY.isoformat()}T09:00:00")
    records = []
    gross = 0
    for r in SCENARIO["confirmed"]:
        slip = slips[r["claim"]][r["instalment"] - 1]
        paid = datetime.datetime.fromisoformat(r["paid_at"]).replace(tzinfo=JST)
        records.append(record("02", slip.barcode, paid, r["channel"], transfer=DAY))
        gross += slip.amount
    for path in (
        write_fixed120(folder / "confirmed.txt", DAY, records),
        write_bank_file(folder / "bank.txt", [bank_credit("201", DAY, gross, REMITTER)], created_on=DAY),
    ):
        result = ingest.ingest_file(ctx, path)
        assert result.status == "accepted", result.as_json()
    for r in SCENARIO["manual"]:
        slip = slips[r["claim"]][r["instalment"] - 1]
        payment_service.record_payment(ctx, slip.slip_number, slip.amount, DAY, r["channel"], "窓口で受領")
    reconcile.run(ctx, DAY)
    ctx.session.commit()
    return slips
