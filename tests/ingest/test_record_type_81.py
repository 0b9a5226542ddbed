"""DSK record type 81 per agent: refused by default, skipped (and reported) when the agent's adapter options
say so; the options are checked when set (service, CLI) and shown to the admin in Japanese."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.access import agents as agent_service
from gateway.cli import main
from gateway.context import Context
from gateway.errors import InvalidInput
from gateway.intake import ingest
from gateway.models import AuditEvent
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import add_agent

WITH_81 = ADAPTER_DATA / "dsk_csv" / "record-type-81.csv"
SKIP_DIR = ADAPTER_DATA / "dsk_csv" / "record-type-81-skip"
ONLY_81 = SKIP_DIR / "only-81.csv"
SKIP = {"dsk_csv": {"record_type_81": "skip"}}


def _expected(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.with_name(path.name + ".expected.json").read_text("utf-8"))
    return doc


def _audit(ctx: Context, action: str) -> list[dict[str, Any]]:
    ctx.session.commit()
    rows = ctx.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars()
    return [dict(r.detail) for r in rows]


def test_a_type_81_file_is_rejected_by_default_at_its_line_and_nothing_is_stored(
    ctx: Context, counts: Callable[[], dict[str, int]]
) -> None:
    add_agent(ctx)
    before = counts()
    result = ingest.ingest_file(ctx, WITH_81)
    assert result.status == "rejected"
    assert result.error is not None
    assert (result.error["line"], result.error["field"]) == (4, "kind")
    assert "81" in result.error["message"] and WITH_81.name in result.error["message"]
    assert counts() == before


def test_with_skip_configured_the_file_is_accepted_and_the_skipped_row_reported(
    ctx: Context, counts: Callable[[], dict[str, int]]
) -> None:
    add_agent(ctx, adapter_options=SKIP)
    result = ingest.ingest_file(ctx, WITH_81)
    expected = _expected(SKIP_DIR / "20261128_daily-with-81.csv")
    assert result.status == "accepted", result.error
    assert result.records == result.new_records == len(expected["records"]) == 7
    assert result.skipped == {"81": {"records": 1, "lines": [4]}}
    assert result.as_json()["skipped"] == {"81": {"records": 1, "lines": [4]}}
    assert "81" not in result.counts_by_kind
    assert counts()["settlement_records"] == 7
    ctx.session.commit()
    lines = ctx.session.execute(sa.text("SELECT line_no FROM settlement_records ORDER BY line_no")).scalars()
    assert list(lines) == [r["line_no"] for r in expected["records"]]
    (event,) = _audit(ctx, "settlement_file.ingest")
    assert event["skipped"] == {"81": {"records": 1, "lines": [4]}}


def test_a_file_without_type_81_has_no_skipped_key(ctx: Context) -> None:
    add_agent(ctx, adapter_options=SKIP)
    result = ingest.ingest_file(ctx, ADAPTER_DATA / "dsk_csv" / "20261128_daily.csv")
    assert result.status == "accepted"
    assert "skipped" not in result.as_json()


def test_a_file_of_type_81_rows_only_names_its_agent_and_stores_nothing_with_skip(ctx: Context) -> None:
    add_agent(ctx, adapter_options=SKIP)
    result = ingest.ingest_file(ctx, ONLY_81)
    assert (result.status, result.records, result.skipped) == (
        "accepted",
        0,
        {"81": {"records": 2, "lines": [2, 3]}},
    )


def test_a_file_of_type_81_rows_only_is_rejected_by_default(ctx: Context) -> None:
    add_agent(ctx)
    result = ingest.ingest_file(ctx, ONLY_81)
    assert result.status == "rejected"
    assert result.error is not None
    assert (result.error["line"], result.error["field"]) == (2, "kind")


def test_setting_skip_later_lets_the_rejected_file_in(ctx: Context) -> None:
    add_agent(ctx)
    assert ingest.ingest_file(ctx, WITH_81).status == "rejected"
    agent_service.set_adapter_options(ctx, "12345", SKIP)
    ctx.session.commit()
    assert ingest.ingest_file(ctx, WITH_81).status == "accepted"
    (event,) = _audit(ctx, "agent.adapter_options")
    assert (event["before"], event["after"]) == ({}, SKIP)
    # Back to the default: refused again (a new copy, since the accepted one is now a known file).
    agent_service.set_adapter_options(ctx, "12345", {"dsk_csv": {"record_type_81": "reject"}})
    ctx.session.commit()
    assert ingest.ingest_file(ctx, ONLY_81).status == "rejected"


def test_skip_is_per_agent(ctx: Context, tmp_path: Path) -> None:
    """Agent 12345 skips; another agent's file with a type-81 row is still refused."""
    add_agent(ctx, adapter_options=SKIP)
    add_agent(ctx, "54321", consignor_code="99999")
    foreign = (ADAPTER_DATA / "dsk_csv" / "foreign-consignor.csv").read_bytes().split(b"\r\n")
    path = tmp_path / "54321-with-81.csv"
    path.write_bytes(b"\r\n".join([foreign[0], foreign[1], b"81" + foreign[1][2:], *foreign[2:]]))
    result = ingest.ingest_file(ctx, path)
    assert result.status == "rejected"
    assert result.error is not None
    assert (result.error["line"], result.error["field"]) == (3, "kind")


