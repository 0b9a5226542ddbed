"""The exceptions pages in Japanese: every detail field named, values formatted, agents by name, the age of
each exception, who handles it, the history in words, record ids replaced by a count and the file's link,
Japanese errors, paging both ways and roles (Flask test client)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.casework import exceptions as svc
from gateway.context import Actor
from tests.exceptions import conftest as exceptions_world
from tests.exceptions.conftest import World
from tests.pages.pagetools import assert_clerk_text
from tests.pages.pagetools import post
from tests.pages.pagetools import sign_in
from tests.pages.pagetools import visible_text

world = exceptions_world.world
unknown = exceptions_world.unknown
paid_twice = exceptions_world.paid_twice


def test_the_queue_shows_agent_age_and_handler_in_japanese(app: Any, world: World, unknown: int) -> None:
    world.at("2026-11-30T09:00")  # opened on 2026-11-27: three days ago
    client = sign_in(app, world.ctx, "finance")
    html = client.get("/staff/exceptions").get_data(as_text=True)
    text = assert_clerk_text(html)
    row = visible_text(html.split(f'href="/staff/exceptions/{unknown}"')[1].split("</tr>")[0])
    assert "該当納付書なし" in row and "見本収納代行" in row and "12,000円" in row
    assert "2026/11/27" in row and "3日前" in row
    assert "経過" in text and "担当" in text and "収納代行会社" in text
    assert "12345" not in row  # the agent's code is not how clerks know it


def test_every_detail_field_is_named_and_formatted(app: Any, world: World, unknown: int) -> None:
    client = sign_in(app, world.ctx, "finance")
    html = client.get(f"/staff/exceptions/{unknown}").get_data(as_text=True)
    assert client.get(f"/staff/exceptions/{unknown}").headers["Cache-Control"] == "no-store"
    text = assert_clerk_text(html)
    for name in ("データ区分", "データ種別", "納付番号", "納付日", "収納機関番号", "委託者コード"):
        assert f"<dt>{name}</dt>" in html, name
    assert "<dt>データ種別</dt><dd>確報</dd>" in html  # kind code 02, not "confirmed (02)"
    assert "<dt>納付日</dt><dd>2026/11/10</dd>" in html
    assert "収納代行会社</dt><dd>見本収納代行</dd>" in html
    assert "今日" in text  # opened today (2026-11-27)
    # Record ids are internal: a count and the received file's page instead.
    record = world.exc(unknown)["records"][0]
    assert "収納データ 1件" in text
    assert f'href="/staff/settlements/{record["file_id"]}"' in html
    assert f"<td>{record['id']}</td>" not in html
    assert "ローソン" in text and "2026/11/10 14:32" in text  # channel name, Japan time to the minute
    history = visible_text(html.split('class="history"')[1])
    assert "発生" in history and "自動処理" in history


def test_handler_history_and_names_through_propose_and_approve(app: Any, world: World, unknown: int) -> None:
    finance = sign_in(app, world.ctx, "finance", "fin-sato")
    page_url = f"/staff/exceptions/{unknown}"
    html = post(
        finance,
        f"{page_url}/resolve",
        page_url,
        resolution="matched_to_claim",
        claim_number="C1",
        note="電話で確認",
    )
    assert "提案しました" in html
    assert '<dd class="handler">fin-sato</dd>' in html
    assert_clerk_text(html)
    queue = finance.get("/staff/exceptions?status=pending_approval").get_data(as_text=True)
    assert "fin-sato" in visible_text(queue.split('class="queue"')[1]) and "user:" not in queue
    world.tick()
    approver = sign_in(app, world.ctx, "approver", "appr-kato")
    html = post(approver, f"{page_url}/approve", page_url, note="領収書を確認")
    assert "承認しました" in html
    text = assert_clerk_text(html)
    history = visible_text(html.split('class="history"')[1])
    for words in (
        "処理を提案",
        "fin-sato",
        "債権に消込(要承認)",
        "債権番号: C1",
        "収納データ: 1件",
        "承認",
        "appr-kato",
        "提案者: fin-sato",
        "作成した入金: 1件",
        "領収書を確認",
    ):
        assert words in history, words
    assert "確定" in text and '<dd class="handler">appr-kato</dd>' in html
    # the payment made by the match, with Japanese source and state, no internal id column
    payments = visible_text(html.split('class="payments"')[1].split("</table>")[0])
    assert "例外処理で消込" in payments and "確報" in payments and "2026/11/10" in payments


def test_amount_and_duplicate_details(app: Any, world: World, paid_twice: dict[str, Any]) -> None:
    client = sign_in(app, world.ctx, "auditor")
    over = client.get(f"/staff/exceptions/{paid_twice['overpayment']}").get_data(as_text=True)
    assert_clerk_text(over)
    assert "<dt>調定額</dt><dd>12,000円</dd>" in over and "<dt>納付額</dt><dd>24,000円</dd>" in over
    dup = client.get(f"/staff/exceptions/{paid_twice['duplicate']}").get_data(as_text=True)
    text = assert_clerk_text(dup)
    assert "<dt>納付番号</dt>" in dup and "first_payment_id" not in dup and "最初" not in text
    assert "収納代行" in visible_text(dup.split('class="payments"')[1])
    assert "/resolve" not in dup  # the auditor reads only


def test_clerks_errors_are_japanese_and_name_the_field(
    app: Any, world: World, paid_twice: dict[str, Any]
) -> None:
    finance = sign_in(app, world.ctx, "finance")
    url = f"/staff/exceptions/{paid_twice['overpayment']}"
    html = post(finance, f"{url}/resolve", url, resolution="applied_to_claim", claim_number="NOPE", note="x")
    assert "債権 NOPE は見つかりません。" in html
    html = post(finance, f"{url}/resolve", url, resolution="refund_due", note="")
    assert "「理由」を入力してください。" in html
    html = post(finance, f"{url}/resolve", url, resolution="refund_due", note="x", refund_amount="50000")
    assert "「還付額」が大きすぎます。12,000円以下で入力してください。" in html
    html = post(
        finance, f"{url}/resolve", url, resolution="refund_due", note="x", refund_decided_on="2026-12-25"
    )
    assert "「還付決定日」に未来の日付は入力できません。" in html
    html = post(finance, f"{url}/resolve", url, resolution="refund_due", note="x", refund_fiscal_year="1999")
    assert "「還付年度」は2000〜2099の西暦で入力してください。" in html
    for page in (html,):
        assert "not found" not in page and "must be" not in page
    assert world.exc(paid_twice["overpayment"])["status"] == "open"
    # an exception that does not exist: the Japanese error page with the navigation
    missing = finance.get("/staff/exceptions/999999")
    assert missing.status_code == 404
    assert "例外 999999 は見つかりません" in missing.get_data(as_text=True)


def test_refund_then_refunded_with_a_date_before_the_decision(
    app: Any, world: World, paid_twice: dict[str, Any]
) -> None:
    finance = sign_in(app, world.ctx, "finance")
    url = f"/staff/exceptions/{paid_twice['overpayment']}"
    html = post(
        finance,
        f"{url}/resolve",
        url,
        resolution="refund_due",
        note="決定第12号",
        refund_decided_on="2026-11-26",
        refund_amount="12000",
    )
    text = assert_clerk_text(html)
    assert "12,000円・決定日 2026/11/26・令和8年度" in text and "還付待ち" in text
    html = post(finance, f"{url}/refunded", url, refunded_on="2026-11-20")
    assert "「還付日」は還付決定日(2026/11/26)以降の日付を入力してください。" in html
    html = post(finance, f"{url}/refunded", url, refunded_on="2026-11-27")
    assert "還付済みにしました" in html and "令和8年11月27日" in html
    history = visible_text(html.split('class="history"')[1])
    assert "還付済みを記録" in history and "還付日: 2026/11/27" in history
    assert "還付額: 12,000円" in history


def test_the_queue_pages_both_ways(
    app: Any, world: World, paid_twice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.pages import exceptions as pages

    monkeypatch.setattr(pages, "PAGE", 1)
    ids = [e["id"] for e in world.exceptions() if e["status"] == "open"]
    assert len(ids) >= 3 and paid_twice["duplicate"] in ids
    client = sign_in(app, world.ctx, "approver")
    first = client.get("/staff/exceptions").get_data(as_text=True)
    assert f'href="/staff/exceptions/{ids[0]}"' in first and 'rel="prev"' not in first
    assert f"未処理 {len(ids)}件" in " ".join(visible_text(first).split())  # the total
    second = client.get(f"/staff/exceptions?status=open&after={ids[0]}").get_data(as_text=True)
    assert (
        f'href="/staff/exceptions/{ids[1]}"' in second and f'href="/staff/exceptions/{ids[0]}"' not in second
    )
    assert f"before={ids[1]}" in second and f"after={ids[1]}" in second  # both ways
    last = client.get(f"/staff/exceptions?status=open&after={ids[-2]}").get_data(as_text=True)
    assert 'rel="next"' not in last
    back = client.get(f"/staff/exceptions?status=open&before={ids[1]}").get_data(as_text=True)
    assert f'href="/staff/exceptions/{ids[0]}"' in back and 'rel="prev"' not in back
    assert f"after={ids[0]}" in back


@pytest.mark.parametrize(("role", "status"), [("print_vendor", 403), ("admin", 403), ("accounting", 200)])
def test_roles(app: Any, world: World, unknown: int, role: str, status: int) -> None:
    client = sign_in(app, world.ctx, role)
    assert client.get("/staff/exceptions").status_code == status
    page = client.get(f"/staff/exceptions/{unknown}")
    assert page.status_code == status
    if status == 403:
        assert "この画面は開けません" in page.get_data(as_text=True)
    else:
        assert "/resolve" not in page.get_data(as_text=True)


def test_a_cli_proposal_shows_as_the_command_line(app: Any, world: World, unknown: int) -> None:
    svc.resolve(
        world.as_(Actor(kind="cli", name="kato")), unknown, "matched_to_claim", note="x", claim_number="C1"
    )
    client = sign_in(app, world.ctx, "auditor")
    html = client.get(f"/staff/exceptions/{unknown}").get_data(as_text=True)
    assert_clerk_text(html)
    assert '<dd class="handler">管理コマンド</dd>' in html and "cli:" not in html
