"""Responses that can hold personal data are never cached (issue 9): every GET of every ``/staff`` and
``/api`` rule in the URL map — answered 200, 403 or 404 — carries ``Cache-Control: no-store``; static files
stay cacheable."""

from __future__ import annotations

from typing import Any

from gateway import permissions
from gateway.issuing import slips as slip_service
from tests.helpers import make_claim
from tests.pages.pagetools import sign_in


def _values(ctx: Any) -> dict[str, str]:
    """Path arguments that exist (a claim with slips) or at least look right."""
    make_claim(ctx, "T-0001")
    slip = slip_service.issue_slips(ctx, "T-0001")[0]
    return {
        "number": "T-0001",
        "slip_number": slip.slip_number,
        "batch_id": "1",
        "file_id": "1",
        "exception_id": "1",
        "day": "2026-11-27",
        "receipt_date": "2026-11-27",
        "name": "nobody",
        "key_id": "kgc_none",
        "code": "12345",
        "fmt": "csv",
    }


def _url(rule: Any, values: dict[str, str]) -> str:
    url = rule.rule
    for argument in rule.arguments:
        url = url.replace(f"<{argument}>", values[argument])
        for converter in ("int", "id64", "string", "path"):
            url = url.replace(f"<{converter}:{argument}>", values[argument])
    return url


def test_every_staff_and_api_get_is_no_store(app, ctx, make_token):
    values = _values(ctx)
    sessions: dict[str, Any] = {}
    tokens: dict[str, dict[str, str]] = {}
    seen: list[tuple[str, int]] = []
    cached: list[tuple[str, int]] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith(("/staff", "/api")):
            continue
        roles = sorted(permissions.allowed(rule.endpoint) & set(permissions.ROLES)) or ["finance"]
        role = roles[0]
        url = _url(rule, values)
        if rule.rule.startswith("/api"):
            if role not in tokens:
                tokens[role] = make_token(role)
            response = app.test_client().get(url, headers=tokens[role])
        else:
            if role not in sessions:
                sessions[role] = sign_in(app, ctx, role, f"{role}-headers")
            response = sessions[role].get(url)
        if "no-store" not in response.headers.get("Cache-Control", ""):
            cached.append((url, response.status_code))
        seen.append((rule.endpoint, response.status_code))
        response.close()
    assert cached == []
    answered = dict(seen)
    # The pages and API that hold names were really served, not just refused.
    for endpoint in ("claims.index", "claims.show", "slips.show", "staff_claims.index", "staff_claims.show"):
        assert answered[endpoint] == 200, (endpoint, answered[endpoint])
    assert len(seen) > 40


def test_anonymous_and_error_responses_are_no_store_too(client):
    for url in (
        "/api/v1/claims",
        "/api/v1/claims/T-0001",
        "/staff/claims",
        "/staff/nothing",
        "/api/v1/nothing",
    ):
        response = client.get(url)
        assert response.status_code in (302, 401, 404), url
        assert "no-store" in response.headers.get("Cache-Control", ""), url


def test_static_files_stay_cacheable(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()
