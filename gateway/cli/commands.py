"""The top-level commands: which modules define each one, and the help ``gateway --help`` shows for it.

Nothing here is imported until a command is used (:class:`gateway.cli.LazyGroup`), so ``gateway --help``
starts at once. ``help`` is the first paragraph of the command's docstring; a test checks that both agree
and that every command a module registers is declared here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LazyCommand:
    """A top-level command before its module is imported."""

    modules: tuple[str, ...]
    """Modules to import for it; the first defines it, later ones add subcommands (``settlements fetch``)."""
    help: str
    """The first paragraph of its docstring."""


_CORE = ("gateway.cli.core",)

COMMANDS: dict[str, LazyCommand] = {
    "agents": LazyCommand(("gateway.cli.agents",), "Contracted collection agents (収納代行会社)."),
    "audit": LazyCommand(_CORE, "The audit trail."),
    "claims": LazyCommand(("gateway.cli.claims",), "Claims the office has decided."),
    "clients": LazyCommand(("gateway.cli.agents",), "Agent API clients (signed requests)."),
    "db": LazyCommand(_CORE, "Database schema."),
    "demo": LazyCommand(_CORE, "Fill an empty database with a synthetic demo and print the staff login."),
    "exceptions": LazyCommand(
        ("gateway.cli.exceptions",), "The exceptions queue (resolve, approve, reject, unmatch, refunded)."
    ),
    "export": LazyCommand(("gateway.cli.reports",), "Files for other systems."),
    "keys": LazyCommand(_CORE, "Keys for encryption at rest."),
    "payments": LazyCommand(
        ("gateway.cli.payments",),
        "Payments recorded by staff (counter, bank counter, direct transfer, Art. 78-2 deduction).",
    ),
    "reconcile": LazyCommand(
        ("gateway.cli.reconcile",),
        "Match settlement records to slips, raise exceptions, check remittances; prints what changed.",
    ),
    "report": LazyCommand(("gateway.cli.reports",), "Reports: the daily report and the arrears list."),
    "serve": LazyCommand(
        _CORE, "Run the web app and API (with the scheduler). Production: gunicorn wsgi:app."
    ),
    "settlements": LazyCommand(
        ("gateway.cli.settlements", "gateway.cli.fetch"), "Settlement files from agents and banks."
    ),
    "slips": LazyCommand(("gateway.cli.slips",), "Payment slips (納付書)."),
    "users": LazyCommand(_CORE, "Staff accounts."),
}
