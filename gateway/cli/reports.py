"""``gateway report daily``, ``report arrears``, ``report collection-daily`` (収納日報), ``report
agent-statement`` (委託徴収計算書) and ``gateway export accounting``.

A report goes to ``-o FILE`` (written atomically) or to stdout. ``--json`` is ``--format json``; with
``-o`` it prints a one-document summary of the written file instead. A date that is not ``YYYY-MM-DD``
exits 65 with the field named on stderr.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from typing import BinaryIO

import click

from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.context import Context
from gateway.reporting import office
from gateway.reporting import reports

output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of stdout.",
)
encoding_option = click.option(
    "--encoding",
    type=click.Choice(reports.ENCODINGS),
    default="utf-8",
    show_default=True,
    help="CSV: utf-8 (with BOM) or cp932 for Excel; characters cp932 lacks become 〓.",
)


def _format(fmt: str | None, as_json: bool, choices: Iterable[str]) -> str:
    if as_json and fmt not in (None, "json"):
        raise click.UsageError("--json means --format json; do not combine it with --format " + str(fmt))
    chosen = "json" if as_json else (fmt or "json")
    if chosen not in choices:  # pragma: no cover - click.Choice already refuses it
        raise click.UsageError(f"--format must be one of {', '.join(choices)}")
    return chosen


def _stdout() -> BinaryIO:
    """Standard output for bytes (CSV in cp932 must not pass through a text layer)."""
    sys.stdout.flush()
    return sys.stdout.buffer


def _write(
    body: bytes | Iterable[bytes], output: Path | None, summary: dict[str, Any], as_json: bool
) -> None:
    """The report to the file (then a summary with ``--json``) or to stdout."""
    chunks = [body] if isinstance(body, bytes) else body
    if output is None:
        stream = _stdout()
        for chunk in chunks:
            stream.write(chunk)
        stream.flush()
        return
    size, sha256 = reports.write_atomic(output, chunks)
    click.echo(f"wrote {output} ({size} bytes)", err=True)
    if as_json:
        click.echo(
            json.dumps({**summary, "file": str(output), "bytes": size, "sha256": sha256}, ensure_ascii=False)
        )


def _warn_replaced(stats: reports.EncodeStats) -> None:
    if stats.replaced:
        click.echo(
            f"warning: {stats.replaced} character(s) not in cp932 were written as {reports.GETA} (use "
            "--encoding utf-8 to keep them)",
            err=True,
        )


@main.group("report")
def report_group() -> None:
    """Reports: the daily report and the arrears list."""


@report_group.command("daily")
@click.option(
    "--date", "day_text", metavar="YYYY-MM-DD", help="The received date (Japan); default yesterday."
)
@click.option("--format", "fmt", type=click.Choice(reports.FORMATS), help="json (default), csv or html.")
@encoding_option
@output_option
@json_option
@handles_errors
def report_daily(
    day_text: str | None, fmt: str | None, encoding: str, output: Path | None, as_json: bool
) -> None:
    """The day's report, keyed on the date the gateway received the data (broken down by payment date)."""
    chosen = _format(fmt, as_json, reports.FORMATS)
    with service_context() as ctx:
        day = reports.parse_day(day_text) if day_text else ctx.today() - datetime.timedelta(days=1)
        doc = reports.daily(ctx, day)
        stats = reports.EncodeStats()
        if chosen == "csv":
            body = reports.daily_csv(doc, encoding, stats)
        elif chosen == "html":
            body = reports.render_daily_html(ctx, doc).encode("utf-8")
        else:
            body = reports.json_bytes(doc)
    summary = {"report": "daily", "received_date": day.isoformat(), "format": chosen, "final": doc["final"]}
    _write(body, output, summary, as_json)
    _warn_replaced(stats)
    if not doc["final"]:
        click.echo(f"note: the report of {day.isoformat()} is not final yet (see pending)", err=True)


@report_group.command("arrears")
@click.option(
    "--as-of", "as_of_text", metavar="YYYY-MM-DD", help="The Japan date to judge by; default today."
)
@click.option("--format", "fmt", type=click.Choice(("json", "csv")), help="json (default) or csv.")
@encoding_option
@output_option
@json_option
@handles_errors
def report_arrears(
    as_of_text: str | None, fmt: str | None, encoding: str, output: Path | None, as_json: bool
) -> None:
    """Claims past their due date and unpaid (preliminary payments count as paid), for the office's own
    follow-up. The gateway itself never contacts a debtor and adds no late charges."""
    chosen = _format(fmt, as_json, ("json", "csv"))
    with service_context() as ctx:
        as_of = reports.parse_day(as_of_text, "as_of") if as_of_text else ctx.today()
        doc = reports.arrears_json(ctx, as_of)
        ctx.commit()  # the pii.view audit event of the debtors shown
    stats = reports.EncodeStats()
    body: bytes | Iterable[bytes] = (
        reports.arrears_csv_chunks(doc, encoding, stats) if chosen == "csv" else reports.json_bytes(doc)
    )
    _write(
        body,
        output,
        {"report": "arrears", "as_of": as_of.isoformat(), "format": chosen, **doc["totals"]},
        as_json,
    )
    _warn_replaced(stats)


