"""In Chromium, as clerks would: the admin adds and disables a user and registers an API client; the auditor
filters the audit log and verifies the chain; every role's start page. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.access import agents as agent_service
from gateway.access import users
from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import JobRun
from gateway.models import PrintBatch
from gateway.models import ReconException
from gateway.permissions import ROLES
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def office(ctx: Context) -> None:
    for role in ROLES:
        users.create_user(ctx, f"demo-{role}", role, PASSWORD)
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code="12345", name="見本収納", channels=("0010", "0020", "0820"), fee_per_item=60, tax_rate="10"
        ),
    )
    make_claim(ctx, "R08-00001")
    slip_service.issue_slips(ctx, "R08-00001")
    # a little of each role's day, for the start pages' screenshots
    now = ctx.now()
    day = ctx.today()
    for n, (kind, status, age) in enumerate(
        [
            ("unknown_slip", "open", 0),
            ("amount_mismatch", "open", 4),
            ("unconfirmed_preliminary", "open", 16),
            ("duplicate_payment", "pending_approval", 1),
        ]
    ):
        ctx.session.add(
            ReconException(
                key=f"demo-{n}",
                kind=kind,
                status=status,
                amount=12000,
                opened_date=day - datetime.timedelta(days=age),
                opened_at=now - datetime.timedelta(days=age),
                resolution="matched_to_claim" if status == "pending_approval" else None,
                proposed_by="user:demo-finance" if status == "pending_approval" else None,
                proposed_at=now - datetime.timedelta(days=1) if status == "pending_approval" else None,
            )
        )
    ctx.session.add(PrintBatch(created_by="user:demo-finance", envelopes=42, pages=42, created_at=now))
    for job, outcome in (("inbox", "ok"), ("reconcile", "ok"), ("fetch", "failed")):
        ctx.session.add(
            JobRun(job=job, fire_time=now, host="gw1", outcome=outcome, started_at=now, finished_at=now)
        )
    ctx.session.commit()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_every_role_start_page(chromium: Any, live_server: str, office: None) -> None:
    for role in ROLES:
        context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
        page = context.new_page()
        browser_login(page, live_server, f"demo-{role}")
        from playwright.sync_api import expect

        expect(page.locator("section.panel")).to_be_visible()
        text = page.inner_text("main")
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
        _shot(page, f"today-{role}")
        context.close()


def test_admin_creates_and_disables_a_user_and_registers_a_client(
    chromium: Any, live_server: str, office: None
) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "demo-admin")
    page.click("nav >> text=利用者")
    page.fill("#name", "yamada")
    page.select_option("#role", "accounting")
    _shot(page, "admin-users")
    page.click("button:has-text('登録する')")
    expect(page.locator("h1")).to_contain_text("利用者を登録しました")
    password = page.inner_text("code.secret")
    _shot(page, "admin-user-created")
    page.click("text=利用者一覧へ戻る")
    row = page.locator("tr[data-user=yamada]")
    expect(row).to_contain_text("会計管理者")
    row.locator("text=停止").click()
    expect(page.locator("h1")).to_contain_text("停止しますか")
    _shot(page, "admin-confirm")
    page.click("button:has-text('停止する')")
    expect(page.locator(".flash.ok")).to_contain_text("停止しました")
    expect(page.locator("tr[data-user=yamada]")).to_contain_text("停止中")

    other = chromium.new_context(locale="ja-JP").new_page()
    other.goto(f"{live_server}/login")
    other.fill("#name", "yamada")
    other.fill("#password", password)
    other.click("button[type=submit]")
    expect(other.locator(".flash.error")).to_contain_text("違います")
    other.context.close()

    page.click("nav >> text=APIクライアント")
    page.fill("#name", "見本収納 本番")
    page.select_option("#agent", "12345")
    page.click("button:has-text('登録して秘密鍵を表示する')")
    expect(page.locator(".warning-once")).to_contain_text("一度だけ")
    secret = page.inner_text("code.secret")
    _shot(page, "admin-client-secret")
    page.click("text=APIクライアント一覧へ戻る")
    expect(page.locator("table.clients")).to_contain_text("見本収納 本番")
    assert secret not in page.content()
    _shot(page, "admin-clients")
    page.click("nav >> text=収納代行会社")
    expect(page.locator("table.agents")).to_contain_text("セブン-イレブン")
    _shot(page, "admin-agents")
    page.click("table.agents >> text=見本収納")
    expect(page.locator("h1")).to_contain_text("見本収納")
    _shot(page, "admin-agent")
    context.close()


def test_auditor_filters_and_verifies(chromium: Any, live_server: str, office: None) -> None:
    from playwright.sync_api import expect

    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "demo-auditor")
    page.click("nav >> text=監査ログ")
    page.select_option("#action", "slip.issue")
    page.fill("#claim", "R08-00001")
    page.click("button:has-text('絞り込み')")
    expect(page.locator("table.audit")).to_contain_text("納付書の発行")
    assert "利用者の登録" not in page.inner_text("table.audit")
    _shot(page, "audit")
    page.click("button:has-text('ハッシュチェーンを検証')")
    expect(page.locator(".verify-result")).to_contain_text("正常")
    _shot(page, "audit-verify")
    context.close()
