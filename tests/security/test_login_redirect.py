"""After sign-in, ``next`` only ever leads to a path on this site (issue 9): the target is rebuilt from the
parsed URL, and anything a browser could read as another host (or a script) goes to the start page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from gateway.access import users
from gateway.context import Context
from gateway.pages.auth import _safe_next
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import csrf

START = "/staff/today"

HOSTILE = [
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\/evil.com",
    "\\\\evil.com",
    "/%5Cevil.com",
    "/%5cevil.com",
    "/%2F/evil.com",
    "/\\\\evil.com/",
    "https://evil.com",
    "https://evil.com/staff/today",
    "http:evil.com",
    "http:/evil.com",
    "//evil.com/%2F..",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r/evil.com",
    "\t//evil.com",
    " //evil.com",
    " /x",
    "/x ",
    "/x\x00",
    "/x\x7f",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    "staff/today",
    "@evil.com",
    "",
]

FRIENDLY = [
    ("/staff/claims", "/staff/claims"),
    ("/staff/claims?status=open&page=2", "/staff/claims?status=open&page=2"),
    ("/staff/claims/2026-000001", "/staff/claims/2026-000001"),
    ("/staff/claims?q=%E5%B1%B1%E7%94%B0", "/staff/claims?q=%E5%B1%B1%E7%94%B0"),
    ("/staff/today#top", "/staff/today"),
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_next_goes_to_the_start_page(target: str) -> None:
    assert _safe_next(target) == START


@pytest.mark.parametrize(("target", "expected"), FRIENDLY)
def test_a_path_on_this_site_is_kept(target: str, expected: str) -> None:
    assert _safe_next(target) == expected


@pytest.fixture
def sato(ctx: Context) -> str:
    users.create_user(ctx, "sato", "finance", PASSWORD)
    return "sato"


def _login_with_next(app: Any, next_query: str) -> str:
    client = app.test_client()
    token = csrf(client.get("/login").data)
    response = client.post(
        "/login?next=" + next_query, data={"name": "sato", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    location: str = response.headers["Location"]
    return location


@pytest.mark.parametrize("target", HOSTILE)
def test_signing_in_with_a_hostile_next_lands_on_the_start_page(app: Any, sato: str, target: str) -> None:
    assert _login_with_next(app, quote(target, safe="")) == START


@pytest.mark.parametrize("raw", ["/%5Cevil.com", "/%5cevil.com", "%2F%2Fevil.com", "/%09/evil.com"])
def test_a_next_with_encodings_left_in_the_query_is_refused(app: Any, sato: str, raw: str) -> None:
    # the query string itself carries the encoded form: Flask decodes it once before the check
    assert _login_with_next(app, raw) == START


def test_signing_in_with_a_page_of_this_site_goes_there(app: Any, sato: str) -> None:
    assert _login_with_next(app, quote("/staff/claims?status=open", safe="")) == "/staff/claims?status=open"