@pytest.mark.parametrize(
    ("options", "adapters"),
    [
        ({"dsk_csv": {"record_type_82": "skip"}}, ("dsk_csv",)),  # unknown option
        ({"dsk_csv": {"record_type_81": "as:01"}}, ("dsk_csv",)),  # no mapping to a known kind
        ({"dsk_csv": {"record_type_81": "Skip"}}, ("dsk_csv",)),
        ({"fixed120": {"record_type_81": "skip"}}, ("dsk_csv", "fixed120")),  # fixed120 has no options
        ({"dsk_csv": {"record_type_81": "skip"}}, ("fixed120",)),  # not configured for dsk_csv
        ({"nope": {"x": "y"}}, ("dsk_csv",)),
    ],
)
def test_bad_adapter_options_are_refused_naming_the_option(
    ctx: Context, options: dict[str, dict[str, str]], adapters: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        add_agent(ctx, adapters=adapters, adapter_options=options)
    adapter, values = next(iter(options.items()))
    assert raised.value.field == "adapter_options"
    assert f"{adapter}.{next(iter(values))}" in raised.value.message
    ctx.session.rollback()
    assert agent_service.find_agent(ctx, "12345") is None


@pytest.mark.parametrize("text", ["record_type_81=skip", "dsk_csv.record_type_81", "dsk_csv:x=y", "=skip"])
def test_badly_written_options_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        agent_service.parse_adapter_options([text])
    assert raised.value.field == "adapter_options"


def test_an_option_given_twice_is_refused() -> None:
    with pytest.raises(InvalidInput, match="given twice"):
        agent_service.parse_adapter_options(["dsk_csv.record_type_81=skip", "dsk_csv.record_type_81=reject"])


def test_cli_add_and_set_options(cli_env: dict[str, str], ctx: Context) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            *("agents", "add", "12345", "--name", "見本収納代行", "--adapters", "dsk_csv", "--json"),
            *("--adapter-option", "dsk_csv.record_type_81=skip"),
        ],
        env=cli_env,
        catch_exceptions=False,
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["adapter_options"] == SKIP
    changed = runner.invoke(
        main,
        ["agents", "set-options", "12345", "dsk_csv.record_type_81=reject", "--json"],
        env=cli_env,
        catch_exceptions=False,
    )
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout)["adapter_options"] == {"dsk_csv": {"record_type_81": "reject"}}
    refused = runner.invoke(
        main, ["agents", "set-options", "12345", "dsk_csv.record_type_81=maybe"], env=cli_env
    )
    assert refused.exit_code != 0
    assert "dsk_csv.record_type_81" in refused.stderr
    ctx.session.commit()
    agent = agent_service.get_agent(ctx, "12345")
    assert agent.adapter_options == {"dsk_csv": {"record_type_81": "reject"}}
