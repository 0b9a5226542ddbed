"""The whole role matrix: every rule of the URL map × every principal, checked against the one permission
table (``gateway.permissions.TABLE``) — not samples.

Principals: the six staff roles (staff pages with a signed-in session cookie, the API with a bearer token),
an anonymous visitor and a signed agent API client. For each rule and each method (but HEAD/OPTIONS) each
principal sends one request, URL variables filled from the synthetic demo (a real claim, slip, exception,
settlement file, print batch, agent, API client and user) or dummies where a 404 is a fine answer:

- a principal the table does not allow gets 403 (staff pages: the Japanese error page with the navigation
  kept; API: a JSON error); an anonymous visitor is sent to /login (pages) or gets 401 (API);
- an allowed principal never gets 401 or 403, and nobody ever gets a 5xx.

All GETs run first, then the mutating requests, principal by principal with the admin last and the
sign-in/sign-out endpoints at the very end; mutations that name a user or a client aim at a spare one, so
they cannot lock a later principal out. Every wrong cell is listed on failure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import got_request_exception
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from gateway import permissions
from gateway.access import clients as client_service
from gateway.access import users
from gateway.context import Context
from gateway.operations import demo
from tests.conftest import Clock

PASSWORD = "matrix password 2026"
SKIP_METHODS = {"HEAD", "OPTIONS"}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
#: Order of the mutating phase: who changes most goes last. Anonymous and the agent are refused almost
#: everywhere; the admin disables and rotates (a spare user and client, but still last).
ORDER = (
    "anonymous",
    permissions.AGENT,
    "print_vendor",
    "auditor",
    "accounting",
    "approver",
    "finance",
    "admin",
)
#: Endpoints that change the caller's own session: run after everything else.
SESSION_ENDPOINTS = ("staff.login", "staff.logout")


@dataclass
class Principal:
    """One column of the matrix and how it sends requests."""

    name: str
    pages: FlaskClient
    api_headers: dict[str, str] = field(default_factory=dict)
    csrf: str = ""
    sign: Callable[[str, str, bytes], dict[str, str]] | None = None  # agent: signed headers of a request


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf[_-]token" (?:value|content)="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def world(app: Flask, ctx: Context, clock: Clock, tmp_path: Path) -> dict[str, Any]:
    """The demo plus one account per role, a spare user and API client, and an agent client."""
    demo.build(ctx, folder=tmp_path / "demo")
    for role in permissions.ROLES:
        users.create_user(ctx, f"matrix-{role}", role, PASSWORD)
    users.create_user(ctx, "matrix-spare", "finance", PASSWORD)
    users.create_user(ctx, "matrix-login", "auditor", PASSWORD)
    spare_client, _ = client_service.create_client(ctx, "matrix-spare")
    agent_client, agent_secret = client_service.create_client(ctx, "matrix-agent", agent_code=demo.AGENT)

    def one(sql: str) -> Any:
        return ctx.session.execute(sa.text(sql)).first()

    claim = one("SELECT id, number FROM claims ORDER BY id")
    slip = one("SELECT id, payment_number, reissue_count FROM slips ORDER BY id")
    exception = one("SELECT id FROM recon_exceptions ORDER BY id")
    settlement_file = one("SELECT id FROM settlement_files ORDER BY id")
    batch = one("SELECT id FROM print_batches ORDER BY id")
    agent = one(f"SELECT id, code FROM agents WHERE code = '{demo.AGENT}'")
    spare = one("SELECT id, name FROM users WHERE name = 'matrix-spare'")
    payment = one("SELECT id FROM payments ORDER BY id")
    refund = one("SELECT id FROM refunds ORDER BY id")
    assert claim and slip and exception and settlement_file and batch and agent and spare and payment
    ctx.commit()
    return {
        "claim": (claim.id, claim.number),
        "slip": (slip.id, f"{slip.payment_number}-{slip.reissue_count}"),
        "payment_number": (slip.id, slip.payment_number),
        "exception": (exception.id, str(exception.id)),
        "file": (settlement_file.id, str(settlement_file.id)),
        "print_batch": (batch.id, str(batch.id)),
        "settlement_batch": (1, "matrix-no-such-batch"),
        "agent": (agent.id, agent.code),
        "client": (spare_client.id, spare_client.key_id),
        "user": (spare.id, spare.name),
        "payment": (payment.id, str(payment.id)),
        "refund": (refund.id if refund else 1, str(refund.id) if refund else "1"),
        "day": (20261127, clock.now.date().isoformat()),
        "agent_credentials": (agent_client.key_id, agent_secret),
    }


#: URL variable name → the data-set entry it names (anything else gets a dummy: 1 or "1").
VARIABLES = {
    "number": "claim",
    "claim_number": "claim",
    "claim": "claim",
    "claim_id": "claim",
    "slip_number": "slip",
    "slip": "slip",
    "slip_id": "slip",
    "payment_number": "payment_number",
    "exception_id": "exception",
    "file_id": "file",
    "settlement_file_id": "file",
    "settlement_id": "file",
    "agent_id": "agent",
    "agent": "agent",
    "code": "agent",
    "agent_code": "agent",
    "client_id": "client",
    "key_id": "client",
    "client": "client",
    "user_id": "user",
    "user": "user",
    "name": "user",
    "payment_id": "payment",
    "refund_id": "refund",
    "day": "day",
    "date": "day",
    "receipt_date": "day",
}


def _url(rule: Rule, world: dict[str, Any]) -> str:
    values: dict[str, Any] = {}
    for name in sorted(rule.arguments):
        is_int = isinstance(rule._converters[name], IntegerConverter)
        if name == "filename":
            values[name] = "style.css"
            continue
        if name == "batch_id":
            entry = "print_batch" if "print" in rule.endpoint else "settlement_batch"
        else:
            entry = VARIABLES.get(name, "")
        number, text = world.get(entry, (1, "1"))
        values[name] = number if is_int else text
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule} with {values}"
    return built[1]


def _principals(app: Flask, world: dict[str, Any], clock: Clock, ctx: Context) -> dict[str, Principal]:
    out: dict[str, Principal] = {"anonymous": Principal("anonymous", app.test_client())}
    key_id, secret = world["agent_credentials"]

    def sign(method: str, url: str, body: bytes) -> dict[str, str]:
        clock.advance(seconds=1)  # a fresh timestamp each time: a repeated signature is a replay
        stamp = int(clock().timestamp())
        return client_service.signed_headers(key_id, secret, stamp, body, method=method, path=url)

    out[permissions.AGENT] = Principal(permissions.AGENT, app.test_client(), sign=sign)
    for role in permissions.ROLES:
        client = app.test_client()
        name = f"matrix-{role}"
        token = _csrf(client.get("/login").get_data(as_text=True))
        signed_in = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302, f"{role} cannot sign in"
        csrf = _csrf(client.get("/staff/today").get_data(as_text=True))
        bearer = users.issue_token(ctx, name)
        out[role] = Principal(role, client, {"Authorization": f"Bearer {bearer}"}, csrf)
    return out


def _send(who: Principal, method: str, url: str, endpoint: str) -> TestResponse:
    api = url.startswith("/api/")
    headers: dict[str, str] = {}
    body = b""
    content_type = None
    if method in MUTATING:
        if api:
            body, content_type = b"{}", "application/json"
        elif who.csrf:
            body = f"csrf_token={who.csrf}".encode()
            content_type = "application/x-www-form-urlencoded"
        if endpoint == "staff.login":  # a sign-in that works: the failed one answers 401 by design
            who_name = (
                "matrix-login" if who.name in ("anonymous", permissions.AGENT) else f"matrix-{who.name}"
            )
            token = who.csrf or _csrf(who.pages.get("/login").get_data(as_text=True))
            body = f"name={who_name}&password={PASSWORD.replace(' ', '+')}&csrf_token={token}".encode()
            content_type = "application/x-www-form-urlencoded"
    if who.sign is not None:
        headers.update(who.sign(method, url, body))
    elif api:
        headers.update(who.api_headers)
    return who.pages.open(
        url, method=method, data=body, headers=headers, content_type=content_type, follow_redirects=False
    )


def _check(who: str, endpoint: str, allowed: bool, api: bool, response: TestResponse) -> str | None:
    """What is wrong with this cell, or None."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if allowed:
        if status in (401, 403):
            return f"refused ({status}) though the table allows it"
        to_login = status == 302 and urlsplit(response.headers.get("Location", "")).path == "/login"
        if to_login and who in permissions.ROLES and endpoint != "staff.logout":
            return "sent to sign in though signed in"
        return None
    if who == "anonymous":
        if api:
            return None if status == 401 else f"expected 401, got {status}"
        location = response.headers.get("Location", "")
        return (
            None if status == 302 and "/login" in location else f"expected a redirect to /login, got {status}"
        )
    if status != 403:
        return f"expected 403, got {status}"
    if api:
        try:
            payload = json.loads(response.get_data(as_text=True))
        except ValueError:
            return "403 without a JSON body"
        return None if isinstance(payload, dict) and "error" in payload else "403 without a JSON error"
    html = response.get_data(as_text=True)
    if "この画面は開けません" not in html:
        return "403 without the Japanese error page"
    if who != permissions.AGENT and 'href="/staff/today"' not in html:
        return "403 page without the navigation"
    return None


