"""Staff pages: sign-in, the claims list and a claim with its slips (PDF download, issue, void)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.services import claims as claim_service
from gateway.services import documents
from gateway.services import slips as slip_service
from gateway.services import users
from gateway.web import csrf
from gateway.web import ctx
from gateway.web import current_actor
from gateway.web import runtime

bp = Blueprint("staff", __name__)
F = TypeVar("F", bound=Callable[..., Any])
CLAIM_READERS = ("finance", "approver", "accounting", "auditor")

LABELS = {
    # claim and slip statuses
    "open": "未納",
    "paid": "完納",
    "overpaid": "過納",
    "written_off": "不納欠損",
    "extinguished": "消滅",
    "cancelled": "取消",
    "issued": "有効",
    "superseded": "再発行済",
    "void": "無効",
    # payment states
    "preliminary": "速報",
    "confirmed": "確報",
    # legal bases (shown to staff only; never printed)
    "art63": "第63条返還金",
    "art77": "第77条徴収金",
    "art77_2": "第77条の2徴収金",
    "art78": "第78条徴収金",
    "unjust_enrichment": "不当利得",
    "benefit_return": "給付金返還",
    "other": "その他",
}


@bp.app_template_filter("ja")
def ja_label(value: str | None) -> str:
    """The Japanese label staff read for a status or legal basis (the code itself when unknown)."""
    return LABELS.get(value or "", value or "")


@bp.app_template_filter("jst")
def jst_minutes(value: str | None) -> str:
    """An ISO timestamp as Japan date and time to the minute: 2026-11-02 08:08."""
    if not value:
        return ""
    at = datetime.datetime.fromisoformat(value)
    return at.astimezone(datetime.timezone(datetime.timedelta(hours=9))).strftime("%Y-%m-%d %H:%M")


def _actor_or_login() -> Actor | WerkzeugResponse:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("staff.login", next=request.path))
    return actor


def page(*roles: str, message: str = "この画面を見る権限がありません") -> Callable[[F], F]:
    """A staff page: signed-in users with one of ``roles`` get the view (called with the actor first);
    others are sent to sign in, or see a 403 page."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = _actor_or_login()
            if not isinstance(actor, Actor):
                return actor
            if not actor.has_role(*roles):
                return render_template("error.html", code=403, message=message), 403
            return view(actor, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


@bp.get("/")
def home() -> WerkzeugResponse:
    return redirect(url_for("staff.claims"))


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
                target = request.args.get("next", "")
                return redirect(target if target.startswith("/") and not target.startswith("//") else "/")
        error = "ユーザー名またはパスワードが違います / wrong user name or password"
    return render_template("staff/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    csrf.protect()
    session.clear()
    return redirect(url_for("staff.login"))


@bp.get("/staff/claims")
@page(*CLAIM_READERS)
def claims(actor: Actor) -> Any:
    status = request.args.get("status") or None
    after = request.args.get("after") or None
    rows = claim_service.list_claims(ctx(), status=status, limit=51, after=after)
    more = len(rows) > 50
    return render_template(
        "staff/claims.html",
        rows=rows[:50],
        status=status,
        next_after=rows[49][0].number if more else None,
        actor=actor,
    )


@bp.get("/staff/claims/<number>")
@page(*CLAIM_READERS)
def claim(actor: Actor, number: str) -> Any:
    c = ctx()
    doc = claim_service.show_claim(c, number)
    c.commit()
    return render_template(
        "staff/claim.html",
        claim=doc,
        actor=actor,
        can_issue=actor.has_role("finance"),
        today=c.today().isoformat(),
    )


@bp.post("/staff/claims/<number>/slips")
@page("finance", message="発行できるのは finance のみです")
def issue(actor: Actor, number: str) -> Any:
    csrf.protect()
    form = request.form
    try:
        plan = slip_service.Plan(
            instalments=int(form["instalments"]) if form.get("mode") == "instalments" else None,
            monthly_amount=int(form["monthly_amount"]) if form.get("mode") == "monthly" else None,
            same_due_date=form.get("mode") == "same_due_date",
            first_due_date=datetime.date.fromisoformat(form["first_due_date"])
            if form.get("first_due_date")
            else None,
        )
        issued = slip_service.issue_slips(ctx(), number, plan)
        flash(f"{len(issued)} 件の納付書を発行しました", "ok")
    except (GatewayError, ValueError, KeyError) as ex:
        flash(ex.located() if isinstance(ex, GatewayError) else f"入力が正しくありません: {ex}", "error")
    return redirect(url_for("staff.claim", number=number))


@bp.post("/staff/slips/<slip_number>/void")
@page("finance", message="取消できるのは finance のみです")
def void(actor: Actor, slip_number: str) -> Any:
    csrf.protect()
    c = ctx()
    try:
        slip = slip_service.void_slip(c, slip_number, request.form.get("reason", ""))
        _, claim_row = slip_service.slip_with_claim(c, slip.slip_number)
        flash(f"納付書 {slip_number} を取り消しました", "ok")
        return redirect(url_for("staff.claim", number=claim_row.number))
    except GatewayError as ex:
        flash(ex.located(), "error")
        return redirect(request.referrer or url_for("staff.claims"))


@bp.get("/staff/slips/<slip_number>/slip.pdf")
@page("finance")
def slip_pdf(actor: Actor, slip_number: str) -> Any:
    import io

    c = ctx()
    out = io.BytesIO()
    documents.render_slip(c, slip_number, out)
    c.commit()
    return Response(
        out.getvalue(),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{documents.pdf_filename(slip_number)}"',
            "Cache-Control": "no-store",
        },
    )


# -- reports (issue 4): the daily report and the arrears list

REPORT_READERS = ("finance", "accounting", "auditor")


@bp.get("/staff/reports/daily")
@page(*REPORT_READERS)
def report_daily_index(actor: Actor) -> Any:
    """The date picker's target: ``?date=YYYY-MM-DD``, else yesterday (Japan)."""
    from gateway.services import reports

    text = request.args.get("date")
    day = reports.parse_day(text) if text else ctx().today() - datetime.timedelta(days=1)
    return redirect(url_for("staff.report_daily", day=day.isoformat()))


@bp.get("/staff/reports/daily/<day>")
@page(*REPORT_READERS)
def report_daily(actor: Actor, day: str) -> Any:
    """The daily report of one received date, with the 30-day chart and links to the previous/next day."""
    from gateway.services import reports

    c = ctx()
    date = reports.parse_day(day)
    doc = reports.daily(c, date)
    today = c.today()
    following = date + datetime.timedelta(days=1)
    return render_template(
        "staff/report_daily.html",
        actor=actor,
        today=today.isoformat(),
        prev_day=(date - datetime.timedelta(days=1)).isoformat(),
        next_day=following.isoformat() if following <= today else None,
        **reports.daily_page_context(doc, reports.history(c, date)),
    )


@bp.get("/staff/reports/arrears")
@page(*REPORT_READERS)
def report_arrears(actor: Actor) -> Any:
    """Claims past due and unpaid as of ``?as_of=`` (default today), for the office's own follow-up."""
    from gateway.services import reports

    c = ctx()
    text = request.args.get("as_of")
    as_of = reports.parse_day(text, "as_of") if text else c.today()
    doc = reports.arrears_json(c, as_of)
    c.commit()  # writes the pii.view audit event
    response = Response(render_template("staff/report_arrears.html", actor=actor, doc=doc))
    response.headers["Cache-Control"] = "no-store"
    return response
