"""Each resolution and its effect on money (balances, statuses, accounting entries), and its undo."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway.casework import exceptions as svc
from gateway.context import Actor
from gateway.errors import Conflict
from gateway.errors import Forbidden
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from tests.exceptions.conftest import APPROVER
from tests.exceptions.conftest import APPROVER_2
from tests.exceptions.conftest import FINANCE
from tests.exceptions.conftest import FINANCE_2
from tests.exceptions.conftest import World
from tests.exceptions.conftest import day
from tests.exceptions.conftest import fresh


def _actions(world: World, exception_id: int) -> list[tuple[str, str]]:
    world.ctx.session.commit()
    return [(a.action, a.actor) for a in svc.history(world.ctx, exception_id)]


def _match(world: World, exception_id: int, claim: str = "C1") -> None:
    svc.resolve(world.as_(FINANCE), exception_id, "matched_to_claim", note="payer phoned", claim_number=claim)
    svc.approve(world.as_(APPROVER), exception_id)


# -- matched_to_claim ---------------------------------------------------------------------------------------


def test_match_takes_effect_only_on_approval(world: World, unknown: int) -> None:
    pending = svc.resolve(
        world.as_(FINANCE), unknown, "matched_to_claim", note="payer phoned", claim_number="C1"
    )
    assert pending.status == "pending_approval"
    assert world.claim_doc("C1")["paid_amount"] == 0
    assert world.payments() == []

    done = svc.approve(world.as_(APPROVER), unknown, "checked the receipt")
    assert (done.status, done.resolution, done.proposed_by, done.resolved_by) == (
        "resolved",
        "matched_to_claim",
        "user:fin-sato",
        "user:appr-kato",
    )
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"], doc["balance"]) == ("paid", 12_000, 0)
    (payment,) = world.payments()
    assert (payment["source"], payment["state"], payment["amount"], payment["exception_id"]) == (
        "matched",
        "confirmed",
        12_000,
        unknown,
    )
    assert _actions(world, unknown) == [
        ("opened", "system:reconcile"),
        ("proposed", "user:fin-sato"),
        ("approved", "user:appr-kato"),
    ]


def test_match_after_the_remittance_is_matched_gets_receipt_date_and_entry_and_undo_reverses_it(
    world: World,
) -> None:
    world.claim("C1", fiscal_year=2025)
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode(), transfer="2026-11-20"))
    world.bank("2026-11-20", 12_000)
    result = world.reconcile()
    assert result["by_kind"] == {"unknown_slip": 1}
    assert result["remittances_matched"] == 1
    exception_id = world.one("unknown_slip")
    _match(world, exception_id)

    (payment,) = world.payments()
    # Receipt date = the remittance's value date; an FY2025 claim paid in November 2026 is arrears of 2026.
    assert (payment["receipt_date"], payment["fiscal_year"]) == ("2026-11-20", 2026)
    (entry,) = world.entries()
    assert entry[1:] == (payment["id"], "C1", "2026-11-20", 12_000, None)

    svc.unmatch(world.as_(FINANCE), exception_id, "wrong claim: the payer was someone else")
    assert world.payments()[0]["state"] == "cancelled"
    first, reversal = world.entries()
    assert first == entry  # never updated
    assert reversal[1:] == (payment["id"], "C1", "2026-11-27", -12_000, entry[0])
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"], doc["balance"]) == ("open", 0, 12_000)
    exc = world.exc(exception_id)
    assert (exc["status"], exc["resolution"], exc["resolved_by"]) == ("open", None, None)
    assert [a for a, _ in _actions(world, exception_id)] == ["opened", "proposed", "approved", "unmatched"]


def test_a_matched_payment_gets_its_receipt_date_when_the_remittance_matches_later(world: World) -> None:
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode(), transfer="2026-11-20"))
    world.reconcile()
    _match(world, world.one("unknown_slip"))
    assert world.payments()[0]["receipt_date"] is None
    assert world.entries() == []

    world.bank("2026-11-20", 12_000)
    assert world.reconcile("2026-11-28")["remittances_matched"] == 1
    (payment,) = world.payments()
    assert (payment["receipt_date"], payment["fiscal_year"]) == ("2026-11-20", 2026)
    assert [e[4] for e in world.entries()] == [12_000]


def test_a_matched_confirmation_confirms_the_matched_preliminary_payment(world: World) -> None:
    world.claim("C1")
    barcode = world.barcode()
    world.at("2026-11-11")
    world.ingest(world.rec("01", barcode))
    world.reconcile("2026-11-11")
    preliminary = world.one("unknown_slip")
    _match(world, preliminary)
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["pending_amount"], doc["paid_amount"]) == ("open", 12_000, 0)

    world.at("2026-11-18")
    world.ingest(world.rec("02", barcode))
    world.reconcile("2026-11-18")
    confirmation = world.one("unknown_slip")
    _match(world, confirmation)
    (payment,) = world.payments()  # one payment, confirmed: no duplicate
    assert payment["state"] == "confirmed"
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["pending_amount"], doc["paid_amount"]) == ("paid", 0, 12_000)
    assert world.exceptions("duplicate_payment") == []

    with pytest.raises(Conflict):  # the confirmation builds on it: undo that first
        svc.unmatch(world.as_(FINANCE), preliminary, "test")
    svc.unmatch(world.as_(FINANCE), confirmation, "matched too early")
    (payment,) = world.payments()
    assert payment["state"] == "preliminary"
    assert world.claim_doc("C1")["pending_amount"] == 12_000
    svc.unmatch(world.as_(FINANCE), preliminary, "wrong claim")
    assert world.payments()[0]["state"] == "cancelled"
    assert world.claim_doc("C1")["pending_amount"] == 0

    # The records are free again: a new match makes a new payment.
    _match(world, preliminary)
    assert [p["state"] for p in world.payments()] == ["cancelled", "preliminary"]


def test_a_cancellation_record_cannot_be_matched(world: World) -> None:
    world.claim("C1")
    world.at("2026-11-11")
    world.ingest(world.rec("03", world.barcode()))
    world.reconcile("2026-11-11")
    exception_id = world.one("unknown_slip")
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), exception_id, "matched_to_claim", note="x", claim_number="C1")
    assert svc.resolve(world.as_(FINANCE), exception_id, "no_action", note="nothing to cancel").status == (
        "resolved"
    )


def test_match_target_must_exist_and_be_open(world: World, unknown: int) -> None:
    with pytest.raises(NotFound):
        svc.resolve(world.as_(FINANCE), unknown, "matched_to_claim", note="x", claim_number="NOPE")
    with pytest.raises(InvalidInput):
        svc.resolve(world.as_(FINANCE), unknown, "matched_to_claim", note="x")
    from gateway.issuing import claims as claim_service

    claim_service.close_claim(world.ctx, "C1", "written_off", day("2026-11-20"), "decided elsewhere")
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), unknown, "matched_to_claim", note="x", claim_number="C1")


# -- four-eyes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [
        Actor(kind="user", name="fin-ito", role="finance"),
        Actor(kind="user", name="aud-ueda", role="auditor"),
        Actor(kind="cli", name="operator"),  # the operator alone is not an identified approver
        Actor(kind="system", name="scheduler"),
    ],
)
def test_only_an_approver_account_approves(world: World, unknown: int, actor: Actor) -> None:
    svc.resolve(world.as_(FINANCE), unknown, "matched_to_claim", note="x", claim_number="C1")
    with pytest.raises(Forbidden):
        svc.approve(world.as_(actor), unknown)
    with pytest.raises(Forbidden):
        svc.reject(world.as_(actor), unknown, "no")
    assert svc.get(world.as_(APPROVER), unknown).status == "pending_approval"


@pytest.mark.parametrize(
    ("proposer", "approver"),
    [
        # an account whose role was changed to approver after proposing
        (Actor(kind="user", name="kato", role="finance"), Actor(kind="user", name="kato", role="approver")),
        # the operator on the command line, approving under their own staff account
        (Actor(kind="cli", name="kato"), Actor(kind="user", name="kato", role="approver")),
    ],
)
def test_the_proposer_cannot_approve_or_reject(
    world: World, unknown: int, proposer: Actor, approver: Actor
) -> None:
    svc.resolve(world.as_(proposer), unknown, "matched_to_claim", note="x", claim_number="C1")
    with pytest.raises(Forbidden) as err:
        svc.approve(world.as_(approver), unknown)
    assert err.value.code == "four_eyes"
    with pytest.raises(Forbidden):
        svc.reject(world.as_(approver), unknown, "mine")
    assert world.payments() == []
    # Another approver may.
    assert svc.approve(world.as_(APPROVER_2), unknown).status == "resolved"


def test_reject_returns_to_open_and_keeps_the_proposal_in_history(world: World, unknown: int) -> None:
    svc.resolve(world.as_(FINANCE), unknown, "matched_to_claim", note="looks like C1", claim_number="C1")
    with pytest.raises(InvalidInput):
        svc.reject(world.as_(APPROVER), unknown, "  ")
    exc = svc.reject(world.as_(APPROVER), unknown, "the amounts do not fit C1")
    assert (exc.status, exc.resolution, exc.proposed_by, exc.resolution_claim_id) == (
        "open",
        None,
        None,
        None,
    )
    assert world.payments() == []
    with pytest.raises(Conflict):
        svc.approve(world.as_(APPROVER_2), unknown)
    world.ctx.session.commit()
    rows = svc.history(world.ctx, unknown)
    assert [(a.action, a.actor, a.note) for a in rows] == [
        ("opened", "system:reconcile", None),
        ("proposed", "user:fin-sato", "looks like C1"),
        ("rejected", "user:appr-kato", "the amounts do not fit C1"),
    ]
    assert rows[1].data["claim_number"] == "C1"
    assert rows[2].on_date == datetime.date(2026, 11, 27)


@pytest.mark.parametrize("actor", [APPROVER, Actor(kind="user", name="acc-abe", role="accounting")])
def test_only_finance_resolves(world: World, unknown: int, actor: Actor) -> None:
    with pytest.raises(Forbidden):
        svc.resolve(world.as_(actor), unknown, "no_action", note="x")


def test_resolve_needs_a_note_and_an_open_exception_and_a_fitting_resolution(
    world: World, unknown: int
) -> None:
    with pytest.raises(InvalidInput) as err:
        svc.resolve(world.as_(FINANCE), unknown, "no_action", note=" ")
    assert err.value.field == "note"
    with pytest.raises(InvalidInput):
        svc.resolve(world.as_(FINANCE), unknown, "written_off", note="x")
    with pytest.raises(Conflict):  # an unknown slip concerns no claim: nothing to refund from
        svc.resolve(world.as_(FINANCE), unknown, "refund_due", note="x")
    svc.resolve(world.as_(FINANCE), unknown, "no_action", note="test data from the agent")
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), unknown, "no_action", note="again")
    with pytest.raises(NotFound):
        svc.resolve(world.as_(FINANCE), 999_999, "no_action", note="x")


# -- refund_due ----------------------------------------------------------------------------------------------


def test_refund_due_then_refunded_then_undone(world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"], doc["refund_due_amount"]) == ("overpaid", 24_000, 12_000)
    overpayment = paid_twice["overpayment"]

    exc = svc.resolve(
        world.as_(FINANCE),
        overpayment,
        "refund_due",
        note="decision 2026-123",
        refund=svc.RefundInput(decided_on=day("2026-11-26")),
    )
    assert exc.status == "resolved"
    doc_json = world.exc(overpayment)
    assert doc_json["refund"] == {
        "id": doc_json["refund"]["id"],
        "amount": 12_000,
        "decided_on": "2026-11-26",
        "fiscal_year": 2026,
        "status": "refund_due",
        "refunded_on": None,
    }
    # Decided, not yet paid back: still owed to the debtor.
    assert world.claim_doc("C1")["refund_due_amount"] == 12_000
    # The same excess cannot be refunded twice.
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), paid_twice["duplicate"], "refund_due", note="again")

    with pytest.raises(InvalidInput):
        svc.mark_refunded(world.as_(FINANCE), overpayment, day("2026-11-25"))  # before the decision
    with pytest.raises(InvalidInput):
        svc.mark_refunded(world.as_(FINANCE), overpayment, day("2026-11-28"))  # in the future
    svc.mark_refunded(world.as_(FINANCE), overpayment, day("2026-11-27"))
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"], doc["refund_due_amount"]) == ("paid", 24_000, 0)
    with pytest.raises(Conflict):
        svc.mark_refunded(world.as_(FINANCE), overpayment, day("2026-11-27"))

    svc.unmatch(world.as_(FINANCE), overpayment, "refund recorded on the wrong claim")
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["refund_due_amount"]) == ("overpaid", 12_000)
    exc_doc = world.exc(overpayment)
    assert exc_doc["status"] == "open"
    assert exc_doc["refund"]["status"] == "undone"
    assert [a["action"] for a in exc_doc["actions"]] == ["opened", "resolved", "refunded", "unmatched"]
    assert exc_doc["actions"][-1]["data"]["undone"]["refund_status"] == "refunded"


def test_refund_amount_and_year_are_recorded_as_decided(world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(Conflict):
        svc.resolve(
            world.as_(FINANCE),
            paid_twice["overpayment"],
            "refund_due",
            note="x",
            refund=svc.RefundInput(amount=12_001),
        )
    with pytest.raises(InvalidInput):
        svc.resolve(
            world.as_(FINANCE),
            paid_twice["overpayment"],
            "refund_due",
            note="x",
            refund=svc.RefundInput(decided_on=day("2026-12-01")),
        )
    svc.resolve(
        world.as_(FINANCE),
        paid_twice["overpayment"],
        "refund_due",
        note="part refund",
        refund=svc.RefundInput(decided_on=day("2026-11-26"), amount=5_000, fiscal_year=2025),
    )
    doc = world.exc(paid_twice["overpayment"])
    assert (doc["refund"]["amount"], doc["refund"]["fiscal_year"]) == (5_000, 2025)
    # The rest can still be refunded for the duplicate.
    svc.resolve(
        world.as_(FINANCE),
        paid_twice["duplicate"],
        "refund_due",
        note="rest",
        refund=svc.RefundInput(amount=7_000),
    )


# -- applied_to_claim ----------------------------------------------------------------------------------------


def test_applied_to_claim_moves_money_between_claims_of_the_same_debtor(
    world: World, paid_twice: dict
) -> None:  # type: ignore[type-arg]
    world.claim("C2", debtor="REF-C1", legal_basis="art78")
    world.claim("C3")  # another debtor
    overpayment = paid_twice["overpayment"]
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), overpayment, "applied_to_claim", note="x", claim_number="C3")
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), overpayment, "applied_to_claim", note="x", claim_number="C1")

    svc.resolve(
        world.as_(FINANCE), overpayment, "applied_to_claim", note="充当 decision 7", claim_number="C2"
    )
    assert world.claim_doc("C2")["paid_amount"] == 0  # not before approval
    svc.approve(world.as_(APPROVER), overpayment)

    c1, c2 = world.claim_doc("C1"), world.claim_doc("C2")
    assert (c1["status"], c1["paid_amount"], c1["refund_due_amount"]) == ("paid", 12_000, 0)
    assert (c2["status"], c2["paid_amount"], c2["balance"]) == ("paid", 12_000, 0)
    applied = [p for p in world.payments() if p["source"].startswith("applied")]
    assert [(p["claim"], p["source"], p["amount"], p["receipt_date"], p["fiscal_year"]) for p in applied] == [
        ("C1", "applied_out", -12_000, "2026-11-27", 2026),
        ("C2", "applied_in", 12_000, "2026-11-27", 2026),
    ]
    entries = world.entries()
    assert [(e[2], e[3], e[4], e[5]) for e in entries] == [
        ("C1", "2026-11-27", -12_000, None),
        ("C2", "2026-11-27", 12_000, None),
    ]
    world.ctx.session.commit()
    approved = svc.history(world.ctx, overpayment)[-1]
    assert (approved.data["source_legal_basis"], approved.data["target_legal_basis"]) == ("art63", "art78")

    svc.unmatch(world.as_(FINANCE), overpayment, "applied to the wrong claim")
    assert [p["state"] for p in world.payments() if p["source"].startswith("applied")] == ["cancelled"] * 2
    after = world.entries()
    assert after[:2] == entries  # the original rows are untouched
    assert [(e[2], e[4], e[5]) for e in after[2:]] == [
        ("C1", 12_000, entries[0][0]),
        ("C2", -12_000, entries[1][0]),
    ]
    c1, c2 = world.claim_doc("C1"), world.claim_doc("C2")
    assert (c1["status"], c1["refund_due_amount"]) == ("overpaid", 12_000)
    assert (c2["status"], c2["paid_amount"]) == ("open", 0)


def test_applying_part_of_an_excess_leaves_the_rest_flagged(world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    world.claim("C2", 5_000, debtor="REF-C1")
    overpayment = paid_twice["overpayment"]
    with pytest.raises(Conflict):  # 12,000 would overpay a 5,000 claim
        svc.resolve(world.as_(FINANCE), overpayment, "applied_to_claim", note="x", claim_number="C2")
    svc.resolve(
        world.as_(FINANCE), overpayment, "applied_to_claim", note="x", claim_number="C2", amount=5_000
    )
    svc.approve(world.as_(APPROVER), overpayment)
    assert world.claim_doc("C2")["status"] == "paid"
    assert world.claim_doc("C1")["refund_due_amount"] == 7_000
    rest = [e for e in world.exceptions("overpayment") if e["status"] == "open"]
    assert [e["amount"] for e in rest] == [7_000]


def test_approval_checks_the_money_again(world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    world.claim("C2", debtor="REF-C1")
    overpayment = paid_twice["overpayment"]
    svc.resolve(world.as_(FINANCE), overpayment, "applied_to_claim", note="x", claim_number="C2")
    # Meanwhile the same excess is refunded through the duplicate.
    svc.resolve(world.as_(FINANCE_2), paid_twice["duplicate"], "refund_due", note="refund decided")
    with pytest.raises(Conflict):
        svc.approve(world.as_(APPROVER), overpayment)
    assert world.exc(overpayment)["status"] == "pending_approval"
    assert world.claim_doc("C2")["paid_amount"] == 0


# -- agent_withdrawn, no_action ------------------------------------------------------------------------------


def test_agent_withdrawn_cancels_the_payment_and_undo_reinstates_it(world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode(slip, amount=13_000)))
    world.reconcile()
    mismatch = world.one("amount_mismatch")
    assert world.slip_status(slip) == "paid"
    assert world.claim_doc("C1")["status"] == "overpaid"

    svc.resolve(world.as_(FINANCE), mismatch, "agent_withdrawn", note="agent withdrew the record on 11-26")
    assert world.payments()[0]["state"] == "cancelled"
    assert world.slip_status(slip) == "issued"
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"]) == ("open", 0)

    svc.unmatch(world.as_(FINANCE), mismatch, "the agent sent it again")
    assert world.payments()[0]["state"] == "confirmed"
    assert world.slip_status(slip) == "paid"
    assert world.claim_doc("C1")["status"] == "overpaid"
    assert len(world.exceptions("amount_mismatch")) == 1  # the same exception, open again


@pytest.mark.parametrize(
    "cancel_paid",
    [
        pytest.param("2026-11-10T14:32", id="the cancellation names the payment's own record"),
        pytest.param("2026-11-10T15:00", id="the only confirmed payment of that number"),
    ],
)
def test_a_cancellation_after_confirmation_withdrawn_by_the_agent_cancels_the_payment(
    world: World, cancel_paid: str
) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("01", slip.barcode), world.rec("02", slip.barcode))
    world.reconcile()
    world.at("2026-11-24")
    world.ingest(world.rec("03", slip.barcode, cancel_paid))
    world.reconcile("2026-11-24")
    late_cancel = world.one("cancel_after_confirmation")
    assert world.payments()[0]["state"] == "confirmed"  # nothing moves until a person decides
    assert "agent_withdrawn" in world.exc(late_cancel)["allowed_resolutions"]

    svc.resolve(world.as_(FINANCE), late_cancel, "agent_withdrawn", note="agent: refunded at the till")
    assert world.payments()[0]["state"] == "cancelled"
    assert world.slip_status(slip) == "issued"
    doc = world.claim_doc("C1")
    assert (doc["status"], doc["paid_amount"], doc["balance"]) == ("open", 0, 12_000)

    svc.unmatch(world.as_(FINANCE), late_cancel, "the agent says the cancellation was sent in error")
    assert world.payments()[0]["state"] == "confirmed"
    assert world.slip_status(slip) == "paid"
    assert world.claim_doc("C1")["status"] == "paid"
    world.reconcile("2026-11-25")  # a rerun leaves the decision alone
    assert world.payments()[0]["state"] == "confirmed"


def test_a_late_cancellation_that_could_mean_two_payments_cancels_neither(world: World) -> None:
    world.claim("C1", amount=24_000)
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(
        world.rec("02", slip.barcode, "2026-11-10T09:00", store="0001111"),
        world.rec("02", slip.barcode, "2026-11-11T18:00", store="0002222"),
    )
    world.reconcile()
    world.at("2026-11-24")
    world.ingest(world.rec("03", slip.barcode, "2026-11-12T10:00", store="0003333"))
    world.reconcile("2026-11-24")
    late_cancel = world.one("cancel_after_confirmation")
    svc.resolve(world.as_(FINANCE), late_cancel, "agent_withdrawn", note="agent withdrew it")
    assert [p["state"] for p in world.payments()] == ["confirmed", "confirmed"]
    assert world.exc(late_cancel)["status"] == "resolved"


def test_agent_withdrawn_is_not_offered_for_money_staff_recorded(world: World) -> None:
    from gateway.casework import payments

    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", slip.barcode))
    world.reconcile()
    world.tick()
    payments.record_payment(world.ctx, slip.slip_number, 12_000, day("2026-11-26"), "window", "receipt 17")
    duplicate = world.one("duplicate_payment")
    assert "agent_withdrawn" not in world.exc(duplicate)["allowed_resolutions"]
    with pytest.raises(Conflict):
        svc.resolve(world.as_(FINANCE), duplicate, "agent_withdrawn", note="x")


def test_no_action_changes_nothing_but_the_status_and_can_be_undone(world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    before = (world.claim_doc("C1"), world.payments(), world.entries())
    exc = svc.resolve(world.as_(FINANCE), paid_twice["duplicate"], "no_action", note="paid again on purpose")
    assert (exc.status, exc.resolution, exc.resolved_by) == ("resolved", "no_action", "user:fin-sato")
    assert (world.claim_doc("C1"), world.payments(), world.entries()) == before
    assert svc.unmatch(world.as_(FINANCE), paid_twice["duplicate"], "look again").status == "open"
    with pytest.raises(Conflict):  # open: nothing to undo
        svc.unmatch(world.as_(FINANCE), paid_twice["duplicate"], "again")
    svc.resolve(world.as_(FINANCE), paid_twice["duplicate"], "no_action", note="x")
    with pytest.raises(InvalidInput):
        svc.unmatch(world.as_(FINANCE), paid_twice["duplicate"], "")


def test_a_resolution_the_system_made_can_be_undone(world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", slip.barcode, transfer="2026-11-20"))
    world.bank("2026-11-20", 11_000)
    world.reconcile()
    mismatch = world.one("remittance_mismatch")
    world.bank("2026-11-20", 1_000)  # the rest arrives: the figures agree, the system closes it
    world.reconcile("2026-11-28")
    exc = svc.get(world.as_(FINANCE), mismatch)
    assert (exc.status, exc.resolution, exc.resolved_by) == ("resolved", "no_action", "system:reconcile")
    exc = svc.unmatch(world.as_(FINANCE), mismatch, "the second credit belongs to another office")
    assert exc.status == "open"
    assert [a for a, _ in _actions(world, mismatch)] == ["opened", "resolved", "unmatched"]


# -- queue ---------------------------------------------------------------------------------------------------


def test_pagination_and_filters(world: World) -> None:
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(
        *[world.rec("02", world.barcode(serial=900_000 + i), transfer="2026-11-20") for i in range(5)]
    )
    world.bank("2026-11-20", 60_000)
    world.reconcile()
    c = world.ctx
    ids = [e["id"] for e in world.exceptions("unknown_slip")]
    assert len(ids) == 5
    first = svc.page(c, status="open", kind="unknown_slip", limit=2)
    assert [d["id"] for d in first["items"]] == ids[:2]
    second = svc.page(c, status="open", kind="unknown_slip", cursor=first["next"], limit=2)
    assert [d["id"] for d in second["items"]] == ids[2:4]
    third = svc.page(c, status="open", kind="unknown_slip", cursor=second["next"], limit=2)
    assert ([d["id"] for d in third["items"]], third["next"]) == (ids[4:], None)

    svc.resolve(world.as_(FINANCE), ids[0], "no_action", note="test record")
    fresh(world.ctx)
    fresh_ids = [d["id"] for d in svc.page(world.ctx, status="open", kind="unknown_slip")["items"]]
    assert fresh_ids == ids[1:]
    assert [d["id"] for d in svc.page(world.ctx, status="resolved")["items"]] == ids[:1]
    assert svc.count_by_kind(world.ctx, "open") == {"unknown_slip": 4}
    assert svc.count_by_kind(world.ctx) == {"unknown_slip": 5}
    item = svc.page(world.ctx, kind="unknown_slip", limit=1)["items"][0]
    assert {"id", "kind", "status", "slip_number", "claim_number", "amount", "record_ids", "detail"} <= set(
        item
    )
    with pytest.raises(InvalidInput):
        svc.page(world.ctx, cursor="abc")
    with pytest.raises(InvalidInput):
        svc.page(world.ctx, status="closed")
    with pytest.raises(InvalidInput):
        svc.page(world.ctx, kind="surprise")


def test_every_change_is_audited_and_the_chain_holds(world: World, unknown: int) -> None:
    _match(world, unknown)
    svc.unmatch(world.as_(FINANCE), unknown, "undo")
    world.ctx.session.commit()
    rows = world.ctx.session.execute(
        sa.text("SELECT action, actor_name FROM audit_events WHERE target_type = 'exception' ORDER BY id")
    ).all()
    assert [tuple(r) for r in rows] == [
        ("exception.propose", "fin-sato"),
        ("exception.approve", "appr-kato"),
        ("exception.unmatch", "fin-sato"),
    ]
    assert audit.verify(world.ctx.session).ok


def test_a_refund_defaults_to_what_the_claim_holds_beyond_its_amount(world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode(slip, amount=13_000)))
    world.reconcile()
    svc.resolve(world.as_(FINANCE), world.one("amount_mismatch"), "refund_due", note="paid 1,000 too much")
    doc = world.exc(world.exceptions("amount_mismatch")[0]["id"])
    assert (doc["amount"], doc["refund"]["amount"], doc["refund"]["fiscal_year"]) == (13_000, 1_000, 2026)
    assert doc["refund"]["decided_on"] == "2026-11-27"
