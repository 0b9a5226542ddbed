"""The command line: ``gateway reconcile``, ``gateway payments record``, ``gateway exceptions …``.

The operator is ``cli:<login name>`` (``LOGNAME`` here). Approving needs ``--approver NAME`` with that
account's password or API token: the command line never approves on the operator's word alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result

from gateway.access import users
from gateway.cli import main
from tests.exceptions.conftest import World

PASSWORD = "correct horse battery"
Run = Callable[..., Result]


@pytest.fixture
def run(cli_env: dict[str, str]) -> Run:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, operator: str = "kato") -> Result:
        env = {**cli_env, "LOGNAME": operator, "USER": operator}
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


def _json(result: Result) -> Any:
    return json.loads(result.stdout)


def test_reconcile_prints_what_the_run_changed(run: Run, world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", slip.barcode), world.rec("02", world.barcode()))
    result = run("reconcile", "--json", "--as-of", "2026-11-21")
    assert result.exit_code == 0, result.output
    doc = _json(result)
    assert {k: doc[k] for k in ("matched", "confirmed", "cancelled", "exceptions_opened")} == {
        "matched": 1,
        "confirmed": 1,
        "cancelled": 0,
        "exceptions_opened": 1,
    }
    assert (doc["by_kind"], doc["as_of"]) == ({"unknown_slip": 1}, "2026-11-21")
    again = _json(run("reconcile", "--json", "--as-of", "2026-11-21"))
    assert (again["matched"], again["exceptions_opened"], again["by_kind"]) == (0, 0, {})
    assert run("reconcile", "--json", "--as-of", "tomorrow").exit_code == 2


def test_list_and_show(run: Run, world: World, unknown: int) -> None:
    result = run("exceptions", "list", "--json", "--status", "open", "--kind", "unknown_slip")
    assert result.exit_code == 0, result.output
    doc = _json(result)
    assert doc["next"] is None
    assert [(i["id"], i["kind"], i["status"], i["amount"]) for i in doc["items"]] == [
        (unknown, "unknown_slip", "open", 12_000)
    ]
    shown = _json(run("exceptions", "show", str(unknown), "--json"))
    assert [a["action"] for a in shown["actions"]] == ["opened"]
    assert "unknown_slip" in run("exceptions", "list").stdout  # the text form
    missing = run("exceptions", "show", "999999", "--json")
    assert missing.exit_code == 65
    assert _json(missing)["error"]["code"] == "not_found"
    assert run("exceptions", "list", "--status", "closed").exit_code == 2


def test_four_eyes_on_the_command_line(run: Run, world: World, unknown: int) -> None:
    users.create_user(world.ctx, "appr-cli", "approver", PASSWORD)
    users.create_user(world.ctx, "fin-cli", "finance", PASSWORD)
    users.create_user(world.ctx, "kato", "approver", PASSWORD)  # the operator's own approver account
    token = users.issue_token(world.ctx, "appr-cli")
    ident = str(unknown)

    proposed = run(
        "exceptions",
        "resolve",
        ident,
        "--resolution",
        "matched_to_claim",
        "--claim",
        "C1",
        "--note",
        "payer phoned",
        "--json",
    )
    assert proposed.exit_code == 0, proposed.output
    assert (_json(proposed)["status"], _json(proposed)["proposed_by"]) == ("pending_approval", "cli:kato")

    assert run("exceptions", "approve", ident, "--json").exit_code == 2  # --approver is required
    wrong = run(
        "exceptions",
        "approve",
        ident,
        "--approver",
        "appr-cli",
        "--password-stdin",
        "--json",
        input="not the password\n",
    )
    assert (wrong.exit_code, _json(wrong)["error"]["code"]) == (65, "unauthorized")
    finance = run(
        "exceptions",
        "approve",
        ident,
        "--approver",
        "fin-cli",
        "--password-stdin",
        "--json",
        input=PASSWORD + "\n",
    )
    assert (finance.exit_code, _json(finance)["error"]["code"]) == (65, "forbidden")
    own = run(
        "exceptions",
        "approve",
        ident,
        "--approver",
        "kato",
        "--password-stdin",
        "--json",
        input=PASSWORD + "\n",
    )
    assert (own.exit_code, _json(own)["error"]["code"]) == (65, "four_eyes")
    # Another person's token names another account: refused.
    other = run(
        "exceptions", "approve", ident, "--approver", "kato", "--password-stdin", "--json", input=token + "\n"
    )
    assert other.exit_code == 65
    assert world.exc(unknown)["status"] == "pending_approval"

    approved = run(
        "exceptions",
        "approve",
        ident,
        "--approver",
        "appr-cli",
        "--password-stdin",
        "--note",
        "receipt seen",
        "--json",
        input=token + "\n",
    )
    assert approved.exit_code == 0, approved.output
    doc = _json(approved)
    assert (doc["status"], doc["proposed_by"], doc["resolved_by"]) == (
        "resolved",
        "cli:kato",
        "user:appr-cli",
    )
    last = doc["actions"][-1]
    assert (last["action"], last["actor"], last["note"], last["data"]["via"]) == (
        "approved",
        "user:appr-cli",
        "receipt seen",
        "cli:kato",
    )
    assert world.claim_doc("C1")["status"] == "paid"


def test_the_approver_prompt_reads_without_echo(run: Run, world: World, unknown: int) -> None:
    users.create_user(world.ctx, "appr-cli", "approver", PASSWORD)
    run(
        "exceptions",
        "resolve",
        str(unknown),
        "--resolution",
        "matched_to_claim",
        "--claim",
        "C1",
        "--note",
        "x",
    )
    result = run(
        "exceptions",
        "reject",
        str(unknown),
        "--approver",
        "appr-cli",
        "--note",
        "not C1",
        "--json",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.stdout
    assert _json(result)["status"] == "open"
    assert run("exceptions", "reject", str(unknown), "--approver", "appr-cli").exit_code == 2  # --note


def test_refund_unmatch_and_refunded(run: Run, world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    ident = str(paid_twice["overpayment"])
    result = run(
        "exceptions",
        "resolve",
        ident,
        "--resolution",
        "refund_due",
        "--note",
        "decision 2026-9",
        "--refund-decided-on",
        "2026-11-26",
        "--refund-amount",
        "12000",
        "--refund-fiscal-year",
        "2026",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert _json(result)["refund"]["status"] == "refund_due"
    too_much = run(
        "exceptions",
        "resolve",
        str(paid_twice["duplicate"]),
        "--resolution",
        "refund_due",
        "--note",
        "x",
        "--json",
    )
    assert (too_much.exit_code, _json(too_much)["error"]["code"]) == (65, "conflict")
    assert run("exceptions", "refunded", ident, "--json").exit_code == 2  # --on is required
    result = run("exceptions", "refunded", ident, "--on", "2026-11-27", "--json")
    assert result.exit_code == 0, result.output
    assert (_json(result)["refund"]["status"], _json(result)["refund"]["refunded_on"]) == (
        "refunded",
        "2026-11-27",
    )
    assert world.claim_doc("C1")["refund_due_amount"] == 0
    result = run("exceptions", "unmatch", ident, "--reason", "recorded on the wrong claim", "--json")
    assert result.exit_code == 0, result.output
    doc = _json(result)
    assert (doc["status"], doc["refund"]["status"]) == ("open", "undone")
    assert [a["action"] for a in doc["actions"]] == ["opened", "resolved", "refunded", "unmatched"]
    assert run("exceptions", "unmatch", ident, "--json").exit_code == 2  # --reason is required
    assert run("exceptions", "unmatch", ident, "--reason", "again", "--json").exit_code == 65


def test_a_counter_payment_pays_the_claim_and_blocks_a_new_slip(run: Run, world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    args = (
        "payments",
        "record",
        "--json",
        "--slip",
        slip.slip_number,
        "--amount",
        "12000",
        "--paid-on",
        "2026-11-26",
        "--channel",
        "window",
        "--reason",
        "counter receipt 0042",
    )
    result = run(*args)
    assert result.exit_code == 0, result.output
    doc = _json(result)
    assert (
        doc["state"],
        doc["channel_code"],
        doc["receipt_date"],
        doc["claim_status"],
        doc["exceptions"],
    ) == (
        "confirmed",
        "window",
        "2026-11-26",
        "paid",
        [],
    )
    assert doc["recorded_by"] == "cli:kato"
    assert world.claim_doc("C1")["slips"][0]["status"] == "paid"
    blocked = run("slips", "issue", "C1", "--json")
    assert (blocked.exit_code, _json(blocked)["error"]["code"]) == (65, "conflict")

    # The agent's record for the same slip arrives too: a duplicate payment, flagged for a person.
    world.at("2026-11-27T12:00")
    world.ingest(world.rec("02", slip.barcode, "2026-11-25T16:10"))
    world.reconcile("2026-11-27T12:01")
    (dup,) = world.exceptions("duplicate_payment")
    assert dup["amount"] == 12_000
    assert world.claim_doc("C1")["status"] == "overpaid"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"--channel": "konbini"}, 2),
        ({"--amount": "0"}, 2),
        ({"--paid-on": "2026-13-01"}, 2),
        ({"--paid-on": "2099-01-01"}, 65),
        ({"--slip": "2699999999999900-0"}, 65),
        ({"--slip": "not-a-slip"}, 65),
    ],
)
def test_manual_payment_input_errors(run: Run, world: World, changes: dict[str, str], code: int) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    options = {
        "--slip": slip.slip_number,
        "--amount": "12000",
        "--paid-on": "2026-11-26",
        "--channel": "bank",
        "--reason": "bank counter",
    }
    options.update(changes)
    result = run("payments", "record", "--json", *[part for pair in options.items() for part in pair])
    assert result.exit_code == code, result.output
    if code == 65:
        assert "error" in _json(result)
        assert result.stderr.startswith("error:")
    assert world.payments() == []
