"""The queue pages in a real browser (headless Chromium): sign in, filter, open an exception, resolve it with
the page's own form, all under the production CSP (no console errors, no blocked resources).

Marked ``browser``: uses the shared ``chromium`` and ``live_server`` fixtures of tests/conftest.py; fails when
Chromium is missing. Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gateway.access import users
from tests.exceptions.conftest import World

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A fresh page (own context: no cookies from other tests) in the shared browser."""
    context = chromium.new_context(locale="ja-JP")
    yield context.new_page()
    context.close()


def test_resolve_an_exception_in_the_browser(
    live_server: str, browser_page: Any, world: World, unknown: int
) -> None:
    users.create_user(world.ctx, "fin-browser", "finance", PASSWORD)
    page, server = browser_page, live_server
    problems: list[str] = []

    def console(msg: Any) -> None:
        # CSP violations are console errors ("Refused to …"); a failed resource is checked by its response.
        if msg.type in ("error", "warning") and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    def response(res: Any) -> None:
        if res.status >= 400 and not res.url.endswith("/favicon.ico"):  # the app serves no favicon
            problems.append(f"{res.status} {res.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.on("requestfailed", lambda req: problems.append(f"failed: {req.url}"))

    page.goto(server + "/staff/exceptions")
    assert "/login" in page.url
    page.fill("input[name=name]", "fin-browser")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/exceptions")

    card = page.locator('a.metric[data-kind="unknown_slip"]')
    assert card.locator(".value").inner_text().strip() == "1"
    page.select_option("select#kind", "unknown_slip")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**kind=unknown_slip**")
    page.click(f'table.queue a[href="/staff/exceptions/{unknown}"]')
    page.wait_for_url(f"**/staff/exceptions/{unknown}")
    assert page.locator("h1 .badge").inner_text() == "未処理"

    form = page.locator('form[data-resolution="no_action"]')
    form.locator("input[name=note]").fill("the agent's test record")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".flash.ok")
    assert page.locator("h1 .badge").inner_text() == "処理済"
    assert "the agent's test record" in page.locator("table.history").inner_text()
    assert problems == []
    assert world.exc(unknown)["status"] == "resolved"
