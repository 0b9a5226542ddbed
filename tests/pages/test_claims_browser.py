"""Claims and slips in a real browser, as a clerk: search by name → open the claim → issue with a preview →
reissue → void (confirmation, reason); plus the CSV import preview. Screenshots under test-artifacts/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from gateway.access import users
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import browser_login

pytestmark = pytest.mark.browser
expect = pytest.importorskip("playwright.sync_api").expect
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def data(ctx):  # type: ignore[no-untyped-def]
    users.create_user(ctx, "clerk-sato", "finance", PASSWORD)
    make_claim(
        ctx,
        "R08-00001",
        debtor_ref="A-1",
        debtor_name="見本 一郎",
        debtor_kana="ミホン イチロウ",
        amount=45_000,
    )
    make_claim(
        ctx,
        "R08-00002",
        debtor_ref="B-2",
        debtor_name="試験 花子",
        debtor_kana="シケン ハナコ",
        amount=90_000,
    )
    ARTIFACTS.mkdir(exist_ok=True)


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_search_open_issue_reissue_void_as_a_clerk(chromium, live_server, data, tmp_path):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "clerk-sato", next="/staff/claims", landing="**/staff/**")
    page.goto(f"{live_server}/staff/claims")
    shot(page, "claims-list.png")

    page.fill("#q", "ｼｹﾝ ﾊﾅｺ")  # half-width kana, as typed on an old keyboard setting
    page.click("form.search button[type=submit]")
    expect(page.locator("p.count")).to_contain_text("全 1 件中 1〜1 件")
    expect(page.locator("table.claims tbody")).to_contain_text("試験 花子")
    shot(page, "claims-search.png")
    page.click("text=R08-00002")
    page.wait_for_url(f"{live_server}/staff/claims/R08-00002")
    expect(page.locator("h1")).to_contain_text("債権 R08-00002")
    shot(page, "claims-claim.png")

    page.check("input[value=instalments]")
    page.fill("input[name=instalments]", "3")
    page.fill("#first_due_date", "2026-12-15")
    page.click("button:has-text('発行内容を確認する')")
    expect(page.locator("body")).to_contain_text("発行する納付書(まだ発行していません)")
    expect(page.locator("table.plan tbody tr")).to_have_count(3)
    expect(page.locator("table.plan")).to_contain_text("2026/12/15")
    shot(page, "slips-issue-preview.png")
    page.click("button:has-text('枚発行する')")
    expect(page.locator("body")).to_contain_text("3 件の納付書を発行しました")
    expect(page.locator("body")).to_contain_text("有効な納付書が残額をすべてカバーしています")

    first = page.locator("table.slips tbody tr").nth(0).locator("a").first
    slip_number = first.inner_text()
    first.click()
    page.wait_for_url(f"{live_server}/staff/slips/{slip_number}")
    expect(page.locator("body")).to_contain_text("令和8年12月15日")
    shot(page, "slips-slip.png")

    page.click("text=再発行する")
    page.wait_for_url(f"**/slips/{slip_number}/reissue")
    page.fill("#due_date", "2027-01-15")
    shot(page, "slips-reissue.png")
    page.click("button:has-text('再発行する')")
    new_number = slip_number[:-1] + "1"
    page.wait_for_url(f"{live_server}/staff/slips/{new_number}")
    expect(page.locator("body")).to_contain_text("令和9年1月15日")

    page.click("text=この納付書を無効にする")
    page.wait_for_url(f"**/slips/{new_number}/void")
    expect(page.locator("h1")).to_contain_text("この納付書を無効にしますか")
    shot(page, "slips-void-confirm.png")
    page.fill("#reason", "宛先不明で返戻")
    page.click("button:has-text('この納付書を無効にする')")
    page.wait_for_url(f"{live_server}/staff/slips/{new_number}")
    record = page.locator(".void-record")
    expect(record).to_contain_text("宛先不明で返戻")
    expect(record).to_contain_text("clerk-sato")
    shot(page, "slips-void-done.png")
    body = page.locator("body").inner_text()
    assert "user:" not in body and "void" not in body and "取消" not in body
    context.close()


def test_import_preview_and_commit_in_the_browser(chromium, live_server, data, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name\n"
        "C-1,art63,abc,2026,C1,見本 三郎\nC-2,art63,1000,2026,,見本 四郎\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name\n"
        "C-1,art63,1000,2026,C1,見本 三郎\nC-2,art78,2000,2026,C2,見本 四郎\n",
        encoding="utf-8",
    )
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "clerk-sato", next="/staff/claims/import")
    shot(page, "claims-import.png")
    page.set_input_files("#file", str(bad))
    page.click("button:has-text('内容を確認する')")
    expect(page.locator("table.problems")).to_contain_text(
        "2行目「金額」: 数字で入力してください(入力値: abc)"
    )
    expect(page.locator("table.problems")).to_contain_text("3行目「債務者番号」")
    shot(page, "claims-import-errors.png")
    page.goto(f"{live_server}/staff/claims/import")
    page.set_input_files("#file", str(good))
    page.click("button:has-text('内容を確認する')")
    expect(page.locator("body")).to_contain_text("3,000円")
    shot(page, "claims-import-preview.png")
    page.click("button:has-text('取り込む')")
    expect(page.locator("body")).to_contain_text("新規 2件")
    context.close()


def test_new_adjust_and_close_forms(chromium, live_server, data):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "clerk-sato", next="/staff/claims/new")
    shot(page, "claims-new.png")
    page.goto(f"{live_server}/staff/claims/R08-00001/adjust")
    shot(page, "claims-adjust.png")
    page.goto(f"{live_server}/staff/claims/R08-00001/close")
    page.check("input[value=extinguished]")
    page.fill("#decided_on", datetime.date(2026, 11, 20).isoformat())
    page.fill("#reason", "時効の完成")
    page.click("button:has-text('確認へ進む')")
    expect(page.locator("h2")).to_contain_text("この内容で記録しますか")
    shot(page, "claims-close-confirm.png")
    page.click("button:has-text('を記録する')")
    page.wait_for_url(f"{live_server}/staff/claims/R08-00001")
    expect(page.locator("h1")).to_contain_text("消滅")
    context.close()


def test_slips_for_all_new_claims_in_one_batch(chromium, live_server, data):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": 1024, "height": 800}, locale="ja-JP")
    page = context.new_page()
    browser_login(page, live_server, "clerk-sato", next="/staff/claims", landing="**/staff/**")
    page.goto(f"{live_server}/staff/claims")
    page.click("text=納付書を一括発行する")
    page.wait_for_url(f"{live_server}/staff/slips/batch")
    expect(page.locator(".grid")).to_contain_text("2 件")
    expect(page.locator(".grid")).to_contain_text("135,000円")
    shot(page, "slips-batch-preview.png")
    page.click("text=2 件の債権に発行する")
    expect(page.locator(".flash.ok")).to_contain_text("2 件の債権に 2 枚の納付書を発行しました")
    expect(page.locator("main")).to_contain_text("納付書が未発行の債権はありません")
    shot(page, "slips-batch-done.png")
    context.close()
