"""The ``gateway`` command line.

Conventions (spec/interfaces.md): ``--json`` prints exactly one JSON document on stdout, logs and progress
go to stderr; exit 0 success, 1 unexpected error, 2 usage error, 65 rejected input with a message on stderr
naming the file, line and field.
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from typing import TypeVar

import click

from gateway.config import load_settings
from gateway.context import Actor
from gateway.context import Context
from gateway.errors import ConfigError
from gateway.errors import GatewayError
from gateway.runtime import Runtime

EX_DATAERR = 65
F = TypeVar("F", bound=Callable[..., Any])


def cli_actor() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(kind="cli", name=name)


def load_runtime(*, check: bool = True) -> Runtime:
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
    from adapters.errors import SettlementFileError
    from barcodes.exceptions import BarcodeError
    from gateway.errors import InvalidInput

    if isinstance(ex, GatewayError):
        return ex
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


from gateway.cli import commands  # noqa: E402,F401  (registers the command groups)
