"""Staff pages of the exceptions queue: filters and counts per kind, one exception with its records,
payments, refunds and history, and the actions the signed-in role allows (server-rendered forms, no
script: the CSP forbids inline JavaScript)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.services import exceptions as exception_service
from gateway.web import csrf
from gateway.web import ctx
from gateway.web import current_actor

bp = Blueprint("staff_exceptions", __name__, url_prefix="/staff/exceptions")
READERS = ("finance", "approver", "accounting", "auditor")
PAGE = 50

#: Japanese labels for the page (the API and the CLI speak the spec's vocabulary).
KIND_LABELS = {
    "unknown_slip": "該当納付書なし",
    "amount_mismatch": "金額相違",
    "duplicate_payment": "二重納付",
    "paid_after_expiry": "取扱期限後の納付",
    "paid_void_slip": "取消済納付書への納付",
    "overpayment": "過納",
    "unexpected_channel": "対象外の収納機関",
    "cancel_without_preliminary": "対応する速報のない取消",
    "cancel_after_confirmation": "確報後の取消",
    "confirmation_differs": "速報と確報の相違",
    "unconfirmed_preliminary": "確報未着",
    "remittance_mismatch": "入金額相違",
}
STATUS_LABELS = {"open": "未処理", "pending_approval": "承認待ち", "resolved": "処理済"}
RESOLUTION_LABELS = {
    "matched_to_claim": "債権に消込(要承認)",
    "refund_due": "還付(過誤納)",
    "applied_to_claim": "他債権へ充当(要承認)",
    "agent_withdrawn": "収納代行会社がデータを取下げ",
    "no_action": "処理不要",
}


def _forbidden(message: str) -> Any:
    return render_template("error.html", code=403, message=message), 403


def _reader() -> Actor | Any:
    actor = current_actor()
    if actor is None:
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    if not actor.has_role(*READERS):
        return _forbidden("この画面を見る権限がありません")
    return actor


@bp.get("")
def queue() -> Any:
    actor = _reader()
    if not isinstance(actor, Actor):
        return actor
    # Without a filter the page shows what needs work; "all" shows every status.
    asked = request.args.get("status", "open")
    status = asked if asked in EXCEPTION_STATUSES else None
    asked_kind = request.args.get("kind", "")
    kind = asked_kind if asked_kind in EXCEPTION_KINDS else None
    c = ctx()
    page = exception_service.page(c, status=status, kind=kind, cursor=request.args.get("cursor"), limit=PAGE)
    return render_template(
        "staff/exceptions.html",
        actor=actor,
        items=page["items"],
        next_cursor=page["next"],
        status=status,
        kind=kind,
        counts=exception_service.count_by_kind(c, status),
        kinds=EXCEPTION_KINDS,
        statuses=EXCEPTION_STATUSES,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        resolution_labels=RESOLUTION_LABELS,
    )


@bp.get("/<int:exception_id>")
def detail(exception_id: int) -> Any:
    actor = _reader()
    if not isinstance(actor, Actor):
        return actor
    c = ctx()
    exc = exception_service.get(c, exception_id)
    doc = exception_service.exception_json(c, exc, with_history=True)
    return render_template(
        "staff/exception.html",
        actor=actor,
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
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        resolution_labels=RESOLUTION_LABELS,
    )


def _act(exception_id: int, roles: tuple[str, ...], do: Callable[[dict[str, str]], str]) -> Any:
    """Run one action from a form: role check, CSRF, the service call, a flash message, back to the page."""
    actor = current_actor()
    if actor is None:
        return redirect(
            url_for("staff.login", next=url_for("staff_exceptions.detail", exception_id=exception_id))
        )
    csrf.protect()
    if not actor.has_role(*roles):
        return _forbidden(f"この操作は {', '.join(roles)} の権限が必要です")
    try:
        flash(do(request.form.to_dict()), "ok")
    except GatewayError as ex:
        flash(ex.located(), "error")
    except ValueError as ex:
        flash(f"入力が正しくありません: {ex}", "error")
    return redirect(url_for("staff_exceptions.detail", exception_id=exception_id))


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip() else None


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value and value.strip() else None


@bp.post("/<int:exception_id>/resolve")
def resolve(exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        resolution = form.get("resolution", "")
        refund = None
        if resolution == "refund_due":
            refund = exception_service.RefundInput(
                decided_on=_date(form.get("refund_decided_on")),
                amount=_int(form.get("refund_amount")),
                fiscal_year=_int(form.get("refund_fiscal_year")),
            )
        exc = exception_service.resolve(
            ctx(),
            exception_id,
            resolution,
            note=form.get("note", ""),
            claim_number=form.get("claim_number") or None,
            amount=_int(form.get("amount")),
            refund=refund,
        )
        if exc.status == "pending_approval":
            return "提案しました。別の承認者の承認で確定します。"
        return "処理しました。"

    return _act(exception_id, ("finance",), do)


@bp.post("/<int:exception_id>/approve")
def approve(exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.approve(ctx(), exception_id, form.get("note"))
        return "承認しました。"

    return _act(exception_id, ("approver",), do)


@bp.post("/<int:exception_id>/reject")
def reject(exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.reject(ctx(), exception_id, form.get("note", ""))
        return "差し戻しました。"

    return _act(exception_id, ("approver",), do)


@bp.post("/<int:exception_id>/unmatch")
def unmatch(exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.unmatch(ctx(), exception_id, form.get("reason", ""))
        return "処理を取り消しました(履歴は残ります)。"

    return _act(exception_id, ("finance",), do)


@bp.post("/<int:exception_id>/refunded")
def refunded(exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        day = _date(form.get("refunded_on"))
        if day is None:
            raise ValueError("還付日を入力してください")
        exception_service.mark_refunded(ctx(), exception_id, day)
        return "還付済みにしました。"

    return _act(exception_id, ("finance",), do)
