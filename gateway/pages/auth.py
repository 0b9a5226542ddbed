"""Sign-in, sign-out and each role's start page 「今日」."""

from __future__ import annotations

import math
import unicodedata
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway import catalogue
from gateway.access import login_throttle
from gateway.access import sessions
from gateway.access import users
from gateway.context import Actor
from gateway.pages import today as today_panels
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import csrf
from gateway.web import ctx
from gateway.web import current_actor
from gateway.web import runtime

bp = Blueprint("staff", __name__)


@bp.get("/")
def home() -> WerkzeugResponse:
    if current_actor() is None:
        return redirect(url_for("staff.login"))
    return redirect(url_for("staff.today"))


START = "/staff/today"


def _safe_next(target: str) -> str:
    """Where to go after sign-in: ``target`` rebuilt from its parsed path and query when it is a path on this
    site, else the start page.

    Refused: a scheme or host (``https://x``, ``http:x``, ``javascript:``), a path not starting with one "/"
    (``//x``), any backslash (browsers read ``/\\x`` and ``\\/x`` as another host), whitespace or control
    characters anywhere (``urlsplit`` drops tabs and newlines; browsers too) — also once percent-decoded
    (``/%5Cx``, ``/%2F/x``). The fragment is dropped."""
    if not target or _unsafe(target) or target.startswith("//"):  # urlsplit reads "///x" as path "/x"
        return START
    parts = urlsplit(target)
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/") or path.startswith("//"):
        return START
    decoded = unquote(path)
    if decoded.startswith("//") or _unsafe(decoded):
        return START
    return urlunsplit(("", "", path, parts.query, ""))


def _unsafe(text: str) -> bool:
    """A backslash, whitespace or a control/format character anywhere."""
    return any(ch == "\\" or ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text)


def _login_page(error: str | None, status: int) -> tuple[str, int]:
    return render_template("staff/login.html", error=error), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Sign in. Locked names and addresses are refused (429) before any password hash is computed; failures
    are counted and audited (``login_throttle``); a success starts a server-side session (``sessions``)."""
    if request.method != "POST":
        return _login_page(None, 200)
    csrf.protect()
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    with runtime().context(Actor(kind="anonymous", name="login")) as c:
        wait = login_throttle.locked_for(c, name, address)
        if wait is not None:
            login_throttle.record_failure(c, name, address, refused=True)
            minutes = login_throttle.minutes_left(wait)
            page, status = _login_page(catalogue.message("login.locked", minutes=minutes), 429)
            return page, status, {"Retry-After": str(math.ceil(wait.total_seconds()))}
        user = users.check_password(c, name, password)
        if user is not None:
            c.actor = users.actor_for(user)
            previous = session.get("sid")
            sid = users.record_login(c, user, replaces=previous if isinstance(previous, str) else None)
            session.clear()
            session["sid"] = sid
            session.permanent = False
            return redirect(_safe_next(request.args.get("next", "")))
        login_throttle.record_failure(c, name, address)
    return _login_page(catalogue.message("login.failed"), 401)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    """Sign out: the server-side session ends (a copy of the cookie stops working too)."""
    csrf.protect()
    sid = session.get("sid")
    if isinstance(sid, str) and sid:
        with runtime().context(current_actor() or Actor(kind="anonymous", name="logout")) as c:
            sessions.logout(c, sid)
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/staff/today")
@page()
def today(actor: Actor) -> Any:
    """The start page: what this role has to do today."""
    c = ctx()
    panels = today_panels.for_role(c, actor)
    c.commit()
    return no_store(render_template("staff/today.html", role=actor.role, **panels))
