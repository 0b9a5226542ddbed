"""Claims: search and list, one claim with its slips and payments, create, import, adjust and close."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import render_template
from flask import request

from gateway.context import Actor
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.services import claims as claim_service
from gateway.web import ctx

bp = Blueprint("staff_claims", __name__, url_prefix="/staff/claims")
PAGE = 50


@bp.get("")
@page()
def index(actor: Actor) -> Any:
    status = request.args.get("status") or None
    after = request.args.get("after") or None
    rows = claim_service.list_claims(ctx(), status=status, limit=PAGE + 1, after=after)
    more = len(rows) > PAGE
    return render_template(
        "staff/claims.html",
        rows=rows[:PAGE],
        status=status,
        next_after=rows[PAGE - 1][0].number if more else None,
    )


@bp.get("/<number>")
@page()
def show(actor: Actor, number: str) -> Any:
    c = ctx()
    doc = claim_service.show_claim(c, number)
    c.commit()
    return no_store(
        render_template(
            "staff/claim.html",
            claim=doc,
            can_issue=actor.has_role("finance"),
            today=c.today().isoformat(),
        )
    )
