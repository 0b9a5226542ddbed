"""The arrears list: past due and unpaid, preliminary money counted as paid, mailing dates, nothing for paid
or closed claims; names as the role may see them; a notice that the gateway contacts nobody."""

from __future__ import annotations

import csv
import datetime
import io

import sqlalchemy as sa

from gateway.context import Actor
from gateway.issuing import claims as claim_service
from gateway.issuing import slips as slip_service
from gateway.reporting import reports
from tests.reports.conftest import Week

AS_OF = datetime.date(2026, 12, 16)


def test_arrears_by_hand(week: Week) -> None:
    week.day1()
    week.day2()
    week.clock.set("2026-12-16T09:00:00")
    doc = reports.arrears_json(week.ctx, AS_OF)
    # A, B, G are paid; C (25,000) and E (5,000) have preliminary store money only: counted as paid.
    # D's preliminary payment was cancelled: unpaid since its due date 2026-12-15. T-0008's first
    # instalment (due 2026-11-30) is unpaid; the next ones are not due. T-0009 is written off.
    assert [c["claim_number"] for c in doc["claims"]] == ["T-0008", "T-0004"]  # most overdue first
    t8, t4 = doc["claims"]
    first = week.instalments[0]
    assert {k: t8[k] for k in ("amount", "paid_amount", "pending_amount", "balance", "overdue_amount")} == {
        "amount": 30_000,
        "paid_amount": 0,
        "pending_amount": 0,
        "balance": 30_000,
        "overdue_amount": 10_000,
    }
    assert (t8["oldest_due_date"], t8["days_overdue"]) == ("2026-11-30", 16)
    (slip,) = t8["slips"]
    assert slip["slip_number"] == first.slip_number
    assert (slip["instalment"], slip["amount"], slip["overdue_amount"]) == (1, 10_000, 10_000)
    assert (slip["due_date"], slip["barcode_expiry"], slip["barcode_expired"]) == (
        "2026-11-30",
        "2026-12-30",
        False,
    )
    assert slip["mailed_on"] == "2026-11-21"
    assert slip["days_overdue"] == 16
    (d_slip,) = t4["slips"]
    assert d_slip["slip_number"] == week.slips["D"].slip_number
    assert (d_slip["mailed_on"], d_slip["printed_on"]) == (None, None)  # issued after the print batch
    assert (t4["balance"], t4["days_overdue"]) == (8_000, 1)
    assert doc["totals"] == {"claims": 2, "slips": 2, "overdue_amount": 18_000, "balance": 38_000}
    assert any("never contacts a debtor" in n for n in doc["notes"])
    assert any("延滞金を加算しません" in n for n in doc["notes"])


def test_a_payment_after_the_as_of_date_does_not_count(week: Week) -> None:
    week.day1()
    # As of 2026-12-01 B (due 2026-11-30) had been paid that very morning; as of 2026-11-30's end not yet due.
    week.clock.set("2026-12-02T12:00:00")
    doc = reports.arrears_json(week.ctx, datetime.date(2026, 12, 1))
    assert [c["claim_number"] for c in doc["claims"]] == ["T-0008"]
    # Drop B's payment date after the as-of date: B is then in arrears on that date.
    week.ctx.session.execute(sa.text("UPDATE payments SET paid_date = '2026-12-05' WHERE amount = 10000"))
    doc = reports.arrears_json(week.ctx, datetime.date(2026, 12, 1))
    assert [c["claim_number"] for c in doc["claims"]] == ["T-0002", "T-0008"]
    week.ctx.session.rollback()


def test_nothing_for_paid_or_closed_claims(week: Week) -> None:
    week.day1()
    week.day2()
    week.clock.set("2027-03-01T09:00:00")
    doc = reports.arrears_json(week.ctx, datetime.date(2027, 3, 1))
    listed = {c["claim_number"] for c in doc["claims"]}
    assert listed == {"T-0004", "T-0008"}  # A, B, G paid; C, E pending; T-0009 written off
    t8 = next(c for c in doc["claims"] if c["claim_number"] == "T-0008")
    assert [s["instalment"] for s in t8["slips"]] == [1, 2, 3]  # all three due by now
    assert all(s["barcode_expired"] for s in t8["slips"][:2])


def test_a_past_date_is_seen_with_the_slips_and_claims_of_that_date(week: Week) -> None:
    """Reissues, voids and closures recorded later do not change the list for an earlier date."""
    week.day1()
    week.day2()

    def listed(as_of: datetime.date) -> dict[str, list[str]]:
        doc = reports.arrears_json(week.ctx, as_of)
        return {c["claim_number"]: [s["slip_number"] for s in c["slips"]] for c in doc["claims"]}

    before = listed(AS_OF)
    assert before == {
        "T-0008": [week.instalments[0].slip_number],
        "T-0004": [week.slips["D"].slip_number],
    }
    week.clock.set("2026-12-20T10:00:00")
    reissued = slip_service.reissue_slip(week.ctx, week.instalments[0].slip_number)
    slip_service.void_slip(week.ctx, week.slips["D"].slip_number, "the office will collect at its counter")
    week.ctx.commit()
    assert listed(AS_OF) == before
    # From the day of the reissue the new slip (not yet due) stands for the instalment; D's slip is void.
    assert listed(datetime.date(2026, 12, 20)) == {}
    assert reissued.due_date > datetime.date(2026, 12, 20)

    week.clock.set("2026-12-21T10:00:00")
    claim_service.close_claim(week.ctx, "T-0008", "extinguished", datetime.date(2026, 12, 18), "decided")
    week.ctx.commit()
    assert listed(datetime.date(2026, 12, 17)) == {
        "T-0008": [week.instalments[0].slip_number],
        "T-0004": [week.slips["D"].slip_number],
    }
    assert "T-0008" not in listed(datetime.date(2026, 12, 18))  # closed that day


def test_names_by_role_and_logged(week: Week, ctx_as) -> None:  # type: ignore[no-untyped-def]
    week.day1()
    finance = ctx_as(Actor(kind="user", name="fin", role="finance"))
    accounting = ctx_as(Actor(kind="user", name="acc", role="accounting"))
    for c in (finance, accounting):
        c.clock = week.clock
    as_of = datetime.date(2026, 12, 16)
    seen = reports.arrears_json(finance, as_of)["claims"][0]["debtor"]
    finance.commit()
    masked = reports.arrears_json(accounting, as_of)["claims"][0]["debtor"]
    assert seen == {"ref": "REF-T-0008", "name": "見本 花子"}
    assert masked["name"] == "***"
    views = week.ctx.session.execute(
        sa.text("SELECT count(*) FROM audit_events WHERE action = 'pii.view' AND actor_name = 'fin'")
    ).scalar_one()
    assert views == 1


def test_arrears_csv_has_the_notice_then_one_row_per_slip(week: Week) -> None:
    week.day1()
    week.day2()
    doc = reports.arrears_json(week.ctx, AS_OF)
    body = b"".join(reports.arrears_csv_chunks(doc))
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0].startswith("# 滞納一覧 2026-12-16 現在") and "延滞金を加算しません" in lines[0]
    rows = list(csv.DictReader(io.StringIO("\r\n".join(lines[1:]), newline="")))
    assert [(r["claim_number"], r["slip_number"], r["mailed_on"]) for r in rows] == [
        ("T-0008", week.instalments[0].slip_number, "2026-11-21"),
        ("T-0004", week.slips["D"].slip_number, ""),
    ]
