"""Staff pages of the exceptions queue: filters and counts per kind, one exception with its records,
payments, refunds and history, and the actions the signed-in role allows (server-rendered forms, no
script: the CSP forbids inline JavaScript)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import render_template
from flask import request
from flask import url_for

from gateway.context import Actor
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.pages.base import action
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import page
from gateway.services import exceptions as exception_service
from gateway.web import ctx

bp = Blueprint("staff_exceptions", __name__, url_prefix="/staff/exceptions")
PAGE = 50


@bp.get("")
@page()
def queue(actor: Actor) -> Any:
    # Without a filter the page shows what needs work; "all" shows every status.
    asked = request.args.get("status", "open")
    status = asked if asked in EXCEPTION_STATUSES else None
    asked_kind = request.args.get("kind", "")
    kind = asked_kind if asked_kind in EXCEPTION_KINDS else None
    c = ctx()
    found = exception_service.page(c, status=status, kind=kind, cursor=request.args.get("cursor"), limit=PAGE)
    return render_template(
        "staff/exceptions.html",
        items=found["items"],
        next_cursor=found["next"],
        status=status,
        kind=kind,
        counts=exception_service.count_by_kind(c, status),
        kinds=EXCEPTION_KINDS,
        statuses=EXCEPTION_STATUSES,
    )


@bp.get("/<int:exception_id>")
@page()
def detail(actor: Actor, exception_id: int) -> Any:
    c = ctx()
    exc = exception_service.get(c, exception_id)
    doc = exception_service.exception_json(c, exc, with_history=True)
    return render_template(
        "staff/exception.html",
        e=doc,
        can_propose=exc.status == "open" and exception_service.can_propose(actor),
        withdrawn_payment=exception_service.withdrawn_payment(c, exc),
        can_approve=exception_service.can_approve(actor, exc),
        own_proposal=exc.status == "pending_approval"
        and exception_service.same_person(actor, exc.proposed_by),
        is_approver=actor.kind == "user" and actor.role == "approver",
        can_unmatch=exc.status == "resolved" and exception_service.can_propose(actor),
        can_mark_refunded=(
            exc.status == "resolved"
            and exception_service.can_propose(actor)
            and doc["refund"] is not None
            and doc["refund"]["status"] == "refund_due"
        ),
        today=c.today().isoformat(),
    )


def _act(exception_id: int, do: Callable[[dict[str, str]], str]) -> Any:
    """Run one action from a form: the service call, a flash message, back to the exception's page."""
    return action(
        lambda: do(request.form.to_dict()), url_for("staff_exceptions.detail", exception_id=exception_id)
    )


@bp.post("/<int:exception_id>/resolve")
@page()
def resolve(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        resolution = form.get("resolution", "")
        refund = None
        if resolution == "refund_due":
            refund = exception_service.RefundInput(
                decided_on=form_date(form, "refund_decided_on", required=False),
                amount=form_int(form, "refund_amount", required=False),
                fiscal_year=form_int(form, "refund_fiscal_year", required=False),
            )
        exc = exception_service.resolve(
            ctx(),
            exception_id,
            resolution,
            note=form.get("note", ""),
            claim_number=form.get("claim_number") or None,
            amount=form_int(form, "amount", required=False),
            refund=refund,
        )
        if exc.status == "pending_approval":
            return "提案しました。別の承認者の承認で確定します。"
        return "処理しました。"

    return _act(exception_id, do)


@bp.post("/<int:exception_id>/approve")
@page()
def approve(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.approve(ctx(), exception_id, form.get("note"))
        return "承認しました。"

    return _act(exception_id, do)


@bp.post("/<int:exception_id>/reject")
@page()
def reject(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.reject(ctx(), exception_id, form.get("note", ""))
        return "差し戻しました。"

    return _act(exception_id, do)


@bp.post("/<int:exception_id>/unmatch")
@page()
def unmatch(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.unmatch(ctx(), exception_id, form.get("reason", ""))
        return "処理を取り消しました(履歴は残ります)。"

    return _act(exception_id, do)


@bp.post("/<int:exception_id>/refunded")
@page()
def refunded(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        day = form_date(form, "refunded_on")
        assert day is not None
        exception_service.mark_refunded(ctx(), exception_id, day)
        return "還付済みにしました。"

    return _act(exception_id, do)
