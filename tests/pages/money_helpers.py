"""Helpers of the exceptions, payments and reports page tests: sign in with a password (forms need the
session's CSRF token), post a form, and the visible text of a page with what must never appear in it."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from flask.testing import FlaskClient

from gateway.context import Context
from gateway.services import users

PASSWORD = "correct horse battery"
#: internal codes and English a clerk must never read (issue 8), and ISO dates
FORBIDDEN = ("unknown_slip", "payment_number", "kind_code", "preliminary", "user:", "system:", "None")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def csrf(page: bytes | str) -> str:
    text = page.decode() if isinstance(page, bytes) else page
    match = re.search(r'name="csrf[_-]token" (?:value|content)="([^"]+)"', text)
    assert match
    return match.group(1)


def sign_in(app: Any, ctx: Context, role: str, name: str | None = None) -> FlaskClient:
    """A test client signed in as a new account with ``role``."""
    name = name or f"{role}-page"
    users.create_user(ctx, name, role, PASSWORD)
    client = app.test_client()
    token = csrf(client.get("/login").data)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post(client: FlaskClient, url: str, page_url: str, **form: str) -> str:
    """Post a form with the CSRF token of ``page_url``; follow the redirect; the final page's HTML."""
    token = csrf(client.get(page_url).data)
    response = client.post(url, data={"csrf_token": token, **form}, follow_redirects=True)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def visible_text(page: str) -> str:
    """What a reader sees: the body without tags, attributes, styles or the chart's machine data."""
    body = page.split("<body>", 1)[-1]
    body = re.sub(r"<style.*?</style>|<script.*?</script>", " ", body, flags=re.S)
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