@main.group("export")
def export_group() -> None:
    """Files for other systems."""


@export_group.command("accounting")
@click.option(
    "--receipt-date", "receipt_text", required=True, metavar="YYYY-MM-DD", help="The receipt date (収入日)."
)
@encoding_option
@output_option
@json_option
@handles_errors
def export_accounting(receipt_text: str, encoding: str, output: Path | None, as_json: bool) -> None:
    """消込データ for the accounting system: one row per accounting entry with this receipt date; corrections
    are reversing rows (docs/accounting-export.md). The same date exported twice gives the same bytes."""
    if as_json and output is None:
        raise click.UsageError("--json prints a summary of the written file: give -o FILE")
    with service_context() as ctx:
        receipt = reports.parse_day(receipt_text, "receipt_date")
        if output is None:
            summary = reports.write_accounting_export(ctx, receipt, _stdout(), encoding)
        else:
            summary = reports.write_accounting_export(ctx, receipt, output, encoding)
    if output is not None:
        click.echo(f"wrote {output}: {summary.rows} rows, {summary.amount} yen", err=True)
        if as_json:
            emit({"file": str(output), "encoding": encoding, **summary.as_json()}, True)
    if summary.replaced:
        _warn_replaced(reports.EncodeStats(summary.rows, summary.replaced))


# -- the office reports (収納日報, 委託徴収(収納)計算書)

pdf_option = click.option(
    "--pdf", "pdf_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the PDF to this file."
)
csv_option = click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV to this file."
)


def _office_files(
    ctx: Context,
    report: str,
    files: list[tuple[Path, office.ReportFile]],
    encoding: str,
) -> list[dict[str, Any]]:
    """Write each file atomically and record it (``report.download``, as a staff page's download is)."""
    written = []
    for path, file in files:
        size, sha256 = reports.write_atomic(path, [file.data])
        office.record_download(ctx, report, file, encoding if path.suffix.lower() == ".csv" else None)
        click.echo(f"wrote {path} ({size} bytes)", err=True)
        written.append({"file": str(path), "bytes": size, "sha256": sha256})
    return written


@report_group.command("collection-daily")
@click.option(
    "--date",
    "--day",
    "day_text",
    metavar="YYYY-MM-DD",
    help="The receipt date (収入日); default yesterday. --day is the same option.",
)
@pdf_option
@csv_option
@encoding_option
@json_option
@handles_errors
def report_collection_daily(
    day_text: str | None, pdf_path: Path | None, csv_path: Path | None, encoding: str, as_json: bool
) -> None:
    """収納日報: what was booked on a receipt date (収入日) by fiscal year, channel and revenue item, current
    year and arrears apart (docs/reports.md). Without --pdf/--csv the report is printed as JSON."""
    with service_context() as ctx:
        day = reports.parse_day(day_text, "day") if day_text else ctx.today() - datetime.timedelta(days=1)
        doc = office.daily_collection(ctx, day)
        body = office.daily_collection_json(doc)
        files = [
            (path, office.collection_file(ctx, day, fmt, encoding))
            for path, fmt in ((pdf_path, "pdf"), (csv_path, "csv"))
            if path is not None
        ]
        written = _office_files(ctx, "collection_daily", files, encoding)
    if not files:
        click.echo(reports.json_bytes(body).decode("utf-8"), nl=False)
    elif as_json:
        emit({"report": "collection_daily", "receipt_date": day.isoformat(), "files": written,
              "totals": body["totals"]}, True)  # fmt: skip


@report_group.command("agent-statement")
@click.option("--agent", "agent_code", required=True, metavar="CODE", help="The agent's 5-digit code.")
@click.option(
    "--from", "from_text", required=True, metavar="YYYY-MM-DD", help="First transfer date (振込日)."
)
@click.option("--to", "to_text", required=True, metavar="YYYY-MM-DD", help="Last transfer date (振込日).")
@pdf_option
@csv_option
@encoding_option
@json_option
@handles_errors
def report_agent_statement(
    agent_code: str,
    from_text: str,
    to_text: str,
    pdf_path: Path | None,
    csv_path: Path | None,
    encoding: str,
    as_json: bool,
) -> None:
    """委託徴収(収納)計算書: an agent's confirmed records per transfer date, fees, fee tax, what it must remit
    and the bank credits the three-way match found (docs/reports.md). Without --pdf/--csv: JSON."""
    with service_context() as ctx:
        first = reports.parse_day(from_text, "date_from")
        last = reports.parse_day(to_text, "date_to")
        doc = office.agent_statement(ctx, agent_code, first, last)
        body = office.agent_statement_json(doc)
        files = [
            (path, office.statement_file(ctx, agent_code, first, last, fmt, encoding))
            for path, fmt in ((pdf_path, "pdf"), (csv_path, "csv"))
            if path is not None
        ]
        written = _office_files(ctx, "agent_statement", files, encoding)
    if not files:
        click.echo(reports.json_bytes(body).decode("utf-8"), nl=False)
    elif as_json:
        emit({"report": "agent_statement", "agent_code": doc.agent_code, "files": written,
              "totals": body["totals"]}, True)  # fmt: skip
