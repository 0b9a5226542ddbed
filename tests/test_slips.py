"""Slip issuance (spec/barcode.md "Rules"): cap, instalments, due dates, live-slip rule, reissue, void."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
import sqlalchemy as sa

from barcodes import cvs
from gateway import audit
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.issuing import claims as claim_service
from gateway.issuing import slips as slip_service
from gateway.issuing.slips import Plan
from tests.conftest import OPERATOR
from tests.helpers import expected_barcode
from tests.helpers import make_claim

D = datetime.date


def test_single_slip_has_the_spec_barcode(ctx):
    make_claim(ctx, amount=12_000)
    (slip,) = slip_service.issue_slips(ctx, "T-0001", Plan(first_due_date=D(2026, 12, 15)))
    assert slip.due_date == D(2026, 12, 15)  # a Tuesday, an office day
    assert slip.barcode_expiry == D(2027, 1, 14)  # + 30 days grace
    assert slip.payment_number == "2600000000100100"
    assert slip.slip_number == "2600000000100100-0"
    assert slip.barcode == expected_barcode(1, 1, 0, "270114", 12_000)
    assert slip.status == "issued"


def test_due_date_on_a_closed_day_moves_to_the_next_office_day(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001", Plan(first_due_date=D(2026, 12, 30)))
    assert slip.due_date == D(2027, 1, 4)  # 12/30 - 1/3 closed, 1/4 is a Monday
    assert slip.barcode_expiry == D(2027, 2, 3)


def test_equal_instalments_put_the_remainder_on_the_last_and_move_monthly_dates(ctx):
    make_claim(ctx, amount=100_000)
    slips = slip_service.issue_slips(ctx, "T-0001", Plan(instalments=3, first_due_date=D(2027, 1, 31)))
    assert [s.amount for s in slips] == [33_333, 33_333, 33_334]
    # 2027-01-31 and 2027-02-28 are Sundays; 2027-03-31 is a Wednesday.
    assert [s.due_date for s in slips] == [D(2027, 2, 1), D(2027, 3, 1), D(2027, 3, 31)]
    assert [s.instalment for s in slips] == [1, 2, 3]
    assert [s.payment_number for s in slips] == ["2600000000100100", "2600000000100200", "2600000000100300"]


def test_month_end_due_dates_clip_to_shorter_months(ctx):
    make_claim(ctx, amount=40_000)
    slips = slip_service.issue_slips(ctx, "T-0001", Plan(instalments=4, first_due_date=D(2027, 3, 31)))
    # 3/31 Wed; 4/30 Fri; 5/31 Mon; 6/30 Wed
    assert [s.due_date for s in slips] == [D(2027, 3, 31), D(2027, 4, 30), D(2027, 5, 31), D(2027, 6, 30)]


def test_monthly_amount_puts_what_remains_on_the_last(ctx):
    make_claim(ctx, amount=250_000)
    slips = slip_service.issue_slips(
        ctx, "T-0001", Plan(monthly_amount=100_000, first_due_date=D(2027, 1, 15))
    )
    assert [s.amount for s in slips] == [100_000, 100_000, 50_000]
    assert [s.due_date for s in slips] == [D(2027, 1, 15), D(2027, 2, 15), D(2027, 3, 15)]


def test_above_the_cap_without_a_plan_names_the_smallest_k(ctx):
    make_claim(ctx, amount=700_000)
    with pytest.raises(InvalidInput) as info:
        slip_service.issue_slips(ctx, "T-0001")
    # floor(700000/2) = 350000 > cap; K=3 gives 233333 + 1 = 233334 <= 300000
    assert info.value.details["smallest_k"] == 3
    assert "3" in info.value.message


def test_instalments_that_exceed_the_cap_are_refused_with_the_smallest_k(ctx):
    make_claim(ctx, amount=1_000_000)
    with pytest.raises(InvalidInput) as info:
        slip_service.issue_slips(ctx, "T-0001", Plan(instalments=3))
    assert info.value.details["smallest_k"] == 4


def test_cap_is_inclusive(ctx):
    make_claim(ctx, amount=300_000)
    (slip,) = slip_service.issue_slips(ctx, "T-0001", Plan(first_due_date=D(2026, 12, 15)))
    assert slip.amount == 300_000


def test_same_due_date_splits_into_the_fewest_slips(ctx):
    make_claim(ctx, amount=700_000)
    slips = slip_service.issue_slips(ctx, "T-0001", Plan(same_due_date=True, first_due_date=D(2026, 12, 15)))
    assert [s.amount for s in slips] == [233_333, 233_333, 233_334]
    assert {s.due_date for s in slips} == {D(2026, 12, 15)}


def test_monthly_amount_above_the_cap_is_refused(ctx):
    make_claim(ctx, amount=700_000)
    with pytest.raises(InvalidInput) as info:
        slip_service.issue_slips(ctx, "T-0001", Plan(monthly_amount=300_001))
    assert info.value.field == "monthly_amount"


def test_only_one_plan_at_a_time(ctx):
    make_claim(ctx)
    with pytest.raises(InvalidInput):
        slip_service.issue_slips(ctx, "T-0001", Plan(instalments=2, monthly_amount=5_000))


def test_live_slip_rule_refuses_a_second_slip_and_names_the_live_one(ctx):
    make_claim(ctx)
    slip_service.issue_slips(ctx, "T-0001")
    with pytest.raises(Conflict) as info:
        slip_service.issue_slips(ctx, "T-0001")
    assert info.value.details["live_slips"] == ["2600000000100100-0"]


def test_a_raised_claim_gets_a_slip_for_the_difference_only(ctx):
    make_claim(ctx, amount=12_000)
    slip_service.issue_slips(ctx, "T-0001")
    claim_service.adjust_claim(ctx, "T-0001", 20_000, "changed assessment")
    (extra,) = slip_service.issue_slips(ctx, "T-0001")
    assert extra.amount == 8_000
    assert extra.instalment == 2


def test_void_then_issue_uses_a_new_instalment_number(ctx):
    make_claim(ctx)
    (first,) = slip_service.issue_slips(ctx, "T-0001")
    slip_service.void_slip(ctx, first.slip_number, "wrong address")
    (second,) = slip_service.issue_slips(ctx, "T-0001")
    assert second.instalment == 2
    assert second.payment_number != first.payment_number
    assert slip_service.get_slip(ctx, first.slip_number).status == "void"


def test_void_needs_a_reason_and_a_live_slip(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    with pytest.raises(InvalidInput):
        slip_service.void_slip(ctx, slip.slip_number, " ")
    slip_service.void_slip(ctx, slip.slip_number, "duplicate")
    with pytest.raises(Conflict):
        slip_service.void_slip(ctx, slip.slip_number, "again")


def test_reissue_keeps_number_and_amount_and_supersedes(ctx):
    make_claim(ctx, amount=12_000)
    (old,) = slip_service.issue_slips(ctx, "T-0001", Plan(first_due_date=D(2026, 12, 15)))
    new = slip_service.reissue_slip(ctx, old.slip_number, D(2027, 1, 15))
    assert new.slip_number == "2600000000100100-1"
    assert (new.payment_number, new.amount, new.instalment) == (old.payment_number, 12_000, 1)
    assert new.due_date == D(2027, 1, 15)
    assert new.barcode_expiry == D(2027, 2, 14)
    assert new.barcode == expected_barcode(1, 1, 1, "270214", 12_000)
    assert slip_service.get_slip(ctx, old.slip_number).status == "superseded"
    with pytest.raises(Conflict):
        slip_service.reissue_slip(ctx, old.slip_number)


def test_reissue_count_stops_at_nine(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    for _ in range(9):
        slip = slip_service.reissue_slip(ctx, slip.slip_number)
    assert slip.reissue_count == 9
    with pytest.raises(Conflict):
        slip_service.reissue_slip(ctx, slip.slip_number)


def test_issued_barcodes_pass_the_strict_check(ctx, settings):
    make_claim(ctx, amount=700_000)
    for slip in slip_service.issue_slips(ctx, "T-0001", Plan(instalments=5)):
        parsed = cvs.validate_issued(
            slip.barcode, issuer_prefix=settings.issuer_prefix, consignor_code=settings.consignor_code
        )
        assert parsed.amount == slip.amount
        assert parsed.expiry == slip.barcode_expiry


def test_closed_claims_get_no_slips_and_closing_voids_live_ones(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    claim_service.close_claim(ctx, "T-0001", "written_off", D(2026, 11, 20), "decided by the office")
    assert slip_service.get_slip(ctx, slip.slip_number).status == "void"
    with pytest.raises(Conflict):
        slip_service.issue_slips(ctx, "T-0001")


def test_first_due_date_in_the_past_is_refused(ctx):
    make_claim(ctx)
    with pytest.raises(InvalidInput):
        slip_service.issue_slips(ctx, "T-0001", Plan(first_due_date=D(2026, 11, 1)))


def test_default_due_date_is_the_end_of_next_month_on_an_office_day(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    # today (pinned) is 2026-11-27; end of December is in the year-end closure → 2027-01-04
    assert slip.due_date == D(2027, 1, 4)


def test_slip_json_shape(ctx):
    make_claim(ctx)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    doc = slip_service.slip_json(slip, "T-0001")
    for key in (
        "slip_number",
        "claim_number",
        "instalment",
        "amount",
        "due_date",
        "barcode_expiry",
        "reissue_count",
        "status",
        "barcode",
    ):
        assert key in doc
    assert len(doc["barcode"]) == 44


# -- many claims in one audited batch


def _slip_count(ctx) -> int:
    return ctx.session.execute(sa.text("SELECT count(*) FROM slips")).scalar_one()


def _actions(ctx) -> list[str]:
    return list(ctx.session.execute(sa.text("SELECT action FROM audit_events ORDER BY id")).scalars())


def test_a_batch_gives_each_claim_what_issuing_it_alone_gives(ctx):
    make_claim(ctx, "T-0001", amount=12_000)
    make_claim(ctx, "T-0002", amount=100_000)
    make_claim(ctx, "T-0003", amount=40_000)
    plan = Plan(instalments=2, first_due_date=D(2027, 1, 31))
    issued = slip_service.issue_slips_for_claims(ctx, ["T-0003", "T-0001", "T-0002", "T-0001"], plan)
    assert list(issued) == ["T-0003", "T-0001", "T-0002"]  # the given order, a repeated number once
    assert [s.amount for s in issued["T-0001"]] == [6_000, 6_000]
    assert [s.amount for s in issued["T-0002"]] == [50_000, 50_000]
    assert [s.due_date for s in issued["T-0002"]] == [D(2027, 2, 1), D(2027, 3, 1)]
    assert [s.payment_number for s in issued["T-0001"]] == ["2600000000100100", "2600000000100200"]
    assert issued["T-0002"][0].barcode == expected_barcode(2, 1, 0, "270303", 50_000)
    assert all(s.id is not None and s.status == "issued" for slips in issued.values() for s in slips)
    assert _slip_count(ctx) == 6


def test_a_batch_continues_each_claims_instalment_numbers(ctx):
    make_claim(ctx, "T-0001")
    make_claim(ctx, "T-0002")
    (first,) = slip_service.issue_slips(ctx, "T-0001")
    slip_service.void_slip(ctx, first.slip_number, "wrong address")
    issued = slip_service.issue_slips_for_claims(ctx, ["T-0001", "T-0002"])
    assert [s.instalment for s in issued["T-0001"]] == [2]
    assert [s.instalment for s in issued["T-0002"]] == [1]


def test_a_batch_records_one_event_per_slip_and_one_for_the_batch(ctx):
    make_claim(ctx, "T-0001", amount=100_000)
    make_claim(ctx, "T-0002", amount=12_000)
    before = len(_actions(ctx))
    issued = slip_service.issue_slips_for_claims(ctx, ["T-0001", "T-0002"], Plan(instalments=3))
    assert _actions(ctx)[before:] == ["slip.issue"] * 6 + ["slips.issue"]
    rows = ctx.session.execute(
        sa.text("SELECT target_id, detail FROM audit_events WHERE action = 'slip.issue' ORDER BY id")
    ).all()
    slips = issued["T-0001"] + issued["T-0002"]
    assert [r.target_id for r in rows] == [s.slip_number for s in slips]
    details = [r.detail if isinstance(r.detail, dict) else json.loads(r.detail) for r in rows]
    assert [d["claim"] for d in details] == ["T-0001"] * 3 + ["T-0002"] * 3
    assert [d["amount"] for d in details] == [s.amount for s in slips]
    summary = ctx.session.execute(
        sa.text("SELECT detail FROM audit_events WHERE action = 'slips.issue'")
    ).scalar_one()
    summary = summary if isinstance(summary, dict) else json.loads(summary)
    assert summary == {"claims": 2, "slips": 6, "amount": 112_000}
    assert audit.verify(ctx.session).ok


def test_one_refused_claim_refuses_the_whole_batch_and_stores_nothing(ctx):
    make_claim(ctx, "T-0001")
    make_claim(ctx, "T-0002", amount=700_000)  # above the cap without a plan
    make_claim(ctx, "T-0003")
    slip_service.issue_slips(ctx, "T-0003")  # a live slip covers it
    make_claim(ctx, "T-0004")
    claim_service.close_claim(ctx, "T-0004", "written_off", D(2026, 11, 20), "decided by the office")
    slips, events = _slip_count(ctx), len(_actions(ctx))
    with pytest.raises(InvalidInput) as info:
        slip_service.issue_slips_for_claims(ctx, ["T-0001", "T-0002", "T-0003", "T-0004"])
    err = info.value
    assert err.key == "slip.above_cap" and err.details["claim"] == "T-0002"
    assert err.details["refused"] == 3
    assert [(e["claim"], e["code"]) for e in err.details["errors"]] == [
        ("T-0002", "invalid_input"),
        ("T-0003", "conflict"),
        ("T-0004", "conflict"),
    ]
    assert err.details["errors"][0]["details"]["smallest_k"] == 3
    assert err.details["errors"][1]["details"]["live_slips"] == ["2600000000300100-0"]
    assert (_slip_count(ctx), len(_actions(ctx))) == (slips, events)
    # The claim that passed every check was not issued either; alone it is.
    assert len(slip_service.issue_slips(ctx, "T-0001")) == 1


def test_an_unknown_claim_refuses_the_batch(ctx):
    make_claim(ctx, "T-0001")
    with pytest.raises(NotFound) as info:
        slip_service.issue_slips_for_claims(ctx, ["T-0001", "T-9999"])
    assert info.value.details["claim"] == "T-9999"
    assert _slip_count(ctx) == 0


def test_a_plan_refused_for_one_claim_alone_keeps_its_own_error(ctx):
    make_claim(ctx, "T-0001", amount=2)
    with pytest.raises(InvalidInput) as info:
        slip_service.issue_slips_for_claims(ctx, ["T-0001"], Plan(instalments=3))
    assert info.value.field == "instalments" and "claim" not in info.value.details


def test_claims_without_slips_are_the_open_ones_never_issued_for(ctx):
    for number in ("T-0001", "T-0002", "T-0003"):
        make_claim(ctx, number)
    (slip,) = slip_service.issue_slips(ctx, "T-0001")
    slip_service.void_slip(ctx, slip.slip_number, "wrong address")  # had one: not "none yet"
    claim_service.close_claim(ctx, "T-0002", "cancelled", D(2026, 11, 20), "decided by the office")
    assert slip_service.claims_without_slips(ctx, ["T-0001", "T-0002", "T-0003", "T-9999"]) == ["T-0003"]


def test_two_overlapping_batches_issue_each_claim_once(ctx, runtime):
    # More claims than one locking chunk (500), in opposite orders: the batches queue, none deadlocks.
    numbers = [f"T-{n:04d}" for n in range(1, 1101)]
    rows = "".join(f"{n},art63,12000,2026,REF-{n},見本 太郎,,,2026-11-01\n" for n in numbers)
    header = (
        "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,postal_code,debtor_address,decided_on\n"
    )
    claim_service.import_claims(ctx, (header + rows).encode(), "claims.csv")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def batch(order: list[str]) -> None:
        with runtime.context(OPERATOR) as other:
            barrier.wait(30)
            try:
                issued = slip_service.issue_slips_for_claims(other, order)
                outcomes.append(f"issued {sum(len(s) for s in issued.values())}")
            except Conflict as ex:
                outcomes.append(f"refused {ex.details['refused']}")

    threads = [threading.Thread(target=batch, args=(o,)) for o in (numbers, numbers[::-1])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["issued 1100", "refused 1100"]
    assert _slip_count(ctx) == 1100
