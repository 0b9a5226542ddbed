"""Reports: the daily report, the arrears list and the accounting export (会計連携).

* ``/staff/reports/daily`` opens on the latest received date with data (``?date=`` picks another);
* ``/staff/exports`` — choose a 収入日, see how many rows and what sum the export holds, download the CSV
  (``keshikomi-YYYYMMDD.csv``, the same file as ``gateway export accounting``) and the history of exports:
  every download is an ``export.accounting`` audit event, and the history lists those events.
* ``/staff/reports/collection`` — 収納日報 of a 収入日; ``/staff/reports/statement`` — 委託徴収(収納)計算書
  of an agent and a period of transfer dates: a preview table and PDF/CSV downloads (each a
  ``report.download`` audit event).
"""

from __future__ import annotations

import datetime
import hashlib
import io
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for

from gateway import catalogue
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.pages.base import form_date
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.reporting import office
from gateway.reporting import reports
from gateway.web import ctx

bp = Blueprint("staff_reports", __name__)
HISTORY_PAGE = 20


@bp.get("/staff/reports/daily")
@page()
def daily_index(actor: Actor) -> Any:
    """The date picker's target: ``?date=YYYY-MM-DD``, else the latest received date with data (yesterday
    when nothing was ever received)."""
    text = request.args.get("date")
    day = reports.parse_day(text) if text else reports.latest_day_with_data(ctx())
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


# -- the accounting export (会計連携)


def _receipt_date(text: str | None) -> datetime.date:
    """The chosen 収入日: a date, not in the future; errors name the field in Japanese."""
    day = form_date({"receipt_date": text or ""}, "receipt_date")
    assert day is not None
    if day > ctx().today():
        raise InvalidInput(f"receipt date {day} is in the future", field="receipt_date", key="export.future")
    return day


@bp.get("/staff/exports")
@page()
def exports(actor: Actor) -> Any:
    """Choose a 収入日 (default: the latest with entries), its preview, and the history of exports."""
    c = ctx()
    text = request.args.get("receipt_date")
    error = None
    day: datetime.date | None = None
    if text:
        try:
            day = _receipt_date(text)
        except GatewayError as ex:
            error = catalogue.error_text(ex)
    if day is None:
        day = reports.latest_receipt_date(c) or c.today() - datetime.timedelta(days=1)
    before = request.args.get("before", "")
    history = reports.export_history(
        c, before_id=int(before) if before.isdigit() and len(before) < 18 else None, limit=HISTORY_PAGE
    )
    for item in history["items"]:
        item["who"] = catalogue.actor_text(f"{item['actor_kind']}:{item['actor_name']}")
    return no_store(
        render_template(
            "staff/exports.html",
            day=day,
            preview=reports.export_preview(c, day),
            file_name=reports.export_file_name(day),
            history=history,
            first_page=not before,
            error=error,
            today=c.today().isoformat(),
        )
    )


