"""``gateway agents …`` (collection agents) and ``gateway clients …`` (their API clients)."""

from __future__ import annotations

import datetime

import click

from gateway.access import agents as agent_service
from gateway.access import clients as client_service
from gateway.cli import emit
from gateway.cli import handles_errors
from gateway.cli import json_option
from gateway.cli import main
from gateway.cli import service_context
from gateway.cli.claims import DATE


def _codes(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@main.group()
def agents() -> None:
    """Contracted collection agents (収納代行会社)."""


@agents.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The agent's name.")
@click.option("--adapters", help="File formats it delivers, comma-separated (default: every payment format).")
@click.option("--remittance", type=click.Choice(("gross", "net")), default="gross", show_default=True)
@click.option("--fee-per-item", type=click.IntRange(min=0), help="Fee per item in yen.")
@click.option("--tax-rate", metavar="PCT", help="Consumption tax on the fee in percent, e.g. 10.")
@click.option(
    "--fee-valid-from", type=DATE, help="First day the fee applies (default: delegation date, else today)."
)
@click.option("--fee-channel", metavar="CODE", help="The fee applies to this channel only.")
@click.option(
    "--channels", help="Enabled channel codes, comma-separated, e.g. 0010,0020,0820 (default: none)."
)
@click.option("--remitter-name", help="The name its remittances carry on bank statements.")
@click.option(
    "--delegation-basis",
    type=click.Choice(("art78_3", "designated")),
    default="designated",
    show_default=True,
)
@click.option("--delegation-date", type=DATE, help="Date of the delegation (委託) decision or contract.")
@click.option(
    "--consignor-code", help="The office's consignor code with this agent (default GATEWAY_CONSIGNOR_CODE)."
)
@click.option("--disabled", is_flag=True, help="Register it disabled (files and posts refused).")
@click.option(
    "--adapter-option",
    "adapter_options",
    multiple=True,
    metavar="ADAPTER.OPTION=VALUE",
    help="An option of an adapter for this agent's files, e.g. dsk_csv.record_type_81=skip (repeatable).",
)
@json_option
@handles_errors
def agents_add(
    code: str,
    name: str,
    adapters: str | None,
    remittance: str,
    fee_per_item: int | None,
    tax_rate: str | None,
    fee_valid_from: datetime.date | None,
    fee_channel: str | None,
    channels: str | None,
    remitter_name: str | None,
    delegation_basis: str,
    delegation_date: datetime.date | None,
    consignor_code: str | None,
    disabled: bool,
    adapter_options: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a collection agent by its 5-digit CODE (barcode positions 4-8)."""
    data = agent_service.AgentInput(
        code=code,
        name=name,
        adapters=_codes(adapters),
        remittance_mode=remittance,
        fee_per_item=fee_per_item,
        tax_rate=tax_rate,
        fee_valid_from=fee_valid_from,
        fee_channel=fee_channel,
        channels=_codes(channels) or (),
        remitter_name=remitter_name,
        delegation_basis=delegation_basis,
        delegation_date=delegation_date,
        consignor_code=consignor_code,
        enabled=not disabled,
        adapter_options=agent_service.parse_adapter_options(adapter_options),
    )
    with service_context() as ctx:
        agent = agent_service.add_agent(ctx, data)
        doc = agent_service.agent_json(ctx, agent)
    emit(doc, as_json, f"agent {doc['code']} ({doc['name']}) registered")


@agents.command("set-options")
@click.argument("code")
@click.argument("options", nargs=-1, required=True, metavar="ADAPTER.OPTION=VALUE...")
@json_option
@handles_errors
def agents_set_options(code: str, options: tuple[str, ...], as_json: bool) -> None:
    """Set options of the adapters reading agent CODE's files, e.g. dsk_csv.record_type_81=skip.

    Options not named keep their value; an option set back to its default (dsk_csv.record_type_81=reject)
    is stored as given.
    """
    parsed = agent_service.parse_adapter_options(options)
    with service_context() as ctx:
        agent = agent_service.set_adapter_options(ctx, code, parsed)
        doc = agent_service.agent_json(ctx, agent)
    emit(doc, as_json, f"agent {doc['code']}: adapter options {doc['adapter_options']}")


@agents.command("list")
@json_option
@handles_errors
def agents_list(as_json: bool) -> None:
    """Every registered agent with its fees."""
    with service_context() as ctx:
        docs = [agent_service.agent_json(ctx, a) for a in agent_service.list_agents(ctx)]
    emit(
        {"items": docs},
        as_json,
        lambda: "\n".join(
            f"{d['code']}  {d['name']}  {','.join(d['adapters'])}  {d['remittance_mode']}"
            f"  {'enabled' if d['enabled'] else 'disabled'}"
            for d in docs
        ),
    )


@main.group("clients")
def clients_group() -> None:
    """Agent API clients (signed requests)."""


@clients_group.command("create")
@click.argument("name")
@click.option("--agent", "agent_code", metavar="CODE", help="The agent the client posts for.")
@json_option
@handles_errors
def clients_create(name: str, agent_code: str | None, as_json: bool) -> None:
    """Create an API client; its key id and secret are printed once."""
    with service_context() as ctx:
        client, secret = client_service.create_client(ctx, name, agent_code)
    emit(
        {"key_id": client.key_id, "secret": secret},
        as_json,
        f"key id: {client.key_id}\nsecret: {secret}\n(the secret is shown only now)",
    )


@clients_group.command("revoke")
@click.argument("key_id")
@json_option
@handles_errors
def clients_revoke(key_id: str, as_json: bool) -> None:
    """Revoke an API client: its signatures are refused from now on."""
    with service_context() as ctx:
        client = client_service.revoke_client(ctx, key_id)
    emit({"key_id": client.key_id, "revoked": True}, as_json, f"client {client.key_id} revoked")
