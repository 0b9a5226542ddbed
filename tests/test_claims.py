"""Claims: recording, validation, CSV import (all or nothing), adjustments, closing, encryption at rest."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.context import Actor
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.issuing import claims as claim_service
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.models import Claim
from gateway.models import ClaimAdjustment
from gateway.models import Debtor
from tests.helpers import make_claim

DATA = Path(__file__).parent / "data" / "claims"
HEADER = (
    "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,debtor_kana,postal_code,debtor_address,"
    "decided_on,assessment_number,assessment_date,revenue_item"
)


def _count(ctx, model) -> int:  # type: ignore[no-untyped-def]
    return ctx.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_create_and_show(ctx):
    make_claim(ctx, amount=45_000, legal_basis="art78")
    doc = overview.show_claim(ctx, "T-0001")
    assert doc["amount"] == 45_000
    assert doc["legal_basis"] == "art78"
    assert (doc["paid_amount"], doc["pending_amount"], doc["balance"], doc["refund_due_amount"]) == (
        0,
        0,
        45_000,
        0,
    )
    assert doc["status"] == "open"
    assert doc["debtor"]["name"] == "見本 花子"
    assert doc["slips"] == [] and doc["payments"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_basis": "art99"}, "legal_basis"),
        ({"amount": 0}, "amount"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"debtor_name": " "}, "debtor_name"),
        ({"postal_code": "12-345"}, "postal_code"),
        ({"number": "has space"}, "number"),
        ({"debtor_ref": "123456789018"}, "debtor_ref"),  # a valid 個人番号
    ],
)
def test_invalid_claims_are_refused_naming_the_field(ctx, changes, field):
    with pytest.raises(InvalidInput) as info:
        make_claim(ctx, **changes)
    assert info.value.field == field
    assert _count(ctx, Claim) == 0


def test_a_twelve_digit_reference_that_is_not_an_individual_number_is_fine(ctx):
    make_claim(ctx, debtor_ref="123456789012")
    assert _count(ctx, Claim) == 1


def test_duplicate_number_is_a_conflict(ctx):
    make_claim(ctx)
    with pytest.raises(Conflict):
        make_claim(ctx)


def test_debtor_fields_are_not_stored_in_clear(ctx, settings, is_postgres):
    make_claim(
        ctx, debtor_name="試験 一意名前", debtor_address="見本県秘密町9番9号", debtor_ref="UNIQUE-REF-77"
    )
    ctx.session.commit()
    if is_postgres:
        rows = ctx.session.execute(sa.text("SELECT * FROM debtors")).all()
        blob = repr(rows)
    else:
        path = Path(settings.database_url.split("///", 1)[1])
        blob = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).decode("utf-8", "replace")
    for secret in ("試験 一意名前", "秘密町", "UNIQUE-REF-77"):
        assert secret not in blob
    assert overview.show_claim(ctx, "T-0001")["debtor"]["name"] == "試験 一意名前"


def test_same_debtor_reference_is_one_debtor(ctx):
    make_claim(ctx, "T-0001", debtor_ref="D1")
    make_claim(ctx, "T-0002", debtor_ref="D1")
    assert _count(ctx, Debtor) == 1


def test_roles_see_masked_debtors_and_views_are_logged(ctx, ctx_as):
    make_claim(ctx)
    accounting = ctx_as(Actor(kind="user", name="acc", role="accounting"))
    doc = overview.show_claim(accounting, "T-0001")
    accounting.commit()
    assert doc["debtor"]["name"] == "***"
    assert doc["debtor"]["ref"] == "REF-T-0001"
    finance = ctx_as(Actor(kind="user", name="fin", role="finance"))
    assert overview.show_claim(finance, "T-0001")["debtor"]["name"] == "見本 花子"
    finance.commit()
    rows = ctx.session.execute(
        sa.text("SELECT actor_name, detail FROM audit_events WHERE action = 'pii.view' ORDER BY id")
    ).all()
    assert [r[0] for r in rows] == ["acc", "fin"]


def test_adjust_keeps_history(ctx):
    make_claim(ctx, amount=12_000)
    claim_service.adjust_claim(ctx, "T-0001", 10_000, "reduced", datetime.date(2026, 11, 20))
    doc = overview.show_claim(ctx, "T-0001")
    assert doc["amount"] == 10_000 and doc["original_amount"] == 12_000
    assert doc["adjustments"][0]["old_amount"] == 12_000
    assert doc["adjustments"][0]["new_amount"] == 10_000
    assert doc["adjustments"][0]["reason"] == "reduced"
    assert _count(ctx, ClaimAdjustment) == 1


def test_reducing_below_live_slips_is_refused(ctx):
    make_claim(ctx, amount=12_000)
    slip_service.issue_slips(ctx, "T-0001")
    with pytest.raises(Conflict) as info:
        claim_service.adjust_claim(ctx, "T-0001", 5_000, "reduced")
    assert info.value.details["live_slips"] == ["2600000000100100-0"]


def test_adjust_needs_a_reason(ctx):
    make_claim(ctx)
    with pytest.raises(InvalidInput):
        claim_service.adjust_claim(ctx, "T-0001", 5_000, "")


def test_close_records_a_decision_and_blocks_changes(ctx):
    make_claim(ctx)
    claim_service.close_claim(ctx, "T-0001", "extinguished", datetime.date(2026, 11, 25), "prescription")
    doc = overview.show_claim(ctx, "T-0001")
    assert (doc["status"], doc["closed_on"], doc["close_reason"]) == (
        "extinguished",
        "2026-11-25",
        "prescription",
    )
    with pytest.raises(Conflict):
        claim_service.close_claim(ctx, "T-0001", "cancelled", datetime.date(2026, 11, 26), "again")
    with pytest.raises(Conflict):
        claim_service.adjust_claim(ctx, "T-0001", 1, "x")


def test_unknown_claim_is_not_found(ctx):
    with pytest.raises(NotFound):
        overview.show_claim(ctx, "NOPE")


# -- CSV import --------------------------------------------------------------------------------------


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


GOOD = (
    "C-1,art63,12000,2026,D-1,見本 一郎,ミホン イチロウ,999-0001,見本県見本市1-1,"
    "2026-11-01,A-1,2026-11-01,返還金",
    "C-2,art78,45000,2026,D-2,試験 花子,,9990002,見本県見本市2-2,,,,",
    "C-3,benefit_return,8000,2025,D-1,見本 一郎,ミホン イチロウ,999-0001,見本県見本市1-1,,,,",
)


def test_import_creates_every_row_and_is_idempotent(ctx):
    result = claim_service.import_claims(ctx, _csv(*GOOD), "claims.csv")
    assert (result.rows, result.created, result.unchanged) == (3, 3, 0)
    assert _count(ctx, Claim) == 3
    assert _count(ctx, Debtor) == 2
    assert overview.show_claim(ctx, "C-2")["debtor"]["postal_code"] == "999-0002"
    again = claim_service.import_claims(ctx, _csv(*GOOD), "claims.csv")
    assert (again.created, again.unchanged) == (0, 3)
    assert _count(ctx, Claim) == 3


def test_import_reads_cp932_with_crlf(ctx):
    raw = _csv(*GOOD).decode().replace("\n", "\r\n").encode("cp932")
    assert claim_service.import_claims(ctx, raw, "sjis.csv").created == 3


@pytest.mark.parametrize(
    ("rows", "line", "field"),
    [
        ((GOOD[0], "C-2,art63,12x00,2026,D-2,見本 二郎,,,,,,,"), 3, "amount"),
        ((GOOD[0], GOOD[1], "C-3,art99,100,2026,D-3,見本 三郎,,,,,,,"), 4, "legal_basis"),
        ((GOOD[0], "C-2,art63,100,2026,D-2,見本 二郎,,,,2026-13-01,,,"), 3, "decided_on"),
        ((GOOD[0], "C-2,art63,100,2026,123456789018,見本 二郎,,,,,,,"), 3, "debtor_ref"),
        ((GOOD[0], GOOD[0]), 3, "number"),
        ((GOOD[0], "C-2,art63,100"), 3, None),
    ],
)
def test_a_bad_row_rejects_the_whole_file_naming_line_and_column(ctx, rows, line, field):
    with pytest.raises(InvalidInput) as info:
        claim_service.import_claims(ctx, _csv(*rows), "bad.csv")
    assert info.value.line == line
    assert info.value.field == field
    assert info.value.file == "bad.csv"
    assert _count(ctx, Claim) == 0
    assert _count(ctx, Debtor) == 0


@pytest.mark.parametrize(
    "extra_column",
    ["個人番号", "マイナンバー", "my_number", "ケース番号", "世帯番号", "case_id", "受給開始日", "comment"],
)
def test_unknown_columns_individual_numbers_and_case_data_are_refused(ctx, extra_column):
    header = HEADER + "," + extra_column
    rows = [r + ",x" for r in GOOD]
    with pytest.raises(InvalidInput) as info:
        claim_service.import_claims(ctx, _csv(*rows, header=header), "x.csv")
    assert info.value.line == 1
    assert info.value.field == extra_column
    assert _count(ctx, Claim) == 0


def test_missing_required_column_is_refused(ctx):
    header = HEADER.replace("debtor_name,", "")
    with pytest.raises(InvalidInput) as info:
        claim_service.import_claims(ctx, _csv(header=header), "x.csv")
    assert info.value.field == "debtor_name"


def test_reimport_with_changed_content_is_refused(ctx):
    claim_service.import_claims(ctx, _csv(*GOOD), "claims.csv")
    changed = GOOD[0].replace(",12000,", ",13000,")
    with pytest.raises(InvalidInput) as info:
        claim_service.import_claims(ctx, _csv(changed, GOOD[1]), "claims.csv")
    assert info.value.line == 2 and info.value.field == "number"


def test_documented_sample_file_imports(ctx):
    result = claim_service.import_claims(ctx, (DATA / "sample.csv").read_bytes(), "sample.csv")
    assert result.created == result.rows > 0
