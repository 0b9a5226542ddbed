"""Agent layouts as data, end to end: the mizuho120 profile and an office's own profile (dropped into
``GATEWAY_PROFILE_DIR``, no code) are registered for an agent, ingested and reconciled."""

from __future__ import annotations

import datetime
import io
import json
import shutil
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters import ADAPTERS
from adapters import profiles
from adapters import use_profile_dir
from gateway.cli import main
from gateway.config import load_settings
from gateway.context import Context
from gateway.errors import ConfigError
from gateway.errors import InvalidInput
from gateway.intake import ingest
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.helpers import make_claim
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import add_agent

JST = datetime.timezone(datetime.timedelta(hours=9))
SAMPLE_PROFILE = ADAPTER_DATA.parent / "profiles" / "sample100.toml"
PAID = datetime.datetime(2026, 12, 2, 14, 32, tzinfo=JST)


@pytest.fixture
def profile_dir(overrides: dict[str, Any], tmp_path: Path) -> Iterator[Path]:
    """The office's profile directory holding ``sample100.toml``, configured before the runtime is built."""
    directory = tmp_path / "office-profiles"
    directory.mkdir()
    shutil.copy(SAMPLE_PROFILE, directory)
    overrides["profile_dir"] = str(directory)
    yield directory
    use_profile_dir(None)


def _record(kind_code: str, barcode: str, *, transfer: datetime.date | None = None) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        kind_code=kind_code,
        barcode=barcode,
        paid_at=PAID,
        channel_code="0020",
        store_code="001234",
        transfer_date=transfer,
        accounting_date=transfer,
        capture_date=PAID.date(),
    )


def _write(adapter: str, path: Path, records: list[types.SimpleNamespace], **kwargs: Any) -> Path:
    out = io.BytesIO()
    profiles.write(
        ADAPTERS[adapter].profile,  # type: ignore[attr-defined]
        out,
        created_on=datetime.date(2026, 12, 3),
        agent_code="12345",
        consignor_code="00123",
        consignor_name="ﾐﾎﾝｼ",
        records=records,
        **kwargs,
    )
    path.write_bytes(out.getvalue())
    return path


