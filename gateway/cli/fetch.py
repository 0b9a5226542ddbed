"""``gateway settlements fetch``: pull new files from the configured HTTPS sources (docs/fetch.md).

The command joins the ``settlements`` group of :mod:`gateway.cli.settlements`. Exit codes: 0 when every
source answered and no file was rejected; 65 when a file was rejected (its located error on stderr and in
the JSON); 1 when a source or a download failed (network, HTTP status, checksum) or the configuration is
invalid; 2 for an unknown ``--source``.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import click

from gateway.cli import EX_DATAERR
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.intake.inbox import located


@click.command("fetch")
@click.option("--source", "only", multiple=True, metavar="NAME", help="Fetch only this source (repeatable).")
@click.option(
    "--retry-rejected",
    is_flag=True,
    help="Fetch again files whose ingest was rejected (after fixing the cause, e.g. a missing agent).",
)
@json_option
@handles_errors
def fetch_command(only: tuple[str, ...], retry_rejected: bool, as_json: bool) -> None:
    """Pull new settlement files from the HTTPS sources in GATEWAY_FETCH_SOURCES and ingest them."""
    from gateway.intake import fetch

    with service_context() as ctx:
        if not ctx.settings.fetch_sources:
            click.echo("no fetch sources configured (GATEWAY_FETCH_SOURCES)", err=True)
        sources = fetch.configured_sources(ctx)
        unknown = sorted(set(only) - {s.name for s in sources})
        if unknown:
            raise click.BadParameter(f"no source named {', '.join(unknown)}", param_hint="--source")
        result = fetch.fetch_all(ctx, sources, only=only or None, retry_rejected=retry_rejected)
    emit(result, as_json, lambda: describe(result))
    rejected = False
    failed = False
    for src in result["sources"]:
        if src["error"]:
            failed = True
            click.echo(f"error: source {src['name']}: {src['error']}", err=True)
        for item in src["failed"]:
            failed = True
            click.echo(f"error: source {src['name']}: {item['name']}: {item['error']}", err=True)
        for doc in src["files"]:
            if doc["status"] == "rejected":
                rejected = True
                click.echo(
                    f"error: source {src['name']}: {located(doc['file'], doc['error'] or {})}", err=True
                )
    if rejected:
        sys.exit(EX_DATAERR)
    if failed:
        sys.exit(1)


def describe(result: dict[str, Any]) -> str:
    """One line per source, for people."""
    if not result["sources"]:
        return "no sources"
    lines = []
    for src in result["sources"]:
        statuses = [doc["status"] for doc in src["files"]]
        line = (
            f"{src['name']}: listed {src['listed']}, new {src['new']}: "
            f"accepted {statuses.count('accepted')}, duplicate {statuses.count('duplicate_file')}, "
            f"rejected {statuses.count('rejected')}, failed {len(src['failed'])}"
        )
        if src["error"]:
            line += f"; error: {src['error']}"
        lines.append(line)
    return "\n".join(lines)


def register(group: click.Group) -> None:
    """Add ``fetch`` to the ``settlements`` group (once)."""
    if "fetch" not in group.commands:
        group.add_command(fetch_command)


def _settlements_group() -> click.Group | None:
    # The group lives in gateway/cli/settlements.py (the ingest side); import it first so this module
    # works whatever order gateway/cli/commands.py imports the two in.
    if importlib.util.find_spec("gateway.cli.settlements") is not None:
        importlib.import_module("gateway.cli.settlements")
    group = main.commands.get("settlements")
    return group if isinstance(group, click.Group) else None


_group = _settlements_group()
if _group is not None:
    register(_group)
