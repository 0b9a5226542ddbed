"""Admin pages (Flask test client): users, API clients, agents; changes audited, secrets shown once."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlmodel import select

from gateway.access import agents as agent_service
from gateway.access import clients as client_service
from gateway.access import users
from gateway.context import Context
from gateway.models import ApiClient
from gateway.models import AuditEvent
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import csrf
from tests.pages.pagetools import log_in
from tests.pages.pagetools import sign_in


@pytest.fixture
def admin(app: Any, ctx: Context) -> FlaskClient:
    return sign_in(app, ctx, "admin", "boss")


def post(client: FlaskClient, url: str, **form: str) -> Any:
    token = csrf(client.get("/staff/admin/users").data)
    return client.post(url, data={"csrf_token": token, **form})


def _events(ctx: Context, action: str) -> list[AuditEvent]:
    ctx.session.commit()
    return list(ctx.session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_users_list_shows_roles_in_japanese_and_no_codes(admin: FlaskClient, ctx: Context) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    response = admin.get("/staff/admin/users")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "収納担当" in html and "システム管理者" in html and "利用中" in html
    assert ">finance<" not in html and "user:" not in html


def test_create_with_a_generated_password_shows_it_once(app: Any, admin: FlaskClient, ctx: Context) -> None:
    response = post(admin, "/staff/admin/users", name="tanaka", role="approver", password_mode="generate")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "一度だけ" in html
    password = re.search(r'<code class="secret">([^<]+)</code>', html)
    assert password
    assert response.headers["Cache-Control"] == "no-store"
    # the list never shows it again
    assert password.group(1) not in admin.get("/staff/admin/users").get_data(as_text=True)
    _, status = log_in(app, "tanaka", password.group(1))
    assert status == 302
    events = _events(ctx, "user.create")
    assert events and all(password.group(1) not in str(e.detail) for e in events)


def test_create_refuses_a_short_password_in_japanese(admin: FlaskClient) -> None:
    response = post(
        admin, "/staff/admin/users", name="kimura", role="finance", password_mode="set", password="short"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "「パスワード」は12文字以上で入力してください。" in html
    assert 'value="kimura"' in html  # what was typed is kept


def test_create_refuses_an_existing_name(admin: FlaskClient, ctx: Context) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    response = post(admin, "/staff/admin/users", name="sato", role="finance", password_mode="generate")
    assert response.status_code == 422
    assert "利用者 sato はすでに登録されています。" in response.get_data(as_text=True)


def test_disable_asks_first_then_stops_sign_in_and_enable_restores_it(
    app: Any, admin: FlaskClient, ctx: Context
) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    signed_in, _ = log_in(app, "sato")
    confirm = admin.get("/staff/admin/users/sato/disable")
    assert confirm.status_code == 200 and "停止する" in confirm.get_data(as_text=True)
    assert users.get_user(ctx, "sato").active  # nothing happened yet
    done = post(admin, "/staff/admin/users/sato/disable")
    assert done.status_code == 302
    assert "停止しました" in admin.get("/staff/admin/users").get_data(as_text=True)
    _, status = log_in(app, "sato")
    assert status == 401
    # an open session stops too
    assert signed_in.get("/staff/today").status_code == 302
    assert _events(ctx, "user.disable")
    post(admin, "/staff/admin/users/sato/enable")
    _, status = log_in(app, "sato")
    assert status == 302
    assert _events(ctx, "user.enable")


def test_an_admin_cannot_disable_itself(admin: FlaskClient) -> None:
    post(admin, "/staff/admin/users/boss/disable")
    html = admin.get("/staff/admin/users").get_data(as_text=True)
    assert "ご自身のアカウントは停止・役割変更できません" in html
    assert admin.get("/staff/today").status_code == 200


def test_role_change_ends_the_sessions_and_the_new_role_applies(
    app: Any, admin: FlaskClient, ctx: Context
) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    sato, _ = log_in(app, "sato")
    assert sato.get("/staff/claims").status_code == 200
    form = admin.get("/staff/admin/users/sato/role").get_data(as_text=True)
    assert "収納担当" in form
    post(admin, "/staff/admin/users/sato/role", role="print_vendor")
    response = sato.get("/staff/claims")  # the session ended with the change: sign in again
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    sato, _ = log_in(app, "sato")
    assert sato.get("/staff/claims").status_code == 403
    [event] = _events(ctx, "user.set_role")
    assert event.detail == {"old_role": "finance", "role": "print_vendor"}


def test_password_reset_generated_or_typed(app: Any, admin: FlaskClient, ctx: Context) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    response = post(admin, "/staff/admin/users/sato/password", password_mode="generate")
    new = re.search(r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True))
    assert new
    assert log_in(app, "sato")[1] == 401
    assert log_in(app, "sato", new.group(1))[1] == 302
    typed = "another long password"
    response = post(admin, "/staff/admin/users/sato/password", password_mode="set", password=typed)
    assert '<code class="secret">' not in response.get_data(as_text=True)
    assert log_in(app, "sato", typed)[1] == 302
    short = post(admin, "/staff/admin/users/sato/password", password_mode="set", password="x")
    assert short.status_code == 422 and "12文字以上" in short.get_data(as_text=True)


def test_revoking_tokens_stops_the_api(app: Any, admin: FlaskClient, ctx: Context) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    token = users.issue_token(ctx, "sato")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/exceptions", headers=headers).status_code == 200
    assert "失効" in admin.get("/staff/admin/users/sato/revoke-tokens").get_data(as_text=True)
    post(admin, "/staff/admin/users/sato/revoke-tokens")
    assert api.get("/api/v1/exceptions", headers=headers).status_code == 401
    assert "1件を失効させました" in admin.get("/staff/admin/users").get_data(as_text=True)


def _agent(ctx: Context, code: str = "12345") -> None:
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code=code, name="見本収納", channels=("0010", "0020"), fee_per_item=60, tax_rate="10"
        ),
    )


def _signed_post(app: Any, key_id: str, secret: str) -> int:
    body = b'{"batch_id": "x", "records": []}'
    headers = client_service.signed_headers(
        key_id, secret, int(time.time()), body, method="POST", path="/api/v1/settlements"
    )
    headers["Content-Type"] = "application/json"
    response = app.test_client().post("/api/v1/settlements", data=body, headers=headers)
    return response.status_code


def test_client_secret_is_shown_once_and_rotate_invalidates_the_old_one(
    app: Any, admin: FlaskClient, ctx: Context, clock: Any
) -> None:
    clock.set(__import__("datetime").datetime.now(__import__("datetime").UTC))
    admin, _ = log_in(app, "boss")  # days after the pinned sign-in: that session has timed out
    _agent(ctx)
    response = post(admin, "/staff/admin/clients", name="見本 本番", agent="12345")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "一度だけ" in html
    secret = re.search(r'<code class="secret">([^<]+)</code>', html)
    key_id = re.search(r'<code class="key-id">([^<]+)</code>', html)
    assert secret and key_id
    listing = admin.get("/staff/admin/clients").get_data(as_text=True)
    assert key_id.group(1) in listing and secret.group(1) not in listing and "見本収納" in listing
    assert _signed_post(app, key_id.group(1), secret.group(1)) != 401
    confirm = admin.get(f"/staff/admin/clients/{key_id.group(1)}/rotate").get_data(as_text=True)
    assert "いまの秘密鍵はすぐに使えなくなります" in confirm
    rotated = post(admin, f"/staff/admin/clients/{key_id.group(1)}/rotate").get_data(as_text=True)
    new = re.search(r'<code class="secret">([^<]+)</code>', rotated)
    assert new and new.group(1) != secret.group(1)
    assert _signed_post(app, key_id.group(1), secret.group(1)) == 401
    assert _signed_post(app, key_id.group(1), new.group(1)) != 401
    post(admin, f"/staff/admin/clients/{key_id.group(1)}/revoke")
    assert _signed_post(app, key_id.group(1), new.group(1)) == 401
    assert "失効" in admin.get("/staff/admin/clients").get_data(as_text=True)
    assert [e.action for e in _events(ctx, "client.rotate")] == ["client.rotate"]


def test_client_needs_an_agent(admin: FlaskClient) -> None:
    response = post(admin, "/staff/admin/clients", name="x", agent="")
    assert response.status_code == 422
    assert "「収納代行会社」を選んでください。" in response.get_data(as_text=True)
    assert "先に" in admin.get("/staff/admin/clients").get_data(as_text=True)


def test_agents_list_in_japanese_with_fees(admin: FlaskClient, ctx: Context) -> None:
    _agent(ctx)
    html = admin.get("/staff/admin/agents").get_data(as_text=True)
    assert "見本収納" in html and "セブン-イレブン" in html and "ローソン" in html
    assert "総額入金" in html and "60円" in html and "10%" in html
    assert "0010" not in html and "gross" not in html and "fixed120" not in html


def test_add_agent_and_fee_from_a_date(admin: FlaskClient, ctx: Context) -> None:
    form = admin.get("/staff/admin/agents/new").get_data(as_text=True)
    token = csrf(form)
    response = admin.post(
        "/staff/admin/agents/new",
        data={
            "csrf_token": token,
            "code": "54321",
            "name": "試験ペイ",
            "adapters": ["dsk_csv"],
            "channels": ["0820"],
            "remittance_mode": "net",
            "fee_per_item": "40",
            "tax_rate": "10",
            "fee_valid_from": "2026-04-01",
        },
    )
    assert response.status_code == 302
    page = admin.get("/staff/admin/agents/54321").get_data(as_text=True)
    assert "手数料差引入金" in page and "PayPay" in page and "2026/04/01" in page
    post(admin, "/staff/admin/agents/54321/fees", fee_per_item="35", tax_rate="10", valid_from="2027-04-01")
    page = admin.get("/staff/admin/agents/54321").get_data(as_text=True)
    assert "2027/04/01" in page and "35円" in page and "手数料を登録しました" in page
    assert _events(ctx, "agent.fee")
    bad = admin.post("/staff/admin/agents/new", data={"csrf_token": token, "code": "12", "name": "x"})
    assert bad.status_code == 422 and "半角数字5桁" in bad.get_data(as_text=True)


def test_admin_pages_are_refused_to_other_roles(app: Any, ctx: Context) -> None:
    users.create_user(ctx, "fin", "finance", PASSWORD)
    client, _ = log_in(app, "fin")
    for url in (
        "/staff/admin/users",
        "/staff/admin/clients",
        "/staff/admin/agents",
        "/staff/admin/users/fin/disable",
    ):
        assert client.get(url).status_code == 403
    assert ctx.session.exec(select(ApiClient)).first() is None
