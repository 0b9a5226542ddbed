"""Each rule's SQL says what its Python predicate says: both are run on the same generated rows (SQLite, and
PostgreSQL when GATEWAY_TEST_DATABASE_URL is set, as tests/conftest.py picks the database).

The rows live in temporary tables named like the real ones (``payments``, ``slips``, ``agents``, ``claims``,
``settlement_records``), which hide the real tables inside the test's transaction; it is rolled back."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from reconciliation import rules

D = datetime.date
EXPIRY = D(2027, 1, 14)
OFFICE = ("919123", "45001")


@pytest.fixture
def conn(db_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(db_url)
    with engine.connect() as connection:
        connection.begin()
        yield connection
        connection.rollback()
    engine.dispose()


def _table(conn: sa.Connection, name: str, rows: list[dict[str, Any]]) -> None:
    """A temporary table ``name`` holding ``rows`` (their keys are its columns; ``id`` is the key)."""
    types = {bool: "BOOLEAN", int: "BIGINT", str: "VARCHAR(40)", D: "DATE"}
    columns = [
        f"{c} {types[next(type(r[c]) for r in rows if r[c] is not None)]}"
        + (" PRIMARY KEY" if c == "id" else "")
        for c in rows[0]
    ]
    conn.execute(sa.text(f"CREATE TEMP TABLE {name} ({', '.join(columns)})"))
    date_binds = [sa.bindparam(c, type_=sa.Date()) for c in rows[0] if isinstance(rows[0][c], D)]
    insert = sa.text(
        f"INSERT INTO {name} ({', '.join(rows[0])}) VALUES ({', '.join(':' + c for c in rows[0])})"
    )
    conn.execute(insert.bindparams(*date_binds), rows)


def _world(conn: sa.Connection) -> dict[int, dict[str, Any]]:
    """Payments over every combination that matters to the payment rules, with a slip and an agent or
    without; returns each payment's row as the predicates read it (``p.``, ``s.``, ``a.`` names)."""
    slips = [
        {
            "id": i,
            "amount": amount,
            "barcode_expiry": expiry,
            "status": status,
            "void_reason": "x",
            "due_date": D(2026, 12, 15),
        }
        for i, (amount, expiry, status) in enumerate(
            itertools.product((12_000, 12_500), (EXPIRY, None), ("issued", "paid", "void")), start=1
        )
    ]
    agents = [
        {"id": i, "channels": c} for i, c in enumerate(("0010,0020", "0010", "0820,0010,0020"), start=1)
    ]
    payments: list[dict[str, Any]] = []
    for source, amount, paid, channel, slip, agent in itertools.product(
        ("agent", "manual", "matched"),
        (12_000, 12_500),
        (EXPIRY - datetime.timedelta(days=1), EXPIRY, EXPIRY + datetime.timedelta(days=1)),
        ("0010", "0820", "001"),
        [None, *slips],
        [None, *agents],
    ):
        payments.append(
            {
                "id": len(payments) + 1,
                "source": source,
                "amount": amount,
                "paid_date": paid,
                "channel_code": channel,
                "slip_id": slip and slip["id"],
                "agent_id": agent and agent["id"],
            }
        )
    # a slip with an expiry in the first row, for the column's type
    _table(conn, "slips", sorted(slips, key=lambda s: s["barcode_expiry"] is None))
    _table(conn, "agents", agents)
    _table(conn, "payments", payments)
    by_id = {s["id"]: s for s in slips}
    agent_by_id = {a["id"]: a for a in agents}
    rows = {}
    for p in payments:
        slip, agent = by_id.get(p["slip_id"]), agent_by_id.get(p["agent_id"])
        row = {f"p.{k}": v for k, v in p.items()}
        row |= {f"s.{k}": (slip or {}).get(k) for k in slips[0]}
        row |= {f"a.{k}": (agent or {}).get(k) for k in agents[0]}
        rows[p["id"]] = row
    return rows


def _ids(conn: sa.Connection, sql: str, **params: Any) -> set[int]:
    return set(conn.execute(sa.text(sql), params).scalars())


@pytest.mark.parametrize("rule", rules.PAYMENT_RULES, ids=lambda r: r.kind)
def test_each_payment_rule_sql_agrees_with_its_predicate(
    conn: sa.Connection, rule: rules.PaymentRule
) -> None:
    rows = _world(conn)
    by_sql = _ids(conn, f"SELECT p.id FROM payments p JOIN {rules.JOINS[rule.reads]} WHERE {rule.condition}")
    by_python = {i for i, row in rows.items() if rule.predicate(row)}
    assert by_sql == by_python
    assert by_python and len(by_python) < len(rows)  # the rows tell the two outcomes apart


def test_the_prefilter_finds_exactly_the_payments_some_rule_raises_for(conn: sa.Connection) -> None:
    rows = _world(conn)
    joins = " ".join(f"LEFT JOIN {j}" for j in rules.JOINS.values())
    by_sql = _ids(conn, f"SELECT p.id FROM payments p {joins} WHERE {rules.suspects_condition()}")
    assert by_sql == {i for i, row in rows.items() if any(r.predicate(row) for r in rules.PAYMENT_RULES)}


def test_revenue_year_sql_agrees_with_revenue_year(conn: sa.Connection) -> None:
    claims = [{"id": i, "fiscal_year": year} for i, year in enumerate(range(2023, 2029), start=1)]
    _table(conn, "claims", claims)
    receipts = [D(2027, m, d) for m, d in ((3, 31), (4, 1), (4, 30), (5, 31), (6, 1), (12, 31))] + [
        D(2028, 1, 5)
    ]
    for receipt in receipts:
        fiscal, arrears, params = rules.revenue_year_sql(receipt, "c.fiscal_year")
        got = conn.execute(
            sa.text(f"SELECT c.fiscal_year, {fiscal}, {arrears} FROM claims c ORDER BY c.id"), params
        ).all()
        for claim_year, year, late in got:
            assert rules.RevenueYear(int(year), bool(late)) == rules.revenue_year(receipt, claim_year), (
                receipt
            )


