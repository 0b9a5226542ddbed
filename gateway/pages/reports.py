"""Reports: the daily report, the arrears list and the accounting export."""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from gateway.context import Actor
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.services import reports
from gateway.web import ctx

bp = Blueprint("staff_reports", __name__)


@bp.get("/staff/reports/daily")
@page()
def daily_index(actor: Actor) -> Any:
    """The date picker's target: ``?date=YYYY-MM-DD``, else yesterday (Japan)."""
    text = request.args.get("date")
    day = reports.parse_day(text) if text else ctx().today() - datetime.timedelta(days=1)
    return redirect(url_for("staff_reports.daily", day=day.isoformat()))


@bp.get("/staff/reports/daily/<day>")
@page()
def daily(actor: Actor, day: str) -> Any:
    """The daily report of one received date, with the 30-day chart and links to the previous/next day."""
    c = ctx()
    date = reports.parse_day(day)
    doc = reports.daily(c, date)
    today = c.today()
    following = date + datetime.timedelta(days=1)
    return render_template(
        "staff/report_daily.html",
        today=today.isoformat(),
        prev_day=(date - datetime.timedelta(days=1)).isoformat(),
        next_day=following.isoformat() if following <= today else None,
        **reports.daily_page_context(doc, reports.history(c, date)),
    )


@bp.get("/staff/reports/arrears")
@page()
def arrears(actor: Actor) -> Any:
    """Claims past due and unpaid as of ``?as_of=`` (default today), for the office's own follow-up."""
    c = ctx()
    text = request.args.get("as_of")
    as_of = reports.parse_day(text, "as_of") if text else c.today()
    doc = reports.arrears_json(c, as_of)
    c.commit()  # writes the pii.view audit event
    return no_store(render_template("staff/report_arrears.html", doc=doc))
