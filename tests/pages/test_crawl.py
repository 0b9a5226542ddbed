"""Sign in as every role on the synthetic demo, follow every same-site link, and read what a clerk reads.

Fails on any 5xx, on a link that answers 4xx (a 403 is a link the role should not have been shown; a 404 is
a broken link), and on any HTML page whose visible text (tags, scripts, styles and attribute values
stripped) shows an internal code, an English word or sentence from the code, or an ISO date or time. Each
role must reach its start page /staff/today. All offending pages are reported at once, with a snippet.

A second test (marked ``browser``) reads one page of each URL shape per role again as Chromium renders it
(``innerText``: CSS applied), with the same checks.

GET only, through the Flask test client; downloads (PDF, CSV …) are fetched once for their status and not
read. Bounded: at most ``MAX_PAGES`` per role and ``PER_PATTERN`` pages per URL shape (claim pages differ
by data, not by code; a handful of each shape is enough to see every template and most of its branches).
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway import permissions
from gateway.access import users
from gateway.context import Context
from gateway.operations import demo
from reconciliation.rules import KINDS

MAX_PAGES = 400
PER_PATTERN = 8
START = "/staff/today"

#: Latin text a clerk legitimately reads, removed before the checks. Each is a name, not English prose:
#: file formats and interfaces the office deals with (PDF, CSV, JSON, HTML, Excel, cp932/Shift_JIS, API,
#: URL, QR, ID, GS1-128 — the barcode standard printed on the slip) and the payment apps' own brand names.
ALLOWED_LATIN = (
    "GS1-128",
    "Shift_JIS",
    "cp932",
    "UTF-8",
    "PDF",
    "CSV",
    "JSON",
    "HTML",
    "Excel",
    "API",
    "URL",
    "QR",
    "ID",
    "PayPay",
    "au PAY",
    "d払い",
    "LINE Pay",
    "楽天ペイ",
)

#: What must never reach a clerk, with why. ASCII word boundaries: a Japanese character next to a Latin word
#: is a boundary (Python's Unicode ``\b`` would treat 額 as part of the word).
_A = re.ASCII
_WORD = r"[A-Za-z][A-Za-z'’-]*"
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("exception kind code", re.compile(r"\b(?:" + "|".join(KINDS) + r")\b", _A)),
    ("snake_case name from the code", re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b", _A)),
    (
        "status word from the code",
        re.compile(r"\b(?:preliminary|confirmed|open|paid|issued|void)\b", _A | re.I),
    ),
    ("'yen' instead of 円", re.compile(r"\byen\b", _A | re.I)),
    ("actor label from the code", re.compile(r"\b(?:user|system|cli):", _A)),
    ("Python value or error", re.compile(r"\b(?:Traceback|None|True|False)\b", _A)),
    ("English sentence", re.compile(_WORD + r"(?:[ ,.;:!?]+" + _WORD + r"){2,}", _A)),
    ("ISO date", re.compile(r"\d{4}-\d{2}-\d{2}", _A)),
    ("ISO time", re.compile(r"T\d{2}:\d{2}", _A)),
    ("time with seconds", re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b", _A)),
)


#: Not read: what is never shown, and ``<code>``, which marks literal file content a clerk must type
#: exactly (the claims CSV's column headers on the import page) — the one place identifiers are meant.
HIDDEN = frozenset({"script", "style", "template", "noscript", "code"})
BLOCK = frozenset(
    {"br", "p", "div", "td", "th", "li", "tr", "option", "h1", "h2", "h3", "dt", "dd", "button"}
)
#: Inline elements end with a space, so the words of adjacent links or labels do not run into one word.
INLINE = frozenset({"a", "button", "label", "span", "small", "strong", "em", "b"})


class _Visible(HTMLParser):
    """Collects a page's visible text, its links, and the URLs its GET forms (filters, searches) submit with
    their values as shown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0
        self._form: tuple[str, list[tuple[str, str]]] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {name: value or "" for name, value in attrs}
        if tag in HIDDEN:
            self._hidden += 1
        if tag in BLOCK:
            self.text.append("\n")
        if tag == "a" and attr.get("href"):
            self.links.append(attr["href"])
        elif tag == "form" and attr.get("method", "get").lower() == "get":
            self._form = (attr.get("action", ""), [])
        elif self._form is not None and attr.get("name"):
            kind = attr.get("type", "text").lower()
            if tag == "input" and kind not in ("submit", "button", "checkbox", "radio", "file", "image"):
                self._form[1].append((attr["name"], attr.get("value", "")))
            elif tag == "input" and kind in ("checkbox", "radio") and "checked" in attr:
                self._form[1].append((attr["name"], attr.get("value", "on")))
            elif tag == "select":
                self._select = (attr["name"], [], [])
        if tag == "option" and self._select is not None:
            value = attr.get("value", "")
            self._select[1].append(value)
            if "selected" in attr:
                self._select[2].append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1
        if tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            self._form[1].append((name, (selected or options or [""])[0]))
            self._select = None
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.links.append(action.split("?")[0] + "?" + urlencode(fields) if fields else action)
            self._form = None
        self.text.append("\n" if tag in BLOCK else " " if tag in INLINE else "")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def visible_text(html: str) -> tuple[str, list[str]]:
    """The text a reader sees (one cell/paragraph per line) and the page's link and GET-form targets."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.text))
    return re.sub(r"\n\s*\n+", "\n", text).strip(), parser.links


def offences(text: str) -> list[str]:
    """Each forbidden thing in ``text``, as 'what: …snippet…'."""
    cleaned = text
    for allowed in ALLOWED_LATIN:
        cleaned = cleaned.replace(allowed, "・")
    found = []
    for what, pattern in FORBIDDEN:
        for match in pattern.finditer(cleaned):
            start, end = max(0, match.start() - 30), min(len(cleaned), match.end() + 30)
            snippet = cleaned[start:end].replace("\n", " ⏎ ")
            found.append(f"{what}: {match.group(0)!r} in «{snippet}»")
    return found


def test_the_checks_catch_what_the_issue_lists() -> None:
    """The patterns themselves: every example the issue quotes is caught, legitimate Japanese text is not."""
    bad = (
        "unknown_slip",
        "payment_number",
        "kind_code",
        "速報 preliminary (01)",
        "user:demo-finance",
        "invalid literal for int() with base 10: ''",
        "field number: claim NOPE not found",
        "280000 yen",
        "2026-11-06T08:30",
        "10:00:15",
        "None",
        "状態 open",
    )
    for sample in bad:
        assert offences(sample), sample
    good = (
        "令和8年12月3日 2026/12/03 08:30 12,345円 令和8年度 R08-00001 2600000000100100-0 demo-finance",
        "PDF をダウンロード CSV (cp932) au PAY PayPay d払い GS1-128 QRコード 見本収納代行株式会社",
    )
    for sample in good:
        assert offences(sample) == [], offences(sample)
    text, links = visible_text(
        '<p title="payment_number">金額 <a href="/x?a=1">見る</a></p><script>var none_here = 1</script>'
        '<input value="2026-11-27"><style>.a_b{}</style><code>debtor_ref</code>'
        '<form action="/s" method="get"><input name="q" value="x y"><select name="k"><option value="">全て'
        '<option value="b" selected>B</select><button>検索</button></form>'
    )
    assert text.split() == ["金額", "見る", "全て", "B", "検索"], text
    assert links == ["/x?a=1", "/s?q=x+y&k=b"]


def _key(url: str) -> tuple[str, str]:
    """(page key, URL shape): the query normalised; ids in the path and query values generalised."""
    parts = urlsplit(url)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    key = parts.path + ("?" + urlencode(query) if query else "")
    shape = re.sub(r"/[^/]*\d[^/]*", "/<id>", parts.path) + "?" + ",".join(sorted({k for k, _ in query}))
    return key, shape


def _sign_in(app: Flask, name: str, password: str) -> FlaskClient:
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token, "no CSRF token on the login page"
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": token.group(1)})
    assert response.status_code == 302, f"{name} cannot sign in ({response.status_code})"
    return client


def _crawl(client: FlaskClient, role: str) -> tuple[list[str], int, list[str]]:
    """Everything wrong on the pages ``role`` can reach from /, the number of pages read, and the HTML pages
    that answered 200."""
    problems: list[str] = []
    read: list[str] = []
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    queue: deque[tuple[str, str]] = deque([("/", "(start)")])
    pages = 0
    while queue and pages < MAX_PAGES:
        url, source = queue.popleft()
        key, shape = _key(url)
        if key in seen or shapes.get(shape, 0) >= PER_PATTERN:
            continue
        seen.add(key)
        shapes[shape] = shapes.get(shape, 0) + 1
        response = client.get(url)
        is_html = response.headers.get("Content-Type", "").startswith("text/html")
        html = response.get_data(as_text=True) if is_html else ""  # a download: its status is what matters
        response.close()  # a file response holds its file open until closed
        pages += 1
        status = response.status_code
        if status in (301, 302, 303, 307, 308):
            target = _local(url, response.headers.get("Location", ""))
            if target:
                queue.appendleft((target, url))
            continue
        if status >= 400:
            what = {403: "a link the role cannot open", 404: "a broken link"}.get(status, "an error")
            problems.append(f"[{role}] {url} answers {status}: {what} (linked from {source})")
            continue
        if not is_html:
            continue
        read.append(url)
        text, links = visible_text(html)
        for offence in offences(text):
            problems.append(f"[{role}] {url}: {offence}")
        for href in links:
            target = _local(url, href)
            if target and "logout" not in target and not target.startswith("/static/"):
                queue.append((target, url))
    return problems, pages, read


def _local(base: str, href: str) -> str | None:
    """The path and query of a same-site link, or None for another site, mailto:, a bare fragment …"""
    target = urlsplit(urljoin("http://localhost" + base, href))
    if target.scheme != "http" or target.netloc != "localhost":
        return None
    return target.path + ("?" + target.query if target.query else "")


@pytest.fixture
def demo_logins(ctx: Context, tmp_path: Path) -> dict[str, tuple[str, str]]:
    """The demo database, with one signed-up user per role: role → (name, password)."""
    result = demo.build(ctx, folder=tmp_path / "demo")
    password: str = result["login"]["password"]
    logins = {u.role: (u.name, password) for u in users.list_users(ctx) if u.name in result["users"]}
    for role in permissions.ROLES:
        if role not in logins:
            users.create_user(ctx, f"crawl-{role}", role, "crawl password 2026")
            logins[role] = (f"crawl-{role}", "crawl password 2026")
    ctx.commit()
    return logins


def test_every_role_reads_only_japanese_on_every_page_it_can_reach(
    app: Flask, demo_logins: dict[str, tuple[str, str]]
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a failing page is a 500 in the report, not the end of it
    problems: list[str] = []
    for role in permissions.ROLES:
        client = _sign_in(app, *demo_logins[role])
        start = client.get("/")
        if start.status_code != 302 or urlsplit(start.headers["Location"]).path != START:
            where = f"{start.status_code} {start.headers.get('Location')}"
            problems.append(f"[{role}] / does not lead to {START} ({where})")
        today = client.get(START)
        if today.status_code != 200:
            problems.append(f"[{role}] {START} answers {today.status_code}")
        found, pages, _ = _crawl(client, role)
        problems += found
        assert pages > 1, f"{role} reached no page beyond the start"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


#: Removes what is not read (see HIDDEN) and returns the text Chromium lays out as visible (CSS applied).
_RENDERED_TEXT = """() => {
    document.querySelectorAll('code, script, style, template, noscript').forEach((e) => e.remove());
    return document.body.innerText;
}"""


@pytest.mark.browser
def test_chromium_shows_every_page_shape_in_japanese(
    app: Flask, demo_logins: dict[str, tuple[str, str]], live_server: str, chromium: Any
) -> None:
    """The same check on the text Chromium renders (CSS applied: hidden elements are not read, generated
    layout is), one page of each URL shape per role."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    problems: list[str] = []
    for role in permissions.ROLES:
        _, _, urls = _crawl(_sign_in(app, *demo_logins[role]), role)
        shapes = {_key(url)[1]: url for url in reversed(urls)}  # the first page of each shape
        context = chromium.new_context(locale="ja-JP", viewport={"width": 1024, "height": 800})
        page = context.new_page()
        page.goto(live_server + "/login")
        name, password = demo_logins[role]
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/staff/today")
        for url in shapes.values():
            page.goto(live_server + url)
            for offence in offences(page.evaluate(_RENDERED_TEXT)):
                problems.append(f"[{role}] {url} (Chromium): {offence}")
        context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
