"""Agents (registration, validation, fees) and API clients (secrets encrypted, revocation)."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa

from gateway.access import agents as agent_service
from gateway.access import clients as client_service
from gateway.errors import Conflict
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import AgentFee
from gateway.models import ApiClient
from tests.ingest.conftest import add_agent


def test_agent_defaults_and_json(ctx):
    agent = agent_service.add_agent(ctx, agent_service.AgentInput(code="12345", name="見本収納代行"))
    doc = agent_service.agent_json(ctx, agent)
    assert doc == {
        "code": "12345",
        "name": "見本収納代行",
        "adapters": ["dsk_csv", "fixed120", "mizuho120"],  # every agent payment-file format
        "delegation_basis": "designated",
        "delegation_date": None,
        "remitter_name": None,
        "remittance_mode": "gross",
        "channels": [],
        "consignor_code": "00123",  # GATEWAY_CONSIGNOR_CODE
        "enabled": True,
        "adapter_options": {},
        "fees": [],
    }


def test_agent_with_fee_channels_and_delegation(ctx):
    agent = add_agent(
        ctx,
        channels=("010", "0820", "0010"),
        remittance_mode="net",
        delegation_basis="art78_3",
        delegation_date=datetime.date(2026, 4, 1),
        fee_valid_from=None,
        tax_rate="8",
    )
    doc = agent_service.agent_json(ctx, agent)
    assert doc["channels"] == ["0010", "0820"]
    assert (doc["remittance_mode"], doc["delegation_basis"], doc["delegation_date"]) == (
        "net",
        "art78_3",
        "2026-04-01",
    )
    # without --fee-valid-from the fee applies from the delegation date
    assert doc["fees"] == [
        {"channel_code": None, "fee_per_item": 55, "tax_rate_bp": 800, "valid_from": "2026-04-01"}
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"code": "1234"}, "code"),
        ({"code": "12a45"}, "code"),
        ({"name": "  "}, "name"),
        ({"adapters": ("zengin_transfer",)}, "adapters"),
        ({"adapters": ("nope",)}, "adapters"),
        ({"remittance_mode": "half"}, "remittance_mode"),
        ({"delegation_basis": "art99"}, "delegation_basis"),
        ({"channels": ("12345",)}, "channels"),
        ({"tax_rate": "ten"}, "tax_rate"),
        ({"tax_rate": "10.005"}, "tax_rate"),
        ({"tax_rate": "101"}, "tax_rate"),
        ({"fee_per_item": -1}, "fee_per_item"),
        ({"tax_rate": None}, "fee_per_item"),
        ({"consignor_code": "0012"}, "consignor_code"),
        ({"fee_channel": "99999"}, "fee_channel"),
    ],
)
def test_invalid_agents_are_refused_naming_the_field(ctx, changes, field):
    with pytest.raises(InvalidInput) as info:
        add_agent(ctx, **changes)
    assert info.value.field == field
    assert agent_service.list_agents(ctx) == []


def test_duplicate_agent_code_conflicts(ctx):
    add_agent(ctx)
    with pytest.raises(Conflict):
        add_agent(ctx, name="other")


def test_fee_for_prefers_the_channel_row_and_the_latest_valid_from(ctx):
    agent = add_agent(ctx)  # 55 yen, 10 %, from 2026-04-01, every channel
    agent_service.add_fee(ctx, "12345", fee_per_item=60, tax_rate="10", valid_from=datetime.date(2026, 10, 1))
    agent_service.add_fee(
        ctx, "12345", fee_per_item=40, tax_rate="10", valid_from=datetime.date(2026, 6, 1), channel="820"
    )
    d = datetime.date
    assert agent_service.fee_for(ctx, agent, "0010", d(2026, 3, 31)) == (0, 0)
    assert agent_service.fee_for(ctx, agent, "0010", d(2026, 4, 1)) == (55, 1000)
    assert agent_service.fee_for(ctx, agent, "0010", d(2026, 10, 1)) == (60, 1000)
    assert agent_service.fee_for(ctx, agent, "0820", d(2026, 5, 31)) == (55, 1000)
    assert agent_service.fee_for(ctx, agent, "0820", d(2026, 11, 27)) == (40, 1000)
    rows = ctx.session.execute(sa.select(sa.func.count()).select_from(AgentFee)).scalar_one()
    assert rows == 3


def test_client_secret_is_stored_encrypted_and_shown_once(ctx, agent):
    client, secret = client_service.create_client(ctx, "agent system", "12345")
    ctx.session.commit()
    row = ctx.session.execute(sa.select(ApiClient).where(ApiClient.key_id == client.key_id)).scalar_one()
    assert secret not in row.enc_secret
    assert ctx.keys.decrypt_secret(row.enc_secret, row.key_id) == secret
    assert row.agent_id == agent.id and row.key_id.startswith("kgc_")


def test_client_for_unknown_agent_and_revocation(ctx, agent):
    with pytest.raises(NotFound):
        client_service.create_client(ctx, "x", "99999")
    client, _ = client_service.create_client(ctx, "x", "12345")
    revoked = client_service.revoke_client(ctx, client.key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(Conflict):
        client_service.revoke_client(ctx, client.key_id)
    with pytest.raises(NotFound):
        client_service.revoke_client(ctx, "kgc_nope")
