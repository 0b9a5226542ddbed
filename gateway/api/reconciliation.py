"""Reconciliation runs on demand (the scheduler runs them too)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields

from gateway.api.schemas import Strict
from gateway.money import reconcile
from gateway.web import ctx
from gateway.web import require

bp = Blueprint(
    "reconciliation",
    __name__,
    url_prefix="/api/v1/reconciliation",
    description="Reconciliation: settlement records to payments, exceptions and remittances",
)


class ReconcileRunBody(Strict):
    as_of = fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "the Japan date expiry and ageing are evaluated on (default: today)"},
    )


class ReconcileResult(ma.Schema):
    matched = fields.Integer()
    confirmed = fields.Integer()
    cancelled = fields.Integer()
    exceptions_opened = fields.Integer()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())
    remittances_matched = fields.Integer()
    as_of = fields.String()


@bp.post("/runs")
@require()
@bp.arguments(ReconcileRunBody, required=False)
@bp.response(200, ReconcileResult)
def run(body: dict[str, Any]) -> dict[str, Any]:
    """Run reconciliation now; prints what this run changed (a rerun with nothing new reports zeros)."""
    return reconcile.run(ctx(), (body or {}).get("as_of")).as_json()
