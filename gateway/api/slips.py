"""Slips: show, reissue, void, and their renderings (PDF, barcode SVG, QR SVG)."""

from __future__ import annotations

import io
from typing import Any

from flask import Response
from flask_smorest import Blueprint

from gateway.api import schemas
from gateway.issuing import documents
from gateway.issuing import slips as slip_service
from gateway.web import ctx
from gateway.web import require

bp = Blueprint("slips", __name__, url_prefix="/api/v1/slips", description="Payment slips")


@bp.get("/<slip_number>")
@require()
@bp.response(200, schemas.Slip)
def show(slip_number: str) -> dict[str, Any]:
    slip, claim = slip_service.slip_with_claim(ctx(), slip_number)
    return slip_service.slip_json(slip, claim.number)


@bp.post("/<slip_number>/reissue")
@require()
@bp.arguments(schemas.SlipReissue)
@bp.response(201, schemas.Slip)
def reissue(body: dict[str, Any], slip_number: str) -> dict[str, Any]:
    """A new slip with reissue count + 1 and a new expiry; the previous one becomes superseded."""
    new = slip_service.reissue_slip(ctx(), slip_number, body.get("due_date"))
    _, claim = slip_service.slip_with_claim(ctx(), new.slip_number)
    return slip_service.slip_json(new, claim.number)


@bp.post("/<slip_number>/void")
@require()
@bp.arguments(schemas.SlipVoid)
@bp.response(200, schemas.Slip)
def void(body: dict[str, Any], slip_number: str) -> dict[str, Any]:
    slip = slip_service.void_slip(ctx(), slip_number, body["reason"])
    _, claim = slip_service.slip_with_claim(ctx(), slip.slip_number)
    return slip_service.slip_json(slip, claim.number)


@bp.get("/<slip_number>/slip.pdf")
@require()
@bp.doc(responses={200: {"description": "A4 slip", "content": {"application/pdf": {}}}})
def pdf(slip_number: str) -> Response:
    c = ctx()
    out = io.BytesIO()
    documents.render_slip(c, slip_number, out)
    c.commit()  # the pii.view event for the payer name on the slip
    return Response(
        out.getvalue(),
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{documents.pdf_filename(slip_number)}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/<slip_number>/barcode.svg")
@require()
@bp.doc(responses={200: {"description": "GS1-128 symbol", "content": {"image/svg+xml": {}}}})
def barcode_svg(slip_number: str) -> Response:
    svg = documents.barcode_svg(ctx(), slip_number)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


@bp.get("/<slip_number>/qr.svg")
@require()
@bp.doc(responses={200: {"description": "payer-page QR code", "content": {"image/svg+xml": {}}}})
def qr_svg(slip_number: str) -> Response:
    svg = documents.qr_svg(ctx(), slip_number)
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
