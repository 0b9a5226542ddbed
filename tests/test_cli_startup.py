"""The command line starts without what it does not need (issue 10): ``gateway --help`` imports no command,
``gateway claims show`` neither the web app nor the PDF, barcode, migration or scheduler libraries; the help
still lists every command as Click would; the start-up schema check still refuses an out-of-date database.

The start-up times themselves are measured by ``bench/cli.py``, not asserted here.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import migrate
from gateway.cli import main
from gateway.cli.commands import COMMANDS
from gateway.db import get_engine
from gateway.errors import ConfigError
from tests.test_cli_foundation import CLAIM_ARGS

ROOT = Path(__file__).parents[1]

#: What neither command may import: PDF, barcodes, images, migrations, scheduler, the web app and its API.
HEAVY = ("reportlab", "alembic", "apscheduler", "flask_smorest", "qrcode", "barcode", "PIL", "flask")

#: Runs the console-script entry point, then (at exit, after Click's sys.exit) reports which top-level
#: modules were imported, as one JSON line on stderr after a marker.
DRIVER = """
import atexit, json, sys
atexit.register(lambda: print("MODULES " + json.dumps(sorted({m.split(".")[0] for m in sys.modules})),
                              file=sys.stderr))
from gateway.cli import run
sys.argv[0] = "gateway"
run()
"""


def gateway_process(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, set[str], int]:
    """Run ``gateway ARGS`` in a fresh interpreter: its stdout, the top-level modules it imported, its exit
    status."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    clean.update(env or {})
    clean["COLUMNS"] = "80"
    clean["PYTHONPATH"] = str(ROOT) + os.pathsep + clean.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        env=clean,
        cwd=cwd,  # no developer's .env is read
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("MODULES ")]
    assert marker, done.stderr
    return done.stdout, set(json.loads(marker[-1].removeprefix("MODULES "))), done.returncode


def load_every_command() -> None:
    ctx = click.Context(main)
    for name in COMMANDS:
        main.get_command(ctx, name)


def test_help_imports_no_command_and_no_heavy_library(tmp_path: Path) -> None:
    stdout, modules, code = gateway_process(tmp_path, "--help")
    assert code == 0
    assert not modules & {*HEAVY, "sqlalchemy", "sqlmodel", "werkzeug", "cryptography"}
    listed = stdout.split("Commands:\n", 1)[1].split()
    assert set(COMMANDS) <= set(listed)


def test_help_is_what_click_prints_with_every_command_imported(tmp_path: Path) -> None:
    lazy, _, _ = gateway_process(tmp_path, "--help")
    load_every_command()
    loaded = CliRunner().invoke(main, ["--help"], prog_name="gateway", env={"COLUMNS": "80"})
    assert loaded.exit_code == 0
    assert lazy == loaded.stdout


def test_every_command_is_declared_with_its_own_help() -> None:
    load_every_command()
    assert set(main.commands) == set(COMMANDS)
    for name, cmd in main.commands.items():
        first_paragraph = inspect.cleandoc(cmd.help or "").split("\n\n")[0].replace("\n", " ")
        assert COMMANDS[name].help == first_paragraph, name


def test_settlements_lists_fetch_however_it_was_imported() -> None:
    from gateway.cli import settlements  # noqa: F401  (registers the group without fetch)

    result = CliRunner().invoke(main, ["settlements", "--help"])
    assert result.exit_code == 0
    assert {"fetch", "ingest", "original"} <= set(result.stdout.split("Commands:\n", 1)[1].split())


def test_claims_show_needs_neither_the_web_app_nor_documents(tmp_path: Path, cli_env: dict[str, str]) -> None:
    created = CliRunner().invoke(
        main,
        CLAIM_ARGS[:-6],  # without the address and decision date: the fewest fields a claim needs
        env=cli_env,
        catch_exceptions=False,
    )
    assert created.exit_code == 0, created.output
    stdout, modules, code = gateway_process(tmp_path, "claims", "show", "C-1", "--json", env=cli_env)
    assert code == 0
    doc = json.loads(stdout)
    assert (doc["number"], doc["amount"], doc["debtor"]["name"]) == ("C-1", 12000, "見本 一郎")
    assert not modules & {*HEAVY, "werkzeug", "holidays", "jinja2", "requests"}


def test_the_head_revision_is_alembics_head() -> None:
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_an_older_schema_is_refused_at_start(db_url: str, cli_env: dict[str, str]) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005_debtor_name_index'"))
    try:
        with pytest.raises(ConfigError) as refused:
            migrate.check_schema(db_url)
        assert (migrate.stored_revision(db_url), migrate.current_revision(db_url)) == (
            "0005_debtor_name_index",
            "0005_debtor_name_index",
        )
        result = CliRunner().invoke(main, ["claims", "list", "--json"], env=cli_env)
        assert result.exit_code == 1
        assert result.stderr == f"error: {refused.value.message}\n"
        assert "database schema is at 0005_debtor_name_index" in result.stderr
        assert f"the code needs {migrate.HEAD_REVISION}: run `gateway db upgrade`" in result.stderr
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE alembic_version SET version_num = :head"), {"head": migrate.HEAD_REVISION}
            )
    migrate.check_schema(db_url)


def test_an_unmigrated_database_is_refused_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert migrate.stored_revision(url) is None
    needs = migrate.HEAD_REVISION
    with pytest.raises(ConfigError, match=f"database schema is at nothing, the code needs {needs}"):
        migrate.check_schema(url)
