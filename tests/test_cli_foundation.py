"""The ``gateway`` command line: JSON shapes, exit codes, located errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

CLAIM_ARGS = [
    "claims",
    "create",
    "--json",
    "--number",
    "C-1",
    "--legal-basis",
    "art63",
    "--amount",
    "12000",
    "--fiscal-year",
    "2026",
    "--debtor-ref",
    "D-1",
    "--debtor-name",
    "見本 一郎",
    "--postal-code",
    "999-0001",
    "--debtor-address",
    "見本県見本市1-1",
    "--decided-on",
    "2026-11-01",
]


@pytest.fixture
def run(cli_env):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), env=cli_env, input=input, catch_exceptions=False)

    return invoke


def test_claims_create_prints_the_claim(run):
    result = run(*CLAIM_ARGS)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {
        "number",
        "legal_basis",
        "amount",
        "fiscal_year",
        "status",
        "paid_amount",
        "pending_amount",
        "balance",
        "refund_due_amount",
        "slips",
        "payments",
    } <= doc.keys()
    assert (doc["number"], doc["amount"], doc["status"]) == ("C-1", 12000, "open")


def test_rejected_input_exits_65_with_the_field_on_stderr(run):
    run(*CLAIM_ARGS)
    result = run(*CLAIM_ARGS)
    assert result.exit_code == 65
    assert "field number" in result.stderr
    assert json.loads(result.stdout)["error"]["code"] == "conflict"


def test_usage_errors_exit_2(run):
    assert run("claims", "create", "--number", "x").exit_code == 2
    assert run("claims", "create", *CLAIM_ARGS[2:], "--legal-basis", "art99").exit_code == 2


def test_slips_issue_reissue_void_render(run, tmp_path: Path):
    run(*CLAIM_ARGS)
    result = run("slips", "issue", "C-1", "--json", "--instalments", "2")
    assert result.exit_code == 0, result.output
    slips = json.loads(result.stdout)["slips"]
    assert [s["amount"] for s in slips] == [6000, 6000]
    number = slips[0]["slip_number"]
    assert json.loads(run("slips", "reissue", number, "--json").stdout)["reissue_count"] == 1
    new_number = number[:-1] + "1"
    for suffix, magic in ((".pdf", b"%PDF"), (".svg", b"<svg"), (".png", b"\x89PNG")):
        out = tmp_path / f"slip{suffix}"
        assert run("slips", "render", new_number, "-o", str(out)).exit_code == 0
        assert magic in out.read_bytes()[:200]
    bad = run("slips", "render", new_number, "-o", str(tmp_path / "slip.txt"))
    assert bad.exit_code == 65
    voided = run("slips", "void", new_number, "--reason", "test", "--json")
    assert json.loads(voided.stdout)["status"] == "void"


def _claim(number: str, amount: str = "12000") -> list[str]:
    args = [number if a == "C-1" else a for a in CLAIM_ARGS]
    return [amount if a == "12000" else a for a in args]


def test_slips_issue_for_many_claims_is_one_batch_all_or_nothing(run):
    for number in ("C-1", "C-2"):
        assert run(*_claim(number)).exit_code == 0
    assert run(*_claim("C-3", "700000")).exit_code == 0  # above the cap in one slip
    refused = run("slips", "issue", "C-1", "C-2", "C-3", "--json")
    assert refused.exit_code == 65
    details = json.loads(refused.stdout)["error"]["details"]
    assert (details["claim"], details["refused"]) == ("C-3", 1)
    assert details["errors"][0]["details"]["smallest_k"] == 3
    assert json.loads(run("claims", "show", "C-1", "--json").stdout)["slips"] == []  # nothing stored
    issued = run("slips", "issue", "C-1", "C-2", "--json")
    assert issued.exit_code == 0, issued.output
    assert sorted(s["slip_number"][:-2] for s in json.loads(issued.stdout)["slips"]) == [
        json.loads(run("claims", "show", n, "--json").stdout)["slips"][0]["payment_number"]
        for n in ("C-1", "C-2")
    ]
    again = run("slips", "issue", "C-1", "C-2", "C-3", "--without-slips", "--instalments", "3", "--json")
    assert again.exit_code == 0, again.output
    # spec: floor(balance / K) each, the remainder on the last
    assert [s["amount"] for s in json.loads(again.stdout)["slips"]] == [233333, 233333, 233334]


def test_cap_refusal_names_the_smallest_k(run):
    run(*[a if a != "12000" else "700000" for a in CLAIM_ARGS])
    result = run("slips", "issue", "C-1", "--json")
    assert result.exit_code == 65
    assert json.loads(result.stdout)["error"]["details"]["smallest_k"] == 3
    assert "field amount" in result.stderr


def test_claims_import_all_or_nothing(run, tmp_path: Path):
    good = Path(__file__).parent / "data" / "claims" / "sample.csv"
    result = run("claims", "import", str(good), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 4
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("R08-10003,art77_2,86400", "R08-10009,art77_2,86x00"))
    result = run("claims", "import", str(bad), "--json")
    assert result.exit_code == 65
    assert "bad.csv:4: field amount" in result.stderr


def test_users_and_tokens(run):
    result = run(
        "users",
        "create",
        "alice",
        "--role",
        "finance",
        "--password-stdin",
        "--json",
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    token = json.loads(run("users", "token", "alice", "--json").stdout)["token"]
    assert token.startswith("kgw_")
    assert run("users", "create", "bob", "--role", "janitor").exit_code == 2


def test_audit_verify(run):
    run(*CLAIM_ARGS)
    result = run("audit", "verify", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["ok"] is True


def test_claims_show_unknown_is_65(run):
    result = run("claims", "show", "NOPE", "--json")
    assert result.exit_code == 65
    assert json.loads(result.stdout)["error"]["code"] == "not_found"
