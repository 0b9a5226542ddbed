"""Payments recorded by staff (counter, bank counter, transfer, deduction) and refunds due.

* ``/staff/payments/new`` — the form; posting it (``/staff/payments``) first shows a confirmation of the slip,
  its claim and the amount (nothing recorded yet), and only the confirmation's button records the payment
  (``gateway.casework.payments.record``, the same service as ``gateway payments record``).
* ``/staff/refunds`` — refunds due (過誤納: exceptions resolved as ``refund_due``) with a form per row that
  records the date the office paid it; finance records, accounting reads.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from gateway import catalogue
from gateway.casework import exceptions as exception_service
from gateway.casework import payments as payment_service
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.models.recon import MANUAL_CHANNELS
from gateway.models.recon import REFUND_STATUSES
from gateway.pages import formats
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import form_text
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import ctx

bp = Blueprint("staff_payments", __name__, url_prefix="/staff")
PAGE = 50
_FIELDS = ("slip_number", "amount", "paid_on", "channel", "reason")


def _form_page(values: dict[str, str], error: str | None = None, status: int = 200) -> Any:
    c = ctx()
    response = no_store(
        render_template(
            "staff/payment_new.html",
            values=values,
            error=error,
            channels=MANUAL_CHANNELS,
            today=c.today().isoformat(),
        )
    )
    response.status_code = status
    return response


@bp.get("/payments/new")
@page()
def new(actor: Actor) -> Any:
    """The empty form (``?slip=`` fills in the slip number, e.g. from a slip's page)."""
    values = {name: request.args.get(name, "") for name in _FIELDS}
    values["slip_number"] = values["slip_number"] or request.args.get("slip", "")
    values["paid_on"] = values["paid_on"] or ctx().today().isoformat()
    return _form_page(values)


def _read(form: dict[str, str]) -> tuple[str, int, datetime.date, str, str]:
    slip = form_text(form, "slip_number")
    amount = form_int(form, "amount")
    paid_on = form_date(form, "paid_on")
    channel = form.get("channel", "")
    if channel not in MANUAL_CHANNELS:
        raise InvalidInput("channel must be chosen", field="channel", key="payment.channel")
    reason = form_text(form, "reason")
    assert amount is not None and paid_on is not None
    return slip, amount, paid_on, channel, reason


@bp.post("/payments")
@page()
def record(actor: Actor) -> Any:
    """Step 1 (no ``confirmed``): check and show the confirmation. Step 2 (``confirmed=1``): record."""
    form = {name: (request.form.get(name) or "").strip() for name in _FIELDS}
    c = ctx()
    try:
        slip, amount, paid_on, channel, reason = _read(form)
        if request.form.get("confirmed") != "1":
            checked = payment_service.check(c, slip, amount, paid_on, channel, reason)
            return no_store(render_template("staff/payment_confirm.html", p=checked, values=form))
        doc = payment_service.record(c, slip, amount, paid_on, channel, reason)
    except GatewayError as ex:
        c.session.rollback()
        return _form_page(form, catalogue.error_text(ex), 422)
    flash(
        f"入金を記録しました: 納付書 {doc['slip_number']}、{formats.yen(doc['amount'])}"
        f"(納付日 {formats.wareki(doc['paid_at'])})。債権 {doc['claim_number']} の残額は"
        f"{formats.yen(doc['balance'])}です。",
        "ok",
    )
    for raised in doc["exceptions"]:
        kind = catalogue.label("exception_kind", raised["kind"])
        flash(
            f"この入金で例外 {raised['id']}「{kind}」が発生しました。例外一覧で処理してください。",
            "error",
        )
    return redirect(url_for("staff_payments.new"))


@bp.get("/refunds")
@page()
def refunds(actor: Actor) -> Any:
    """Refunds due (default), paid or all, paged by id both ways."""
    asked = request.args.get("status", "refund_due")
    status = asked if asked in REFUND_STATUSES else None
    after = request.args.get("after", "")
    c = ctx()
    found = exception_service.refunds(
        c, status=status, after_id=int(after) if after.isdigit() and len(after) < 18 else None, limit=PAGE
    )
    for r in found["items"]:
        r["decided_by_name"] = catalogue.actor_text(r["decided_by"])
    return no_store(
        render_template(
            "staff/refunds.html",
            found=found,
            status=status,
            statuses=REFUND_STATUSES,
            first_page=not after,
            today=c.today().isoformat(),
            page_size=PAGE,
        )
    )
