"""Staff pages of the exceptions queue: filters and counts per kind, one exception with its records,
payments, refunds and history, and the actions the signed-in role allows (server-rendered forms, no
script: the CSP forbids inline JavaScript).

Everything a clerk reads is Japanese: an exception's detail keys and its history's actions and data are
named by the catalogue (``exception_detail``, ``exception_action``, ``exception_history``), amounts and
dates go through the formatting filters, people are shown by name (:func:`gateway.catalogue.actor_text`)
and internal ids (records, payments) are never shown: records are counted and linked to their file.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import render_template
from flask import request
from flask import url_for

from gateway import catalogue
from gateway.casework import exceptions as exception_service
from gateway.context import Actor
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.pages import formats
from gateway.pages.base import action
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import ctx

bp = Blueprint("staff_exceptions", __name__, url_prefix="/staff/exceptions")
PAGE = 50

_AMOUNTS = frozenset(
    {
        "slip_amount",
        "paid_amount",
        "preliminary_amount",
        "confirmed_amount",
        "claim_amount",
        "refunded_amount",
        "expected",
        "credited",
        "gross",
        "fees",
        "fee_tax",
    }
)
_DATES = frozenset(
    {"paid_date", "barcode_expiry", "preliminary_paid_date", "confirmed_paid_date", "as_of", "transfer_date"}
)
#: detail values that name another group of the catalogue
_CODED = {
    "kind": "record_kind",
    "kind_code": "kind_code",
    "channel_code": "channel",
    "payment_state": "payment_state",
    "linked": "link_how",
    "mode": "remittance_mode",
}


def age_text(opened: Any, today: datetime.date) -> str:
    """How long an exception has been open: 「今日」, 「3日前」."""
    if not opened:
        return formats.EMPTY
    day = opened if isinstance(opened, datetime.date) else datetime.date.fromisoformat(str(opened)[:10])
    days = (today - day).days
    return "今日" if days <= 0 else f"{days}日前"


def handler(e: dict[str, Any]) -> str:
    """Who is handling the exception: the proposer while it waits for approval, whoever resolved it, else
    「未着手」 (nobody has taken it up yet)."""
    if e.get("status") == "pending_approval":
        return catalogue.actor_text(e.get("proposed_by"))
    if e.get("status") == "resolved":
        return catalogue.actor_text(e.get("resolved_by"))
    return "未着手"


def detail_rows(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """The exception's detail as (Japanese name, formatted value); internal ids and unknown keys left out."""
    names = catalogue.LABELS["exception_detail"]
    out = []
    for key, value in detail.items():
        if key not in names or value is None or value == "":
            continue
        if key in _AMOUNTS:
            text = formats.yen(value)
        elif key in _DATES:
            text = formats.ymd(value)
        elif key == "enabled":
            codes = [c.strip() for c in str(value).split(",") if c.strip()]
            text = "、".join(catalogue.label("channel", c) for c in codes)
        elif key in _CODED:
            text = catalogue.label(_CODED[key], value)
        else:
            text = str(value)
        out.append((names[key], text))
    return out


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list | tuple) else (1 if value else 0)


def history_items(data: dict[str, Any]) -> list[str]:
    """What one history action did, as short Japanese phrases (never a key, never an id)."""
    name = catalogue.LABELS["exception_history"]
    out: list[str] = []

    def add(key: str, text: str) -> None:
        out.append(f"{name[key]}: {text}")

    if data.get("resolution"):
        add("resolution", catalogue.label("resolution", data["resolution"]))
    if data.get("claim_number"):
        add("claim_number", str(data["claim_number"]))
    if data.get("record_ids"):
        add("records", f"{len(data['record_ids'])}件")
    refund = data.get("refund")
    if isinstance(refund, dict):
        add("refund_amount", formats.yen(refund.get("amount")))
        add("refund_decided_on", formats.ymd(refund.get("decided_on")))
        add("refund_fiscal_year", formats.nendo(refund.get("fiscal_year")))
    if data.get("amount") is not None and not isinstance(refund, dict):
        add("amount", formats.yen(data["amount"]))
    for key in ("source_claim", "target_claim"):
        if data.get(key) and data.get(key) != data.get("claim_number"):
            add(key, str(data[key]))
    if data.get("proposed_by"):
        add("proposed_by", catalogue.actor_text(data["proposed_by"]))
    effects = data.get("effects") or {}
    for key in ("created", "confirmed", "cancelled"):
        if isinstance(effects, dict) and effects.get(key):
            add(key, f"{_count(effects[key])}件")
    previous = data.get("previous")
    if isinstance(previous, dict) and previous.get("resolution"):
        add("previous", catalogue.label("resolution", previous["resolution"]))
    undone = data.get("undone") or {}
    if isinstance(undone, dict):
        for key in ("cancelled_payments", "returned_to_preliminary", "reinstated"):
            if undone.get(key):
                add(key, f"{_count(undone[key])}件")
        if undone.get("refund_id") is not None:
            out.append(name["refund_undone"])
    if data.get("refunded_on"):
        add("refunded_on", formats.ymd(data["refunded_on"]))
    if data.get("via"):
        add("via", catalogue.actor_text(data["via"]))
    return out


