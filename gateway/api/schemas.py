"""Request and response schemas of the HTTP API (marshmallow 4; validators raise)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields
from marshmallow import validate

from gateway.models.claims import CLOSED_STATUSES
from gateway.models.claims import LEGAL_BASES


class Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class ClaimCreate(Strict):
    number = fields.String(required=True, validate=validate.Length(1, 32))
    legal_basis = fields.String(required=True, validate=validate.OneOf(LEGAL_BASES))
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    fiscal_year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2099))
    debtor_ref = fields.String(required=True, validate=validate.Length(1, 64))
    debtor_name = fields.String(required=True, validate=validate.Length(1, 100))
    debtor_kana = fields.String(load_default=None, allow_none=True)
    debtor_address = fields.String(load_default=None, allow_none=True)
    postal_code = fields.String(load_default=None, allow_none=True)
    decided_on = fields.Date(load_default=None, allow_none=True)
    assessment_number = fields.String(load_default=None, allow_none=True)
    assessment_date = fields.Date(load_default=None, allow_none=True)
    revenue_item = fields.String(load_default=None, allow_none=True)


class ClaimAdjust(Strict):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))
    decided_on = fields.Date(load_default=None, allow_none=True)


class ClaimClose(Strict):
    status = fields.String(required=True, validate=validate.OneOf(CLOSED_STATUSES))
    decided_on = fields.Date(required=True)
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class SlipIssue(Strict):
    instalments = fields.Integer(strict=True, validate=validate.Range(1, 999))
    monthly_amount = fields.Integer(strict=True, validate=validate.Range(min=1))
    same_due_date = fields.Boolean(load_default=False)
    first_due_date = fields.Date(load_default=None, allow_none=True)


class SlipReissue(Strict):
    due_date = fields.Date(load_default=None, allow_none=True)


class SlipVoid(Strict):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class Slip(ma.Schema):
    slip_number = fields.String()
    claim_number = fields.String()
    payment_number = fields.String()
    instalment = fields.Integer()
    amount = fields.Integer()
    due_date = fields.String()
    barcode_expiry = fields.String()
    reissue_count = fields.Integer()
    status = fields.String(validate=validate.OneOf(("issued", "paid", "superseded", "void")))
    barcode = fields.String()
    issued_on = fields.String()
    void_reason = fields.String(allow_none=True)


class SlipList(ma.Schema):
    slips = fields.List(fields.Nested(Slip))


class Payment(ma.Schema):
    id = fields.Integer()
    slip_number = fields.String(allow_none=True)
    amount = fields.Integer()
    state = fields.String()
    paid_at = fields.String()
    late = fields.Boolean()
    channel_code = fields.String(allow_none=True)
    received_at = fields.String()
    receipt_date = fields.String(allow_none=True)
    fiscal_year = fields.Integer(allow_none=True)


class Debtor(ma.Schema):
    ref = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    kana = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class Claim(ma.Schema):
    number = fields.String()
    legal_basis = fields.String()
    amount = fields.Integer()
    original_amount = fields.Integer()
    fiscal_year = fields.Integer()
    status = fields.String()
    paid_amount = fields.Integer()
    pending_amount = fields.Integer()
    balance = fields.Integer()
    refund_due_amount = fields.Integer()
    assessment_number = fields.String(allow_none=True)
    assessment_date = fields.String(allow_none=True)
    revenue_item = fields.String(allow_none=True)
    decided_on = fields.String(allow_none=True)
    closed_on = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)
    slips = fields.List(fields.Nested(Slip))
    payments = fields.List(fields.Nested(Payment))
    adjustments = fields.List(fields.Dict())
    debtor = fields.Nested(Debtor)


class ClaimListQuery(ma.Schema):
    status = fields.String(validate=validate.OneOf(("open", "paid", "overpaid", *CLOSED_STATUSES)))
    after = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ClaimList(ma.Schema):
    items = fields.List(fields.Dict())
    next = fields.String(allow_none=True)


class ErrorDetail(ma.Schema):
    """What went wrong: a stable ``code`` (``invalid_input``, ``not_found``, ``payload_too_large`` …), an
    English ``message`` and ``details`` (the field or line at fault, the schema errors; ``{}`` when none)."""

    class Meta:
        unknown = ma.RAISE

    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class Error(ma.Schema):
    """Every error the API sends: ``{"error": {"code", "message", "details"}}``."""

    class Meta:
        unknown = ma.RAISE

    error = fields.Nested(ErrorDetail, required=True)
