"""The auditor's audit log (Flask test client): Japanese rows, filters, keyset paging and the chain check."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.access import users
from gateway.context import Actor
from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import AuditEvent
from gateway.models.base import table_of
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import csrf
from tests.pages.pagetools import log_in
from tests.pages.pagetools import sign_in
from tests.pages.pagetools import visible_text


@pytest.fixture
def auditor(app: Any, ctx: Context) -> FlaskClient:
    return sign_in(app, ctx, "auditor", "kansa")


@pytest.fixture
def history(ctx: Context, ctx_as: Any) -> dict[str, str]:
    """Claims with slips, one voided by a finance user; a second claim for the claim filter."""
    users.create_user(ctx, "sato", "finance", PASSWORD)
    sato = ctx_as(Actor(kind="user", name="sato", role="finance"))
    make_claim(ctx, "R08-00001")
    make_claim(ctx, "R08-00002")
    [slip] = slip_service.issue_slips(ctx, "R08-00001")
    slip_service.issue_slips(ctx, "R08-00002")
    slip_service.void_slip(sato, slip.slip_number, "宛先不明で返戻")
    return {"slip": slip.slip_number}


def _visible(html: str) -> str:
    return visible_text(html, head=True, selects=False)


def test_rows_are_in_japanese_without_internal_codes(auditor: FlaskClient, history: dict[str, str]) -> None:
    response = auditor.get("/staff/audit")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = _visible(html)
    assert "納付書の無効化" in text and "理由: 宛先不明で返戻" in text
    assert f"納付書 {history['slip']}" in text and "債権 R08-00001" in text
    assert "管理コマンド" in text and "sato" in text
    assert "slip.void" not in text and "user:" not in text and "cli:" not in text and "{" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert "ハッシュチェーンを検証" in text


def test_filters_who_what_when_claim(auditor: FlaskClient, history: dict[str, str], ctx: Context) -> None:
    by_sato = _visible(auditor.get("/staff/audit?who=sato").get_data(as_text=True))
    assert "納付書の無効化" in by_sato and "債権の登録" not in by_sato
    by_cli = _visible(auditor.get("/staff/audit?who=cli").get_data(as_text=True))
    assert "債権の登録" in by_cli and "納付書の無効化" not in by_cli
    created = _visible(auditor.get("/staff/audit?action=claim.create").get_data(as_text=True))
    assert "R08-00001" in created and "R08-00002" in created and "納付書の発行" not in created
    claim = _visible(auditor.get("/staff/audit?claim=R08-00002").get_data(as_text=True))
    assert "債権 R08-00002" in claim and "R08-00001" not in claim and "納付書の発行" in claim
    one = _visible(auditor.get("/staff/audit?claim=R08-00001").get_data(as_text=True))
    assert "納付書の無効化" in one
    missing = auditor.get("/staff/audit?claim=NOPE").get_data(as_text=True)
    assert "債権 NOPE は見つかりません" in missing
    today = "2026-11-27"
    assert "R08-00001" in auditor.get(f"/staff/audit?from={today}&to={today}").get_data(as_text=True)
    before = _visible(auditor.get("/staff/audit?to=2026-11-26").get_data(as_text=True))
    assert "該当する記録はありません" in before
    # the action select offers Japanese names
    assert '<option value="slip.void" >納付書の無効化</option>' in auditor.get("/staff/audit").get_data(
        as_text=True
    )


def test_unknown_actions_and_details(auditor: FlaskClient, ctx: Context) -> None:
    ctx.record("mystery.thing", "widget", "7", colour="blue", amount=1200)
    ctx.commit()
    text = _visible(auditor.get("/staff/audit").get_data(as_text=True))
    assert "その他の操作" in text and "mystery" not in text and "widget" not in text
    assert "詳細あり" in text and "金額" in text and "1,200" in text and "colour" not in text


def test_keyset_paging_both_ways(auditor: FlaskClient, ctx: Context) -> None:
    for n in range(120):
        ctx.record("claim.create", "claim", f"P-{n:03d}", amount=100)
    ctx.commit()
    first = auditor.get("/staff/audit?action=claim.create").get_data(as_text=True)
    assert "P-119" in first and "P-070" in first and "P-069" not in first
    older = re.search(r'href="(/staff/audit\?before=\d+[^"]*)"', first)
    assert older and "新しい50件" not in first
    second = auditor.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "P-069" in second and "P-020" in second and "P-070" not in second
    newer = re.search(r'href="(/staff/audit\?after=\d+[^"]*)"', second)
    assert newer
    back = auditor.get(newer.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "P-119" in back and "P-070" in back and "P-069" not in back


def test_verify_ok_then_tampered(auditor: FlaskClient, history: dict[str, str], ctx: Context) -> None:
    token = csrf(auditor.get("/staff/audit").data)
    ok = auditor.post("/staff/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "正常" in ok and "改ざんの疑い" not in ok and "件を確かめました" in ok
    events = table_of(AuditEvent)
    victim = ctx.session.execute(sa.select(events.c.id).where(events.c.action == "slip.void")).scalar_one()
    ctx.session.execute(sa.update(events).where(events.c.id == victim).values(detail={"reason": "書換え"}))
    ctx.session.commit()
    bad = auditor.post("/staff/audit/verify", data={"csrf_token": token}).get_data(as_text=True)
    assert "改ざんの疑い" in bad and f"記録 {victim} 番" in bad and "書き換えられた" in bad
    assert "hash" not in _visible(bad).lower()


def test_only_the_auditor_opens_it(app: Any, ctx: Context) -> None:
    users.create_user(ctx, "fin", "finance", PASSWORD)
    client, _ = log_in(app, "fin")
    assert client.get("/staff/audit").status_code == 403
    token = csrf(client.get("/staff/today").data)
    assert client.post("/staff/audit/verify", data={"csrf_token": token}).status_code == 403


def test_date_filter_uses_japan_dates_over_many_days(auditor: FlaskClient, ctx: Context, clock: Any) -> None:
    # One event a day at 08:30 Japan time (23:30 UTC the day before), 2026-11-01 … 2026-11-20.
    for day in range(1, 21):
        clock.set(f"2026-11-{day:02d}T08:30:00+09:00")
        ctx.record("claim.create", "claim", f"D-{day:02d}", amount=100)
        ctx.commit()
    html = auditor.get("/staff/audit?action=claim.create&from=2026-11-05&to=2026-11-07").get_data(
        as_text=True
    )
    shown = sorted(set(re.findall(r"債権 (D-\d\d)", _visible(html))))
    assert shown == ["D-05", "D-06", "D-07"]
    assert "2026/11/05 08:30" in html
    late = auditor.get("/staff/audit?from=2026-11-21").get_data(as_text=True)
    assert "D-20" not in late
    early = auditor.get("/staff/audit?to=2026-10-31").get_data(as_text=True)
    assert "該当する記録はありません" in early
