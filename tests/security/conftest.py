"""Fixtures shared by the security tests that post signed settlement batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from tests.ingest.conftest import SETTLEMENT_TABLES
from tests.ingest.conftest import add_agent
from tests.ingest.test_api import Signer
from tests.ingest.test_api import _signer


@pytest.fixture
def agent_client(ctx: Any, client: Any, clock: Any) -> Signer:
    """Agent 12345 and a signing API client of it."""
    add_agent(ctx)
    return _signer(ctx, client, clock)


@pytest.fixture
def rows(ctx: Any) -> Callable[[], dict[str, int]]:
    """Row counts of the settlement tables."""

    def count() -> dict[str, int]:
        ctx.session.commit()
        return {
            t: ctx.session.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in SETTLEMENT_TABLES
        }

    return count
