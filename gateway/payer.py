"""The payer's slip page behind the QR code: ``GET /p/<token>``.

No sign-in; the token is 192 random bits. It shows what a payer needs at the register — amount, due date,
last day the barcode is accepted, payment number and the barcode — and nothing about who owes the money or
why. Paid, void, superseded or expired slips answer 404 so an old paper slip cannot be used to pay twice.
Both pages say what to do after the 取扱期限 (the counter bank, with the paper slip) and whom to call (the
office's neutral contact from configuration); the heading repeats the QR code's caption on paper.
Credentials are not needed; bad ones that are sent anyway are answered 401 with the API's error shape.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import render_template

from barcodes import render
from gateway.errors import GatewayError
from gateway.issuing import documents
from gateway.issuing import slips as slip_service
from gateway.pdf import wording
from gateway.pdf.model import ContactBlock
from gateway.pdf.wareki import wareki_date
from gateway.web import ctx
from gateway.web import error_payload

bp = Blueprint("payer", __name__)

PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


@bp.get("/p/<token>")
def slip_page(token: str) -> Response:
    try:
        c = ctx()
    except GatewayError as ex:
        # The page needs no credentials, but any sent (an agent client's X-Gateway-* or a bearer token) are
        # checked like everywhere else: a bad one is answered the API's way, 401 with the error shape.
        response, status = error_payload(ex)
        response.status_code = status
        response.headers.update(PRIVATE_HEADERS)
        return response
    slip = slip_service.slip_for_payer(c, token)
    contact = _contact_context(documents.contact(c))
    if slip is None:
        return Response(render_template("payer/not_found.html", **contact), 404, PRIVATE_HEADERS)
    svg = render.render_svg(slip.barcode, documents.symbol_options(c), xml_declaration=False)
    html = render_template(
        "payer/slip.html",
        slip=slip,
        barcode_svg=svg,
        barcode_text=slip.barcode,
        due=wareki_date(slip.due_date),
        expiry=wareki_date(slip.barcode_expiry),
        settings=c.settings,
        purpose=wording.PAYER_PAGE_PURPOSE,
        not_for_payment=wording.QR_NOT_FOR_PAYMENT,
        **contact,
    )
    return Response(html, 200, PRIVATE_HEADERS)


def _contact_context(contact: ContactBlock) -> dict[str, object]:
    """What both pages show about the 取扱期限 and the office's contact, in the slip's own wording."""
    return {
        "contact": contact,
        "tel_uri": wording.tel_uri(contact.phone),
        "contact_heading": wording.CONTACT_HEADING,
        "after_expiry_heading": wording.AFTER_EXPIRY_HEADING,
        "after_expiry": wording.after_expiry_sentence(contact.counter_bank, slip="お手元の納付書"),
    }
