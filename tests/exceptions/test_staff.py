"""Staff pages of the queue (Flask test client): filters, counts, details, and role-dependent forms."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.exceptions.conftest import World
from tests.pages import pagetools
from tests.pages.pagetools import csrf
from tests.pages.pagetools import post


@pytest.fixture
def login(app: Any, world: World) -> Any:
    """A signed-in test client for a new account with ``role``."""

    def sign_in(role: str, name: str | None = None) -> FlaskClient:
        return pagetools.sign_in(app, world.ctx, role, name)

    return sign_in


def test_signed_out_visitors_go_to_the_login(client: FlaskClient, world: World, unknown: int) -> None:
    response = client.get("/staff/exceptions")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get(f"/staff/exceptions/{unknown}").status_code == 302


def test_the_queue_shows_counts_filters_and_rows(login: Any, world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    client = login("auditor")
    response = client.get("/staff/exceptions")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script" not in html  # the CSP allows no inline script; the pages need none
    assert 'data-kind="duplicate_payment"' in html and 'data-kind="overpayment"' in html
    assert f'href="/staff/exceptions/{paid_twice["duplicate"]}"' in html
    assert 'href="/staff/claims/C1"' in html
    assert "例外" in html  # the nav link
    only = client.get("/staff/exceptions?kind=overpayment").get_data(as_text=True)
    assert f'href="/staff/exceptions/{paid_twice["overpayment"]}"' in only
    assert f'href="/staff/exceptions/{paid_twice["duplicate"]}"' not in only
    resolved = client.get("/staff/exceptions?status=resolved").get_data(as_text=True)
    assert "例外はありません" in resolved
    # An auditor reads but gets no action form.
    detail = client.get(f"/staff/exceptions/{paid_twice['duplicate']}").get_data(as_text=True)
    assert "/resolve" not in detail and "/approve" not in detail
    history = detail.split('class="history"')[1]
    assert '<td class="nowrap">発生</td><td>自動処理</td>' in history  # the history, in Japanese
    assert "opened" not in history and "system:" not in history


def test_roles_without_reading_rights_are_refused(login: Any, world: World, unknown: int) -> None:
    client = login("print_vendor")
    assert client.get("/staff/exceptions").status_code == 403
    assert client.get(f"/staff/exceptions/{unknown}").status_code == 403


def test_propose_then_approve_on_the_pages(login: Any, world: World, unknown: int) -> None:
    finance = login("finance")
    page_url = f"/staff/exceptions/{unknown}"
    page = finance.get(page_url).get_data(as_text=True)
    assert 'data-resolution="matched_to_claim"' in page and 'data-resolution="no_action"' in page
    assert 'data-resolution="refund_due"' not in page  # not for an unknown slip
    assert "/approve" not in page

    html = post(
        finance,
        f"{page_url}/resolve",
        page_url,
        resolution="matched_to_claim",
        claim_number="C1",
        note="payer phoned",
    )
    assert "提案しました" in html
    assert "承認待ち" in html
    # A finance user cannot approve, even by posting the form.
    token = csrf(finance.get(page_url).data)
    assert finance.post(f"{page_url}/approve", data={"csrf_token": token}).status_code == 403

    world.tick()
    approver = login("approver")
    page = approver.get(page_url).get_data(as_text=True)
    assert f'action="{page_url}/approve"' in page and f'action="{page_url}/reject"' in page
    html = post(approver, f"{page_url}/approve", page_url, note="receipt seen")
    assert "承認しました" in html and "処理済" in html
    assert world.claim_doc("C1")["status"] == "paid"

    world.tick()
    page = finance.get(page_url).get_data(as_text=True)
    assert f'action="{page_url}/unmatch"' in page
    html = post(finance, f"{page_url}/unmatch", page_url, reason="wrong payer")
    assert "取り消しました" in html
    assert world.claim_doc("C1")["status"] == "open"
    assert [a["action"] for a in world.exc(unknown)["actions"]] == [
        "opened",
        "proposed",
        "approved",
        "unmatched",
    ]


def test_the_proposer_sees_no_approve_form_and_errors_are_shown(
    login: Any, world: World, unknown: int
) -> None:
    from gateway.casework import exceptions as svc
    from gateway.context import Actor

    # The operator "appr-page" proposed on the command line; the same person signs in as approver.
    svc.resolve(
        world.as_(Actor(kind="cli", name="appr-page")),
        unknown,
        "matched_to_claim",
        note="x",
        claim_number="C1",
    )
    world.tick()
    approver = login("approver", "appr-page")
    page_url = f"/staff/exceptions/{unknown}"
    page = approver.get(page_url).get_data(as_text=True)
    assert f'action="{page_url}/approve"' not in page
    assert "ご自身の提案です" in page
    html = post(approver, f"{page_url}/approve", page_url)
    assert "別の承認者が行います" in html  # the refusal, as a message
    assert world.exc(unknown)["status"] == "pending_approval"


def test_refund_forms(login: Any, world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    finance = login("finance")
    page_url = f"/staff/exceptions/{paid_twice['overpayment']}"
    html = post(
        finance,
        f"{page_url}/resolve",
        page_url,
        resolution="refund_due",
        note="decision 12",
        refund_decided_on="2026-11-26",
        refund_amount="12000",
        refund_fiscal_year="",
    )
    assert "処理しました" in html
    assert f'action="{page_url}/refunded"' in html
    world.tick()
    html = post(finance, f"{page_url}/refunded", page_url, refunded_on="2026-11-27")
    assert "還付済みにしました" in html
    assert f'action="{page_url}/refunded"' not in html
    assert world.exc(paid_twice["overpayment"])["refund"]["status"] == "refunded"
    # A bad value comes back as a message, not an error page.
    html = post(
        finance,
        f"/staff/exceptions/{paid_twice['duplicate']}/resolve",
        f"/staff/exceptions/{paid_twice['duplicate']}",
        resolution="refund_due",
        note="x",
        refund_amount="lots",
    )
    assert "「還付額」は半角数字で入力してください" in html


def test_the_page_says_when_a_withdrawal_cancels_a_payment(login: Any, world: World, unknown: int) -> None:
    world.claim("C2")
    slip = world.slip("C2")
    world.at("2026-11-22")
    world.ingest(world.rec("02", slip.barcode, store="0005555"))
    world.reconcile()
    world.at("2026-11-24")
    world.ingest(world.rec("03", slip.barcode, store="0005555"))
    world.reconcile("2026-11-24")
    late_cancel = world.one("cancel_after_confirmation")
    client = login("finance")
    hint = "12,000 円の入金を取り消し、納付書を未納に戻します。"
    assert hint in client.get(f"/staff/exceptions/{late_cancel}").get_data(as_text=True)
    page = client.get(f"/staff/exceptions/{unknown}").get_data(as_text=True)
    # an unknown slip's record made no payment, so withdrawing it cancels nothing
    assert 'data-resolution="agent_withdrawn"' in page and "入金を取り消し" not in page
