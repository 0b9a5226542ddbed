"""Settlement-data staff pages (Flask test client): multi-file upload with Japanese outcomes, the received
files and their records, audited original downloads, the reconcile button and the scheduled-jobs page."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.context import Context
from gateway.jobs import RUNS
from gateway.models import AuditEvent
from tests.ingest.conftest import add_agent
from tests.pages.pagetools import csrf
from tests.pages.pagetools import visible_text

DATA = Path(__file__).parents[1] / "data"
GOOD = DATA / "ingest" / "overlap-a.txt"
BAD = DATA / "pages" / "bad-payment-date.txt"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def agent(ctx: Context) -> Any:
    return add_agent(ctx)


def _upload(client: FlaskClient, *files: tuple[str, bytes]) -> str:
    token = csrf(client.get("/staff/settlements").data)
    response = client.post(
        "/staff/settlements/upload",
        data={"csrf_token": token, "files": [(io.BytesIO(body), name) for name, body in files]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def _audit(ctx: Context, action: str) -> list[AuditEvent]:
    ctx.session.commit()
    return list(ctx.session.exec(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())  # type: ignore[call-overload]


def test_one_good_one_duplicate_one_bad_file_in_one_upload(login: Any, agent: Any) -> None:
    client = login("finance")
    html = _upload(
        client,
        ("overlap-a.txt", GOOD.read_bytes()),
        ("again.txt", GOOD.read_bytes()),
        ("bad-payment-date.txt", BAD.read_bytes()),
    )
    rows = re.findall(r"<tr class=\"(accepted|duplicate_file|rejected)\">(.*?)</tr>", html, re.S)
    assert [status for status, _ in rows] == ["accepted", "duplicate_file", "rejected"]
    good, duplicate, bad = (visible_text(row) for _, row in rows)
    assert "取込済" in good and "速報 4件 50,777円" in good and "確報 1件 5,000円" in good
    assert "55,777円" in good
    assert "重複" in duplicate
    assert "以前に取り込み済み" in html
    assert "不備" in bad
    assert "3行目「納付日」" in bad and "(値: 20261341)" in bad
    text = visible_text(html)
    for code in ("payment_date", "fixed120", "FieldError", "01", "accepted", "duplicate_file"):
        assert code not in text, code


def test_the_list_and_a_file_page_in_japanese(login: Any, agent: Any, ctx: Context) -> None:
    client = login("finance")
    _upload(client, ("overlap-a.txt", GOOD.read_bytes()), ("bad-payment-date.txt", BAD.read_bytes()))
    html = client.get("/staff/settlements").get_data(as_text=True)
    text = visible_text(html)
    assert "overlap-a.txt" in text and "見本収納代行12345" in text and "取込済" in text
    assert "2026/11/27 10:00" in text  # received time, Japan time to the minute
    # the rejected file is listed with its located error
    assert "bad-payment-date.txt" in text and "3行目「納付日」" in text
    assert not ISO.search(text)
    file_id = re.search(r'href="/staff/settlements/(\d+)"', html)
    assert file_id
    page = client.get(f"/staff/settlements/{file_id.group(1)}")
    assert page.headers["Cache-Control"] == "no-store"
    body = page.get_data(as_text=True)
    text = visible_text(body)
    assert "2600000123400100" in text  # a payment number (barcode positions 14-29)
    assert "10,000円" in text and "セブン-イレブン" in text and "PayPay" in text
    assert "速報" in text and "確報" in text
    assert "2026/11/27 09:05" in text
    assert "<td>0010</td>" not in body and "0820" not in text and not ISO.search(text)


def test_record_pages_go_both_ways(login: Any, agent: Any, app: Any) -> None:
    from gateway.pages import settlements as module

    client = login("finance")
    _upload(client, ("overlap-a.txt", GOOD.read_bytes()))
    old, module.PAGE = module.PAGE, 2
    try:
        first = client.get("/staff/settlements/1").get_data(as_text=True)
        later = re.search(r'href="(/staff/settlements/1\?after=\d+)"', first)
        assert later and "?before=" not in first
        second = client.get(later.group(1).replace("&amp;", "&")).get_data(as_text=True)
        earlier = re.search(r'href="(/staff/settlements/1\?before=\d+)"', second)
        assert earlier
        back = client.get(earlier.group(1)).get_data(as_text=True)
        assert re.findall(r'<td class="num">(\d+)</td>', back)[:1] == ["2"]  # line 2 is the first record
    finally:
        module.PAGE = old


def test_original_download_is_logged_and_limited_to_finance_and_accounting(
    login: Any, agent: Any, ctx: Context
) -> None:
    client = login("finance")
    _upload(client, ("overlap-a.txt", GOOD.read_bytes()))
    response = client.get("/staff/settlements/1/original")
    assert response.status_code == 200
    assert response.data == GOOD.read_bytes()
    assert "overlap-a.txt" in response.headers["Content-Disposition"]
    events = _audit(ctx, "settlement_file.original")
    assert len(events) == 1 and events[0].actor_name == "finance-page"
    assert login("accounting").get("/staff/settlements/1/original").status_code == 200
    assert len(_audit(ctx, "settlement_file.original")) == 2
    auditor = login("auditor")
    assert auditor.get("/staff/settlements/1").status_code == 200
    assert auditor.get("/staff/settlements/1/original").status_code == 403
    assert "原本をダウンロード" not in auditor.get("/staff/settlements/1").get_data(as_text=True)
    assert "取り込む" not in visible_text(auditor.get("/staff/settlements").get_data(as_text=True))
    assert login("print_vendor").get("/staff/settlements").status_code == 403
    missing = client.get("/staff/settlements/99")
    assert missing.status_code == 404 and "見つかりません" in missing.get_data(as_text=True)


def test_reconcile_button_shows_what_it_did(login: Any, agent: Any) -> None:
    client = login("accounting")
    _upload(client, ("overlap-a.txt", GOOD.read_bytes()))
    token = csrf(client.get("/staff/settlements").data)
    response = client.post("/staff/reconcile", data={"csrf_token": token})
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True))
    assert "消込の結果" in text
    # five records of slips this office never issued: five exceptions of one kind
    assert re.search(r"例外\s+5件", text)
    assert "該当納付書なし" in text and "unknown_slip" not in text
    again = client.post("/staff/reconcile", data={"csrf_token": token})
    assert re.search(r"例外\s+0件", visible_text(again.get_data(as_text=True)))
    assert login("auditor").post("/staff/reconcile", data={"csrf_token": token}).status_code in (400, 403)


def test_upload_without_a_file_says_what_to_do(login: Any) -> None:
    client = login("finance")
    token = csrf(client.get("/staff/settlements").data)
    response = client.post("/staff/settlements/upload", data={"csrf_token": token})
    assert "取り込むファイルを選んでください" in response.get_data(as_text=True)


@pytest.fixture
def job_runs(ctx: Context) -> None:
    at = datetime.datetime(2026, 11, 26, 23, 0, tzinfo=datetime.UTC)
    rows = [
        {"job": "inbox", "outcome": "ok", "started_at": at, "error": None},
        {
            "job": "fetch",
            "outcome": "failed",
            "started_at": at - datetime.timedelta(hours=1),
            "error": "ConnectionError: source agent-a refused the connection",
        },
        {"job": "fetch", "outcome": "ok", "started_at": at, "error": None},
    ]
    for n, row in enumerate(rows):
        ctx.session.execute(
            sa.insert(RUNS).values(
                fire_time=row["started_at"] + datetime.timedelta(seconds=n),
                host="test:1",
                finished_at=row["started_at"],
                counts={},
                **row,
            )
        )
    ctx.session.commit()


def test_jobs_page_hides_technical_errors_from_clerks(login: Any, job_runs: None) -> None:
    text = visible_text(login("finance").get("/staff/jobs").get_data(as_text=True))
    assert "受信フォルダの取込" in text and "収納データの取得" in text and "消込" in text
    assert "2026/11/27 08:00" in text and "2026/11/27 07:00" in text  # last run, last failure (JST)
    assert "失敗しました。システム管理者に連絡してください。" in text
    assert "ConnectionError" not in text and "詳細(システム管理者向け)" not in text
    assert "まだ実行されていません" in text  # reconcile never ran
    admin = visible_text(login("admin").get("/staff/jobs").get_data(as_text=True))
    assert "詳細(システム管理者向け)" in admin and "ConnectionError" in admin
    assert login("auditor").get("/staff/jobs").status_code == 403


def test_other_rejections_are_located_in_japanese(login: Any, agent: Any) -> None:
    client = login("finance")
    html = _upload(
        client,
        ("bad-trailer-count.txt", (DATA / "pages" / "bad-trailer-count.txt").read_bytes()),
        ("foreign-agent.txt", (DATA / "pages" / "foreign-agent.txt").read_bytes()),
        ("notes.txt", "メモ\n".encode()),
    )
    text = visible_text(html)
    assert "3行目「速報の件数」" in text and "明細 1、最終行 2" in text
    assert "1行目「収納代行会社コード」" in text and "(値: 54321)" in text
    assert "ファイルの形式が分かりません" in text and "確かめてください。ファイル" not in text
    assert "count_01" not in text and "agent_code" not in text and "line" not in text


def test_every_file_message_formats() -> None:
    from gateway import catalogue
    from gateway.pages.settlements import file_error_text

    for key in [k for k in catalogue.MESSAGES if k.startswith("file.")]:
        text = file_error_text(
            key, {"line": 2, "field": "amount", "value": "x", "calculated": 1, "control": 2}
        )
        assert "{" not in text and "2行目「金額」" in text, key


def test_the_file_list_pages_both_ways(login: Any, agent: Any) -> None:
    from gateway.pages import settlements as module

    client = login("finance")
    _upload(
        client,
        *(
            (name, (DATA / "ingest" / name).read_bytes())
            for name in ("overlap-a.txt", "overlap-b.txt", "identical-rows.txt")
        ),
    )
    old, module.PAGE = module.PAGE, 2
    try:
        first = client.get("/staff/settlements").get_data(as_text=True)
        assert "identical-rows.txt" in first and "overlap-b.txt" in first and "overlap-a.txt" not in first
        assert "全3件" in visible_text(first) and "?before=" not in first
        older = re.search(r'href="(/staff/settlements\?after=\d+)"', first)
        assert older
        second = client.get(older.group(1)).get_data(as_text=True)
        assert "overlap-a.txt" in second and "overlap-b.txt" not in second and "?after=" not in second
        newer = re.search(r'href="(/staff/settlements\?before=\d+)"', second)
        assert newer
        back = client.get(newer.group(1)).get_data(as_text=True)
        assert "identical-rows.txt" in back and "overlap-b.txt" in back and "overlap-a.txt" not in back
    finally:
        module.PAGE = old


def test_rows_skipped_by_the_agents_type_81_setting_are_noted(login: Any, ctx: Context) -> None:
    add_agent(ctx, adapter_options={"dsk_csv": {"record_type_81": "skip"}})
    ctx.session.commit()
    data = (Path(__file__).parents[1] / "data/adapters/dsk_csv/record-type-81.csv").read_bytes()
    html = _upload(login("finance"), ("with-81.csv", data))
    assert "種別81の行を1件" in html
