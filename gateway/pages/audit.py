"""The audit log with filters, and the hash-chain check.

Each event is shown in Japanese words: when (Japan time), who (a user's name; the scheduler → 自動処理, the
command line → 管理コマンド), what (``audit_action`` labels; an unknown action → 「その他の操作」), about what
(債権 R08-00001, 納付書 …) and a short summary of the detail where the action is known, else the detail's
keys translated under 「詳細あり」. Nothing internal and no raw JSON reaches the page.
"""

from __future__ import annotations

import datetime
from typing import Any

from flask import Blueprint
from flask import render_template
from flask import request
from sqlmodel import col
from sqlmodel import select

from gateway import audit
from gateway import catalogue
from gateway.catalogue import label
from gateway.context import Actor
from gateway.models import AuditEvent
from gateway.models import User
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.pages.formats import count
from gateway.pages.formats import yen
from gateway.pages.formats import ymd
from gateway.web import ctx

bp = Blueprint("staff_audit", __name__, url_prefix="/staff/audit")

PAGE = 50
OTHER_ACTION = "その他の操作"
#: Actions whose detail says nothing worth a summary (the action and target say it all).
PLAIN = frozenset(
    {"user.login", "user.disable", "user.enable", "user.set_password", "client.revoke", "client.rotate"}
)
ACTOR_KIND_TEXT = {
    "system": "自動処理",
    "cli": "管理コマンド",
    "client": "収納代行会社",
    "anonymous": "未ログイン",
}


def who(event: AuditEvent) -> str:
    """The actor as a clerk reads it."""
    if event.actor_kind == "user":
        return event.actor_name
    return ACTOR_KIND_TEXT.get(event.actor_kind, "自動処理")


def what(action: str) -> str:
    return catalogue.LABELS["audit_action"].get(action, OTHER_ACTION)


def target(event: AuditEvent) -> str:
    """債権 R08-00001, 納付書 12345-0, 収入日 2026/11/20 …; ``—`` without a target."""
    if not event.target_type:
        return "—"
    kind = catalogue.LABELS["audit_target"].get(event.target_type)
    if kind is None:
        return "—"
    ident = event.target_id or ""
    if event.target_type == "receipt_date":
        ident = _safe_ymd(ident)
    elif event.target_type in ("exception", "print_batch", "payment", "debtor", "settlement_batch"):
        ident = f"#{ident}" if ident else ""
    elif event.target_type == "settlement_file":
        ident = str((event.detail or {}).get("file") or "")
    elif event.target_type == "fetched_file":
        ident = ident.rsplit("/", 1)[-1]
    return f"{kind} {ident}".strip()


def _safe_ymd(value: Any) -> str:
    try:
        return ymd(value)
    except (TypeError, ValueError):
        return str(value)


def _num(value: Any) -> str:
    return count(value) if isinstance(value, int) and not isinstance(value, bool) else "—"


def _money(value: Any) -> str:
    return yen(value) if isinstance(value, int) and not isinstance(value, bool) else "—"


def summary(event: AuditEvent) -> str | None:
    """A short Japanese summary of the detail for the actions whose detail is known; ``None`` otherwise."""
    d: dict[str, Any] = event.detail or {}
    a = event.action
    if a in PLAIN:
        return ""
    if a == "user.create":
        return f"役割: {label('role', d.get('role'))}"
    if a == "user.set_role":
        return f"役割: {label('role', d.get('old_role'))} → {label('role', d.get('role'))}"
    if a == "user.token_revoke":
        return f"{_num(d.get('revoked'))}件を失効"
    if a == "user.token":
        return "新しいトークンを発行"
    if a == "client.create":
        agent = d.get("agent")
        return f"名前: {d.get('name', '')}" + (f"(収納代行会社 {agent})" if agent else "")
    if a == "agent.add":
        return f"入金方式: {label('remittance_mode', d.get('remittance_mode'))}"
    if a == "agent.fee":
        rate = d.get("tax_rate_bp")
        rate_text = f"{rate / 100:g}%" if isinstance(rate, int) else "—"
        channel = d.get("channel_code")
        where = f"({label('channel', channel)})" if channel else ""
        return (
            f"1件 {_money(d.get('fee_per_item'))}・税率 {rate_text}{where}・"
            f"{_safe_ymd(d.get('valid_from'))}から"
        )
    if a == "claim.create":
        return f"金額: {_money(d.get('amount'))}"
    if a == "claims.import":
        return f"{_num(d.get('rows'))}行・新規 {_num(d.get('created'))}件"
    if a == "claim.adjust":
        amounts = f"{_money(d.get('old_amount'))} → {_money(d.get('new_amount'))}"
        return f"金額: {amounts}・理由: {d.get('reason', '')}"
    if a == "claim.close":
        return (
            f"{label('claim_status', d.get('status'))}・決定日 {_safe_ymd(d.get('decided_on'))}・"
            f"理由: {d.get('reason', '')}"
        )
    if a in ("slip.issue",):
        return f"金額: {_money(d.get('amount'))}・納期限 {_safe_ymd(d.get('due_date'))}"
    if a == "slip.reissue":
        return f"元の納付書 {d.get('supersedes', '')}・納期限 {_safe_ymd(d.get('due_date'))}"
    if a == "slip.void":
        return f"理由: {d.get('reason', '')}"
    if a == "print_batch.create":
        return f"封筒 {_num(d.get('envelopes'))}通・{_num(d.get('pages'))}ページ"
    if a == "print_batch.mailed":
        return f"発送日 {_safe_ymd(d.get('mailed_on'))}"
    if a == "print_batch.reprint":
        return f"{_num(d.get('pages'))}ページ"
    if a in ("settlement_file.ingest", "settlement_batch.post"):
        return f"{_num(d.get('records'))}件・新規 {_num(d.get('new_records'))}件・{_money(d.get('amount'))}"
    if a == "settlement_file.reject":
        return f"ファイル: {d.get('file', '')}"
    if a in ("reconcile.run", "reconcile.ageing"):
        return (
            f"消込 {_num(d.get('matched'))}件・確報 {_num(d.get('confirmed'))}件・"
            f"例外 {_num(d.get('exceptions_opened'))}件"
        )
    if a in ("exception.propose", "exception.resolve"):
        return f"処理: {label('resolution', d.get('resolution'))}"
    if a in ("exception.approve", "exception.reject", "exception.unmatch", "exception.refunded"):
        return ""
    if a == "payment.record":
        return (
            f"納付書 {d.get('slip', '')}・{_money(d.get('amount'))}・{label('channel', d.get('channel'))}・"
            f"納付日 {_safe_ymd(d.get('paid_on'))}"
        )
    if a == "export.accounting":
        return "会計連携データを出力"
    if a == "report.download":  # the target names the report and its day or period
        return f"ファイル {d.get('file', '')}"
    if a == "pii.view":
        ids = d.get("debtor_ids")
        n = len(ids) if isinstance(ids, list) else None
        names = {
            "ref": "debtor_ref",
            "name": "debtor_name",
            "kana": "debtor_kana",
            "address": "debtor_address",
        }
        fields = "・".join(catalogue.field_label(names.get(f, f)) for f in d.get("fields") or [])
        return (
            f"目的: {label('pii_purpose', d.get('purpose'))}"
            + (f"・{count(n)}人" if n is not None else "")
            + (f"・項目: {fields}" if fields else "")
        )
    return None


