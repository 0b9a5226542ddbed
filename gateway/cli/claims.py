"""``gateway claims …``: record, show, import, adjust, close."""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.issuing import claims as claim_service
from gateway.issuing import overview
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.claims import LEGAL_BASES


class DateType(click.ParamType[datetime.date]):
    name = "YYYY-MM-DD"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime.date:
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


DATE = DateType()


@main.group()
def claims() -> None:
    """Claims the office has decided."""


@claims.command("create")
@click.option("--number", required=True)
@click.option("--legal-basis", required=True, type=click.Choice(LEGAL_BASES))
@click.option("--amount", required=True, type=click.IntRange(min=1))
@click.option("--fiscal-year", required=True, type=click.IntRange(2000, 2099))
@click.option("--debtor-ref", required=True)
@click.option("--debtor-name", required=True)
@click.option("--debtor-kana")
@click.option("--debtor-address")
@click.option("--postal-code")
@click.option("--decided-on", type=DATE)
@click.option("--assessment-number")
@click.option("--assessment-date", type=DATE)
@click.option("--revenue-item")
@json_option
@handles_errors
def create(as_json: bool, **options: object) -> None:
    """Record a decided claim; prints the claim."""
    data = claim_service.ClaimInput(**options)  # type: ignore[arg-type]
    with service_context() as ctx:
        claim = claim_service.create_claim(ctx, data)
        doc = overview.show_claim(ctx, claim.number)
        ctx.commit()
    emit(doc, as_json, f"claim {doc['number']} recorded: {doc['amount']} yen")


@claims.command("show")
@click.argument("number")
@json_option
@handles_errors
def show(number: str, as_json: bool) -> None:
    """The claim with its slips, payments and balance."""
    with service_context() as ctx:
        doc = overview.show_claim(ctx, number)
        ctx.commit()
    emit(doc, as_json)


@claims.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@handles_errors
def import_(file: Path, as_json: bool) -> None:
    """Import claims from a CSV (all rows or none); see docs/claims-import.md for the columns."""
    with service_context() as ctx:
        result = claim_service.import_claims(ctx, file.read_bytes(), str(file))
    emit(result.as_json(), as_json, f"{file.name}: {result.created} created, {result.unchanged} unchanged")


@claims.command("adjust")
@click.argument("number")
@click.option("--amount", required=True, type=click.IntRange(min=0))
@click.option("--reason", required=True)
@click.option("--decided-on", type=DATE)
@json_option
@handles_errors
def adjust(number: str, amount: int, reason: str, decided_on: datetime.date | None, as_json: bool) -> None:
    """Record a changed assessment (変更・減額調定), kept as history."""
    with service_context() as ctx:
        claim_service.adjust_claim(ctx, number, amount, reason, decided_on)
        doc = overview.show_claim(ctx, number, with_debtor=False)
    emit(doc, as_json, f"claim {number}: amount now {doc['amount']} yen")


@claims.command("close")
@click.argument("number")
@click.option("--status", required=True, type=click.Choice(CLOSED_STATUSES))
@click.option("--decided-on", required=True, type=DATE)
@click.option("--reason", required=True)
@json_option
@handles_errors
def close(number: str, status: str, decided_on: datetime.date, reason: str, as_json: bool) -> None:
    """Record a decision taken elsewhere (the gateway takes none itself)."""
    with service_context() as ctx:
        claim_service.close_claim(ctx, number, status, decided_on, reason)
        doc = overview.show_claim(ctx, number, with_debtor=False)
    emit(doc, as_json, f"claim {number} recorded as {status}")


@claims.command("list")
@click.option("--status")
@click.option("--limit", default=100, type=click.IntRange(1, 10_000))
@json_option
@handles_errors
def list_(status: str | None, limit: int, as_json: bool) -> None:
    """Claims with their balances (no personal data)."""
    with service_context() as ctx:
        rows = claim_service.list_claims(ctx, status=status, limit=limit)
        docs = [claim_service.claim_summary(c, b) for c, b in rows]
    emit(
        {"items": docs},
        as_json,
        lambda: "\n".join(
            f"{d['number']:<20} {d['status']:<12} {d['amount']:>10} {d['balance']:>10}" for d in docs
        ),
    )


@claims.command("reindex-names")
@json_option
@handles_errors
def reindex_names(as_json: bool) -> None:
    """Build the name search index (keyed hashes) of debtors that have none, e.g. after upgrading to 0005."""
    with service_context() as ctx:
        count = claim_service.reindex_names(ctx)
    emit({"indexed": count}, as_json, f"{count} debtor(s) indexed")
