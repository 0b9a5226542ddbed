"""``gateway settlements ingest`` and ``gateway settlements original``.

Start-up time: the ingest service is imported inside ``ingest``, so ``original`` and ``fetch`` do not load it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

import click

from adapters import ADAPTERS
from adapters import bank_counter
from gateway.cli import EX_DATAERR
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.config import load_settings
from gateway.intake import archive

if TYPE_CHECKING:
    from gateway.intake import ingest

PROGRESS_MIN_BYTES = 5 * 1024 * 1024
"""Files above this size get a progress bar on stderr (when stderr is a terminal)."""


@main.group()
def settlements() -> None:
    """Settlement files from agents and banks."""


def _describe(result: ingest.FileResult) -> str:
    if result.rejected:
        return f"{result.file}: rejected: {result.located()}"
    return (
        f"{result.file}: {result.status} ({result.adapter}), {result.records} records, "
        f"{result.new_records} new, {result.duplicate_records} duplicate, {result.amount} yen"
    )


class AdapterChoice(click.Choice):  # type: ignore[type-arg]
    """The registered adapters, office profiles included: the settings (``GATEWAY_PROFILE_DIR``) are loaded
    when the option is checked, so a profile dropped into the office's directory is a choice too."""

    def __init__(self) -> None:
        super().__init__(sorted(ADAPTERS))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value not in ADAPTERS:
            load_settings()  # registers the office's profiles and bank mappings (an invalid one: ConfigError)
        base, sep, mapping = str(value).partition(":")
        if sep and base == bank_counter.NAME and mapping in bank_counter.load_mappings():
            return value  # a bank's file without a header row names its mapping: bank_counter:<mapping>
        self.choices = tuple(sorted(ADAPTERS))
        return super().convert(value, param, ctx)


@settlements.command("ingest")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--adapter",
    type=AdapterChoice(),
    help="The file format, an office profile's name, or bank_counter:MAPPING (detected when omitted).",
)
@click.option("--agent", "agent_code", metavar="CODE", help="The agent the files belong to.")
@json_option
@handles_errors
def settlements_ingest(
    files: tuple[Path, ...], adapter: str | None, agent_code: str | None, as_json: bool
) -> None:
    """Parse and store settlement files; each is accepted, duplicate or rejected on its own (exit 65 when any
    is rejected, the located error on stderr)."""
    from gateway.intake import ingest

    results: list[ingest.FileResult] = []
    with service_context() as ctx:
        for path in files:
            with _progress_bar(path) as progress:
                result = ingest.ingest_file(
                    ctx, path, adapter=adapter, agent_code=agent_code, progress=progress
                )
            results.append(result)
            if result.rejected:
                click.echo(f"error: {result.located()}", err=True)
    emit({"files": [r.as_json() for r in results]}, as_json, lambda: "\n".join(_describe(r) for r in results))
    if any(r.rejected for r in results):
        sys.exit(EX_DATAERR)


@contextlib.contextmanager
def _progress_bar(path: Path) -> Any:
    """A tqdm bar on stderr counting stored records, for large files on a terminal; else no callback."""
    if path.stat().st_size <= PROGRESS_MIN_BYTES or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=path.name, unit=" records", file=sys.stderr, unit_scale=True, leave=False)

    def update(done: int) -> None:
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()


@settlements.command("original")
@click.argument("sha256")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write it.",
)
@handles_errors
def settlements_original(sha256: str, output: Path) -> None:
    """Write an archived original back, byte for byte."""
    partial = output.with_name(output.name + ".part")
    with service_context() as ctx:
        chunks = archive.read_original(ctx, sha256)
        try:
            with open(partial, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            os.replace(partial, output)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
    click.echo(f"wrote {output}", err=True)
