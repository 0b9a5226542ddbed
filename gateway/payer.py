"""The payer's slip page behind the QR code: ``GET /p/<token>``.

No sign-in; the token is 192 random bits. It shows what a payer needs at the register — amount, due date,
last day the barcode is accepted, payment number and the barcode — and nothing about who owes the money or
why. Paid, void, superseded or expired slips answer 404 so an old paper slip cannot be used to pay twice.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import render_template

from barcodes import render
from gateway.pdf.wareki import wareki_date
from gateway.services import documents
from gateway.services import slips as slip_service
from gateway.web import ctx

bp = Blueprint("payer", __name__)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.get("/p/<token>")
def slip_page(token: str) -> Response:
    c = ctx()
    slip = slip_service.slip_for_payer(c, token)
    if slip is None:
        return Response(render_template("payer/not_found.html"), 404, PRIVATE_HEADERS)
    svg = render.render_svg(slip.barcode, documents.symbol_options(c), xml_declaration=False)
    html = render_template(
        "payer/slip.html",
        slip=slip,
        barcode_svg=svg,
        barcode_text=slip.barcode,
        due=wareki_date(slip.due_date),
        expiry=wareki_date(slip.barcode_expiry),
        settings=c.settings,
    )
    return Response(html, 200, PRIVATE_HEADERS)
