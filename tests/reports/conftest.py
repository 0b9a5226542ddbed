"""A small office's week, built through the real path: agent, claims, slips, a print batch with its mailing
date, settlement files (fixed120) and a bank transfer notice ingested on two days, reconciliation after each.

Day 1 (received 2026-12-02, a Wednesday), file ``day1.txt`` of agent 12345 (channels 0010, 0020, 0820
enabled; net remittance; fee 130 yen + 10 % tax per item):

====  ====  ==================  =======  =====  ======  ======================================
kind  slip  paid                channel  yen    claim   outcome
====  ====  ==================  =======  =====  ======  ======================================
01    A     2026-12-01 14:32    0020     12000  T-0001  preliminary
01    B     2026-12-01 09:10    0010     10000  T-0002  preliminary, late (due 2026-11-30)
01    C     2026-11-30 18:00    0820     25000  T-0003  preliminary (never confirmed here)
01    D     2026-12-01 11:00    0020      8000  T-0004  preliminary …
03    D     2026-12-01 11:00    0020      8000  T-0004  … cancelled in the same file
01    E     2026-12-01 12:00    0030      5000  T-0005  unexpected_channel (0030 not enabled)
02    G     2026-11-27 10:00    0010      6000  T-0007  confirmed without preliminary, transfer
                                                        2026-12-04 → claim paid off
01    ?     2026-12-01 16:00    0010      3000  —       unknown_slip
====  ====  ==================  =======  =====  ======  ======================================

Day 2 (received 2026-12-04, a Friday): ``day2.txt`` confirms A and B (transfer 2026-12-04); the bank's
transfer notice ``bank.txt`` (value date 2026-12-04) holds the agent's credit of 27,571 yen
(= 28,000 gross − 3 × 130 fee − 39 tax) and a direct transfer of 4,000 yen from a person.

Also: T-0008 (30,000 in three instalments, the first due 2026-11-30) and T-0009 (9,000 due 2026-11-30,
later written off) are printed in a batch mailed on 2026-11-21; D's slip is issued after that batch (so it
has no mailing date). Every name and address is synthetic.
"""

from __future__ import annotations

import datetime
import types
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

from adapters import fixed120
from barcodes.cvs import compose
from barcodes.cvs import compose_payment_number
from gateway.access import agents as agent_service
from gateway.context import Context
from gateway.intake import ingest
from gateway.issuing import claims as claim_service
from gateway.issuing import printing
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from gateway.money import reconcile
from tests.conftest import Clock
from tests.helpers import bank_credit
from tests.helpers import make_claim
from tests.helpers import write_bank_file

JST = datetime.timezone(datetime.timedelta(hours=9))
D = datetime.date
DAY1 = D(2026, 12, 2)
DAY2 = D(2026, 12, 4)
AGENT = "12345"
REMITTER = "ﾐﾎﾝｼｭｳﾉｳ"


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=JST)


def record(
    kind_code: str,
    barcode: str,
    paid_at: datetime.datetime,
    channel: str,
    *,
    transfer: datetime.date | None = None,
    store: str = "0001234",
    amount: int | None = None,
) -> types.SimpleNamespace:
    values: dict[str, Any] = {
        "kind_code": kind_code,
        "barcode": barcode,
        "paid_at": paid_at,
        "channel_code": channel,
        "store_code": store,
        "transfer_date": transfer,
        "accounting_date": transfer,
        "capture_date": paid_at.date(),
    }
    if amount is not None:
        values["amount"] = amount
    return types.SimpleNamespace(**values)


def write_fixed120(path: Path, created: datetime.date, records: list[types.SimpleNamespace]) -> Path:
    with path.open("wb") as fh:
        fixed120.write(
            fh,
            created_on=created,
            agent_code=AGENT,
            consignor_code="00123",
            consignor_name="ﾐﾎﾝｼ",
            records=records,
        )
    return path


def unknown_barcode(amount: int) -> str:
    """A barcode of this office whose payment number matches no slip."""
    return compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number=compose_payment_number(2026, 999_999, 1),
        reissue_count=0,
        expiry=D(2026, 12, 31),
        amount=amount,
    )


