"""Recording a counter or bank receipt (form → confirmation → recorded) and the refunds page (refunds due,
recording that one was paid): behaviour, Japanese errors, roles (Flask test client)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.casework import exceptions as exception_service
from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import Slip
from tests.exceptions import conftest as exceptions_world
from tests.exceptions.conftest import FINANCE
from tests.exceptions.conftest import World
from tests.helpers import make_claim
from tests.pages.pagetools import assert_clerk_text
from tests.pages.pagetools import csrf
from tests.pages.pagetools import post
from tests.pages.pagetools import sign_in
from tests.pages.pagetools import visible_text

world = exceptions_world.world
paid_twice = exceptions_world.paid_twice


@pytest.fixture
def slip(ctx: Context) -> Slip:
    """Claim R08-00001 (12,000 yen) with one slip due 2026-12-15; today is 2026-11-27."""
    make_claim(ctx, "R08-00001", amount=12_000, debtor_ref="A-1")
    (issued,) = slip_service.issue_slips(
        ctx, "R08-00001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    return issued


def _payments(ctx: Context) -> list[tuple[Any, ...]]:
    ctx.session.commit()
    return [
        tuple(r)
        for r in ctx.session.execute(
            sa.text(
                "SELECT source, channel_code, amount, state, CAST(paid_date AS TEXT), reason "
                "FROM payments ORDER BY id"
            )
        ).all()
    ]


def _confirm(client: Any, **form: str) -> Any:
    token = csrf(client.get("/staff/payments/new").data)
    return client.post("/staff/payments", data={"csrf_token": token, **form})


def test_the_form_is_japanese_and_for_finance_only(app: Any, ctx: Context, slip: Slip) -> None:
    finance = sign_in(app, ctx, "finance")
    response = finance.get(f"/staff/payments/new?slip={slip.slip_number}")
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    text = assert_clerk_text(html)
    for words in (
        "納付書番号",
        "金額(円)",
        "納付日",
        "収納チャネル",
        "窓口",
        "金融機関窓口",
        "口座振込",
        "差引納付",
    ):
        assert words in text, words
    assert f'value="{slip.slip_number}"' in html and 'value="2026-11-27"' in html
    for role in ("accounting", "approver", "auditor", "print_vendor", "admin"):
        other = sign_in(app, ctx, role)
        assert other.get("/staff/payments/new").status_code == 403, role
        assert other.post("/staff/payments", data={}).status_code == 403, role


def test_confirm_then_record_a_counter_receipt(app: Any, ctx: Context, slip: Slip) -> None:
    finance = sign_in(app, ctx, "finance", "fin-kato")
    form = {
        "slip_number": slip.slip_number,
        "amount": "12,000",
        "paid_on": "2026-11-26",
        "channel": "window",
        "reason": "窓口で現金受領 領収書123",
    }
    response = _confirm(finance, **form)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = assert_clerk_text(html)
    for words in (
        slip.slip_number,
        "R08-00001",
        "12,000円",
        "令和8年11月26日",
        "窓口",
        "令和8年度",
        "まだ記録していません",
    ):
        assert words in text, words
    assert "この内容で記録する" in text and 'name="confirmed" value="1"' in html
    assert _payments(ctx) == []  # nothing recorded by the confirmation
    token = csrf(html)
    done = finance.post(
        "/staff/payments", data={**form, "confirmed": "1", "csrf_token": token}, follow_redirects=True
    )
    page = done.get_data(as_text=True)
    assert "入金を記録しました" in page and "残額は0円です" in page
    assert_clerk_text(page)
    assert _payments(ctx) == [
        ("manual", "window", 12_000, "confirmed", "2026-11-26", "窓口で現金受領 領収書123")
    ]
    ctx.session.commit()
    event = ctx.session.execute(
        sa.text("SELECT actor_name, detail FROM audit_events WHERE action = 'payment.record'")
    ).one()
    assert event[0] == "fin-kato"
    claim = finance.get("/staff/claims/R08-00001")
    if claim.status_code == 200:  # the claims page is another area's; when it is there it shows the money
        assert "12,000" in claim.get_data(as_text=True)


def test_the_confirmation_warns_and_the_record_reports_its_exception(
    app: Any, ctx: Context, slip: Slip
) -> None:
    finance = sign_in(app, ctx, "finance")
    form = {"slip_number": slip.slip_number, "paid_on": "2026-11-27", "channel": "bank", "reason": "銀行窓口"}
    html = _confirm(finance, amount="13000", **form).get_data(as_text=True)
    text = visible_text(html)
    assert "納付書の金額(12,000円)と違います" in text and "金額相違" in text
    assert "残額(12,000円)を超えます" in text
    token = csrf(html)
    page = finance.post(
        "/staff/payments",
        data={**form, "amount": "13000", "confirmed": "1", "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "入金を記録しました" in page
    assert "「金額相違」が発生しました。例外一覧で処理してください。" in page
    # the slip is paid now: a second receipt for it is announced as a duplicate before it is recorded
    again = _confirm(finance, amount="12000", **form).get_data(as_text=True)
    assert "すでに納付済みです" in again and "二重納付" in again


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slip_number": "2699999999999999-0"}, "納付書 2699999999999999-0 は見つかりません。"),
        ({"slip_number": "abc"}, "「納付書番号」は 2600000123400300-0 の形で入力してください(入力値: abc)。"),
        ({"slip_number": ""}, "「納付書番号」を入力してください。"),
        ({"amount": "十二"}, "「金額」は半角数字で入力してください(入力値: 十二)。"),
        ({"amount": "0"}, "「金額」は1円以上の金額を半角数字で入力してください。"),
        ({"paid_on": "2026-12-01"}, "「納付日」に未来の日付は入力できません。"),
        ({"paid_on": "26/13/01"}, "「納付日」は日付で入力してください(入力値: 26/13/01)。"),
        ({"channel": "store"}, "「収納チャネル」を選んでください(窓口・金融機関窓口・口座振込・差引納付)。"),
        ({"reason": " "}, "「理由」を入力してください。"),
    ],
)
def test_errors_name_the_field_and_keep_the_values(
    app: Any, ctx: Context, slip: Slip, change: dict[str, str], message: str
) -> None:
    finance = sign_in(app, ctx, "finance")
    form = {
        "slip_number": slip.slip_number,
        "amount": "12000",
        "paid_on": "2026-11-27",
        "channel": "window",
        "reason": "窓口",
    }
    form.update(change)
    for confirmed in ("", "1"):
        response = _confirm(finance, confirmed=confirmed, **form)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert_clerk_text(html)
        assert f'value="{form["reason"].strip() or ""}"' in html  # what was typed stays in the form
    assert _payments(ctx) == []


def test_refunds_due_and_recording_one_as_paid(app: Any, world: World, paid_twice: dict[str, Any]) -> None:
    exception_service.resolve(
        world.as_(FINANCE),
        paid_twice["overpayment"],
        "refund_due",
        note="決定第12号",
        refund=exception_service.RefundInput(decided_on=datetime.date(2026, 11, 26), amount=12_000),
    )
    accounting = sign_in(app, world.ctx, "accounting")
    response = accounting.get("/staff/refunds")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    text = assert_clerk_text(html)
    row = visible_text(html.split("data-refund=")[1].split("</tr>")[0])
    for words in ("C1", "過納", "12,000円", "2026/11/26", "令和8年度", "fin-sato", "還付待ち"):
        assert words in row, words
    assert "還付待ち 1件・12,000円" in " ".join(text.split())
    assert "/refunded" not in html  # accounting reads; finance records
    finance = sign_in(app, world.ctx, "finance")
    page = finance.get("/staff/refunds").get_data(as_text=True)
    url = f"/staff/exceptions/{paid_twice['overpayment']}/refunded"
    assert f'action="{url}"' in page
    bad = post(finance, url, "/staff/refunds", refunded_on="2026-11-25", back="refunds")
    assert "「還付日」は還付決定日(2026/11/26)以降の日付を入力してください。" in bad
    assert "<h1>還付(過誤納)" in bad  # back on the refunds page
    done = post(finance, url, "/staff/refunds", refunded_on="2026-11-27", back="refunds")
    assert "還付済みにしました" in done and "<h1>還付(過誤納)" in done
    assert "該当する還付はありません" in done  # nothing due any more
    paid = finance.get("/staff/refunds?status=refunded").get_data(as_text=True)
    row = visible_text(paid.split("data-refund=")[1].split("</tr>")[0])
    assert "還付済" in row and "2026/11/27" in row
    assert world.exc(paid_twice["overpayment"])["refund"]["status"] == "refunded"


@pytest.mark.parametrize(("role", "status"), [("approver", 403), ("auditor", 403), ("print_vendor", 403)])
def test_refunds_page_roles(app: Any, ctx: Context, role: str, status: int) -> None:
    assert sign_in(app, ctx, role).get("/staff/refunds").status_code == status
