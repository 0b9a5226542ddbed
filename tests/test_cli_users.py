"""``gateway users disable|enable|password``: JSON on stdout, exit 65 with a located message on refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main


@pytest.fixture
def run(cli_env: dict[str, str]) -> Any:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(main, list(args), env=cli_env, input=input, catch_exceptions=False)

    return invoke


def _login(app: Any, name: str, password: str) -> int:
    import re

    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token.group(1)})
    return int(response.status_code)


def test_disable_enable_and_password(run: Any, app: Any) -> None:
    created = run(
        "users", "create", "sato", "--role", "finance", "--password-stdin", input="a long password 1\n"
    )
    assert created.exit_code == 0, created.output
    assert _login(app, "sato", "a long password 1") == 302

    disabled = run("users", "disable", "sato", "--json")
    assert disabled.exit_code == 0, disabled.output
    assert json.loads(disabled.stdout) == {"name": "sato", "active": False}
    assert _login(app, "sato", "a long password 1") == 401
    again = run("users", "disable", "sato", "--json")
    assert again.exit_code == 65
    assert json.loads(again.stdout)["error"]["code"] == "conflict"
    assert "already disabled" in again.stderr

    enabled = run("users", "enable", "sato", "--json")
    assert json.loads(enabled.stdout) == {"name": "sato", "active": True}
    assert _login(app, "sato", "a long password 1") == 302

    typed = run("users", "password", "sato", "--password-stdin", "--json", input="another password 2\n")
    assert typed.exit_code == 0, typed.output
    assert json.loads(typed.stdout) == {"name": "sato", "password_set": True, "generated_password": None}
    assert _login(app, "sato", "another password 2") == 302

    plain = run("users", "password", "sato", input="a third password 3\n")  # stdin without a flag
    assert plain.exit_code == 0 and _login(app, "sato", "a third password 3") == 302

    generated = run("users", "password", "sato", "--generate", "--json")
    doc = json.loads(generated.stdout)
    assert doc["password_set"] is True and len(doc["generated_password"]) >= 12
    assert _login(app, "sato", doc["generated_password"]) == 302
    assert _login(app, "sato", "another password 2") == 401

    text = run("users", "password", "sato", "--generate")
    assert text.exit_code == 0 and "shown once" in text.stdout


def test_refusals_exit_65(run: Any) -> None:
    assert run("users", "disable", "nobody", "--json").exit_code == 65
    run("users", "create", "sato", "--role", "finance")
    short = run("users", "password", "sato", "--password-stdin", input="short\n")
    assert short.exit_code == 65 and "password" in short.stderr
    assert run("users", "enable", "sato").exit_code == 65  # already active
