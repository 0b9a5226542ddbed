"""The exceptions queue over HTTP: list, show with history, resolve, approve/reject (four-eyes), unmatch,
refunded."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields
from marshmallow import validate

from gateway.api.schemas import Strict
from gateway.casework import exceptions as exception_service
from gateway.converters import MAX_ID32
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.models.recon import RESOLUTIONS
from gateway.web import ctx
from gateway.web import require

bp = Blueprint(
    "exceptions",
    __name__,
    url_prefix="/api/v1/exceptions",
    description="The exceptions queue: resolutions, four-eyes approval, undo and refunds",
)


def _cursor(value: str) -> None:
    # ASCII digits only, and no larger than recon_exceptions.id (INTEGER: PostgreSQL refuses a larger value).
    if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_ID32:
        raise ma.ValidationError("cursor must be the 'next' value of a previous page")


class ExceptionListQuery(Strict):
    status = fields.String(validate=validate.OneOf(EXCEPTION_STATUSES))
    kind = fields.String(validate=validate.OneOf(EXCEPTION_KINDS))
    cursor = fields.String(validate=_cursor)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, exception_service.MAX_LIMIT))


class RefundDecisionInput(Strict):
    decided_on = fields.Date(load_default=None, allow_none=True)
    amount = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(min=1))
    fiscal_year = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(2000, 2099)
    )


class ExceptionResolveBody(Strict):
    resolution = fields.String(required=True, validate=validate.OneOf(RESOLUTIONS))
    claim_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 32))
    note = fields.String(required=True, validate=validate.Length(1, 2000))
    amount = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1),
        metadata={
            "description": "applied_to_claim: the yen to move (default: the exception's amount, at most the "
            "claim's excess)"
        },
    )
    refund = fields.Nested(RefundDecisionInput, load_default=None, allow_none=True)


class ExceptionApproveBody(Strict):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ExceptionRejectBody(Strict):
    note = fields.String(required=True, validate=validate.Length(1, 2000))


class ExceptionUnmatchBody(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ExceptionRefundedBody(Strict):
    refunded_on = fields.Date(required=True)


class ExceptionRefund(ma.Schema):
    id = fields.Integer()
    amount = fields.Integer()
    decided_on = fields.String()
    fiscal_year = fields.Integer()
    status = fields.String(validate=validate.OneOf(("refund_due", "refunded", "undone")))
    refunded_on = fields.String(allow_none=True)


class ExceptionItem(ma.Schema):
    """spec/interfaces.md's exception, plus the resolution fields."""

    id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(EXCEPTION_KINDS))
    status = fields.String(validate=validate.OneOf(EXCEPTION_STATUSES))
    slip_number = fields.String(allow_none=True)
    claim_number = fields.String(allow_none=True)
    amount = fields.Integer()
    record_ids = fields.List(fields.Integer())
    detail = fields.Dict()
    bank_record_ids = fields.List(fields.Integer())
    agent_code = fields.String(allow_none=True)
    payment_id = fields.Integer(allow_none=True)
    opened_at = fields.String()
    opened_date = fields.String()
    resolution = fields.String(allow_none=True)
    resolution_claim_number = fields.String(allow_none=True)
    proposed_by = fields.String(allow_none=True)
    proposed_at = fields.String(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)
    resolved_date = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    refund = fields.Nested(ExceptionRefund, allow_none=True)
    allowed_resolutions = fields.List(fields.String())


class ExceptionDetail(ExceptionItem):
    actions = fields.List(fields.Dict())
    refunds = fields.List(fields.Nested(ExceptionRefund))
    records = fields.List(fields.Dict())
    bank_records = fields.List(fields.Dict())
    payments = fields.List(fields.Dict())


class ExceptionList(ma.Schema):
    items = fields.List(fields.Nested(ExceptionItem))
    next = fields.String(allow_none=True)


def _detail(exception_id: int) -> dict[str, Any]:
    c = ctx()
    return exception_service.exception_json(c, exception_service.get(c, exception_id), with_history=True)


@bp.get("")
@require()
@bp.arguments(ExceptionListQuery, location="query")
@bp.response(200, ExceptionList)
def index(query: dict[str, Any]) -> dict[str, Any]:
    """The queue in id order; ``next`` is the cursor of the following page."""
    return exception_service.page(
        ctx(),
        status=query.get("status"),
        kind=query.get("kind"),
        cursor=query.get("cursor"),
        limit=query["limit"],
    )


@bp.get("/<id32:exception_id>")
@require()
@bp.response(200, ExceptionDetail)
def show(exception_id: int) -> dict[str, Any]:
    """One exception with its records, payments, refunds and the full history of actions."""
    return _detail(exception_id)


@bp.post("/<id32:exception_id>/resolve")
@require()
@bp.arguments(ExceptionResolveBody)
@bp.response(200, ExceptionDetail)
def resolve(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Resolve (or, for matched_to_claim and applied_to_claim, propose: status pending_approval)."""
    refund = body.get("refund")
    exception_service.resolve(
        ctx(),
        exception_id,
        body["resolution"],
        note=body["note"],
        claim_number=body.get("claim_number"),
        amount=body.get("amount"),
        refund=exception_service.RefundInput(**refund) if refund else None,
    )
    return _detail(exception_id)


@bp.post("/<id32:exception_id>/approve")
@require()
@bp.arguments(ExceptionApproveBody)
@bp.response(200, ExceptionDetail)
def approve(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Approve a pending proposal (an approver other than the proposer); it takes effect now."""
    exception_service.approve(ctx(), exception_id, body.get("note"))
    return _detail(exception_id)


@bp.post("/<id32:exception_id>/reject")
@require()
@bp.arguments(ExceptionRejectBody)
@bp.response(200, ExceptionDetail)
def reject(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Reject a pending proposal: the exception is open again."""
    exception_service.reject(ctx(), exception_id, body["note"])
    return _detail(exception_id)


@bp.post("/<id32:exception_id>/unmatch")
@require()
@bp.arguments(ExceptionUnmatchBody)
@bp.response(200, ExceptionDetail)
def unmatch(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Undo the resolution (payments cancelled, entries reversed, refund undone); the exception is open."""
    exception_service.unmatch(ctx(), exception_id, body["reason"])
    return _detail(exception_id)


@bp.post("/<id32:exception_id>/refunded")
@require()
@bp.arguments(ExceptionRefundedBody)
@bp.response(200, ExceptionDetail)
def refunded(body: dict[str, Any], exception_id: int) -> dict[str, Any]:
    """Record that the office paid the refund decided for this exception (refund_due → refunded)."""
    exception_service.mark_refunded(ctx(), exception_id, body["refunded_on"])
    return _detail(exception_id)
