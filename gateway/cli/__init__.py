"""The ``gateway`` command line.

Conventions (spec/interfaces.md): ``--json`` prints exactly one JSON document on stdout, logs and progress
go to stderr; exit 0 success, 1 unexpected error, 2 usage error, 65 rejected input with a message on stderr
naming the file, line and field.
"""

from __future__ import annotations

import functools
import getpass
import importlib
import json
import sys
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click

from gateway.cli.commands import COMMANDS
from gateway.cli.commands import LazyCommand
from gateway.errors import ConfigError
from gateway.errors import GatewayError

if TYPE_CHECKING:
    from gateway.context import Actor
    from gateway.context import Context
    from gateway.runtime import Runtime

# Start-up time: this module is all that `gateway --help` imports. The runtime (database, models, keys)
# and each command's module are imported inside the functions below, when a command runs.

EX_DATAERR = 65
F = TypeVar("F", bound=Callable[..., Any])


def cli_actor() -> Actor:
    from gateway.context import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(kind="cli", name=name)


def load_runtime(*, check: bool = True) -> Runtime:
    from gateway.config import load_settings
    from gateway.runtime import Runtime

    return Runtime.load(load_settings(), check=check)


@contextmanager
def service_context() -> Iterator[Context]:
    with load_runtime().context(cli_actor()) as ctx:
        yield ctx


def emit(data: Any, as_json: bool, text: str | Callable[[], str] | None = None) -> None:
    """Print the command's result: one JSON document, or human-readable text."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif text is not None:
        click.echo(text() if callable(text) else text)
    else:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def to_gateway_error(ex: Exception) -> GatewayError | None:
    """Errors of the pure packages, as gateway errors (for the exit code and the message)."""
    if isinstance(ex, GatewayError):
        return ex
    # Imported only for an error that is not the gateway's: importing the adapters loads every format.
    from adapters.errors import SettlementFileError
    from barcodes.exceptions import BarcodeError
    from gateway.errors import InvalidInput

    if isinstance(ex, BarcodeError):
        return InvalidInput(str(ex), field=ex.field)
    if isinstance(ex, SettlementFileError):
        return InvalidInput(
            str(ex),
            file=getattr(ex, "path", None),
            line=getattr(ex, "line_no", None),
            field=getattr(ex, "field", None),
        )
    return None


def handles_errors(fn: F) -> F:
    """Turn domain errors into a located message on stderr (and JSON on stdout with ``--json``), exit 65."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as ex:
            click.echo(f"error: {ex.message}", err=True)
            sys.exit(1)
        except Exception as ex:
            err = to_gateway_error(ex)
            if err is None:
                raise
            click.echo(f"error: {err.located()}", err=True)
            if kwargs.get("as_json"):
                click.echo(
                    json.dumps(
                        {"error": {"code": err.code, "message": err.message, "details": err.details}},
                        ensure_ascii=False,
                        default=str,
                    )
                )
            sys.exit(EX_DATAERR)

    return wrapper  # type: ignore[return-value]


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when one of them is used.

    ``lazy_commands`` declares each top-level name with the modules that define it and its help, so that
    ``gateway --help`` lists every command without importing any of them; running ``gateway claims show``
    imports ``gateway.cli.claims`` alone. The modules register their commands on this group as usual
    (``@main.group()``).
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        lazy = self.lazy_commands.get(cmd_name)
        if lazy is not None:
            # Every module, even when the command is registered already: ``settlements fetch`` is added to
            # the group by a second module.
            for module in lazy.modules:
                importlib.import_module(module)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands as Click does, with a stand-in carrying the declared help for each command
        that is not imported yet."""
        listing = click.Group(self.name)
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is None:
                cmd = click.Command(name, help=self.lazy_commands[name].help)
            listing.add_command(cmd, name)
        click.Group.format_commands(listing, ctx, formatter)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """konbini-gateway: payment slips, settlement ingestion and reconciliation."""


def _load_dotenv() -> None:
    from dotenv import load_dotenv

    load_dotenv(override=False)


def run() -> None:
    """Console-script entry point: read ``.env`` from the working directory, then dispatch."""
    _load_dotenv()
    try:
        main(standalone_mode=True)
    except ConfigError as ex:  # pragma: no cover - reached only outside handled commands
        click.echo(f"error: {ex.message}", err=True)
        sys.exit(1)
