"""Money that reached the office outside agent data (counter, bank counter, direct transfer, deduction)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import fields
from marshmallow import validate

from gateway.api.schemas import Strict
from gateway.casework import payments as payment_service
from gateway.models.recon import MANUAL_CHANNELS
from gateway.web import ctx
from gateway.web import require

bp = Blueprint("payments", __name__, url_prefix="/api/v1/payments", description="Payments recorded by staff")


class ManualPaymentInput(Strict):
    slip_number = fields.String(required=True, validate=validate.Length(1, 32))
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    paid_on = fields.Date(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(MANUAL_CHANNELS))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


@bp.post("")
@require()
@bp.arguments(ManualPaymentInput)
@bp.response(201)
def record(body: dict[str, Any]) -> dict[str, Any]:
    """Record a counter, bank-counter, direct-transfer or Art. 78-2 deduction receipt for a slip; it is
    checked like any payment (a second payment for the slip raises ``duplicate_payment``)."""
    return payment_service.record(
        ctx(), body["slip_number"], body["amount"], body["paid_on"], body["channel"], body["reason"]
    )
