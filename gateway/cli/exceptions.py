"""``gateway exceptions …``: the queue, resolutions, four-eyes approval, undo and refunds.

Four-eyes on the command line: ``resolve`` runs as the operator (``cli:<account>``) with finance authority;
``approve`` and ``reject`` need ``--approver NAME``, a staff account with the approver role, authenticated
by its password or one of its API tokens (prompted without echo, or one line on stdin with
``--password-stdin``). The decision is recorded as that account (``user:NAME``) with ``via: cli:<account>``
in the history. The operator alone can never approve: that would let one person on the server both propose
and approve. A proposer cannot approve their own proposal under another label either (``cli:kato`` and
``user:kato`` are the same person).

Start-up time: staff accounts (:mod:`gateway.access.users`, which hashes a dummy password when imported)
are imported only where an approver is authenticated.
"""

from __future__ import annotations

import datetime
import sys
from typing import Any

import click

from gateway.casework import exceptions as exception_service
from gateway.cli import cli_actor
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.cli.claims import DATE
from gateway.context import Context
from gateway.errors import Forbidden
from gateway.errors import Unauthorized
from gateway.models.recon import EXCEPTION_KINDS
from gateway.models.recon import EXCEPTION_STATUSES
from gateway.models.recon import RESOLUTIONS


@main.group("exceptions")
def exceptions_group() -> None:
    """The exceptions queue (resolve, approve, reject, unmatch, refunded)."""


def _line(d: dict[str, Any]) -> str:
    where = d["slip_number"] or d["claim_number"] or "-"
    tail = f"  {d['resolution']}" if d["resolution"] else ""
    return f"{d['id']:>6}  {d['status']:<16}  {d['kind']:<26}  {where:<20}  {d['amount']:>9} yen{tail}"


def _describe(d: dict[str, Any]) -> str:
    lines = [_line(d)]
    if d.get("note"):
        lines.append(f"        note: {d['note']}")
    if d.get("refund"):
        r = d["refund"]
        lines.append(
            f"        refund: {r['amount']} yen decided {r['decided_on']} FY{r['fiscal_year']} {r['status']}"
        )
    for a in d.get("actions", []):
        note = f"  {a['note']}" if a["note"] else ""
        lines.append(f"        {a['at'][:16]}  {a['action']:<10} {a['actor']}{note}")
    return "\n".join(lines)


def _show(ctx: Context, exception_id: int) -> dict[str, Any]:
    return exception_service.exception_json(ctx, exception_service.get(ctx, exception_id), with_history=True)


@exceptions_group.command("list")
@click.option("--status", type=click.Choice(EXCEPTION_STATUSES))
@click.option("--kind", type=click.Choice(EXCEPTION_KINDS))
@click.option("--cursor", help="The 'next' value of the previous page.")
@click.option("--limit", type=click.IntRange(1, exception_service.MAX_LIMIT), default=100, show_default=True)
@json_option
@handles_errors
def list_command(status: str | None, kind: str | None, cursor: str | None, limit: int, as_json: bool) -> None:
    """The queue in id order: {"items": [...], "next": cursor|null}."""
    with service_context() as ctx:
        doc = exception_service.page(ctx, status=status, kind=kind, cursor=cursor, limit=limit)
    emit(
        doc,
        as_json,
        lambda: (
            "\n".join(
                [_line(d) for d in doc["items"]] + ([f"next: --cursor {doc['next']}"] if doc["next"] else [])
            )
            or "no exceptions"
        ),
    )


@exceptions_group.command("show")
@click.argument("exception_id", type=int)
@json_option
@handles_errors
def show(exception_id: int, as_json: bool) -> None:
    """One exception with its records, payments, refunds and history."""
    with service_context() as ctx:
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))


