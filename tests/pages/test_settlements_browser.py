"""Settlement data in Chromium as a clerk does it: upload files → the list → a file → 消込を実行; and the
scheduled-jobs page. Screenshots: test-artifacts/settlements-*.png, jobs.png."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.access import users
from gateway.context import Context
from gateway.jobs import RUNS
from tests.ingest.conftest import add_agent
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect

DATA = Path(__file__).parents[1] / "data"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"


@pytest.fixture
def people(ctx: Context) -> None:
    add_agent(ctx)
    users.create_user(ctx, "web-finance", "finance", PASSWORD)
    users.create_user(ctx, "web-admin", "admin", PASSWORD)


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_upload_list_file_and_reconcile(chromium: Any, live_server: str, people: None) -> None:
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "web-finance", next="/staff/settlements")
    expect(page.locator("h1")).to_contain_text("収納データ")
    page.set_input_files(
        "#files", [str(DATA / "ingest" / "overlap-a.txt"), str(DATA / "pages" / "bad-payment-date.txt")]
    )
    page.click("button:has-text('取り込む')")
    page.wait_for_url(f"{live_server}/staff/settlements/upload")
    results = page.locator("table.upload-results")
    expect(results).to_contain_text("取込済")
    expect(results).to_contain_text("不備")
    expect(results).to_contain_text("3行目「納付日」")
    expect(results).to_contain_text("速報 4件 50,777円")
    _shot(page, "settlements-upload.png")

    page.click("text=収納データ一覧へ戻る")
    page.wait_for_url(f"{live_server}/staff/settlements")
    expect(page.locator("table.files")).to_contain_text("見本収納代行12345")
    expect(page.locator("table.rejections")).to_contain_text("bad-payment-date.txt")
    _shot(page, "settlements-list.png")

    page.click("table.files >> text=overlap-a.txt")
    page.wait_for_url(f"{live_server}/staff/settlements/1")
    records = page.locator("table.records tbody tr")
    expect(records).to_have_count(5)
    expect(page.locator("table.records")).to_contain_text("セブン-イレブン")
    _shot(page, "settlements-file.png")

    page.goto(f"{live_server}/staff/settlements")
    page.click("button:has-text('消込を実行')")
    page.wait_for_url(f"{live_server}/staff/reconcile")
    expect(page.locator("[data-kind=exceptions]")).to_contain_text("5件")
    expect(page.locator("table.by-kind")).to_contain_text("該当納付書なし")
    _shot(page, "settlements-reconcile.png")
    context.close()


def test_jobs_page_for_the_admin(chromium: Any, live_server: str, people: None, ctx: Context) -> None:
    at = datetime.datetime(2026, 11, 26, 22, 0, tzinfo=datetime.UTC)
    for n, (job, outcome, error) in enumerate(
        (
            ("inbox", "ok", None),
            ("fetch", "failed", "ConnectionError: source agent-a refused the connection"),
            ("reconcile", "ok", None),
        )
    ):
        ctx.session.execute(
            sa.insert(RUNS).values(
                job=job,
                fire_time=at + datetime.timedelta(minutes=n),
                host="test:1",
                started_at=at + datetime.timedelta(minutes=n),
                finished_at=at + datetime.timedelta(minutes=n, seconds=5),
                outcome=outcome,
                counts={},
                error=error,
            )
        )
    ctx.session.commit()
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "web-admin", next="/staff/jobs")
    row = page.locator("tr[data-job=fetch]")
    expect(row).to_contain_text("収納データの取得")
    expect(row).to_contain_text("失敗")
    row.locator("summary").click()
    expect(row.locator("pre")).to_contain_text("ConnectionError")
    _shot(page, "jobs.png")
    context.close()
