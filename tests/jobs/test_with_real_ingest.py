"""Inbox and fetch end to end with the real ingest service and the adapters' golden files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import jobs
from gateway.access import agents as agent_service
from gateway.cli import main
from gateway.config import Settings
from gateway.context import Context
from gateway.intake import fetch
from gateway.intake import inbox
from gateway.runtime import Runtime
from tests.jobs.conftest import run_rows
from tests.jobs.https_server import CertFiles
from tests.jobs.https_server import Reply
from tests.jobs.https_server import Server

FIXED120 = Path(__file__).parents[1] / "data" / "adapters" / "fixed120"
DAILY = FIXED120 / "20261128_daily.txt"
BAD_CHECK_DIGIT = FIXED120 / "bad-check-digit.txt"
FOREIGN = FIXED120 / "foreign-consignor.txt"


@pytest.fixture
def agent(ctx: Context) -> None:
    """This office's agent 12345 (consignor 00123), the one the golden fixed120 files name."""
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code="12345", name="見本収納代行", adapters=("fixed120",), channels=("0010", "0020")
        ),
    )


def stored_files(ctx: Context) -> list[tuple[str, str, str]]:
    ctx.session.commit()
    rows = ctx.session.execute(sa.text("SELECT file_name, source, sha256 FROM settlement_files ORDER BY id"))
    return [tuple(r) for r in rows]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_inbox_files_golden_files_into_processed_and_rejected(
    runtime: Runtime, ctx: Context, agent: None, settings: Settings, db_url: str
) -> None:
    box = Path(settings.inbox_dir)
    box.mkdir(parents=True)
    for source in (DAILY, BAD_CHECK_DIGIT, FOREIGN):
        shutil.copyfile(source, box / source.name)
        (box / (source.name + ".done")).touch()
    slot = jobs.scheduled_time(jobs.trigger_for("*/5 * * * *"), runtime.clock())
    counts = jobs.run_job(runtime, "inbox", slot)
    assert counts == {**inbox.counts_template(), "seen": 3, "ingested": 1, "rejected": 2}
    assert (box / "processed" / DAILY.name).read_bytes() == DAILY.read_bytes()
    assert stored_files(ctx) == [(DAILY.name, "inbox", sha(DAILY))]
    expected = json.loads((FIXED120 / (BAD_CHECK_DIGIT.name + ".error.json")).read_text())
    error = (box / "rejected" / (BAD_CHECK_DIGIT.name + ".error.txt")).read_text(encoding="utf-8")
    assert f"line: {expected['line_no']}" in error
    assert f"field: {expected['field']}" in error
    assert (box / "rejected" / FOREIGN.name).exists()
    foreign_error = (box / "rejected" / (FOREIGN.name + ".error.txt")).read_text("utf-8")
    assert "field: agent_code" in foreign_error  # agent 54321 is not registered here
    assert [r["outcome"] for r in run_rows(db_url, "inbox")] == ["ok"]
    # The same file dropped again is known by its SHA-256 and still ends in processed/.
    shutil.copyfile(DAILY, box / DAILY.name)
    (box / (DAILY.name + ".done")).touch()
    assert inbox.scan(ctx) == {**inbox.counts_template(), "seen": 1, "duplicates": 1}
    assert (box / "processed" / "20261128_daily.1.txt").exists()
    assert len(stored_files(ctx)) == 1


def _serve(server: Server, *files: Path) -> None:
    entries = [
        {"name": p.name, "url": f"/files/{p.name}", "sha256": sha(p), "size": p.stat().st_size} for p in files
    ]
    server.route("/list", Reply(200, json.dumps(entries).encode()))
    for p in files:
        server.route(f"/files/{p.name}", Reply(200, p.read_bytes()))


def _source(server: Server, certs: CertFiles) -> dict[str, Any]:
    return {
        "name": "agent-12345",
        "url": f"{server.base}/list",
        "verify": str(certs.ca_pem),
        "backoff_factor": 0,
    }


def test_fetch_ingests_golden_files_once(ctx: Context, agent: None, server: Server, certs: CertFiles) -> None:
    _serve(server, DAILY, BAD_CHECK_DIGIT)
    sources = fetch.parse_sources([_source(server, certs)], base_dir=Path("/"))
    (src,) = fetch.fetch_all(ctx, sources, environ={})["sources"]
    by_name = {doc["file"]: doc for doc in src["files"]}
    assert by_name[DAILY.name]["status"] == "accepted"
    assert by_name[DAILY.name]["sha256"] == sha(DAILY)
    assert by_name[DAILY.name]["records"] > 0
    assert by_name[BAD_CHECK_DIGIT.name]["status"] == "rejected"
    assert by_name[BAD_CHECK_DIGIT.name]["error"]["line"] == 2
    assert stored_files(ctx) == [(DAILY.name, "fetch", sha(DAILY))]
    # Second run: nothing new is downloaded.
    before = len(server.requests)
    (again,) = fetch.fetch_all(ctx, sources, environ={})["sources"]
    assert (again["new"], again["files"]) == (0, [])
    assert server.paths()[before:] == ["/list"]


def test_fetch_skips_content_that_came_through_the_inbox(
    ctx: Context, agent: None, server: Server, certs: CertFiles, settings: Settings
) -> None:
    box = Path(settings.inbox_dir)
    box.mkdir(parents=True)
    shutil.copyfile(DAILY, box / "dropped.txt")
    (box / "dropped.txt.done").touch()
    assert inbox.scan(ctx)["ingested"] == 1
    _serve(server, DAILY)
    sources = fetch.parse_sources([_source(server, certs)], base_dir=Path("/"))
    (src,) = fetch.fetch_all(ctx, sources, environ={})["sources"]
    assert (src["listed"], src["new"]) == (1, 0)
    assert server.paths() == ["/list"]


def test_cli_fetch_with_real_ingest_exits_65_on_a_rejected_file(
    overrides: dict[str, Any],
    server: Server,
    certs: CertFiles,
    tmp_path: Path,
    ctx: Context,
    agent: None,
    cli_env: dict[str, str],
) -> None:
    import gateway.cli.fetch  # noqa: F401  (until gateway/cli/commands.py imports it)

    config = tmp_path / "sources.json"
    config.write_text(json.dumps({"sources": [_source(server, certs)]}))
    _serve(server, FOREIGN)
    result = CliRunner().invoke(
        main,
        ["settlements", "fetch", "--json"],
        env={**cli_env, "GATEWAY_FETCH_SOURCES": str(config)},
        catch_exceptions=False,
    )
    assert result.exit_code == 65
    doc = json.loads(result.stdout)["sources"][0]["files"][0]
    assert (doc["file"], doc["status"], doc["error"]["line"], doc["error"]["field"]) == (
        FOREIGN.name,
        "rejected",
        1,
        "agent_code",
    )
    assert FOREIGN.name in result.stderr
    assert "agent_code" in result.stderr
