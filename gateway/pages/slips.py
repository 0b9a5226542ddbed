"""Slips: issue (after a preview of the plan), the slip page, reissue, void (after a confirmation page, with a
required reason), the PDF."""

from __future__ import annotations

import io
import re
from typing import Any

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.datastructures import MultiDict

from gateway import catalogue
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.issuing import claims as claim_service
from gateway.issuing import documents
from gateway.issuing import slips as slip_service
from gateway.pages.base import error_page
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import form_text
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import ctx

bp = Blueprint("staff_slips", __name__, url_prefix="/staff")
MODES = ("single", "instalments", "monthly", "same_due_date")


def _plan(form: Any) -> slip_service.Plan:
    mode = form.get("mode") or "single"
    return slip_service.Plan(
        instalments=form_int(form, "instalments") if mode == "instalments" else None,
        monthly_amount=form_int(form, "monthly_amount") if mode == "monthly" else None,
        same_due_date=mode == "same_due_date",
        first_due_date=form_date(form, "first_due_date", required=False),
    )


def _plan_args(form: Any) -> dict[str, Any]:
    keys = ("mode", "instalments", "monthly_amount", "first_due_date")
    return {k: form.get(k) for k in keys if form.get(k)}


@bp.get("/claims/<number>/slips/preview")
@page()
def issue_preview(actor: Actor, number: str) -> Any:
    """What would be issued (dates, amounts, number of slips), before anything is created."""
    c = ctx()
    args = request.args
    try:
        claim_doc = claim_service.get_claim(c, number)
        preview = slip_service.preview_issue(c, number, _plan(args) if args.get("mode") else None)
        error = None
    except GatewayError as ex:
        if ex.status == 404:
            return error_page(404, catalogue.error_text(ex), actor)
        preview, error = None, catalogue.error_text(ex)
    return no_store(
        render_template(
            "staff/slip_issue.html",
            number=number,
            claim=claim_doc,
            preview=preview,
            error=error,
            plan=_plan_args(args),
            today=c.today().isoformat(),
        )
    )


@bp.post("/claims/<number>/slips")
@page()
def issue(actor: Actor, number: str) -> Any:
    """Issue exactly the previewed plan (refused when the plan changed since the preview)."""
    c = ctx()
    form = request.form
    back = url_for("staff_slips.issue_preview", number=number, **_plan_args(form))
    try:
        plan = _plan(form)
        now = slip_service.preview_issue(c, number, plan)
        if (str(len(now.parts)), str(now.total)) != (form.get("expect_count"), form.get("expect_total")):
            flash(catalogue.message("slip.plan_changed"), "error")
            return redirect(back)
        issued = slip_service.issue_slips(c, number, plan)
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(back)
    flash(f"{len(issued)} 件の納付書を発行しました。", "ok")
    return redirect(url_for("staff_claims.show", number=number))


#: Claims one batch page issues for at most (the rest wait for the next batch).
BATCH_LIMIT = 500


@bp.get("/slips/batch")
@page()
def batch_preview(actor: Actor) -> Any:
    """The open claims that never had a slip (a new import's, typically): how many, for how much, and the
    plan, before anything is issued."""
    c = ctx()
    offered = slip_service.open_claims_without_slips(c, BATCH_LIMIT)
    return no_store(
        render_template(
            "staff/slip_batch.html",
            offered=offered,
            limit=BATCH_LIMIT,
            plan=_plan_args(request.args),
            today=c.today().isoformat(),
        )
    )


@bp.post("/slips/batch")
@page()
def batch_issue(actor: Actor) -> Any:
    """Issue for exactly the claims previewed, in one audited batch: all of them or none."""
    c = ctx()
    form = request.form
    back = url_for("staff_slips.batch_preview", **_plan_args(form))
    offered = slip_service.open_claims_without_slips(c, BATCH_LIMIT)
    if (str(len(offered.numbers)), str(offered.amount)) != (
        form.get("expect_count"),
        form.get("expect_amount"),
    ):
        flash(catalogue.message("slip.batch_changed"), "error")
        return redirect(back)
    if not offered.numbers:
        return redirect(back)
    try:
        issued = slip_service.issue_slips_for_claims(c, offered.numbers, _plan(form))
    except GatewayError as ex:
        claim = (ex.details or {}).get("claim")
        which = f"債権 {claim}: " if claim else ""
        flash(f"{which}{catalogue.error_text(ex)} 納付書は1枚も発行していません。", "error")
        return redirect(back)
    count = sum(len(slips) for slips in issued.values())
    flash(f"{len(issued):,} 件の債権に {count:,} 枚の納付書を発行しました。", "ok")
    return redirect(url_for("staff_slips.batch_preview"))