@exceptions_group.command("resolve")
@click.argument("exception_id", type=int)
@click.option("--resolution", required=True, type=click.Choice(RESOLUTIONS))
@click.option(
    "--claim", "claim_number", metavar="NUMBER", help="matched_to_claim / applied_to_claim: the claim."
)
@click.option("--amount", type=click.IntRange(min=1), help="applied_to_claim: yen to move (default: all).")
@click.option("--note", required=True, help="Why (kept in the history).")
@click.option("--refund-decided-on", type=DATE, help="refund_due: the decision date (default today).")
@click.option(
    "--refund-amount", type=click.IntRange(min=1), help="refund_due: yen (default: the exception's)."
)
@click.option("--refund-fiscal-year", type=click.IntRange(2000, 2099), help="refund_due: fiscal year.")
@json_option
@handles_errors
def resolve(
    exception_id: int,
    resolution: str,
    claim_number: str | None,
    amount: int | None,
    note: str,
    refund_decided_on: datetime.date | None,
    refund_amount: int | None,
    refund_fiscal_year: int | None,
    as_json: bool,
) -> None:
    """Resolve an exception, or propose matched_to_claim / applied_to_claim for an approver."""
    refund = None
    if resolution == "refund_due":
        refund = exception_service.RefundInput(
            decided_on=refund_decided_on, amount=refund_amount, fiscal_year=refund_fiscal_year
        )
    with service_context() as ctx:
        exception_service.resolve(
            ctx, exception_id, resolution, note=note, claim_number=claim_number, amount=amount, refund=refund
        )
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))


def _as_approver(ctx: Context, name: str, password_stdin: bool) -> None:
    """Authenticate the approver account and act as it from now on."""
    from gateway.access import users

    if password_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = click.prompt(f"password or API token of {name}", hide_input=True, err=True)
    if secret.startswith(users.TOKEN_PREFIX):
        user = users.user_for_token(ctx, secret)
        if user is not None and user.name != name:
            user = None
    else:
        user = users.check_password(ctx, name, secret)
    if user is None:
        raise Unauthorized(f"wrong password or token for {name}", field="--approver")
    if user.role != "approver":
        raise Forbidden(
            f"{name} is a {user.role} account; approving needs the approver role", field="--approver"
        )
    ctx.actor = users.actor_for(user)


approver_option = click.option(
    "--approver", "approver", required=True, metavar="NAME", help="The approver account deciding (not yours)."
)
password_option = click.option(
    "--password-stdin", is_flag=True, help="Read the approver's password or API token from stdin."
)


@exceptions_group.command("approve")
@click.argument("exception_id", type=int)
@approver_option
@password_option
@click.option("--note", help="Optional remark of the approver.")
@json_option
@handles_errors
def approve(exception_id: int, approver: str, password_stdin: bool, note: str | None, as_json: bool) -> None:
    """Approve a pending proposal as the approver account named (four-eyes)."""
    operator = cli_actor().label
    with service_context() as ctx:
        _as_approver(ctx, approver, password_stdin)
        exception_service.approve(ctx, exception_id, note, via=operator)
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))


@exceptions_group.command("reject")
@click.argument("exception_id", type=int)
@approver_option
@password_option
@click.option("--note", required=True, help="Why the proposal is rejected.")
@json_option
@handles_errors
def reject(exception_id: int, approver: str, password_stdin: bool, note: str, as_json: bool) -> None:
    """Reject a pending proposal as the approver account named; the exception is open again."""
    operator = cli_actor().label
    with service_context() as ctx:
        _as_approver(ctx, approver, password_stdin)
        exception_service.reject(ctx, exception_id, note, via=operator)
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))


@exceptions_group.command("unmatch")
@click.argument("exception_id", type=int)
@click.option("--reason", required=True, help="Why the resolution is undone (kept in the history).")
@json_option
@handles_errors
def unmatch(exception_id: int, reason: str, as_json: bool) -> None:
    """Undo a resolution: payments cancelled, accounting entries reversed, refund undone; open again."""
    with service_context() as ctx:
        exception_service.unmatch(ctx, exception_id, reason)
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))


@exceptions_group.command("refunded")
@click.argument("exception_id", type=int)
@click.option("--on", "refunded_on", required=True, type=DATE, help="The date the office paid the refund.")
@json_option
@handles_errors
def refunded(exception_id: int, refunded_on: datetime.date, as_json: bool) -> None:
    """Record that the refund decided for this exception was paid (refund_due → refunded)."""
    with service_context() as ctx:
        exception_service.mark_refunded(ctx, exception_id, refunded_on)
        doc = _show(ctx, exception_id)
    emit(doc, as_json, lambda: _describe(doc))
