"""Helpers of the staff-page tests: sign in with a password (forms need the session's CSRF token), post a
form, the visible text of a page with what must never appear in it, and signing in a real browser."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from flask.testing import FlaskClient

from gateway.access import users
from gateway.context import Context

PASSWORD = "correct horse battery"
#: internal codes and English a clerk must never read (issue 8), and ISO dates
FORBIDDEN = ("unknown_slip", "payment_number", "kind_code", "preliminary", "user:", "system:", "None")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def csrf(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'name="csrf[_-]token" (?:value|content)="([^"]+)"', text)
    assert match
    return match.group(1)


def post_login(app: Any, name: str, password: str) -> tuple[FlaskClient, Any]:
    client = app.test_client()
    token = csrf(client.get("/login").data)
    return client, client.post("/login", data={"name": name, "password": password, "csrf_token": token})


def log_in(app: Any, name: str, password: str = PASSWORD) -> tuple[FlaskClient, int]:
    """A test client after posting the login form as ``name``, and the status code of that post."""
    client, response = post_login(app, name, password)
    return client, response.status_code


def sign_in(app: Any, ctx: Context, role: str, name: str | None = None) -> FlaskClient:
    """A test client signed in as a new account with ``role``."""
    name = name or f"{role}-page"
    users.create_user(ctx, name, role, PASSWORD)
    client, response = post_login(app, name, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client: FlaskClient, url: str, page_url: str, **form: str) -> str:
    """Post a form with the CSRF token of ``page_url``; follow the redirect; the final page's HTML."""
    token = csrf(client.get(page_url).data)
    response = client.post(url, data={"csrf_token": token, **form}, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def visible_text(page: str, *, head: bool = False, selects: bool = True) -> str:
    """What a reader sees: the body without tags, attributes, styles or the chart's machine data.

    ``head=True`` keeps the head's text too (the title); ``selects=False`` drops the drop-down lists,
    whose options name every choice (the audit filters)."""
    body = page if head else page.split("<body>", 1)[-1]
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", body, flags=re.S)
    if not selects:
        body = re.sub(r"<select.*?</select>", "", body, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body))


def assert_clerk_text(page: str) -> str:
    """Fail on an internal code, an English leftover or an ISO date in the visible text; return the text."""
    text = visible_text(page)
    for word in FORBIDDEN:
        assert word not in text, (word, _around(text, word))
    found = ISO_DATE.search(text)
    assert found is None, _around(text, found.group(0) if found else "")
    return text


def _around(text: str, word: str) -> str:
    at = text.find(word)
    return " ".join(text[max(0, at - 120) : at + 120].split())


def browser_login(
    page: Any, base: str, name: str, password: str = PASSWORD, *, next: str | None = None, landing: Any = None
) -> None:
    """Sign in through the login form in a real browser. With ``next``, open that page first (it must send
    a signed-out visitor to the login) and wait to come back to it; otherwise wait for the start page.
    ``landing`` (a URL, glob or pattern) overrides where to wait."""
    page.goto(base + (next or "/login"))
    if next:
        assert "/login" in page.url
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(landing if landing is not None else base + (next or "/staff/today"))