def _cells(app: Flask) -> list[tuple[Rule, str]]:
    cells = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - SKIP_METHODS)
    ]
    return sorted(cells, key=lambda cell: (cell[0].endpoint in SESSION_ENDPOINTS, cell[0].rule, cell[1]))


def test_every_rule_is_in_the_permission_table(app: Flask) -> None:
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(permissions.TABLE))
    assert missing == [], f"endpoints missing from gateway.permissions.TABLE: {missing}"


def test_every_rule_times_every_principal(
    app: Flask, world: dict[str, Any], clock: Clock, ctx: Context
) -> None:
    principals = _principals(app, world, clock, ctx)
    # A view that raises is a 500 cell of the matrix, not the end of the test; keep what it raised.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    raised: list[BaseException] = []

    def keep(_sender: Any, exception: BaseException, **_: Any) -> None:
        raised.append(exception)

    cells = _cells(app)
    reads = [cell for cell in cells if cell[1] not in MUTATING and cell[0].endpoint not in SESSION_ENDPOINTS]
    writes = [cell for cell in cells if cell not in reads]
    plan = [(who, cell) for cell in reads for who in ORDER]
    plan += [(who, cell) for who in ORDER for cell in writes if cell[0].endpoint not in SESSION_ENDPOINTS]
    plan += [(who, cell) for cell in writes if cell[0].endpoint in SESSION_ENDPOINTS for who in ORDER]
    wrong: list[str] = []
    checked = 0
    with got_request_exception.connected_to(keep, app):
        for who, (rule, method) in plan:
            url = _url(rule, world)
            who_may = permissions.allowed(rule.endpoint)
            allowed = permissions.ANYONE in who_may or who in who_may
            raised.clear()
            response = _send(principals[who], method, url, rule.endpoint)
            problem = _check(who, rule.endpoint, allowed, url.startswith("/api/"), response)
            response.close()  # a file response (static) holds its file open until closed
            if problem and raised:
                problem += f" ({type(raised[-1]).__name__}: {str(raised[-1])[:120]})"
            checked += 1
            if problem:
                wrong.append(f"{method} {rule.rule} [{rule.endpoint}] as {who}: {problem}")
    assert checked == len(cells) * len(ORDER)
    assert not wrong, f"{len(wrong)} wrong cells of {checked}:\n" + "\n".join(wrong)
