"""What every staff page shares: the sign-in/role decorator, Japanese errors and form helpers.

``@page()`` looks the endpoint up in :data:`gateway.permissions.TABLE`: without a session the browser is sent
to sign in (and comes back); a role the table does not list gets the error page with the navigation and a
Japanese explanation (403). POST views are CSRF-checked. The view receives the actor first.

Views catch nothing themselves: a :class:`~gateway.errors.GatewayError` raised by a service inside
``action()`` becomes a Japanese flash message and a redirect back; outside it, the error page.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from flask import Response
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway import catalogue
from gateway import permissions
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.web import csrf
from gateway.web import current_actor

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def forbidden(actor: Actor | None, message: str | None = None) -> tuple[str, int]:
    """The 403 page: navigation kept, what to do said in Japanese."""
    return error_page(
        403,
        message
        or "この画面はあなたの役割では開けません。上のメニューから、あなたの業務の画面をお選びください。",
        actor,
    )


def error_page(status: int, message: str, actor: Actor | None = None) -> tuple[str, int]:
    titles = {
        400: "入力に誤りがあります",
        401: "ログインが必要です",
        403: "この画面は開けません",
        404: "見つかりません",
        405: "この操作はできません",
        409: "現在の状態では操作できません",
        413: "ファイルが大きすぎます",
        422: "入力に誤りがあります",
        429: "しばらくお待ちください",
    }
    title = titles.get(status, "エラーが発生しました")
    signed_in = actor is not None and actor.kind == "user"
    back = None
    if "staff.login" in current_app.view_functions:  # not in the public process
        home = ("staff.today", "今日の画面へ戻る") if signed_in else ("staff.login", "ログイン画面へ")
        back = (url_for(home[0]), home[1])
    return render_template("error.html", code=status, title=title, message=message, back=back), status


def page(*, csrf_check: bool = True) -> Callable[[F], F]:
    """A staff page, open to the roles the permission table gives its endpoint."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                target = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
                return redirect(url_for("staff.login", next=target or None))
            if actor.kind != "user" or not actor.has_role(*permissions.allowed(request.endpoint)):
                return forbidden(actor)
            if csrf_check and request.method == "POST":
                csrf.protect()
            return view(actor, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def action(do: Callable[[], str | None], back: str | WerkzeugResponse) -> WerkzeugResponse:
    """Run a form action, flash its success message (or its error, in Japanese), redirect ``back``."""
    try:
        done = do()
        if done:
            flash(done, "ok")
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
    return back if isinstance(back, WerkzeugResponse) else redirect(back)


def keyset_page(
    rows: list[T], size: int, *, after: int | None, before: int | None
) -> tuple[list[T], bool, bool]:
    """One page of a keyset query asked for ``size + 1`` rows (the extra row tells whether there is a further
    page in the direction we went): the page, whether there is one on the ``before`` side, and whether there
    is one on the ``after`` side."""
    more = len(rows) > size
    if before is not None:
        return (rows[-size:] if more else rows), more, True
    return rows[:size], after is not None, more


def no_store(response: Response | str) -> Response:
    """Mark a response that holds personal data as not to be cached."""
    out = response if isinstance(response, Response) else Response(response)
    out.headers["Cache-Control"] = "no-store"
    return out


# -- form values: each raises InvalidInput with a catalogue key naming the field


def form_text(form: Mapping[str, str], name: str, *, required: bool = True) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise InvalidInput(f"{name} is required", field=name, key="form.required", params={"field": name})
    return value


def form_int(form: Mapping[str, str], name: str, *, required: bool = True) -> int | None:
    value = (form.get(name) or "").strip().replace(",", "")
    if not value:
        if required:
            raise InvalidInput(f"{name} is required", field=name, key="form.required", params={"field": name})
        return None
    if not value.isascii() or not value.lstrip("-").isdigit() or len(value) > 15:
        raise InvalidInput(
            f"{name} must be a whole number",
            field=name,
            key="form.not_a_number",
            params={"field": name, "value": value[:20]},
        )
    return int(value)


def form_date(form: Mapping[str, str], name: str, *, required: bool = True) -> datetime.date | None:
    value = (form.get(name) or "").strip()
    if not value:
        if required:
            raise InvalidInput(f"{name} is required", field=name, key="form.required", params={"field": name})
        return None
    try:
        return datetime.date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        raise InvalidInput(
            f"{name} must be a date",
            field=name,
            key="form.not_a_date",
            params={"field": name, "value": value[:20]},
        ) from None
