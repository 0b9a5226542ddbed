"""Staff sessions end on the server (issue 9): a copied session cookie stops working at logout, on a password
change or reset, a role change, disabling the account and token revocation, after the idle limit and after
the absolute limit. The cookie holds only a random session id; the database only its SHA-256."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.access import users
from gateway.context import Context
from tests.conftest import Clock
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import csrf
from tests.pages.pagetools import post_login
from tests.pages.pagetools import sign_in

COOKIE = "gateway_session"
EXPIRED = "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください。"


def copy_of(app: Any, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (what a thief would have)."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie.value)
    return thief


def signed_in(client: FlaskClient) -> bool:
    """Whether ``client`` still gets its start page (a signed-out browser is sent to sign in)."""
    response = client.get("/staff/today")
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"], response.status_code
    return False


@pytest.fixture
def finance(app: Any, ctx: Context) -> FlaskClient:
    return sign_in(app, ctx, "finance", "sato")


def test_the_cookie_holds_only_a_session_id_whose_hash_is_stored(
    app: Any, finance: FlaskClient, ctx: Context
):
    cookie = finance.get_cookie(COOKIE)
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert "user_id" not in data and "user_name" not in data
    sid = data["sid"]
    assert len(sid) >= 32
    rows = ctx.session.execute(sa.text("SELECT token_hash, ended_at FROM staff_sessions")).all()
    assert rows == [(hashlib.sha256(sid.encode()).hexdigest(), None)]
    dump = str(ctx.session.execute(sa.text("SELECT * FROM staff_sessions")).all())
    assert sid not in dump


def test_a_copied_cookie_stops_working_after_logout(app: Any, finance: FlaskClient, ctx: Context) -> None:
    thief = copy_of(app, finance)
    assert signed_in(thief)
    token = csrf(finance.get("/staff/today").data)
    assert finance.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(thief)
    assert not signed_in(finance)
    reason = ctx.session.execute(sa.text("SELECT end_reason FROM staff_sessions")).scalar_one()
    assert reason == "logout"
    logouts = ctx.session.execute(
        sa.text("SELECT actor_name, target_id FROM audit_events WHERE action = 'user.logout'")
    ).all()
    assert [tuple(r) for r in logouts] == [("sato", "sato")]
    # signing out again with the dead copy is not another audit event
    token = csrf(finance.get("/login").data)
    finance.post("/logout", data={"csrf_token": token})
    ctx.session.commit()
    assert (
        ctx.session.execute(
            sa.text("SELECT COUNT(*) FROM audit_events WHERE action = 'user.logout'")
        ).scalar_one()
        == 1
    )


def test_a_cookie_of_the_old_kind_naming_the_account_is_refused(app: Any, ctx: Context) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    user_id = ctx.session.execute(sa.text("SELECT id FROM users WHERE name = 'sato'")).scalar_one()
    old = app.session_interface.get_signing_serializer(app).dumps({"user_id": user_id, "user_name": "sato"})
    client = app.test_client()
    client.set_cookie(COOKIE, old)
    assert not signed_in(client)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: users.set_password(c, "sato", "another long password"), id="set_password"),
        pytest.param(lambda c: users.reset_password(c, "sato"), id="reset_password"),
        pytest.param(lambda c: users.set_role(c, "sato", "approver"), id="set_role"),
        pytest.param(lambda c: users.disable_user(c, "sato"), id="disable"),
        pytest.param(lambda c: users.revoke_tokens(c, "sato"), id="revoke_tokens"),
    ],
)
def test_a_copied_cookie_stops_working_after_an_account_change(
    app: Any, finance: FlaskClient, ctx: Context, change: Callable[[Context], Any]
) -> None:
    thief = copy_of(app, finance)
    other = sign_in(app, ctx, "finance", "suzuki")  # another account's session is not touched
    assert signed_in(thief)
    change(ctx)
    assert not signed_in(thief)
    assert not signed_in(finance)
    assert signed_in(other)
    ended = ctx.session.execute(
        sa.text(
            "SELECT COUNT(*) FROM staff_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.name = 'sato' AND s.ended_at IS NOT NULL"
        )
    ).scalar_one()
    assert ended == 1


def test_sessions_end_when_the_admin_changes_the_account_in_the_browser(app: Any, ctx: Context) -> None:
    admin = sign_in(app, ctx, "admin", "boss")
    victim = sign_in(app, ctx, "finance", "sato")
    thief = copy_of(app, victim)
    token = csrf(admin.get("/staff/admin/users").data)
    response = admin.post("/staff/admin/users/sato/revoke-tokens", data={"csrf_token": token})
    assert response.status_code == 302
    assert not signed_in(thief)
    assert signed_in(admin)


def test_the_session_ends_after_the_idle_limit(app: Any, finance: FlaskClient, clock: Clock) -> None:
    clock.advance(minutes=29)
    assert signed_in(finance)
    clock.advance(minutes=29)  # 58 minutes after sign-in, but used 29 minutes ago
    assert signed_in(finance)
    clock.advance(minutes=31)
    response = finance.get("/staff/today")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = finance.get(response.headers["Location"]).get_data(as_text=True)
    assert EXPIRED in page
    clock.advance(minutes=-31)  # coming back in time does not revive an ended session
    assert not signed_in(finance)


def test_the_idle_limit_is_a_setting(app: Any, ctx: Context, clock: Clock, overrides: dict[str, Any]) -> None:
    from gateway import create_app
    from gateway.config import load_settings
    from gateway.runtime import Runtime

    overrides["session_idle_minutes"] = 5
    runtime = Runtime.load(load_settings(environ={}, overrides=overrides))
    runtime.clock = clock
    short = create_app(runtime=runtime)
    client = sign_in(short, ctx, "finance", "sato")
    clock.advance(minutes=4)
    assert signed_in(client)
    clock.advance(minutes=6)
    assert not signed_in(client)


def test_the_session_ends_after_the_absolute_limit_however_busy(finance: FlaskClient, clock: Clock) -> None:
    for _ in range(11 * 2 + 1):  # every 29 minutes for 11 h 07 min
        clock.advance(minutes=29)
        assert signed_in(finance)
    clock.advance(minutes=29)  # 11 h 36 min
    assert signed_in(finance)
    clock.advance(minutes=25)  # 12 h 01 min
    response = finance.get("/staff/today")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert EXPIRED in finance.get(response.headers["Location"]).get_data(as_text=True)


def test_the_last_use_is_written_at_most_once_a_minute(
    finance: FlaskClient, ctx: Context, clock: Clock
) -> None:
    def last_seen() -> Any:
        ctx.session.commit()
        return ctx.session.execute(sa.text("SELECT last_seen_at FROM staff_sessions")).scalar_one()

    clock.advance(minutes=2)
    assert signed_in(finance)
    first = last_seen()
    clock.advance(seconds=30)
    assert signed_in(finance)
    assert last_seen() == first
    clock.advance(seconds=31)
    assert signed_in(finance)
    assert last_seen() != first


def test_signing_in_again_replaces_the_old_session(app: Any, ctx: Context) -> None:
    client = sign_in(app, ctx, "finance", "sato")
    before = copy_of(app, client)
    token = csrf(client.get("/login").data)
    response = client.post("/login", data={"name": "sato", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(before)  # no session fixation: the old id is not carried over


def test_old_ended_sessions_are_deleted_at_the_next_sign_in(app: Any, ctx: Context, clock: Clock) -> None:
    first = sign_in(app, ctx, "finance", "sato")
    first.get("/logout")
    clock.advance(days=3)
    post_login(app, "sato", PASSWORD)  # the first session is 3 days old: kept
    ctx.session.commit()
    assert ctx.session.execute(sa.text("SELECT count(*) FROM staff_sessions")).scalar_one() == 2
    clock.advance(days=5)
    post_login(app, "sato", PASSWORD)  # now 8 days old: deleted; the second (5 days) stays
    ctx.session.commit()
    rows = ctx.session.execute(sa.text("SELECT count(*) FROM staff_sessions")).scalar_one()
    assert rows == 2