def _download(day: datetime.date, encoding: str) -> Any:
    """Build the CSV in memory (one 収入日: thousands of rows at most), record the export as an audit
    event, send it."""
    c = ctx()
    if encoding not in reports.ENCODINGS:
        encoding = "utf-8"
    summary = reports.ExportSummary(day)
    out = io.BytesIO()
    digest = hashlib.sha256()
    for chunk in reports.export_chunks(c, day, summary, encoding):
        out.write(chunk)
        digest.update(chunk)
        summary.bytes += len(chunk)
    summary.sha256 = digest.hexdigest()
    reports.record_export(c, summary, encoding)
    out.seek(0)
    response = send_file(
        out,
        mimetype="text/csv",
        as_attachment=True,
        download_name=reports.export_file_name(day),
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/staff/exports")
@page()
def export_create(actor: Actor) -> Any:
    """Download the export of the chosen 収入日 (recorded in the history)."""
    try:
        day = _receipt_date(request.form.get("receipt_date"))
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(url_for("staff_reports.exports"))
    return _download(day, request.form.get("encoding", "utf-8"))


@bp.get("/staff/exports/<receipt_date>/download")
@page()
def export_download(actor: Actor, receipt_date: str) -> Any:
    """Download the export of a 収入日 again (from the history; recorded like any download)."""
    try:
        day = _receipt_date(receipt_date)
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(url_for("staff_reports.exports"))
    return _download(day, request.args.get("encoding", "utf-8"))


# -- the office reports: 収納日報 and 委託徴収(収納)計算書 (docs/reports.md)


def _office_day(text: str | None, name: str) -> datetime.date | None:
    """A date field of the office report forms (``None`` when empty); errors name the field in Japanese."""
    return form_date({name: text or ""}, name, required=False)


def _send_report(report: str, file: office.ReportFile, encoding: str | None) -> Any:
    """Record the download (``report.download``), then send the file."""
    office.record_download(ctx(), report, file, encoding)
    response = send_file(
        io.BytesIO(file.data),
        mimetype=file.mimetype,
        as_attachment=True,
        download_name=file.file_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _encoding() -> str:
    encoding = request.args.get("encoding", "utf-8")
    return encoding if encoding in reports.ENCODINGS else "utf-8"


@bp.get("/staff/reports/collection")
@page()
def collection_daily(actor: Actor) -> Any:
    """収納日報: choose a 収入日 (default: the latest with entries), see the table, download PDF or CSV."""
    c = ctx()
    error = None
    day: datetime.date | None = None
    try:
        day = _office_day(request.args.get("date"), "receipt_date")
        if day is not None and day > c.today():
            raise InvalidInput(f"date {day} is in the future", field="receipt_date", key="export.future")
    except GatewayError as ex:
        error, day = catalogue.error_text(ex), None
    if day is None:
        day = reports.latest_receipt_date(c) or c.today() - datetime.timedelta(days=1)
    return render_template(
        "staff/report_collection.html",
        doc=office.daily_collection(c, day),
        words=catalogue.LABELS["office_report"],
        error=error,
        today=c.today().isoformat(),
        prev_day=(day - datetime.timedelta(days=1)).isoformat(),
        next_day=(day + datetime.timedelta(days=1)).isoformat() if day < c.today() else None,
    )


@bp.get("/staff/reports/collection/<day>/<fmt>")
@page()
def collection_download(actor: Actor, day: str, fmt: str) -> Any:
    """The 収納日報 of ``day`` as ``pdf`` or ``csv`` (recorded as a ``report.download`` audit event)."""
    try:
        date = _office_day(day, "receipt_date")
        if date is None or fmt not in office.MIMETYPES:
            raise InvalidInput("no such report file", field="receipt_date")
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(url_for("staff_reports.collection_daily"))
    encoding = _encoding() if fmt == "csv" else None
    return _send_report(
        "collection_daily", office.collection_file(ctx(), date, fmt, encoding or "utf-8"), encoding
    )


def _statement_args() -> tuple[str, datetime.date, datetime.date]:
    """Agent and period of the 計算書 form; the period defaults to the current month (Japan)."""
    today = ctx().today()
    agent = (request.args.get("agent") or "").strip()
    first = _office_day(request.args.get("from"), "date_from") or today.replace(day=1)
    last = _office_day(request.args.get("to"), "date_to")
    if last is None:
        following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        last = following - datetime.timedelta(days=1)
    return agent, first, last


@bp.get("/staff/reports/statement")
@page()
def statement(actor: Actor) -> Any:
    """委託徴収(収納)計算書: choose an agent and a period of transfer dates, see it, download PDF or CSV."""
    c = ctx()
    agents = office.agents_for_picker(c)
    error = None
    doc = None
    today = c.today()
    agent, first, last = "", today.replace(day=1), today
    try:
        agent, first, last = _statement_args()
        if not agent and agents:
            agent = agents[0][0]
        if agent:
            doc = office.agent_statement(c, agent, first, last)
    except GatewayError as ex:
        error = catalogue.error_text(ex)
    return render_template(
        "staff/report_statement.html",
        doc=doc,
        agents=agents,
        agent=agent,
        date_from=first.isoformat(),
        date_to=last.isoformat(),
        error=error,
        words=catalogue.LABELS["office_report"],
        statuses=catalogue.LABELS["office_remittance_status"],
        mode_label=catalogue.label("remittance_mode", doc.mode) if doc else "",
    )


@bp.get("/staff/reports/statement/download/<fmt>")
@page()
def statement_download(actor: Actor, fmt: str) -> Any:
    """The 計算書 (``?agent=&from=&to=``) as ``pdf`` or ``csv`` (recorded as a ``report.download`` event)."""
    try:
        if fmt not in office.MIMETYPES:
            raise InvalidInput("no such report file", field="format")
        agent, first, last = _statement_args()
        encoding = _encoding() if fmt == "csv" else None
        file = office.statement_file(ctx(), agent, first, last, fmt, encoding or "utf-8")
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(url_for("staff_reports.statement"))
    return _send_report("agent_statement", file, encoding)
