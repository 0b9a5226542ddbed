"""The fixed vocabulary of reconciliation: the twelve exception kinds, the resolutions a person may choose,
and the one table of the kinds' Japanese names (the staff pages, reports and PDFs read it through
``gateway.catalogue``).

>>> len(KINDS), set(KIND_LABELS) == set(KINDS), set(RESOLUTIONS_BY_KIND) == set(KINDS)
(12, True, True)
>>> KIND_LABELS["unexpected_channel"]
'契約外の収納チャネル'
"""

from __future__ import annotations

KINDS = (
    "unknown_slip",
    "amount_mismatch",
    "duplicate_payment",
    "paid_after_expiry",
    "paid_void_slip",
    "overpayment",
    "unexpected_channel",
    "cancel_without_preliminary",
    "cancel_after_confirmation",
    "confirmation_differs",
    "unconfirmed_preliminary",
    "remittance_mismatch",
)
"""The exception vocabulary (spec/interfaces.md); nothing else is ever raised."""

KIND_LABELS: dict[str, str] = {
    "unknown_slip": "該当納付書なし",
    "amount_mismatch": "金額相違",
    "duplicate_payment": "二重納付",
    "paid_after_expiry": "取扱期限後の納付",
    "paid_void_slip": "無効にした納付書への納付",
    "overpayment": "過納",
    "unexpected_channel": "契約外の収納チャネル",
    "cancel_without_preliminary": "速報のない取消",
    "cancel_after_confirmation": "確報後の取消",
    "confirmation_differs": "速報と確報の相違",
    "unconfirmed_preliminary": "確報未着",
    "remittance_mismatch": "入金額相違",
}
"""The Japanese name of each kind, in the spec's order: the only such table."""

RESOLUTIONS = ("matched_to_claim", "refund_due", "applied_to_claim", "agent_withdrawn", "no_action")
"""How a person closes an exception (spec/interfaces.md)."""

_MONEY_BACK = ("refund_due", "applied_to_claim", "agent_withdrawn", "no_action")
_DATA_ONLY = ("agent_withdrawn", "no_action")

RESOLUTIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    "unknown_slip": ("matched_to_claim", "agent_withdrawn", "no_action"),
    "amount_mismatch": _MONEY_BACK,
    "duplicate_payment": _MONEY_BACK,
    "paid_after_expiry": _MONEY_BACK,
    "paid_void_slip": _MONEY_BACK,
    "overpayment": ("refund_due", "applied_to_claim", "no_action"),
    "unexpected_channel": _DATA_ONLY,
    "cancel_without_preliminary": _DATA_ONLY,
    "cancel_after_confirmation": _DATA_ONLY,
    "confirmation_differs": _DATA_ONLY,
    "unconfirmed_preliminary": _DATA_ONLY,
    "remittance_mismatch": _DATA_ONLY,
}
"""Which resolutions fit which kind (``agent_withdrawn`` also needs an exception raised from agent data)."""