_CLAIM_CLOSED = re.compile(r"^claim (written_off|extinguished|cancelled): (.*)$", re.S)


def _slip_page(actor: Actor, slip_number: str) -> dict[str, Any] | tuple[str, int]:
    c = ctx()
    try:
        slip, claim = slip_service.slip_with_claim(c, slip_number)
    except GatewayError as ex:
        return error_page(ex.status, catalogue.error_text(ex), actor)
    events = slip_service.status_events(c, slip_number)
    void_event = next((e for e in reversed(events) if e.action == "slip.void"), None)
    reason = slip.void_reason
    closed_by = None
    if reason and (m := _CLAIM_CLOSED.match(reason)):
        closed_by, reason = m.group(1), m.group(2)
    mailed = slip_service.mailing_dates(c, [slip.id or 0]).get(slip.id or 0)
    successor = None
    if slip.status == "superseded":
        successor = f"{slip.payment_number}-{slip.reissue_count + 1}"
    return {
        "slip": slip,
        "claim": claim,
        "mailed_on": mailed,
        "void_reason": reason,
        "void_closed_by": closed_by,
        "void_event": void_event,
        "successor": successor,
        "today": c.today().isoformat(),
    }


def who(event: Any) -> str:
    """An audit actor as a clerk reads it: the user name, or 自動処理 / 管理コマンド."""
    if event is None:
        return "—"
    if event.actor_kind == "user":
        return str(event.actor_name)
    return "管理コマンド" if event.actor_kind == "cli" else "自動処理"


@bp.get("/slips/<slip_number>")
@page()
def show(actor: Actor, slip_number: str) -> Any:
    """One slip: status, amount, dates (issue, mailing, due, barcode expiry) and, when void, why/who/when."""
    data = _slip_page(actor, slip_number)
    if isinstance(data, tuple):
        return data
    return no_store(render_template("staff/slip.html", who=who, **data))


@bp.get("/slips/<slip_number>/reissue")
@page()
def reissue_form(actor: Actor, slip_number: str) -> Any:
    """Confirm a reissue, optionally with a new due date."""
    data = _slip_page(actor, slip_number)
    if isinstance(data, tuple):
        return data
    return no_store(render_template("staff/slip_reissue.html", error=None, values={}, **data))


@bp.post("/slips/<slip_number>/reissue")
@page()
def reissue(actor: Actor, slip_number: str) -> Any:
    try:
        due = form_date(request.form, "due_date", required=False)
        new = slip_service.reissue_slip(ctx(), slip_number, due)
    except GatewayError as ex:
        data = _slip_page(actor, slip_number)
        if isinstance(data, tuple):
            return data
        html = render_template(
            "staff/slip_reissue.html", error=catalogue.error_text(ex), values=request.form, **data
        )
        return no_store(html), 422
    flash(
        f"納付書を再発行しました(新しい納付書番号 {new.slip_number})。前の納付書は使えなくなりました。", "ok"
    )
    return redirect(url_for("staff_slips.show", slip_number=new.slip_number))


@bp.get("/slips/<slip_number>/void")
@page()
def void_form(actor: Actor, slip_number: str) -> Any:
    """The confirmation page of a void: the slip, a required reason and 「この納付書を無効にする」."""
    data = _slip_page(actor, slip_number)
    if isinstance(data, tuple):
        return data
    return no_store(render_template("staff/slip_void.html", error=None, values={}, **data))


@bp.post("/slips/<slip_number>/void")
@page()
def void(actor: Actor, slip_number: str) -> Any:
    form: MultiDict[str, str] = request.form
    try:
        reason = form_text(form, "reason")
        slip_service.void_slip(ctx(), slip_number, reason)
    except GatewayError as ex:
        data = _slip_page(actor, slip_number)
        if isinstance(data, tuple):
            return data
        html = render_template("staff/slip_void.html", error=catalogue.error_text(ex), values=form, **data)
        return no_store(html), 422
    flash(f"納付書 {slip_number} を無効にしました。", "ok")
    return redirect(url_for("staff_slips.show", slip_number=slip_number))


@bp.get("/slips/<slip_number>/slip.pdf")
@page()
def pdf(actor: Actor, slip_number: str) -> Any:
    c = ctx()
    out = io.BytesIO()
    try:
        documents.render_slip(c, slip_number, out)
    except GatewayError as ex:
        return error_page(ex.status, catalogue.error_text(ex), actor)
    c.commit()
    return Response(
        out.getvalue(),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{documents.pdf_filename(slip_number)}"',
            "Cache-Control": "no-store",
        },
    )
