"""``gateway slips …``: issue, reissue, void, render, print-batch.

Start-up time: the PDF and barcode rendering (reportlab, qrcode, python-barcode, Pillow) are imported inside
the commands that draw, so issuing a slip does not load them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.cli.claims import DATE
from gateway.errors import InvalidInput
from gateway.issuing import slips as slip_service


@main.group()
def slips() -> None:
    """Payment slips (納付書)."""


@slips.command("issue")
@click.argument("claim_numbers", nargs=-1, required=True)
@click.option("--instalments", type=click.IntRange(1, 999), help="K equal instalments, monthly.")
@click.option("--monthly-amount", type=click.IntRange(min=1), help="A fixed monthly amount.")
@click.option("--same-due-date", is_flag=True, help="Split above the cap into slips with one due date.")
@click.option("--first-due-date", type=DATE)
@click.option(
    "--without-slips", is_flag=True, help="Of the claims given, only the open ones that never had a slip."
)
@json_option
@handles_errors
def issue(
    claim_numbers: tuple[str, ...],
    instalments: int | None,
    monthly_amount: int | None,
    same_due_date: bool,
    first_due_date: datetime.date | None,
    without_slips: bool,
    as_json: bool,
) -> None:
    """Issue slips for the uncovered balance of one claim or many (one audited batch: all or none);
    prints {"slips": [...]}."""
    plan = slip_service.Plan(
        instalments=instalments,
        monthly_amount=monthly_amount,
        same_due_date=same_due_date,
        first_due_date=first_due_date,
    )
    with service_context() as ctx:
        numbers = list(claim_numbers)
        if without_slips:
            numbers = slip_service.claims_without_slips(ctx, numbers)
        issued = slip_service.issue_slips_for_claims(ctx, numbers, plan) if numbers else {}
        docs = [slip_service.slip_json(s, number) for number, slips in issued.items() for s in slips]
    emit(
        {"slips": docs},
        as_json,
        lambda: "\n".join(
            f"{d['slip_number']}  {d['amount']:>8} yen  due {d['due_date']}  expiry {d['barcode_expiry']}"
            for d in docs
        ),
    )


@slips.command("reissue")
@click.argument("slip_number")
@click.option("--due-date", type=DATE)
@json_option
@handles_errors
def reissue(slip_number: str, due_date: datetime.date | None, as_json: bool) -> None:
    """New slip with reissue count + 1; prints the slip."""
    with service_context() as ctx:
        new = slip_service.reissue_slip(ctx, slip_number, due_date)
        _, claim = slip_service.slip_with_claim(ctx, new.slip_number)
        doc = slip_service.slip_json(new, claim.number)
    emit(doc, as_json, f"{doc['slip_number']} issued, {slip_number} superseded")


@slips.command("void")
@click.argument("slip_number")
@click.option("--reason", required=True)
@json_option
@handles_errors
def void(slip_number: str, reason: str, as_json: bool) -> None:
    """Void a slip."""
    with service_context() as ctx:
        slip = slip_service.void_slip(ctx, slip_number, reason)
        _, claim = slip_service.slip_with_claim(ctx, slip.slip_number)
        doc = slip_service.slip_json(slip, claim.number)
    emit(doc, as_json, f"{slip_number} void")


@slips.command("render")
@click.argument("slip_number")
@click.option("-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def render(slip_number: str, output: Path) -> None:
    """Write the slip as .pdf (A4 slip), .svg or .png (barcode symbol only)."""
    from gateway.issuing import documents

    suffix = output.suffix.lower()
    with service_context() as ctx:
        if suffix == ".pdf":
            with output.open("wb") as fh:
                documents.render_slip(ctx, slip_number, fh)
            ctx.commit()
        elif suffix == ".svg":
            output.write_text(documents.barcode_svg(ctx, slip_number))
        elif suffix == ".png":
            output.write_bytes(documents.barcode_png(ctx, slip_number))
        else:
            raise InvalidInput(f"output must end in .pdf, .svg or .png, not {suffix!r}", field="-o")
    click.echo(f"wrote {output}", err=True)


@slips.command("print-batch")
@click.option("-o", "output", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--issued-on", type=DATE, help="Only slips issued on this Japan date.")
@click.option("--reprint", type=int, metavar="BATCH_ID", help="Print a recorded batch again.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many envelopes (the rest waits).")
@json_option
@handles_errors
def print_batch(
    output: Path, issued_on: datetime.date | None, reprint: int | None, limit: int | None, as_json: bool
) -> None:
    """One PDF of the slips to mail and a mailing manifest CSV for the enveloping contractor."""
    from gateway.issuing import printing

    output.mkdir(parents=True, exist_ok=True)
    with service_context() as ctx:
        if reprint is not None:
            result = printing.reprint_batch(ctx, reprint, output)
        else:
            result = printing.print_batch(ctx, output, issued_on=issued_on, limit=limit)

    def text() -> str:
        if result["batch_id"] is None:
            return f"nothing to print; {len(result['skipped'])} slip(s) without an address"
        return (
            f"batch {result['batch_id']}: {result['envelopes']} envelopes, {result['pages']} pages, "
            f"{len(result['skipped'])} skipped\n  {result['pdf']}\n  {result['manifest']}"
        )

    emit(result, as_json, text)


@slips.command("mailed")
@click.argument("batch_id", type=int)
@click.option("--on", "mailed_on", required=True, type=DATE)
@json_option
@handles_errors
def mailed(batch_id: int, mailed_on: datetime.date, as_json: bool) -> None:
    """Record the date a print batch was handed to the post."""
    from gateway.issuing import printing

    with service_context() as ctx:
        result = printing.record_mailing(ctx, batch_id, mailed_on)
    emit(result, as_json, f"batch {batch_id} mailed on {mailed_on}")
