"""委託徴収(収納)計算書: fee and tax arithmetic on known numbers, the three-way match's credits, the CSV."""

from __future__ import annotations

import datetime

import pytest
from sqlmodel import select

from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.reporting import office
from tests.reports.conftest import AGENT
from tests.reports.conftest import DAY2
from tests.reports.conftest import Week
from tests.reports.office_day import DATA
from tests.reports.office_day import regenerate

D = datetime.date


@pytest.fixture
def both_days(week: Week) -> Week:
    week.day1()
    week.day2()
    return week


def test_statement_of_the_week(both_days: Week) -> None:
    doc = office.agent_statement(both_days.ctx, AGENT, D(2026, 12, 1), D(2026, 12, 31))
    (day,) = doc.days
    assert day.transfer_date == DAY2
    # A 12,000 (0020), B 10,000 and G 6,000 (0010): three items at 130 yen, 10 % tax, net remittance
    assert [(ln.channel_code, ln.records, ln.amount, ln.fees) for ln in day.lines] == [
        ("0010", 2, 16_000, 260),
        ("0020", 1, 12_000, 130),
    ]
    assert (day.records, day.gross, day.fees, day.fee_tax, day.net, day.expected) == (
        3, 28_000, 390, 39, 27_571, 27_571,
    )  # fmt: skip
    assert day.status == "matched"
    assert [(c.value_date, c.inquiry_number, c.credited) for c in day.credits] == [(DAY2, "101", 27_571)]
    assert (day.credited, day.difference) == (27_571, 0)
    assert doc.total("expected") == 27_571 and doc.total("difference") == 0


def test_fee_and_tax_per_channel_and_rate(both_days: Week) -> None:
    """A channel-specific fee at another tax rate: tax is rounded down per rate on that rate's fee total."""
    ctx = both_days.ctx
    agent = ctx.session.exec(select(Agent).where(Agent.code == AGENT)).one()
    ctx.session.add(
        AgentFee(
            agent_id=agent.id, channel_code="0010", fee_per_item=55, tax_rate_bp=800, valid_from=D(2026, 4, 1)
        )
    )
    ctx.session.commit()
    (day,) = office.agent_statement(ctx, AGENT, D(2026, 12, 1), D(2026, 12, 31)).days
    assert [(ln.channel_code, ln.fee_per_item, ln.tax_rate_bp, ln.fees) for ln in day.lines] == [
        ("0010", 55, 800, 110),  # B and G: 2 × 55
        ("0020", 130, 1000, 130),  # A
    ]
    # 110 × 8 % = 8.8 → 8; 130 × 10 % = 13; net = 28,000 − 240 − 21
    assert (day.fees, day.fee_tax, day.net, day.expected) == (240, 21, 27_739, 27_739)
    # The bank credited 27,571: the statement shows the difference (the match itself is reconciliation's).
    assert (day.credited, day.difference) == (27_571, 168)


def test_period_bounds_and_unknown_agent(both_days: Week) -> None:
    ctx = both_days.ctx
    assert office.agent_statement(ctx, AGENT, D(2026, 12, 5), D(2026, 12, 31)).days == ()
    assert len(office.agent_statement(ctx, AGENT, DAY2, DAY2).days) == 1
    with pytest.raises(NotFound) as missing:
        office.agent_statement(ctx, "99999", DAY2, DAY2)
    assert missing.value.field == "agent"
    with pytest.raises(InvalidInput) as reversed_period:
        office.agent_statement(ctx, AGENT, DAY2, D(2026, 12, 1))
    assert reversed_period.value.field == "date_to"
    with pytest.raises(InvalidInput):
        office.agent_statement(ctx, AGENT, D(2026, 1, 1), D(2027, 1, 2))


def test_csv_golden(both_days: Week) -> None:
    doc = office.agent_statement(both_days.ctx, AGENT, D(2026, 12, 1), D(2026, 12, 31))
    golden = DATA / "week.statement-12345-202612.csv"
    regenerate(golden, office.statement_csv(doc))
    assert office.statement_csv(doc) == golden.read_bytes()
    rows = golden.read_bytes().decode("utf-8-sig").splitlines()
    assert rows[-1].startswith("12345,合計,,,3,28000,,390,,39,27571,27571,,,27571,0")
