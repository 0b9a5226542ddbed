"""The one table of who may open which page and call which endpoint.

Keys are Flask endpoint names (``blueprint.view``); values name the staff roles allowed, plus two special
principals: ``AGENT`` (a signed agent API client) and ``ANYONE`` (no sign-in needed). The staff pages'
``page()`` decorator and the API's ``require()`` both look the endpoint up here at request time, and a test
walks every rule of the URL map × every role against this table. An endpoint missing from the table is
refused to everybody (fail closed) and fails that test.
"""

from __future__ import annotations

from typing import Final

ROLES: Final = ("admin", "finance", "approver", "accounting", "auditor", "print_vendor")
AGENT: Final = "agent"
ANYONE: Final = "anyone"
SIGNED_IN: Final = frozenset(ROLES)

_READERS = frozenset({"finance", "approver", "accounting", "auditor"})
_REPORTS = frozenset({"finance", "accounting", "auditor"})
_FINANCE = frozenset({"finance"})
_APPROVER = frozenset({"approver"})
_MONEY = frozenset({"finance", "accounting"})
_ADMIN = frozenset({"admin"})
_AUDIT = frozenset({"auditor"})
_PRINT = frozenset({"finance", "print_vendor"})

TABLE: Final[dict[str, frozenset[str]]] = {
    # -- public
    "static": frozenset({ANYONE}),
    "health.healthz": frozenset({ANYONE}),
    "payer.slip_page": frozenset({ANYONE}),
    "staff.login": frozenset({ANYONE}),
    "staff.logout": frozenset({ANYONE}),
    "staff.home": frozenset({ANYONE}),
    # -- staff pages: every role's start page
    "staff.today": SIGNED_IN,
    # claims and slips
    "staff_claims.index": _READERS,
    "staff_claims.show": _READERS,
    "staff_claims.new": _FINANCE,
    "staff_claims.create": _FINANCE,
    "staff_claims.import_form": _FINANCE,
    "staff_claims.import_preview": _FINANCE,
    "staff_claims.import_commit": _FINANCE,
    "staff_claims.adjust_form": _FINANCE,
    "staff_claims.adjust": _FINANCE,
    "staff_claims.close_form": _FINANCE,
    "staff_claims.close": _FINANCE,
    "staff_slips.issue_preview": _FINANCE,
    "staff_slips.issue": _FINANCE,
    "staff_slips.batch_preview": _FINANCE,
    "staff_slips.batch_issue": _FINANCE,
    "staff_slips.show": frozenset({"finance", "auditor"}),
    "staff_slips.reissue_form": _FINANCE,
    "staff_slips.reissue": _FINANCE,
    "staff_slips.void_form": _FINANCE,
    "staff_slips.void": _FINANCE,
    "staff_slips.pdf": _FINANCE,
    # print batches
    "staff_print.index": _PRINT,
    "staff_print.new": _FINANCE,
    "staff_print.create": _FINANCE,
    "staff_print.show": _PRINT,
    "staff_print.pdf": _PRINT,
    "staff_print.manifest": _PRINT,
    "staff_print.mailed": _PRINT,
    "staff_print.reprint": _FINANCE,
    # settlement data and jobs
    "staff_settlements.index": frozenset({"finance", "accounting", "auditor"}),
    "staff_settlements.upload": _MONEY,
    "staff_settlements.show": frozenset({"finance", "accounting", "auditor"}),
    "staff_settlements.original": _MONEY,
    "staff_settlements.reconcile": _MONEY,
    "staff_settlements.jobs": frozenset({"finance", "accounting", "admin"}),
    # exceptions queue
    "staff_exceptions.queue": _READERS,
    "staff_exceptions.detail": _READERS,
    "staff_exceptions.resolve": _FINANCE,
    "staff_exceptions.approve": _APPROVER,
    "staff_exceptions.reject": _APPROVER,
    "staff_exceptions.unmatch": _FINANCE,
    "staff_exceptions.refunded": _FINANCE,
    # payments and refunds
    "staff_payments.new": _FINANCE,
    "staff_payments.record": _FINANCE,
    "staff_payments.refunds": _MONEY,
    # reports and the accounting export
    "staff_reports.daily_index": _REPORTS,
    "staff_reports.daily": _REPORTS,
    "staff_reports.arrears": _REPORTS,
    # office reports (収納日報, 委託徴収計算書): aggregates without personal data, read and downloaded alike
    "staff_reports.collection_daily": _REPORTS,
    "staff_reports.collection_download": _REPORTS,
    "staff_reports.statement": _REPORTS,
    "staff_reports.statement_download": _REPORTS,
    "staff_reports.exports": frozenset({"accounting", "auditor"}),
    "staff_reports.export_create": frozenset({"accounting"}),
    "staff_reports.export_download": frozenset({"accounting"}),
    # administration
    "staff_admin.users": _ADMIN,
    "staff_admin.user_create": _ADMIN,
    "staff_admin.user_disable": _ADMIN,
    "staff_admin.user_enable": _ADMIN,
    "staff_admin.user_password": _ADMIN,
    "staff_admin.user_role": _ADMIN,
    "staff_admin.user_revoke_tokens": _ADMIN,
    "staff_admin.clients": _ADMIN,
    "staff_admin.client_create": _ADMIN,
    "staff_admin.client_rotate": _ADMIN,
    "staff_admin.client_revoke": _ADMIN,
    "staff_admin.agents": _ADMIN,
    "staff_admin.agent_create": _ADMIN,
    "staff_admin.agent": _ADMIN,
    "staff_admin.agent_fee": _ADMIN,
    # audit
    "staff_audit.index": _AUDIT,
    "staff_audit.verify": _AUDIT,
    # -- HTTP API
    "api-docs.openapi_json": SIGNED_IN | {AGENT},
    "settlements.post_settlements": frozenset({AGENT}),
    "settlements.show_batch": _MONEY | {AGENT},
    "settlements.upload_file": _MONEY | {AGENT},
    "claims.create": _FINANCE,
    "claims.index": _READERS,
    "claims.show": _READERS,
    "claims.adjust": _FINANCE,
    "claims.close": _FINANCE,
    "claims.issue_slips": _FINANCE,
    "slips.show": frozenset({"finance", "auditor"}),
    "slips.reissue": _FINANCE,
    "slips.void": _FINANCE,
    "slips.pdf": _FINANCE,
    "slips.barcode_svg": _FINANCE,
    "slips.qr_svg": _FINANCE,
    "agents.create_agent": frozenset({"admin", "finance"}),
    "agents.list_agents": frozenset({"admin", "finance"}),
    "reports.daily": _REPORTS,
    "reports.arrears_list": _REPORTS,
    "exceptions.index": _READERS,
    "exceptions.show": _READERS,
    "exceptions.resolve": _FINANCE,
    "exceptions.approve": _APPROVER,
    "exceptions.reject": _APPROVER,
    "exceptions.unmatch": _FINANCE,
    "exceptions.refunded": _FINANCE,
    "payments.record": _FINANCE,
    "reconciliation.run": _MONEY,
    "jobs.runs": _REPORTS | {"admin"},
}


def allowed(endpoint: str | None) -> frozenset[str]:
    """Who may use ``endpoint``: roles, ``AGENT``, ``ANYONE``; empty (nobody) when it is not listed."""
    return TABLE.get(endpoint or "", frozenset())


def role_may(role: str, endpoint: str | None) -> bool:
    """Whether a signed-in user with ``role`` may use ``endpoint`` (used to hide links they cannot open)."""
    who = allowed(endpoint)
    return role in who or ANYONE in who
