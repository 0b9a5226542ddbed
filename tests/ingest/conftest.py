"""Fixtures of the ingestion tests: registered agents, API clients, row counts across settlement tables."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.access import agents as agent_service
from gateway.context import Context
from gateway.models import Agent
from tests.shared_files import PUBLIC_SAMPLE  # noqa: F401  (used by the ingestion tests)

ADAPTER_DATA = Path(__file__).parents[1] / "data" / "adapters"
INGEST_DATA = Path(__file__).parents[1] / "data" / "ingest"
SETTLEMENT_TABLES = (
    "settlement_files",
    "settlement_batches",
    "settlement_records",
    "unreconciled_records",
    "bank_records",
    "used_signatures",
)


def add_agent(ctx: Context, code: str = "12345", **changes: object) -> Agent:
    values: dict[str, object] = {
        "code": code,
        "name": f"見本収納代行{code}",
        "adapters": ("fixed120", "dsk_csv", "mizuho120"),
        "channels": ("0010", "0020", "0030", "0820"),
        "remitter_name": "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ",
        "fee_per_item": 55,
        "tax_rate": "10",
        "fee_valid_from": datetime.date(2026, 4, 1),
    }
    values.update(changes)
    return agent_service.add_agent(ctx, agent_service.AgentInput(**values))  # type: ignore[arg-type]


@pytest.fixture
def agent(ctx: Context) -> Agent:
    """This office's agent 12345 (consignor 00123), configured for fixed120 and dsk_csv."""
    return add_agent(ctx)


@pytest.fixture
def counts(ctx: Context) -> Callable[[], dict[str, int]]:
    """Row counts of every settlement table (to prove a rejected file stored nothing)."""

    def count() -> dict[str, int]:
        ctx.session.commit()
        return {
            table: ctx.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in SETTLEMENT_TABLES
        }

    return count
