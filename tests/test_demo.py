"""The synthetic demo fills every page with something to look at, and only an empty database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway import audit
from gateway.errors import Conflict
from gateway.operations import demo


def test_demo_replays_five_weeks(ctx, tmp_path):
    result = demo.build(ctx, folder=tmp_path)
    count = lambda table: ctx.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: E731
    assert count("claims") == 60
    assert count("users") == 6
    assert count("settlement_records") > 50
    assert count("payments") > 30
    kinds = set(ctx.session.execute(sa.text("SELECT DISTINCT kind FROM recon_exceptions")).scalars())
    assert {"unknown_slip", "remittance_mismatch", "unconfirmed_preliminary"} <= kinds
    statuses = set(ctx.session.execute(sa.text("SELECT DISTINCT status FROM claims")).scalars())
    assert {"open", "paid"} <= statuses
    matched = ctx.session.execute(
        sa.text("SELECT count(*) FROM remittances WHERE status = 'matched'")
    ).scalar_one()
    assert matched > 0
    assert result["login"]["user"] == "demo-finance"
    assert audit.verify(ctx.session).ok
    with pytest.raises(Conflict):
        demo.build(ctx, folder=tmp_path)
