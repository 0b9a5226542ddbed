"""``gateway agents``, ``clients``, ``settlements ingest`` and ``settlements original``: JSON, exit codes."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner

from gateway.cli import main
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import INGEST_DATA

INGEST_KEYS = {
    "file",
    "adapter",
    "status",
    "sha256",
    "records",
    "new_records",
    "duplicate_records",
    "amount",
    "counts_by_kind",
    "amounts_by_kind",
    "error",
}
AGENT = [
    "agents", "add", "12345", "--json", "--name", "見本収納代行", "--adapters", "fixed120,dsk_csv",
    "--channels", "010,0820", "--fee-per-item", "55", "--tax-rate", "10", "--remitter-name", "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ",
    "--delegation-basis", "art78_3", "--delegation-date", "2026-04-01",
]  # fmt: skip


@pytest.fixture
def run(cli_env):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env=cli_env, catch_exceptions=False)

    return invoke


def test_agents_add_and_list(run):
    added = run(*AGENT)
    assert added.exit_code == 0, added.stderr
    doc = json.loads(added.stdout)
    assert (doc["code"], doc["channels"], doc["delegation_basis"], doc["delegation_date"]) == (
        "12345",
        ["0010", "0820"],
        "art78_3",
        "2026-04-01",
    )
    assert doc["fees"] == [
        {"channel_code": None, "fee_per_item": 55, "tax_rate_bp": 1000, "valid_from": "2026-04-01"}
    ]
    listed = json.loads(run("agents", "list", "--json").stdout)
    assert [a["code"] for a in listed["items"]] == ["12345"]
    again = run(*AGENT)
    assert again.exit_code == 65 and "field code" in again.stderr
    bad = run("agents", "add", "123", "--json", "--name", "x")
    assert bad.exit_code == 65 and "field code" in bad.stderr
    assert json.loads(bad.stdout)["error"]["code"] == "invalid_input"
    assert run("agents", "add", "12345", "--name", "x", "--remittance", "half").exit_code == 2


def test_clients_create_prints_key_and_secret_once(run):
    run(*AGENT)
    result = run("clients", "create", "agent system", "--json", "--agent", "12345")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"key_id", "secret"} and doc["key_id"].startswith("kgc_") and len(doc["secret"]) >= 32
    unknown = run("clients", "create", "x", "--json", "--agent", "99999")
    assert unknown.exit_code == 65


def test_ingest_several_files_each_on_its_own(run):
    run(*AGENT)
    good = ADAPTER_DATA / "fixed120" / "20261128_daily.txt"
    bad = ADAPTER_DATA / "fixed120" / "trailer-sum-off.txt"
    overlap = INGEST_DATA / "overlap-a.txt"

    result = run("settlements", "ingest", str(good), str(bad), str(overlap), "--json")

    assert result.exit_code == 65
    doc = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert list(doc) == ["files"]
    assert [set(f) for f in doc["files"]] == [INGEST_KEYS] * 3
    assert [f["status"] for f in doc["files"]] == ["accepted", "rejected", "accepted"]
    assert doc["files"][0]["sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()
    assert doc["files"][1]["error"]["line"] == 9 and doc["files"][1]["error"]["field"] == "amount_01"
    assert "trailer-sum-off.txt line 9" in result.stderr and "amount_01" in result.stderr
    # overlap-a's first three rows are lines 2, 3 and 6 of the golden fixed120 file ingested just before
    assert (doc["files"][2]["new_records"], doc["files"][2]["duplicate_records"]) == (2, 3)

    again = run("settlements", "ingest", str(good), "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["files"][0]["status"] == "duplicate_file"


def test_ingest_with_adapter_and_agent_options(run):
    run(*AGENT)
    header_only = ADAPTER_DATA / "dsk_csv" / "header-only.csv"
    refused = run("settlements", "ingest", str(header_only), "--json")
    assert refused.exit_code == 65
    named = run(
        "settlements", "ingest", str(header_only), "--json", "--adapter", "dsk_csv", "--agent", "12345"
    )
    assert named.exit_code == 0, named.stderr
    assert json.loads(named.stdout)["files"][0]["adapter"] == "dsk_csv"
    assert run("settlements", "ingest", str(header_only), "--adapter", "nope").exit_code == 2
    assert run("settlements", "ingest", "/no/such/file.txt").exit_code == 2


def test_ingest_text_output(run):
    run(*AGENT)
    result = run("settlements", "ingest", str(INGEST_DATA / "overlap-a.txt"))
    assert result.exit_code == 0
    assert "overlap-a.txt: accepted (fixed120), 5 records, 5 new, 0 duplicate, 55777 yen" in result.stdout


def test_original_writes_the_exact_bytes(run, tmp_path):
    run(*AGENT)
    path = ADAPTER_DATA / "zengin_transfer" / "20261204_transfer.txt"
    doc = json.loads(run("settlements", "ingest", str(path), "--json").stdout)
    out = tmp_path / "back.txt"
    result = run("settlements", "original", doc["files"][0]["sha256"], "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == path.read_bytes()
    missing = run("settlements", "original", "0" * 64, "-o", str(tmp_path / "x"))
    assert missing.exit_code == 65 and not (tmp_path / "x").exists()


def test_large_files_get_a_progress_bar_on_a_terminal(monkeypatch):
    from gateway.cli import settlements as cli_settlements

    monkeypatch.setattr(cli_settlements, "PROGRESS_MIN_BYTES", 100)
    monkeypatch.setattr(cli_settlements.sys.stderr, "isatty", lambda: True, raising=False)
    path = INGEST_DATA / "overlap-a.txt"
    with cli_settlements._progress_bar(path) as progress:
        assert progress is not None
        progress(3)
        progress(5)
    monkeypatch.setattr(cli_settlements.sys.stderr, "isatty", lambda: False, raising=False)
    with cli_settlements._progress_bar(path) as progress:
        assert progress is None
