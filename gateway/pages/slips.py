"""Slips: issue (with a preview of the plan), reissue, void (after a confirmation, with a reason), the PDF."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint
from flask import Response
from flask import request
from flask import url_for

from gateway.context import Actor
from gateway.pages.base import action
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import page
from gateway.services import documents
from gateway.services import slips as slip_service
from gateway.web import ctx

bp = Blueprint("staff_slips", __name__, url_prefix="/staff")


@bp.post("/claims/<number>/slips")
@page()
def issue(actor: Actor, number: str) -> Any:
    form = request.form

    def do() -> str:
        mode = form.get("mode")
        plan = slip_service.Plan(
            instalments=form_int(form, "instalments") if mode == "instalments" else None,
            monthly_amount=form_int(form, "monthly_amount") if mode == "monthly" else None,
            same_due_date=mode == "same_due_date",
            first_due_date=form_date(form, "first_due_date", required=False),
        )
        issued = slip_service.issue_slips(ctx(), number, plan)
        return f"{len(issued)} 件の納付書を発行しました"

    return action(do, url_for("staff_claims.show", number=number))


@bp.post("/slips/<slip_number>/void")
@page()
def void(actor: Actor, slip_number: str) -> Any:
    c = ctx()

    def do() -> str:
        slip_service.void_slip(c, slip_number, request.form.get("reason", ""))
        return f"納付書 {slip_number} を無効にしました"

    _, claim_row = slip_service.slip_with_claim(c, slip_number)
    return action(do, url_for("staff_claims.show", number=claim_row.number))


@bp.get("/slips/<slip_number>/slip.pdf")
@page()
def pdf(actor: Actor, slip_number: str) -> Any:
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
