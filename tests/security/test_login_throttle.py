"""Sign-in throttling and the audit of failed sign-ins (issue 9).

After 5 failures within 15 minutes for one account, or 20 from one address, further attempts are refused
with 429 and a Japanese message for a lock that starts at 1 minute and doubles up to 15 minutes — before any
password hash is computed. A success clears the account's counter. Every failed sign-in is an audit event
with the name tried and the address, never the password."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway import audit
from gateway.access import users
from gateway.context import Context
from tests.conftest import Clock
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import csrf

WRONG = "wrong-password-Zq7#unique"


def attempt(app: Any, name: str, password: str, address: str = "192.0.2.10") -> Any:
    client: FlaskClient = app.test_client()
    environ = {"REMOTE_ADDR": address}
    token = csrf(client.get("/login", environ_base=environ).data)
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": token}, environ_base=environ
    )


def locked_message(minutes: int) -> str:
    return f"ログインの失敗が続いたため、しばらくログインできません。{minutes}分後にもう一度お試しください。"


@pytest.fixture
def sato(ctx: Context) -> str:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    return "sato"


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash the sign-in computes."""
    calls: list[str] = []
    original = users.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        calls.append(password)
        return original(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", counting)
    return calls


def test_five_failures_lock_the_account_before_any_hash_is_computed(
    app: Any, sato: str, clock: Clock, hashes: list[str]
) -> None:
    for _ in range(5):
        assert attempt(app, sato, WRONG).status_code == 401
    assert len(hashes) == 5
    response = attempt(app, sato, PASSWORD, address="192.0.2.99")  # the right password, another address
    assert response.status_code == 429
    assert locked_message(1) in response.get_data(as_text=True)
    assert len(hashes) == 5
    clock.advance(seconds=61)
    assert attempt(app, sato, PASSWORD).status_code == 302


@pytest.fixture
def two_failures_lock(overrides: dict[str, Any]) -> None:
    overrides["login_account_failures"] = 2  # fewer hashes per round; the default 5 is tested above


def test_the_lock_grows_exponentially_up_to_15_minutes(
    two_failures_lock: None, app: Any, sato: str, clock: Clock
) -> None:
    for minutes in (1, 2, 4, 8, 15, 15):
        for _ in range(2):
            assert attempt(app, sato, WRONG).status_code == 401
        response = attempt(app, sato, PASSWORD)
        assert response.status_code == 429
        assert locked_message(minutes) in response.get_data(as_text=True)
        clock.advance(minutes=minutes - 0.5)
        assert attempt(app, sato, PASSWORD).status_code == 429
        clock.advance(minutes=0.5, seconds=1)
    assert attempt(app, sato, PASSWORD).status_code == 302


def test_failures_outside_the_window_do_not_add_up(app: Any, sato: str, clock: Clock) -> None:
    for _ in range(4):
        assert attempt(app, sato, WRONG).status_code == 401
    clock.advance(minutes=16)
    for _ in range(4):
        assert attempt(app, sato, WRONG).status_code == 401
    assert attempt(app, sato, PASSWORD).status_code == 302


def test_a_success_clears_the_accounts_counter(app: Any, sato: str) -> None:
    for _ in range(4):
        assert attempt(app, sato, WRONG).status_code == 401
    assert attempt(app, sato, PASSWORD).status_code == 302
    for _ in range(4):
        assert attempt(app, sato, WRONG).status_code == 401
    assert attempt(app, sato, PASSWORD).status_code == 302


def test_unknown_names_are_throttled_like_real_ones(app: Any, hashes: list[str]) -> None:
    for _ in range(5):
        assert attempt(app, "ghost", WRONG).status_code == 401
    response = attempt(app, "ghost", WRONG)
    assert response.status_code == 429
    assert len(hashes) == 5  # the dummy hash was computed for each counted failure, not for the refused one


def test_twenty_failures_from_one_address_lock_that_address(app: Any, ctx: Context, clock: Clock) -> None:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    for i in range(20):
        assert attempt(app, f"guess{i % 5}x{i // 5}", WRONG, address="198.51.100.7").status_code == 401
    response = attempt(app, "sato", PASSWORD, address="198.51.100.7")
    assert response.status_code == 429
    assert locked_message(1) in response.get_data(as_text=True)
    assert attempt(app, "sato", PASSWORD, address="198.51.100.8").status_code == 302
    clock.advance(seconds=61)
    assert attempt(app, "sato", PASSWORD, address="198.51.100.7").status_code == 302


def test_failed_sign_ins_are_audited_without_the_password(app: Any, sato: str, ctx: Context) -> None:
    long_name = "x" * 100
    assert attempt(app, sato, WRONG, address="203.0.113.5").status_code == 401
    assert attempt(app, long_name, WRONG, address="203.0.113.5").status_code == 401
    for _ in range(4):
        assert attempt(app, sato, WRONG).status_code == 401
    assert attempt(app, sato, WRONG).status_code == 429  # a refused attempt is recorded too
    ctx.session.commit()
    rows = ctx.session.execute(
        sa.text("SELECT actor_kind, actor_name, action, target_id, detail FROM audit_events ORDER BY id")
    ).all()
    failed = [r for r in rows if r.action == "user.login_failed"]
    assert len(failed) == 7
    first = json.loads(failed[0].detail) if isinstance(failed[0].detail, str) else failed[0].detail
    assert first["name"] == "sato" and first["address"] == "203.0.113.5"
    second = json.loads(failed[1].detail) if isinstance(failed[1].detail, str) else failed[1].detail
    assert second["name"] == "x" * 64
    everything = ctx.session.execute(sa.text("SELECT * FROM audit_events")).all()
    assert WRONG not in str(everything) and PASSWORD not in str(everything)
    assert audit.verify(ctx.session).ok


def test_the_failed_sign_in_has_a_japanese_audit_label() -> None:
    from gateway import catalogue

    assert catalogue.LABELS["audit_action"]["user.login_failed"]


def test_the_password_check_computes_a_hash_for_unknown_names_too(ctx: Context, hashes: list[str]) -> None:
    assert users.check_password(ctx, "nobody", "whatever") is None
    assert hashes == ["whatever"]
