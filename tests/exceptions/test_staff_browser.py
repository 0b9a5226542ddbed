"""The queue pages in a real browser (headless Chromium): sign in, filter, open an exception, resolve it with
the page's own form, all under the production CSP (no console errors, no blocked resources).

Marked ``browser``: needs Playwright and a Chromium (Debian's /usr/bin/chromium, or Playwright's own).
Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from gateway.services import users
from tests.exceptions.conftest import World

pytestmark = pytest.mark.browser

playwright_sync = pytest.importorskip("playwright.sync_api")
PASSWORD = "correct horse battery"


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    """The app on a free local port, served from a thread."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    executable = shutil.which("chromium")
    with playwright_sync.sync_playwright() as p:
        try:
            browser = p.chromium.launch(executable_path=executable) if executable else p.chromium.launch()
        except Exception as ex:  # any launch failure means "no browser here"
            pytest.skip(f"no headless Chromium: {ex}")
        page = browser.new_page(locale="ja-JP")
        yield page
        browser.close()


def test_resolve_an_exception_in_the_browser(
    server: str, browser_page: Any, world: World, unknown: int
) -> None:
    users.create_user(world.ctx, "fin-browser", "finance", PASSWORD)
    page = browser_page
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