def _file_links(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The settlement files the records came from: ``[{"file_id", "records", "url"}]``."""
    counts: dict[int, int] = {}
    for r in rows:
        if r.get("file_id") is not None:
            counts[r["file_id"]] = counts.get(r["file_id"], 0) + 1
    return [{"file_id": f, "records": n, "url": f"/staff/settlements/{f}"} for f, n in sorted(counts.items())]


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 18 else None


@bp.get("")
@page()
def queue(actor: Actor) -> Any:
    # Without a filter the page shows what needs work; "all" shows every status.
    asked = request.args.get("status", "open")
    status = asked if asked in EXCEPTION_STATUSES else None
    asked_kind = request.args.get("kind", "")
    kind = asked_kind if asked_kind in EXCEPTION_KINDS else None
    c = ctx()
    # ``cursor`` is the API's name for "after"; the pages also go back with ``before``.
    after = _int_arg("after") or _int_arg("cursor")
    found = exception_service.page_both_ways(
        c, status=status, kind=kind, after=after, before=_int_arg("before"), limit=PAGE
    )
    counts = exception_service.count_by_kind(c, status)
    today = c.today()
    for e in found["items"]:
        e["age"] = age_text(e["opened_date"], today)
        e["handler"] = handler(e)
    return render_template(
        "staff/exceptions.html",
        items=found["items"],
        next_id=found["next"],
        prev_id=found["prev"],
        status=status,
        kind=kind,
        counts=counts,
        total=counts.get(kind, 0) if kind else sum(counts.values()),
        kinds=EXCEPTION_KINDS,
        statuses=EXCEPTION_STATUSES,
        page_size=PAGE,
    )


@bp.get("/<id32:exception_id>")
@page()
def detail(actor: Actor, exception_id: int) -> Any:
    c = ctx()
    exc = exception_service.get(c, exception_id)
    doc = exception_service.exception_json(c, exc, with_history=True)
    today = c.today()
    actions = [
        {
            "at": a["at"],
            "action": catalogue.label("exception_action", a["action"]),
            "who": catalogue.actor_text(a["actor"]),
            "note": a["note"],
            "items": history_items(a["data"]),
        }
        for a in doc["actions"]
    ]
    return no_store(
        render_template(
            "staff/exception.html",
            e=doc,
            age=age_text(doc["opened_date"], today),
            handler=handler(doc),
            proposer=catalogue.actor_text(doc["proposed_by"]),
            resolver=catalogue.actor_text(doc["resolved_by"]),
            details=detail_rows(doc["detail"]),
            actions=actions,
            record_files=_file_links(doc["records"]),
            bank_files=_file_links(doc["bank_records"]),
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
            today=today.isoformat(),
        )
    )


def _act(exception_id: int, do: Callable[[dict[str, str]], str]) -> Any:
    """Run one action from a form: the service call, a flash message, back to the exception's page (or to
    the refunds list when the form came from there)."""
    form = request.form.to_dict()
    back = (
        url_for("staff_payments.refunds")
        if form.get("back") == "refunds"
        else url_for("staff_exceptions.detail", exception_id=exception_id)
    )
    return action(lambda: do(form), back)


@bp.post("/<id32:exception_id>/resolve")
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


@bp.post("/<id32:exception_id>/approve")
@page()
def approve(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.approve(ctx(), exception_id, form.get("note"))
        return "承認しました。"

    return _act(exception_id, do)


@bp.post("/<id32:exception_id>/reject")
@page()
def reject(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.reject(ctx(), exception_id, form.get("note", ""))
        return "差し戻しました。"

    return _act(exception_id, do)


@bp.post("/<id32:exception_id>/unmatch")
@page()
def unmatch(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        exception_service.unmatch(ctx(), exception_id, form.get("reason", ""))
        return "処理を取り消しました(履歴は残ります)。"

    return _act(exception_id, do)


@bp.post("/<id32:exception_id>/refunded")
@page()
def refunded(actor: Actor, exception_id: int) -> Any:
    def do(form: dict[str, str]) -> str:
        day = form_date(form, "refunded_on")
        assert day is not None
        exc = exception_service.mark_refunded(ctx(), exception_id, day)
        return f"還付済みにしました(例外 {exc.id}、還付日 {formats.wareki(day)})。"

    return _act(exception_id, do)
