"""Sign-in, sign-out and each role's start page 「今日」."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway.context import Actor
from gateway.pages import today as today_panels
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.services import users
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


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    if request.method == "POST":
        csrf.protect()
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        with runtime().context(Actor(kind="anonymous", name="login")) as c:
            user = users.check_password(c, name, password)
            if user is not None:
                c.actor = users.actor_for(user)
                users.record_login(c, user)
                session.clear()
                session["user_id"], session["user_name"] = user.id, user.name
                session.permanent = False
                wanted = request.args.get("next", "")
                return redirect(_safe_next(wanted) if wanted else url_for("staff.today"))
        error = "ユーザー名またはパスワードが違います。"
    return render_template("staff/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    csrf.protect()
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
