"""``gateway db``, ``keys``, ``users``, ``serve``, ``demo``, ``audit``.

Start-up time: the services behind the commands (staff accounts, Alembic, the Flask app) are imported inside
the command that needs them, so each command pays only for its own.
"""

from __future__ import annotations

import sys

import click

from gateway.cli import cli_actor
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import load_runtime
from gateway.cli import main
from gateway.cli import service_context
from gateway.config import load_settings
from gateway.models.core import ROLES


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
@handles_errors
def db_upgrade(as_json: bool) -> None:
    """Create or migrate the schema of GATEWAY_DATABASE_URL."""
    from gateway import migrate
    from gateway.runtime import keyring_for

    settings = load_settings()
    before, after = migrate.upgrade(settings.database_url)
    if settings.mode == "full":
        migrate.check_fingerprint(settings.database_url, keyring_for(settings).fingerprint)
    emit({"from": before, "to": after}, as_json, f"schema at {after} (was {before or 'empty'})")


@main.group()
def keys() -> None:
    """Keys for encryption at rest."""


@keys.command("generate")
def keys_generate() -> None:
    """Print a new random GATEWAY_DATA_KEY (or GATEWAY_SECRET_KEY)."""
    from gateway.crypto import generate_key

    click.echo(generate_key())


@keys.command("public")
@handles_errors
def keys_public() -> None:
    """Print GATEWAY_PUBLIC_KEYRING for the internet-facing process (no key that decrypts names)."""
    from gateway.runtime import keyring_for

    settings = load_settings()
    click.echo(keyring_for(settings).export_public())


@main.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@json_option
@handles_errors
def users_create(name: str, role: str, password_stdin: bool, as_json: bool) -> None:
    """Create a staff account (without a password it can only use API tokens)."""
    from gateway.access import users

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    with service_context() as ctx:
        user = users.create_user(ctx, name, role, password)
        emit(
            {"name": user.name, "role": user.role, "password": password is not None},
            as_json,
            f"user {user.name} ({user.role}) created",
        )


@users_group.command("token")
@click.argument("name")
@json_option
@handles_errors
def users_token(name: str, as_json: bool) -> None:
    """Issue a revocable API bearer token; it is printed once."""
    from gateway.access import users

    with service_context() as ctx:
        token = users.issue_token(ctx, name)
        emit({"token": token}, as_json, token)


@users_group.command("revoke-tokens")
@click.argument("name")
@json_option
@handles_errors
def users_revoke(name: str, as_json: bool) -> None:
    """Revoke every API token of a staff account."""
    from gateway.access import users

    with service_context() as ctx:
        count = users.revoke_tokens(ctx, name)
        emit({"revoked": count}, as_json, f"{count} token(s) revoked")


@users_group.command("password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Read the new password from standard input (the default)."
)
@click.option("--generate", is_flag=True, help="Generate a password and print it once instead.")
@json_option
@handles_errors
def users_password(name: str, password_stdin: bool, generate: bool, as_json: bool) -> None:
    """Set a new password: read from standard input (as before), or with --generate made and printed once."""
    from gateway.access import users

    if generate and password_stdin:
        raise click.UsageError("--generate and --password-stdin exclude each other")
    typed = None if generate else sys.stdin.readline().rstrip("\n")
    with service_context() as ctx:
        password = users.reset_password(ctx, name, typed)
    generated = password if generate else None
    emit(
        {"name": name, "password_set": True, "generated_password": generated},
        as_json,
        f"password of {name} set" + (f"; new password (shown once): {generated}" if generated else ""),
    )


@users_group.command("disable")
@click.argument("name")
@json_option
@handles_errors
def users_disable(name: str, as_json: bool) -> None:
    """Disable a staff account: its password, sessions and API tokens stop working."""
    from gateway.access import users

    with service_context() as ctx:
        user = users.disable_user(ctx, name)
        emit({"name": user.name, "active": user.active}, as_json, f"user {user.name} disabled")


@users_group.command("enable")
@click.argument("name")
@json_option
@handles_errors
def users_enable(name: str, as_json: bool) -> None:
    """Enable a disabled staff account again."""
    from gateway.access import users

    with service_context() as ctx:
        user = users.enable_user(ctx, name)
        emit({"name": user.name, "active": user.active}, as_json, f"user {user.name} enabled")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-scheduler", is_flag=True, help="Serve without the scheduled jobs.")
@handles_errors
def serve(host: str, port: int, no_scheduler: bool) -> None:
    """Run the web app and API (with the scheduler). Production: gunicorn wsgi:app."""
    import logging

    from werkzeug.serving import run_simple

    from gateway import create_app

    runtime = load_runtime()
    logging.basicConfig(
        level=runtime.settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    app = create_app(runtime=runtime)
    if not no_scheduler and runtime.settings.scheduler and runtime.settings.mode == "full":
        from gateway.operations import jobdefs

        jobdefs.start(runtime)
    click.echo(f"serving on http://{host}:{port}", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)


@main.command()
@json_option
@handles_errors
def demo(as_json: bool) -> None:
    """Fill an empty database with a synthetic demo and print the staff login.

    Run again on the demo database, it prints the same login (kept in the instance folder, 0600).
    """
    import json as _json
    import os

    from gateway import migrate
    from gateway.errors import Conflict
    from gateway.operations import demo as demo_service

    settings = load_settings()
    migrate.upgrade(settings.database_url)
    runtime = load_runtime(check=False)
    runtime.check()
    saved = settings.instance_path / "demo-login.json"
    try:
        with runtime.context(cli_actor()) as ctx:
            result = demo_service.build(ctx)
    except Conflict:
        if not saved.exists():
            raise
        result = _json.loads(saved.read_text())
        result["note"] = "the database already holds the demo"
    else:
        settings.instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            _json.dump(result, fh, ensure_ascii=False)
    emit(result, as_json, lambda: demo_service.describe(result))


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@json_option
@handles_errors
def audit_verify(as_json: bool) -> None:
    """Check the audit trail's hash chain; exit 65 when it is broken."""
    from gateway import audit

    with service_context() as ctx:
        result = audit.verify(ctx.session)
    doc = {
        "ok": result.ok,
        "events": result.events,
        "first_bad_id": result.first_bad_id,
        "reason": result.reason,
    }
    emit(
        doc,
        as_json,
        f"audit chain {'ok' if result.ok else 'BROKEN'}: {result.events} events"
        + (f", first bad event {result.first_bad_id}: {result.reason}" if not result.ok else ""),
    )
    if not result.ok:
        sys.exit(65)
