"""Claims: record, list, show, adjust, close, and issue slips for one."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from gateway.api import schemas
from gateway.issuing import claims as claim_service
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.web import ctx
from gateway.web import require

bp = Blueprint("claims", __name__, url_prefix="/api/v1/claims", description="Claims decided by the office")


@bp.post("")
@require()
@bp.arguments(schemas.ClaimCreate)
@bp.response(201, schemas.Claim)
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Record a decided claim."""
    c = ctx()
    claim = claim_service.create_claim(c, claim_service.ClaimInput(**body))
    doc = overview.show_claim(c, claim.number)
    c.commit()
    return doc


@bp.get("")
@require()
@bp.arguments(schemas.ClaimListQuery, location="query")
@bp.response(200, schemas.ClaimList)
def index(query: dict[str, Any]) -> dict[str, Any]:
    """Claims ordered by number (keyset pagination with ``after``); no personal data."""
    rows = claim_service.list_claims(
        ctx(), status=query.get("status"), limit=query["limit"] + 1, after=query.get("after")
    )
    items = [claim_service.claim_summary(c, b) for c, b in rows[: query["limit"]]]
    nxt = items[-1]["number"] if len(rows) > query["limit"] else None
    return {"items": items, "next": nxt}


@bp.get("/<number>")
@require()
@bp.response(200, schemas.Claim)
def show(number: str) -> dict[str, Any]:
    """The claim with its slips, payments and balance; the debtor as the caller's role may see it."""
    c = ctx()
    doc = overview.show_claim(c, number)
    c.commit()  # writes the pii.view audit event
    return doc


@bp.post("/<number>/adjust")
@require()
@bp.arguments(schemas.ClaimAdjust)
@bp.response(200, schemas.Claim)
def adjust(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Record a changed assessment (変更・減額調定)."""
    c = ctx()
    claim_service.adjust_claim(c, number, body["amount"], body["reason"], body.get("decided_on"))
    return overview.show_claim(c, number, with_debtor=False)


@bp.post("/<number>/close")
@require()
@bp.arguments(schemas.ClaimClose)
@bp.response(200, schemas.Claim)
def close(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Record a decision taken elsewhere: written off, extinguished or cancelled."""
    c = ctx()
    claim_service.close_claim(c, number, body["status"], body["decided_on"], body["reason"])
    return overview.show_claim(c, number, with_debtor=False)


@bp.post("/<number>/slips")
@require()
@bp.arguments(schemas.SlipIssue)
@bp.response(201, schemas.SlipList)
def issue_slips(body: dict[str, Any], number: str) -> dict[str, Any]:
    """Issue slips for the uncovered balance: one, K instalments, a monthly amount, or same-day slips."""
    plan = slip_service.Plan(
        instalments=body.get("instalments"),
        monthly_amount=body.get("monthly_amount"),
        same_due_date=body.get("same_due_date", False),
        first_due_date=body.get("first_due_date"),
    )
    issued = slip_service.issue_slips(ctx(), number, plan)
    return {"slips": [slip_service.slip_json(s, number) for s in issued]}