def _value(key: str, value: Any) -> str:
    """A detail value for the expandable list: labels for known codes, formatted numbers and dates."""
    groups = {"role": "role", "old_role": "role", "resolution": "resolution", "channel": "channel"}
    if key in groups:
        return label(groups[key], value)
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return count(value)
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return f"{count(len(value))}項目"
    text = str(value)
    if len(text) == 10 and text[4:5] == "-" and text[7:8] == "-":
        return _safe_ymd(text)
    if len(text) > 60 or "T" in text[10:11]:
        return "(省略)"
    return text


def details(event: AuditEvent) -> list[tuple[str, str]]:
    """The detail's keys in Japanese with readable values (no internal key names, no JSON)."""
    return [
        (catalogue.field_label(key), _value(key, value))
        for key, value in sorted((event.detail or {}).items())
        if key not in ("sha256", "debtor_ids", "prefix")
    ]


def row(event: AuditEvent) -> dict[str, Any]:
    text = summary(event)
    return {
        "id": event.id,
        "at": event.at,
        "who": who(event),
        "what": what(event.action),
        "target": target(event),
        "summary": text,
        "details": details(event) if text is None and event.detail else [],
    }


def _date_arg(name: str) -> datetime.date | None:
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value.replace("/", "-"))
    except ValueError:
        return None


def _int_arg(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def latest(limit: int = 10) -> list[dict[str, Any]]:
    """The newest events, as rows (for the auditor's start page)."""
    found = audit.page(ctx().session, audit.AuditFilter(), limit=limit)
    return [row(e) for e in found.events]


@bp.get("")
@page()
def index(actor: Actor) -> Any:
    """The audit log: filters (who, what, when, claim), newest first, paged both ways."""
    c = ctx()
    query = audit.AuditFilter(
        actor=(request.args.get("who") or "").strip() or None,
        action=(request.args.get("action") or "").strip() or None,
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        claim=(request.args.get("claim") or "").strip() or None,
    )
    found = audit.page(c.session, query, before=_int_arg("before"), after=_int_arg("after"), limit=PAGE)
    users = list(c.session.exec(select(User.name).order_by(col(User.name))).all())
    actions = sorted(catalogue.LABELS["audit_action"], key=lambda a: catalogue.LABELS["audit_action"][a])
    args = {
        k: v
        for k, v in {
            "who": query.actor,
            "action": query.action,
            "from": query.date_from.isoformat() if query.date_from else None,
            "to": query.date_to.isoformat() if query.date_to else None,
            "claim": query.claim,
        }.items()
        if v
    }
    c.commit()
    html = render_template(
        "staff/audit.html",
        rows=[row(e) for e in found.events],
        older=found.older,
        newer=found.newer,
        query=query,
        args=args,
        users=users,
        actor_kinds=[("system", "自動処理"), ("cli", "管理コマンド"), ("client", "収納代行会社")],
        actions=[(a, catalogue.LABELS["audit_action"][a]) for a in actions],
        claim_found=found.claim_found,
        result=None,
    )
    return no_store(html)


@bp.post("/verify")
@page()
def verify(actor: Actor) -> Any:
    """Recompute the hash chain and show the result in Japanese."""
    c = ctx()
    result = audit.verify(c.session)
    c.session.rollback()
    return no_store(
        render_template(
            "staff/audit_verify.html",
            ok=result.ok,
            events=result.events,
            bad_id=result.first_bad_id,
            reason=_reason(result.reason),
        )
    )


def _reason(reason: str | None) -> str | None:
    if not reason:
        return None
    if "previous hash" in reason:
        return "直前の記録とのつながりが切れています(記録が削除された可能性があります)。"
    if "head hash" in reason:
        return "最新の記録が失われています(末尾の記録が削除された可能性があります)。"
    return "記録の内容がハッシュと一致しません(記録が書き換えられた可能性があります)。"
