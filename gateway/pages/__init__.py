"""The staff pages: one module per area, all behind :func:`gateway.pages.base.page` and the one permission
table (``gateway.permissions``), all rendered in Japanese with the filters of ``gateway.pages.formats``.

Areas: ``auth`` (sign-in, each role's start page 「今日」), ``claims``, ``slips``, ``printing``,
``settlements`` (files, reconciliation, scheduled jobs), ``exceptions``, ``payments``, ``reports``,
``admin`` and ``audit``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException

from gateway import catalogue
from gateway import permissions
from gateway.pages import formats

#: The navigation: (endpoint, label, the path prefix that marks it active). Each role sees the entries the
#: permission table lets it open.
NAV: tuple[tuple[str, str, str], ...] = (
    ("staff.today", "今日", "/staff/today"),
    ("staff_claims.index", "債権", "/staff/claims"),
    ("staff_print.index", "印刷", "/staff/print-batches"),
    ("staff_settlements.index", "収納データ", "/staff/settlements"),
    ("staff_exceptions.queue", "例外", "/staff/exceptions"),
    ("staff_payments.new", "入金記録", "/staff/payments"),
    ("staff_payments.refunds", "還付", "/staff/refunds"),
    ("staff_reports.daily_index", "日報", "/staff/reports/daily"),
    ("staff_reports.collection_daily", "収納日報", "/staff/reports/collection"),
    ("staff_reports.statement", "委託徴収計算書", "/staff/reports/statement"),
    ("staff_reports.arrears", "滞納一覧", "/staff/reports/arrears"),
    ("staff_reports.exports", "会計連携", "/staff/exports"),
    ("staff_admin.users", "利用者", "/staff/admin/users"),
    ("staff_admin.clients", "APIクライアント", "/staff/admin/clients"),
    ("staff_admin.agents", "収納代行会社", "/staff/admin/agents"),
    ("staff_settlements.jobs", "定時処理", "/staff/jobs"),
    ("staff_audit.index", "監査ログ", "/staff/audit"),
)


def nav_for(role: str | None) -> list[dict[str, Any]]:
    """The navigation entries ``role`` may open, with the active one marked."""
    if role is None:
        return []
    path = request.path
    return [
        {"endpoint": endpoint, "label": text, "active": path.startswith(prefix)}
        for endpoint, text, prefix in NAV
        if permissions.role_may(role, endpoint) and endpoint in current_app.view_functions
    ]


def register(app: Flask) -> None:
    """Register every staff-page area, the filters and the Japanese error pages."""
    from gateway.pages import admin
    from gateway.pages import audit
    from gateway.pages import auth
    from gateway.pages import claims
    from gateway.pages import exceptions
    from gateway.pages import payments
    from gateway.pages import printing
    from gateway.pages import reports
    from gateway.pages import settlements
    from gateway.pages import slips

    for module in (auth, claims, slips, printing, settlements, exceptions, payments, reports, admin, audit):
        app.register_blueprint(module.bp)
    formats.init_app(app)

    @app.context_processor
    def _page_globals() -> dict[str, Any]:
        from gateway.web import current_actor

        try:
            actor = current_actor()
        except Exception:  # a bad credential on an error page: show the page without a user
            actor = None
        role = actor.role if actor is not None and actor.kind == "user" else None
        return {
            "actor": actor,
            "nav": nav_for(role),
            "label": catalogue.label,
            "field_label": catalogue.field_label,
            "may": lambda endpoint: role is not None and permissions.role_may(role, endpoint),
        }


def html_error(ex: HTTPException) -> Any:
    """A Japanese error page for HTTP errors outside the API (404, 405, 413 …)."""
    from gateway.pages.base import error_page

    messages = {
        404: "お探しの画面は見つかりません。上のメニューから選び直してください。",
        405: "この操作はこの画面ではできません。上のメニューから選び直してください。",
        413: "ファイルが大きすぎます。分けてお送りください。",
    }
    status = ex.code or 500
    return error_page(status, messages.get(status, "処理できませんでした。もう一度お試しください。"))
