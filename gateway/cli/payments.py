"""``gateway payments record``: money that arrived outside agent data."""

from __future__ import annotations

import datetime

import click

from gateway.casework import payments as payment_service
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.cli.claims import DATE
from gateway.models.recon import MANUAL_CHANNELS


@main.group("payments")
def payments_group() -> None:
    """Payments recorded by staff (counter, bank counter, direct transfer, Art. 78-2 deduction)."""


@payments_group.command("record")
@click.option("--slip", "slip_number", required=True, metavar="SLIP_NUMBER")
@click.option("--amount", required=True, type=click.IntRange(min=1), help="Yen received.")
@click.option("--paid-on", required=True, type=DATE, help="The Japan date the money was received.")
@click.option("--channel", required=True, type=click.Choice(MANUAL_CHANNELS))
@click.option("--reason", required=True, help="Receipt number or why (kept with the payment).")
@json_option
@handles_errors
def record(
    slip_number: str, amount: int, paid_on: datetime.date, channel: str, reason: str, as_json: bool
) -> None:
    """Record a confirmed payment for a slip; reconciliation checks it like any other."""
    with service_context() as ctx:
        doc = payment_service.record(ctx, slip_number, amount, paid_on, channel, reason)

    def text() -> str:
        raised = ", ".join(f"{e['kind']} #{e['id']}" for e in doc["exceptions"])
        return (
            f"payment {doc['id']}: {doc['amount']} yen on {doc['slip_number']} ({doc['channel_code']}, "
            f"{paid_on}); claim {doc['claim_number']} {doc['claim_status']}, balance {doc['balance']} yen"
            + (f"\nexceptions raised: {raised}" if raised else "")
        )

    emit(doc, as_json, text)
