"""Slip staff pages (Flask test client): issue after a preview, the covered balance, the slip page with issue
and mailing dates, reissue, void after a confirmation with a required reason (who and when shown), roles."""

from __future__ import annotations

import datetime
import re
from typing import Any

import sqlalchemy as sa

from gateway.issuing import slips as slip_service
from gateway.models import PrintBatch
from gateway.models import PrintBatchItem
from tests.helpers import make_claim
from tests.pages.pagetools import csrf
from tests.pages.test_claims import text


def test_issue_shows_the_plan_before_creating_anything(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-1", amount=100_000)
    client = login("finance")
    claim = text(client.get("/staff/claims/S-1"))
    assert "発行内容を確認する" in claim
    url = "/staff/claims/S-1/slips/preview?mode=instalments&instalments=3&first_due_date=2026-12-15"
    preview = text(client.get(url))
    assert "3 枚" in preview and "33,333円" in preview and "33,334円" in preview
    assert "2026/12/15" in preview and "2027/01/15" in preview
    assert ctx.session.execute(sa.text("SELECT count(*) FROM slips")).scalar() == 0
    form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', preview))
    done = client.post("/staff/claims/S-1/slips", data=form, follow_redirects=True)
    assert "3 件の納付書を発行しました" in text(done)
    again = text(client.get("/staff/claims/S-1"))
    assert "有効な納付書が残額をすべてカバーしています" in again and "発行内容を確認する" not in again
    covered = text(client.get("/staff/claims/S-1/slips/preview?mode=single"))
    assert "有効な納付書が残額をすべてカバーしています" in covered and "枚発行する" not in covered


def test_a_stale_preview_is_not_issued(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-2", amount=50_000)
    client = login("finance")
    preview = text(client.get("/staff/claims/S-2/slips/preview?mode=single"))
    form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', preview))
    slip_service.issue_slips(ctx, "S-2")  # someone else issued meanwhile
    response = client.post("/staff/claims/S-2/slips", data=form, follow_redirects=True)
    assert "有効な納付書が残額をすべてカバーしています" in text(response)
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM slips")).scalar() == 1


def test_plan_errors_are_japanese(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-3", amount=700_000)
    client = login("finance")
    html = text(client.get("/staff/claims/S-3/slips/preview?mode=single"))
    assert "納付書1枚の上限(300,000円)を超えます。3回以上の分割" in html
    past = text(client.get("/staff/claims/S-3/slips/preview?mode=single&first_due_date=2020-01-01"))
    assert "「初回納期限」が過去の日付です" in past


def test_slip_page_void_needs_a_confirmation_and_a_reason(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-4", amount=20_000)
    slip = slip_service.issue_slips(
        ctx, "S-4", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )[0]
    batch = PrintBatch(created_by="cli:t", mailed_on=datetime.date(2026, 11, 30))
    ctx.session.add(batch)
    ctx.session.flush()
    ctx.session.add(
        PrintBatchItem(batch_id=batch.id, slip_id=slip.id, debtor_id=1, envelope_seq=1, page_seq=1)
    )
    ctx.session.commit()
    client = login("finance")
    page = client.get(f"/staff/slips/{slip.slip_number}")
    html = text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert (
        "令和8年12月15日" in html and "令和8年11月30日" in html and "令和8年11月27日" in html
    )  # due, mailed, issued
    assert "20,000円" in html and "この納付書を無効にする" in html and "取消" not in html
    assert "<form" not in html.split("</header>")[1]  # the void is a link to a confirmation page, not a form
    confirm = client.get(f"/staff/slips/{slip.slip_number}/void")
    assert "この納付書を無効にしますか" in text(confirm) and 'name="reason" required' in text(confirm)
    token = csrf(confirm.data)
    blank = client.post(f"/staff/slips/{slip.slip_number}/void", data={"csrf_token": token, "reason": " "})
    assert blank.status_code == 422 and "「理由」を入力してください" in text(blank)
    ctx.session.commit()
    assert slip_service.get_slip(ctx, slip.slip_number).status == "issued"
    done = client.post(
        f"/staff/slips/{slip.slip_number}/void",
        data={"csrf_token": token, "reason": "宛先誤り"},
        follow_redirects=True,
    )
    html = text(done)
    assert "無効にしました" in html and "宛先誤り" in html and "finance-page" in html
    assert "2026/11/27 10:00" in html  # when, Japan time
    assert "user:" not in html


def test_reissue_from_the_page(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-5", amount=30_000)
    slip = slip_service.issue_slips(ctx, "S-5")[0]
    client = login("finance")
    form = client.get(f"/staff/slips/{slip.slip_number}/reissue")
    assert "再発行する" in text(form)
    done = client.post(
        f"/staff/slips/{slip.slip_number}/reissue",
        data={"csrf_token": csrf(form.data), "due_date": "2027-01-15"},
        follow_redirects=True,
    )
    html = text(done)
    new = f"{slip.payment_number}-1"
    assert f"新しい納付書番号 {new}" in html and "令和9年1月15日" in html
    old = text(client.get(f"/staff/slips/{slip.slip_number}"))
    assert "再発行済" in old and new in old and "この納付書を無効にする" not in old


def test_roles_on_slip_pages(login: Any, ctx: Any) -> None:
    make_claim(ctx, "S-6", amount=10_000)
    slip = slip_service.issue_slips(ctx, "S-6")[0]
    auditor = login("auditor")
    html = text(auditor.get(f"/staff/slips/{slip.slip_number}"))
    assert "10,000円" in html and "無効にする" not in html and "PDF" not in html
    assert auditor.get(f"/staff/slips/{slip.slip_number}/void").status_code == 403
    assert auditor.get(f"/staff/slips/{slip.slip_number}/slip.pdf").status_code == 403
    finance = login("finance")
    pdf = finance.get(f"/staff/slips/{slip.slip_number}/slip.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert finance.get("/staff/slips/2600000000999900-0").status_code == 404


def _batch_form(html: str, **choice: str) -> dict[str, str]:
    form = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', html))
    return {**form, **choice}


def test_batch_issues_for_every_claim_without_a_slip_or_for_none(login: Any, ctx: Any) -> None:
    make_claim(ctx, "B-1", amount=10_000)
    make_claim(ctx, "B-2", amount=700_000)  # above the cap: one slip each is refused
    make_claim(ctx, "B-3", amount=20_000)
    slip_service.issue_slips(ctx, "B-3")  # has a slip already: not offered
    client = login("finance")
    preview = text(client.get("/staff/slips/batch"))
    assert "2 件" in preview and "710,000円" in preview and "B-3" not in preview
    refused = client.post(
        "/staff/slips/batch", data=_batch_form(preview, mode="single"), follow_redirects=True
    )
    assert "債権 B-2: 納付書1枚の上限(300,000円)を超えます" in text(refused)
    assert "納付書は1枚も発行していません" in text(refused)
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM slips")).scalar() == 1
    done = client.post(
        "/staff/slips/batch", data=_batch_form(preview, mode="same_due_date"), follow_redirects=True
    )
    assert "2 件の債権に 4 枚の納付書を発行しました" in text(done)  # 10,000 once, 700,000 in three
    assert "納付書が未発行の債権はありません" in text(done)


def test_a_stale_batch_preview_is_not_issued(login: Any, ctx: Any) -> None:
    make_claim(ctx, "B-4", amount=10_000)
    client = login("finance")
    preview = text(client.get("/staff/slips/batch"))
    make_claim(ctx, "B-5", amount=10_000)  # imported meanwhile: not in what was previewed
    response = client.post(
        "/staff/slips/batch", data=_batch_form(preview, mode="single"), follow_redirects=True
    )
    assert "対象の債権が変わりました" in text(response)
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM slips")).scalar() == 0
