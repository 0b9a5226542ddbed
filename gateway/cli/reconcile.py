"""``gateway reconcile``: one reconciliation run."""

from __future__ import annotations

import datetime

import click

from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.cli.claims import DATE
from gateway.money import reconcile as reconcile_service


@main.command("reconcile")
@click.option("--as-of", type=DATE, help="The Japan date expiry and ageing are evaluated on (default today).")
@json_option
@handles_errors
def reconcile(as_of: datetime.date | None, as_json: bool) -> None:
    """Match settlement records to slips, raise exceptions, check remittances; prints what changed."""
    with service_context() as ctx:
        doc = reconcile_service.run(ctx, as_of).as_json()

    def text() -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in doc["by_kind"].items()) or "none"
        return (
            f"as of {doc['as_of']}: {doc['matched']} matched, {doc['confirmed']} confirmed, "
            f"{doc['cancelled']} cancelled, {doc['remittances_matched']} remittances matched; "
            f"{doc['exceptions_opened']} exceptions opened ({kinds})"
        )

    emit(doc, as_json, text)