@dataclass
class Week:
    ctx: Context
    clock: Clock
    folder: Path
    slips: dict[str, Slip] = field(default_factory=dict)
    """Claim letter → its (first) slip."""
    instalments: list[Slip] = field(default_factory=list)
    """T-0008's three slips."""
    batch_id: int | None = None

    def ingest(self, *paths: Path) -> None:
        for path in paths:
            result = ingest.ingest_file(self.ctx, path)
            assert result.status == "accepted", result.as_json()

    def reconcile(self) -> dict[str, Any]:
        return reconcile.run(self.ctx, self.ctx.today()).as_json()

    def day1(self) -> None:
        s = self.slips
        self.clock.set("2026-12-02T09:00:00")
        self.ingest(
            write_fixed120(
                self.folder / "day1.txt",
                DAY1,
                [
                    record("01", s["A"].barcode, at("2026-12-01T14:32"), "0020"),
                    record("01", s["B"].barcode, at("2026-12-01T09:10"), "0010"),
                    record("01", s["C"].barcode, at("2026-11-30T18:00"), "0820", store="0000000"),
                    record("01", s["D"].barcode, at("2026-12-01T11:00"), "0020"),
                    record("03", s["D"].barcode, at("2026-12-01T11:00"), "0020"),
                    record("01", s["E"].barcode, at("2026-12-01T12:00"), "0030"),
                    record("02", s["G"].barcode, at("2026-11-27T10:00"), "0010", transfer=D(2026, 12, 4)),
                    record("01", unknown_barcode(3000), at("2026-12-01T16:00"), "0010"),
                ],
            )
        )
        self.reconcile()

    def day2(self) -> None:
        s = self.slips
        self.clock.set("2026-12-04T09:00:00")
        self.ingest(
            write_fixed120(
                self.folder / "day2.txt",
                DAY2,
                [
                    record("02", s["A"].barcode, at("2026-12-01T14:32"), "0020", transfer=DAY2),
                    record("02", s["B"].barcode, at("2026-12-01T09:10"), "0010", transfer=DAY2),
                ],
            ),
            write_bank_file(
                self.folder / "bank.txt",
                [bank_credit("101", DAY2, 27_571, REMITTER), bank_credit("102", DAY2, 4_000, "ﾐﾎﾝ ﾀﾛｳ")],
                created_on=DAY2,
            ),
        )
        self.reconcile()


CLAIMS = {
    # letter: (claim number, amount, first due date)
    "A": ("T-0001", 12_000, D(2026, 12, 15)),
    "B": ("T-0002", 10_000, D(2026, 11, 30)),
    "C": ("T-0003", 25_000, D(2026, 12, 15)),
    "E": ("T-0005", 5_000, D(2026, 12, 15)),
    "G": ("T-0007", 6_000, D(2026, 12, 15)),
    "F": ("T-0009", 9_000, D(2026, 11, 30)),
}


@pytest.fixture
def week(ctx: Context, clock: Clock, tmp_path: Path) -> Week:
    """The office before day 1: agent, claims, slips, the print batch (mailed 2026-11-21)."""
    clock.set("2026-11-20T10:00:00")
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code=AGENT,
            name="見本収納代行",
            adapters=("fixed120", "dsk_csv"),
            remittance_mode="net",
            fee_per_item=130,
            tax_rate="10",
            fee_valid_from=D(2026, 4, 1),
            channels=("0010", "0020", "0820", "0910"),
            remitter_name=REMITTER,
        ),
    )
    w = Week(ctx, clock, tmp_path)
    for i, (letter, (number, amount, due)) in enumerate(CLAIMS.items(), start=1):
        make_claim(ctx, number, amount=amount, assessment_number=f"2026-{100 + i:04d}")
        (w.slips[letter],) = slip_service.issue_slips(ctx, number, slip_service.Plan(first_due_date=due))
    make_claim(ctx, "T-0008", amount=30_000, assessment_number="2026-0108")
    w.instalments = slip_service.issue_slips(
        ctx, "T-0008", slip_service.Plan(instalments=3, first_due_date=D(2026, 11, 30))
    )
    batch = printing.print_batch(ctx, tmp_path / "print")
    w.batch_id = batch["batch_id"]
    printing.record_mailing(ctx, batch["batch_id"], D(2026, 11, 21))
    # Issued after the batch: never printed, so no mailing date.
    make_claim(ctx, "T-0004", amount=8_000, assessment_number="2026-0104")
    (w.slips["D"],) = slip_service.issue_slips(
        ctx, "T-0004", slip_service.Plan(first_due_date=D(2026, 12, 15))
    )
    claim_service.close_claim(ctx, "T-0009", "written_off", D(2026, 11, 25), "decided by the office")
    return w