def _slip(ctx: Context) -> Any:
    make_claim(ctx, amount=12_000)
    (slip,) = slip_service.issue_slips(
        ctx, "T-0001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    return slip


def test_mizuho120_golden_file_is_stored(ctx: Context) -> None:
    add_agent(ctx, adapters=("mizuho120",))
    path = ADAPTER_DATA / "mizuho120" / "20261128_daily.txt"
    expected = json.loads((path.parent / (path.name + ".expected.json")).read_text(encoding="utf-8"))

    result = ingest.ingest_file(ctx, path)

    assert (result.status, result.adapter) == ("accepted", "mizuho120"), result.error
    assert result.records == result.new_records == len(expected["records"])
    assert result.amount == sum(r["amount"] for r in expected["records"])


MIZUHO_BROKEN = sorted((ADAPTER_DATA / "mizuho120").glob("*.error.json"))


@pytest.mark.parametrize("error_path", MIZUHO_BROKEN, ids=lambda p: p.name.removesuffix(".error.json"))
def test_mizuho120_broken_files_are_rejected_located_storing_nothing(
    ctx: Context, counts: Any, error_path: Path
) -> None:
    add_agent(ctx, adapters=("mizuho120",))
    expected = json.loads(error_path.read_text(encoding="utf-8"))
    path = error_path.with_name(error_path.name.removesuffix(".error.json"))
    before = counts()

    result = ingest.ingest_file(ctx, path, adapter=None if expected.get("identified", True) else "mizuho120")

    assert result.rejected and result.records == 0
    assert type(result.exception).__name__ == expected["error"]
    assert result.error is not None
    assert (result.error["line"], result.error["field"]) == (expected["line_no"], expected["field"])
    assert path.name in result.error["message"]
    assert counts() == before


def test_mizuho120_payment_is_reconciled(ctx: Context, tmp_path: Path) -> None:
    add_agent(ctx, adapters=("mizuho120",), channels=("0020",))
    slip = _slip(ctx)
    first = _write("mizuho120", tmp_path / "m1.txt", [_record("01", slip.barcode)])
    assert ingest.ingest_file(ctx, first).status == "accepted"
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 1
    second = _write(
        "mizuho120", tmp_path / "m2.txt", [_record("02", slip.barcode, transfer=datetime.date(2026, 12, 10))]
    )
    assert ingest.ingest_file(ctx, second, adapter="mizuho120").status == "accepted"
    assert reconcile.run(ctx, datetime.date(2026, 12, 8)).confirmed == 1
    doc = overview.show_claim(ctx, "T-0001")
    assert (doc["status"], doc["paid_amount"]) == ("paid", 12_000)


def test_mizuho120_file_of_an_agent_not_configured_for_it_is_refused(ctx: Context) -> None:
    add_agent(ctx, adapters=("fixed120", "dsk_csv"))
    result = ingest.ingest_file(ctx, ADAPTER_DATA / "mizuho120" / "20261128_daily.txt")
    assert result.rejected
    assert result.error is not None and result.error["field"] == "adapter"


def test_office_profile_added_as_a_file_is_ingested_and_reconciled(
    profile_dir: Path, ctx: Context, tmp_path: Path
) -> None:
    assert "sample100" in ADAPTERS  # registered when the settings loaded
    add_agent(ctx, adapters=("sample100",), channels=("0020",))
    slip = _slip(ctx)
    first = _write("sample100", tmp_path / "s1.dat", [_record("10", slip.barcode)], line_break=b"\n")

    result = ingest.ingest_file(ctx, first)  # detected: no adapter named

    assert (result.status, result.adapter, result.records) == ("accepted", "sample100", 1), result.error
    assert reconcile.run(ctx, datetime.date(2026, 12, 3)).matched == 1
    second = _write(
        "sample100",
        tmp_path / "s2.dat",
        [_record("20", slip.barcode, transfer=datetime.date(2026, 12, 10))],
        line_break=b"\n",
    )
    assert ingest.ingest_file(ctx, second).status == "accepted"
    assert reconcile.run(ctx, datetime.date(2026, 12, 8)).confirmed == 1
    doc = overview.show_claim(ctx, "T-0001")
    assert (doc["status"], doc["paid_amount"]) == ("paid", 12_000)


def test_office_profile_file_that_breaks_its_layout_is_rejected_and_stores_nothing(
    profile_dir: Path, ctx: Context, tmp_path: Path, counts: Any
) -> None:
    add_agent(ctx, adapters=("sample100",), channels=("0020",))
    slip = _slip(ctx)
    path = _write("sample100", tmp_path / "s1.dat", [_record("10", slip.barcode)], line_break=b"\n")
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:1] + b"30" + lines[1][3:]  # kind 30 is not in the profile's [kinds]
    path.write_bytes(b"\n".join(lines))
    before = counts()

    result = ingest.ingest_file(ctx, path)

    assert result.rejected
    assert result.error is not None
    assert (result.error["line"], result.error["field"]) == (2, "kind")
    assert counts() == before


def test_agent_cannot_be_configured_for_an_unknown_profile(ctx: Context) -> None:
    with pytest.raises(InvalidInput) as caught:
        add_agent(ctx, adapters=("sample100",))
    assert caught.value.field == "adapters"


def test_invalid_office_profile_stops_the_start(overrides: dict[str, Any], tmp_path: Path) -> None:
    directory = tmp_path / "office-profiles"
    directory.mkdir()
    text = SAMPLE_PROFILE.read_text(encoding="utf-8").replace('type = "barcode44"', 'type = "barcode"')
    (directory / "sample100.toml").write_text(text, encoding="utf-8")
    try:
        with pytest.raises(ConfigError) as caught:
            load_settings(environ={}, overrides=overrides | {"profile_dir": str(directory)})
    finally:
        use_profile_dir(None)
    message = str(caught.value)
    assert 'sample100.toml: record "data" field "barcode"' in message
    assert "GATEWAY_PROFILE_DIR" in message


def test_cli_agents_add_and_ingest_accept_an_office_profile(
    profile_dir: Path, cli_env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    env = cli_env | {"GATEWAY_PROFILE_DIR": str(profile_dir)}

    def run(*args: str) -> Any:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    added = run(
        "agents", "add", "12345", "--json", "--name", "見本ファクター", "--adapters", "sample100",
        "--channels", "0020", "--remitter-name", "ﾐﾎﾝﾌｧｸﾀｰ",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    path = _write(
        "sample100",
        tmp_path / "s1.dat",
        [_record("10", "91912345001232600000123400100026123100100003")],  # a slip of agent 12345
        line_break=b"\n",
    )
    ingested = run("settlements", "ingest", "--adapter", "sample100", "--json", str(path))
    assert ingested.exit_code == 0, ingested.stderr
    (doc,) = json.loads(ingested.stdout)["files"]
    assert (doc["adapter"], doc["status"], doc["records"]) == ("sample100", "accepted", 1)
    refused = runner.invoke(main, ["settlements", "ingest", "--adapter", "sample999", str(path)], env=env)
    assert refused.exit_code == 2
