"""Random days of agent data over one to three runs, slips reissued or voided between them, and staff
resolving and undoing exceptions after each run; bank credits of random amounts for the transfer date.

After every run and every resolution, whatever the order the records came in:

* nothing is lost: every settlement record is on a payment or on an exception, and the queue is empty;
* a rerun changes nothing;
* a claim's paid and pending amounts are its confirmed and preliminary payments, and its status follows them;
* a live slip is ``paid`` exactly when the confirmed money on its payment number covers it;
* a payment's accounting entries add up to its amount once it is confirmed and received, to zero otherwise;
* a remittance is matched exactly when the bank credited what was expected, and then every confirmed payment
  due on its transfer date has its receipt date.

``KONBINI_INVARIANT_SEEDS=400`` runs more seeds than the suite's 40.
"""

from __future__ import annotations

import json
import os
import random
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from gateway.casework import exceptions as svc
from gateway.errors import Conflict
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from tests.exceptions.conftest import FINANCE
from tests.exceptions.conftest import World

SEEDS = int(os.environ.get("KONBINI_INVARIANT_SEEDS", "40"))
CLAIMS = ("C1", "C2", "C3")
PAID_AT = ("2026-11-10T09:00", "2026-11-10T10:00", "2026-11-11T11:00")
STORES = ("0001111", "0002222")


def _scalar(world: World, sql: str, **params: object) -> int:
    return int(world.ctx.session.execute(sa.text(sql), params).scalar_one())


def _check(world: World, when: str) -> None:
    again = world.reconcile(when)
    assert again["matched"] == again["confirmed"] == again["cancelled"] == again["exceptions_opened"] == 0, (
        again
    )
    assert _scalar(world, "SELECT count(*) FROM unreconciled_records") == 0

    session = world.ctx.session
    linked: set[int] = set()
    for row in session.execute(
        sa.text("SELECT preliminary_record_id, confirmed_record_id, cancel_record_id FROM payments")
    ).all():
        linked.update(int(x) for x in row if x is not None)
    for (ids,) in session.execute(sa.text("SELECT record_ids FROM recon_exceptions")).all():
        linked.update(int(x) for x in (json.loads(ids) if isinstance(ids, str) else ids) if x is not None)
    records = session.execute(
        sa.text("SELECT id, kind, payment_number, amount FROM settlement_records")
    ).all()
    assert [r for r in records if int(r[0]) not in linked] == []

    for slip_id, number, amount, status in session.execute(
        sa.text("SELECT id, payment_number, amount, status FROM slips WHERE status IN ('issued', 'paid')")
    ).all():
        confirmed = _scalar(
            world,
            "SELECT COALESCE(sum(amount), 0) FROM payments WHERE payment_number = :n AND state = 'confirmed'",
            n=number,
        )
        assert (status == "paid") == (confirmed >= amount), (slip_id, amount, status, confirmed)

    for pid, state, amount, receipt, net in session.execute(
        sa.text(
            """SELECT p.id, p.state, p.amount, p.receipt_date,
                      (SELECT COALESCE(sum(a.amount), 0) FROM accounting_entries a WHERE a.payment_id = p.id)
               FROM payments p"""
        )
    ).all():
        want = amount if state == "confirmed" and receipt is not None else 0

        assert net == want, (pid, state, amount, receipt, net)
    for rid, expected, credited, status, ids in session.execute(
        sa.text("SELECT id, expected, credited, status, bank_record_ids FROM remittances")
    ).all():
        ids = json.loads(ids) if isinstance(ids, str) else ids
        assert (status == "matched") == (bool(ids) and expected == credited), (
            rid,
            expected,
            credited,
            status,
        )

        if status == "matched":
            unreceipted = _scalar(
                world,
                """SELECT count(*) FROM payments p JOIN settlement_records r ON r.id = p.confirmed_record_id
                   WHERE p.state = 'confirmed' AND p.receipt_date IS NULL
                     AND r.transfer_date = (SELECT transfer_date FROM remittances WHERE id = :i)""",
                i=rid,
            )
            assert unreceipted == 0, rid
    for number in CLAIMS:
        doc = world.claim_doc(number)
        payments = world.payments(number)
        assert doc["paid_amount"] == sum(p["amount"] for p in payments if p["state"] == "confirmed")
        assert doc["pending_amount"] == sum(p["amount"] for p in payments if p["state"] == "preliminary")
        paid, amount = doc["paid_amount"], doc["amount"]
        assert doc["status"] == ("open" if paid < amount else "paid" if paid == amount else "overpaid"), doc


def _record(world: World, rnd: random.Random, slips: list[Slip]) -> SimpleNamespace:
    """A 01, 02 or 03 record for one of the slips (an original or a reissue: both pay the same instalment),
    sometimes with the wrong amount, sometimes for a slip this office never issued."""
    barcode = world.barcode(rnd.choice(slips), amount=rnd.choice([None, None, None, 13_000]))
    if rnd.random() < 0.1:
        barcode = world.barcode()
    kind = rnd.choice(["01", "01", "02", "02", "03"])
    return world.rec(kind, barcode, rnd.choice(PAID_AT), store=rnd.choice(STORES))


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_days_keep_the_invariants(world: World, seed: int) -> None:
    rnd = random.Random(seed)
    slips = []
    for number in CLAIMS:
        world.claim(number)
        slips.append(world.slip(number))
    for day in range(20, 20 + rnd.randint(1, 3)):
        world.at(f"2026-11-{day}T08:00")
        live = [x for x in slips if world.slip_status(x) == "issued"]
        try:
            if live and rnd.random() < 0.3:
                slips.append(slip_service.reissue_slip(world.ctx, rnd.choice(live).slip_number))
            elif live and rnd.random() < 0.1:
                slip_service.void_slip(world.ctx, rnd.choice(live).slip_number, "decided by the office")
        except Conflict:  # money already on the instalment: refused, as it should be
            pass
        world.at(f"2026-11-{day}T09:00")
        world.ingest(*(_record(world, rnd, slips) for _ in range(rnd.randint(1, 6))))
        if rnd.random() < 0.5:
            world.bank("2026-11-20", rnd.choice([12_000, 13_000, 24_000, 1_000]))
        when = f"2026-11-{day}T10:00"
        world.reconcile(when)
        _check(world, when)
        for exc in world.exceptions():
            if exc["status"] != "open" or rnd.random() < 0.5:
                continue
            allowed = [
                r
                for r in world.exc(exc["id"])["allowed_resolutions"]
                if r in ("agent_withdrawn", "no_action")
            ]
            svc.resolve(world.as_(FINANCE), exc["id"], rnd.choice(allowed), note="decided by the office")
            _check(world, when)
            if rnd.random() < 0.3:
                svc.unmatch(world.as_(FINANCE), exc["id"], "looked again")
                _check(world, when)
