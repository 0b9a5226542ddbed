"""Batch printing for the enveloping contractor: order, envelopes, manifest, skipped, recorded, reprint."""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from gateway.errors import NotFound
from gateway.issuing import printing
from gateway.issuing import slips as slip_service
from tests.helpers import PRIVACY_WORDS
from tests.helpers import make_claim


@pytest.fixture
def three_debtors(ctx):
    # debtor A: postal 999-0300, one claim in two instalments → one envelope, two pages
    make_claim(
        ctx,
        "A-1",
        debtor_ref="A",
        debtor_name="見本 エー",
        postal_code="999-0300",
        amount=20_000,
        legal_basis="art78",
    )
    slip_service.issue_slips(ctx, "A-1", slip_service.Plan(instalments=2))
    # debtor B: postal 999-0100 → first envelope
    make_claim(
        ctx,
        "B-1",
        debtor_ref="B",
        debtor_name="見本 ビー",
        postal_code="999-0100",
        debtor_address="見本県見本市北1番",
    )
    slip_service.issue_slips(ctx, "B-1")
    # debtor C: no address → skipped
    make_claim(ctx, "C-1", debtor_ref="C", debtor_name="見本 シー", postal_code=None, debtor_address=None)
    slip_service.issue_slips(ctx, "C-1")


def _pdf_pages(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    return [page.get_textpage().get_text_range() for page in doc]


def test_batch_orders_by_postal_code_one_envelope_per_debtor(ctx, tmp_path, three_debtors):
    result = printing.print_batch(ctx, tmp_path)
    assert (result["envelopes"], result["pages"]) == (2, 3)
    assert [s["claim_number"] for s in result["skipped"]] == ["C-1"]
    pages = _pdf_pages(Path(result["pdf"]))
    assert len(pages) == 3
    assert "〒999-0100" in pages[0] and "見本 ビー" in pages[0]
    assert "〒999-0300" in pages[1] and "見本 エー" in pages[1]
    assert "〒999-0300" not in pages[2]  # second page of the same envelope: no address block
    with open(result["manifest"], encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows == [
        ["sequence", "postal_code", "address", "name", "pages"],
        ["1", "999-0100", "見本県見本市北1番", "見本 ビー", "1"],
        ["2", "999-0300", "見本県見本市中央1丁目2番3号", "見本 エー", "2"],
    ]


def test_batch_files_say_nothing_about_welfare(ctx, tmp_path, three_debtors):
    result = printing.print_batch(ctx, tmp_path)
    names = [Path(result["pdf"]).name, Path(result["manifest"]).name]
    assert names == [
        f"print-batch-{result['batch_id']}.pdf",
        f"print-batch-{result['batch_id']}-manifest.csv",
    ]
    manifest = Path(result["manifest"]).read_text(encoding="utf-8-sig")
    text = "".join(_pdf_pages(Path(result["pdf"])))
    for word in (*PRIVACY_WORDS, "art78"):
        assert word not in manifest
        assert word not in text
    assert "A-1" not in manifest and "B-1" not in manifest  # the mailer needs no claim numbers


def test_a_second_batch_prints_only_new_slips_and_the_batch_is_recorded(ctx, tmp_path, three_debtors):
    first = printing.print_batch(ctx, tmp_path / "1")
    second = printing.print_batch(ctx, tmp_path / "2")
    assert second["batch_id"] is None and second["pdf"] is None
    assert second["envelopes"] == 0 and second["pages"] == 0
    assert [s["claim_number"] for s in second["skipped"]] == ["C-1"]  # still no address: listed again
    rows = ctx.session.execute(
        sa.text(
            "SELECT envelope_seq, page_seq, skipped_reason FROM print_batch_items WHERE batch_id = :b "
            "ORDER BY id"
        ),
        {"b": first["batch_id"]},
    ).all()
    assert sorted((r[0], r[1]) for r in rows if r[2] is None) == [(1, 1), (2, 1), (2, 2)]
    assert [r[2] for r in rows if r[2]] == ["no_address"]


def test_only_slips_issued_on_a_date(ctx, tmp_path, three_debtors, clock):
    clock.advance(days=1)
    make_claim(ctx, "D-1", debtor_ref="D", postal_code="999-0050")
    slip_service.issue_slips(ctx, "D-1")
    result = printing.print_batch(ctx, tmp_path, issued_on=datetime.date(2026, 11, 28))
    assert (result["envelopes"], result["pages"]) == (1, 1)


def test_reprint_and_mailing_date(ctx, tmp_path, three_debtors):
    first = printing.print_batch(ctx, tmp_path / "1")
    slip_service.void_slip(ctx, "2600000000200100-0", "address changed")  # B-1's only slip
    again = printing.reprint_batch(ctx, first["batch_id"], tmp_path / "2")
    assert (again["envelopes"], again["pages"]) == (1, 2)
    assert [s["reason"] for s in again["skipped"]] == ["no_longer_live"]
    printing.record_mailing(ctx, first["batch_id"], datetime.date(2026, 11, 30))
    mailed = ctx.session.execute(
        sa.text("SELECT mailed_on, reprints FROM print_batches WHERE id = :b"), {"b": first["batch_id"]}
    ).one()
    assert str(mailed[0]) == "2026-11-30" and mailed[1] == 1
    with pytest.raises(NotFound):
        printing.reprint_batch(ctx, 999, tmp_path)


def test_print_batch_views_of_names_are_logged(ctx, tmp_path, three_debtors):
    printing.print_batch(ctx, tmp_path)
    purposes = (
        ctx.session.execute(sa.text("SELECT detail FROM audit_events WHERE action = 'pii.view'"))
        .scalars()
        .all()
    )
    assert any("print_batch" in str(d) for d in purposes)


def test_an_address_the_slip_may_not_carry_is_skipped_not_fatal(ctx, tmp_path, three_debtors):
    make_claim(
        ctx, "E-1", debtor_ref="E", postal_code="999-0200", debtor_address="見本県見本市福祉センター内"
    )
    slip_service.issue_slips(ctx, "E-1")
    result = printing.print_batch(ctx, tmp_path)
    assert (result["envelopes"], result["pages"]) == (2, 3)
    reasons = {s["claim_number"]: s["reason"] for s in result["skipped"]}
    assert reasons == {"C-1": "no_address", "E-1": "address_not_printable"}


def test_limit_prints_the_first_envelopes_in_postal_order_and_leaves_the_rest(ctx, tmp_path, three_debtors):
    first = printing.print_batch(ctx, tmp_path / "1", limit=1)
    assert (first["envelopes"], first["pages"]) == (1, 1)  # 999-0100 first
    second = printing.print_batch(ctx, tmp_path / "2")
    assert (second["envelopes"], second["pages"]) == (1, 2)