def test_lateness_and_ageing_sql_agree_with_their_rules(conn: sa.Connection) -> None:
    rows = _world(conn)
    late = dict(
        conn.execute(
            sa.text(
                f"SELECT p.id, {rules.is_late_sql('p', 's')} "
                "FROM payments p JOIN slips s ON s.id = p.slip_id "
                "WHERE s.barcode_expiry IS NOT NULL"
            )
        ).all()
    )
    assert late and all(
        bool(v) == rules.is_late(rows[i]["p.paid_date"], rows[i]["s.due_date"], rows[i]["s.barcode_expiry"])
        for i, v in late.items()
    )
    states = [
        {"id": i, "state": s, "source": src, "paid_date": D(2026, 11, d)}
        for i, (s, src, d) in enumerate(
            itertools.product(("preliminary", "confirmed"), ("agent", "matched"), range(1, 20)), start=1
        )
    ]
    conn.execute(sa.text("DROP TABLE payments"))
    _table(conn, "payments", states)
    as_of, days = D(2026, 11, 16), 14
    cutoff = sa.bindparam("cutoff", rules.unconfirmed_cutoff(as_of, days), type_=sa.Date())
    by_sql = set(
        conn.execute(
            sa.text(f"SELECT p.id FROM payments p WHERE {rules.UNCONFIRMED_SQL}").bindparams(cutoff)
        ).scalars()
    )
    by_python = {
        p["id"]
        for p in states
        if p["state"] == "preliminary"
        and p["source"] == "agent"
        and rules.unconfirmed_too_long(p["paid_date"], as_of, days)
    }
    assert by_sql == by_python and by_python


def test_unknown_slip_sql_agrees_with_its_predicate(conn: sa.Connection) -> None:
    _table(conn, "slips", [{"id": 1, "payment_number": "0001"}, {"id": 2, "payment_number": "0002"}])
    records = [
        {"id": i, "issuer_prefix": prefix, "consignor_code": consignor, "payment_number": number}
        for i, (prefix, consignor, number) in enumerate(
            itertools.product(("919123", "919290"), ("45001", "23252"), ("0001", "0002", "0003")), start=1
        )
    ]
    _table(conn, "settlement_records", records)
    by_sql = _ids(
        conn,
        f"SELECT r.id FROM settlement_records r WHERE {rules.UNKNOWN_SLIP_CONDITION}",
        prefix=OFFICE[0],
        consignor=OFFICE[1],
    )
    rows = {r["id"]: {f"r.{k}": v for k, v in r.items()} for r in records}
    assert by_sql == {i for i, row in rows.items() if rules.unknown_slip(row, OFFICE, ("0001", "0002"))}


def test_confirmation_differs_sql_agrees_with_its_predicate(conn: sa.Connection) -> None:
    values = list(itertools.product((20_000, 19_000), (D(2026, 12, 1), D(2026, 12, 2))))
    sides = [{"id": i, "amount": amount, "paid_date": day} for i, (amount, day) in enumerate(values, start=1)]
    _table(conn, "payments", sides)
    _table(conn, "settlement_records", sides)
    by_sql = set(
        conn.execute(
            sa.text(
                f"SELECT p.id, r.id FROM payments p, settlement_records r WHERE {rules.CONFIRMATION_DIFFERS}"
            )
        ).all()
    )
    rows = {
        (p["id"], r["id"]): {**{f"p.{k}": v for k, v in p.items()}, **{f"r.{k}": v for k, v in r.items()}}
        for p in sides
        for r in sides
    }
    assert by_sql == {pair for pair, row in rows.items() if rules.confirmation_differs(row)}
    assert len(by_sql) == len(rows) - len(sides)  # only a side paired with itself agrees


def test_leftover_cancellation_sql_agrees_with_its_predicate(conn: sa.Connection) -> None:
    numbers = [f"{n:04d}" for n in range(1, 9)]
    payments = [
        {"id": i, "payment_number": number, "state": state, "source": source}
        for i, (number, state, source) in enumerate(
            zip(
                numbers,
                itertools.cycle(("confirmed", "preliminary", "cancelled")),
                itertools.cycle(("agent", "manual")),
            ),
            start=1,
        )
    ]
    slips = [{"id": i, "payment_number": number} for i, number in enumerate(numbers[::2], start=1)]
    _table(conn, "payments", payments)
    _table(conn, "slips", slips)
    _table(
        conn, "settlement_records", [{"id": i, "payment_number": n} for i, n in enumerate(numbers, start=1)]
    )
    confirmed = [p["payment_number"] for p in payments if (p["state"], p["source"]) == ("confirmed", "agent")]
    ours = [s["payment_number"] for s in slips]
    for kind, condition in (
        ("cancel_after_confirmation", rules.CANCEL_AFTER_CONFIRMATION),
        ("cancel_without_preliminary", rules.CANCEL_WITHOUT_PRELIMINARY),
    ):
        by_sql = set(
            conn.execute(
                sa.text(f"SELECT r.payment_number FROM settlement_records r WHERE {condition}")
            ).scalars()
        )
        by_python = {n for n in numbers if rules.leftover_cancellation(confirmed, ours, n) == kind}
        assert by_sql == by_python and by_python, kind
