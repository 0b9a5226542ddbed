"""A payment of a slip this office never issued is one ``unknown_slip`` exception holding all its records:
its preliminary, its confirmation and any cancellation, whether they arrive together or in later runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.casework import exceptions as svc
from gateway.context import Actor
from gateway.context import Context
from tests.conftest import Clock
from tests.exceptions.conftest import APPROVER
from tests.exceptions.conftest import FINANCE
from tests.exceptions.conftest import World
from tests.exceptions.conftest import fresh


@pytest.fixture
def world(ctx: Context, clock: Clock, tmp_path: Path, ctx_as: Callable[[Actor], Context]) -> World:
    return World(ctx, clock, tmp_path, ctx_as)


def _unknown(world: World) -> list[dict[str, Any]]:
    """The unknown_slip exceptions: id, status, amount, key and record ids, oldest first."""
    fresh(world.ctx)
    rows = world.ctx.session.execute(
        sa.text(
            "SELECT id, status, amount, key, record_ids FROM recon_exceptions WHERE kind = 'unknown_slip' "
            "ORDER BY id"
        )
    ).all()
    return [
        {"id": r[0], "status": r[1], "amount": r[2], "key": r[3], "records": sorted(_ids(r[4]))} for r in rows
    ]


def _ids(value: Any) -> list[int]:
    return [int(i) for i in (json.loads(value) if isinstance(value, str) else value)]


def _new_unknown(world: World, when: str) -> int:
    """Reconcile at ``when``; how many unknown_slip exceptions the run opened."""
    return int(world.reconcile(when)["by_kind"].get("unknown_slip", 0))


def _record_ids(world: World) -> list[int]:
    fresh(world.ctx)
    return list(world.ctx.session.execute(sa.text("SELECT id FROM settlement_records ORDER BY id")).scalars())


def test_a_preliminary_and_its_confirmation_together_are_one_exception(world: World) -> None:
    barcode = world.barcode()  # claim C1 has no slip: the payment number is unknown to the office
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("01", barcode), world.rec("02", barcode))
    world.bank("2026-11-20", 12_000)  # the agent remitted it: no remittance_mismatch
    result = world.reconcile()
    assert (result["by_kind"], result["exceptions_opened"]) == ({"unknown_slip": 1}, 1)
    (exc,) = _unknown(world)
    assert exc["records"] == _record_ids(world)
    assert len(exc["records"]) == 2
    assert (exc["status"], exc["amount"]) == ("open", 12_000)
    assert exc["key"].startswith("unknown_slip:")

    again = world.reconcile("2026-11-28")  # running twice changes nothing
    assert again["by_kind"] == {}
    assert _unknown(world) == [exc]


def _preliminary_alone(world: World) -> tuple[str, dict[str, Any]]:
    """A preliminary record of an unknown payment, reconciled on its own: its barcode and exception."""
    barcode = world.barcode()
    world.claim("C1")
    world.at("2026-11-11")
    world.ingest(world.rec("01", barcode))
    world.reconcile("2026-11-11")
    (first,) = _unknown(world)
    return barcode, first


def test_a_confirmation_in_a_later_run_joins_the_open_exception(world: World) -> None:
    barcode, first = _preliminary_alone(world)

    world.at("2026-11-18")
    world.ingest(world.rec("02", barcode), world.rec("03", barcode))  # the confirmation, then a withdrawal
    assert _new_unknown(world, "2026-11-18") == 0
    (exc,) = _unknown(world)
    assert (exc["id"], exc["key"]) == (first["id"], first["key"])
    assert exc["records"] == _record_ids(world) and len(exc["records"]) == 3

    # Another payment (another store) of the same unknown number is another exception.
    world.at("2026-11-19")
    world.ingest(world.rec("01", barcode, store="0009999"))
    assert _new_unknown(world, "2026-11-19") == 1
    assert len(_unknown(world)) == 2


def test_matched_both_records_make_one_confirmed_payment(world: World) -> None:
    barcode = world.barcode()
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("01", barcode), world.rec("02", barcode))
    world.bank("2026-11-20", 12_000)
    world.reconcile()
    (exc,) = _unknown(world)
    svc.resolve(world.as_(FINANCE), exc["id"], "matched_to_claim", note="payer phoned", claim_number="C1")
    svc.approve(world.as_(APPROVER), exc["id"])
    (payment,) = world.payments()
    assert (payment["state"], payment["amount"]) == ("confirmed", 12_000)
    assert world.claim_doc("C1")["paid_amount"] == 12_000


def test_records_after_a_resolution_make_a_follow_up_exception(world: World) -> None:
    barcode, first = _preliminary_alone(world)
    svc.resolve(world.as_(FINANCE), first["id"], "no_action", note="not ours")

    world.at("2026-11-18")
    world.ingest(world.rec("02", barcode))
    assert _new_unknown(world, "2026-11-18") == 1
    world.at("2026-11-19")
    world.ingest(world.rec("03", barcode))
    assert _new_unknown(world, "2026-11-19") == 0  # joins the open follow-up
    resolved, follow_up = _unknown(world)
    assert (resolved["status"], resolved["records"]) == ("resolved", first["records"])
    assert follow_up["status"] == "open"
    assert follow_up["key"].startswith(first["key"] + ":")
    assert follow_up["records"] == _record_ids(world)[1:]


def test_an_unknown_confirmation_still_counts_for_its_transfer_date(world: World) -> None:
    """Records of unknown payments leave the queue before the matching steps; the transfer date of their
    confirmation is still evaluated by the three-way match: nothing credited by the deadline is a
    remittance_mismatch (the money was remitted for the office, whatever the slip)."""
    barcode = world.barcode()
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("01", barcode), world.rec("02", barcode))  # transfer date 2026-11-20
    result = world.reconcile("2026-11-27")  # past the deadline of 2026-11-20, no credit came
    assert result["by_kind"] == {"unknown_slip": 1, "remittance_mismatch": 1}
    fresh(world.ctx)
    expected, credited = world.ctx.session.execute(
        sa.text("SELECT expected, credited FROM remittances WHERE transfer_date = '2026-11-20'")
    ).one()
    assert (expected, credited) == (12_000, 0)
