"""Each rule's SQL says what its Python predicate says: both are run on the same generated rows (SQLite, and
PostgreSQL when GATEWAY_TEST_DATABASE_URL is set, as tests/conftest.py picks the database). :data:`WORLDS`
holds, for every declaration of :data:`rules.RULES`, the rows it is checked on; one test runs them all.

The rows live in temporary tables named like the real ones (``payments``, ``slips``, ``agents``, ``claims``,
``settlement_records``), which hide the real tables inside the test's transaction; it is rolled back."""

from __future__ import annotations

import datetime
import importlib
import inspect
import itertools
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
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
        ("0010", "0820", "001", rules.BANK_COUNTER),
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


@dataclass
class World:
    """Rows a declaration is checked on: ``rows`` maps what ``names`` (SQL over the rule's source) selects
    for a row to the :data:`rules.Row` its predicate reads and the predicate's further arguments."""

    names: str
    rows: dict[tuple[Any, ...], tuple[rules.Row, tuple[Any, ...]]]
    params: dict[str, Any] = field(default_factory=dict)


def _payment_world(conn: sa.Connection) -> list[World]:
    return [World("p.id", {(i,): (row, ()) for i, row in _world(conn).items()})]


def _unknown_world(conn: sa.Connection) -> list[World]:
    _table(conn, "slips", [{"id": 1, "payment_number": "0001"}, {"id": 2, "payment_number": "0002"}])
    records = [
        {"id": i, "issuer_prefix": prefix, "consignor_code": consignor, "payment_number": number}
        for i, (prefix, consignor, number) in enumerate(
            itertools.product(("919123", "919290"), ("45001", "23252"), ("0001", "0002", "0003")), start=1
        )
    ]
    _table(conn, "settlement_records", records)
    rows = {(r["id"],): ({f"r.{k}": v for k, v in r.items()}, (OFFICE, ("0001", "0002"))) for r in records}
    return [World("r.id", rows, {"prefix": OFFICE[0], "consignor": OFFICE[1]})]


def _duplicate_world(conn: sa.Connection) -> list[World]:
    """Payments of two numbers (and none), in every state and source, in an order that puts each kind of
    payment first for some number."""
    combos = list(
        itertools.product(
            ("0001", "0002", None),
            ("preliminary", "confirmed", "cancelled"),
            ("agent", "manual", "matched", "bank"),
        )
    )
    order = sorted(range(len(combos)), key=lambda n: (n * 7) % len(combos))
    payments = [
        {"id": i, "payment_number": combos[n][0], "state": combos[n][1], "source": combos[n][2]}
        for i, n in enumerate(order, start=1)
    ]
    _table(conn, "payments", payments)
    everyone = [{f"p.{k}": v for k, v in p.items()} for p in payments]
    return [World("p.id", {(row["p.id"],): (row, (everyone,)) for row in everyone})]


def _overpayment_world(conn: sa.Connection) -> list[World]:
    """Claims paid below, at and beyond their amount, with refunds decided, paid out or undone."""
    refund_sets: list[list[tuple[int, str]]] = [
        [],
        [(5_000, "refund_due")],
        [(5_000, "undone")],
        [(5_000, "refunded")],
        [(4_000, "refunded"), (1_000, "undone")],
    ]
    claims, sums, refunds = [], [], []
    for paid, refund_set in itertools.product((29_000, 30_000, 34_000, 35_000), refund_sets):
        claim_id = len(claims) + 1
        claims.append({"id": claim_id, "amount": 30_000})
        sums.append({"claim_id": claim_id, "paid": paid, "refunded": 0})
        for amount, status in refund_set:
            refunds.append({"id": len(refunds) + 1, "claim_id": claim_id, "amount": amount, "status": status})
    _table(conn, "claims", claims)
    _table(conn, "recon_claims", sums)
    _table(conn, "refunds", refunds)
    _table(conn, "recon_exceptions", [{"id": 1, "kind": "overpayment", "claim_id": 1}])
    shown = [{f"f.{k}": v for k, v in f.items()} for f in refunds]
    rows = {
        (c["id"],): ({"c.id": c["id"], "c.amount": c["amount"], "x.paid": s["paid"]}, (shown,))
        for c, s in zip(claims, sums, strict=True)
    }
    return [World("c.id", rows)]


def _pair_world(conn: sa.Connection) -> list[World]:
    """Every payment paired with every record, each way a pair is made."""
    day = D(2026, 12, 1)
    values = list(itertools.product((20_000, 19_000), (day, day + datetime.timedelta(days=1))))
    payments = [
        {"id": i, "amount": amount, "paid_date": paid, "state": state}
        for i, ((amount, paid), state) in enumerate(
            itertools.product(values, ("preliminary", "confirmed", "cancelled")), start=1
        )
    ]
    records = [
        {"id": i, "amount": amount, "paid_date": paid} for i, (amount, paid) in enumerate(values, start=1)
    ]
    hows = itertools.cycle(("exact", "oldest", "late", "postal"))
    pairs = [{"rid": r["id"], "pid": p["id"], "how": next(hows)} for p in payments for r in records]
    _table(conn, "payments", payments)
    _table(conn, "settlement_records", records)
    _table(conn, "recon_pairs", pairs)
    by_id = {("p", p["id"]): p for p in payments} | {("r", r["id"]): r for r in records}
    rows = {}
    for x in pairs:
        p, r = by_id["p", x["pid"]], by_id["r", x["rid"]]
        row = {f"p.{k}": v for k, v in p.items()} | {f"r.{k}": v for k, v in r.items()} | {"x.how": x["how"]}
        rows[x["pid"], x["rid"]] = (row, ())
    return [World("p.id, r.id", rows)]


def _leftover_world(conn: sa.Connection) -> list[World]:
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
    records = [{"id": i, "payment_number": n} for i, n in enumerate(numbers, start=1)]
    _table(conn, "settlement_records", records)
    confirmed = [p["payment_number"] for p in payments if (p["state"], p["source"]) == ("confirmed", "agent")]
    ours = [s["payment_number"] for s in slips]
    return [
        World(
            "r.id",
            {(r["id"],): ({"r.payment_number": r["payment_number"]}, (confirmed, ours)) for r in records},
        )
    ]


def _ageing_world(conn: sa.Connection) -> list[World]:
    states = [
        {"id": i, "state": s, "source": src, "paid_date": D(2026, 11, d)}
        for i, (s, src, d) in enumerate(
            itertools.product(("preliminary", "confirmed"), ("agent", "matched"), range(1, 20)), start=1
        )
    ]
    _table(conn, "payments", states)
    as_of, days = D(2026, 11, 16), 14
    rows = {(p["id"],): ({f"p.{k}": v for k, v in p.items()}, (as_of, days)) for p in states}
    return [World("p.id", rows, {"cutoff": rules.unconfirmed_cutoff(as_of, days)})]


def _remittance_world(conn: sa.Connection) -> list[World]:
    """Remittances credited short, exactly, over and not at all, with and without credits, overdue or not."""
    figures = [
        {"id": i, "expected": 50_000, "credited": c}
        for i, c in enumerate((0, 49_990, 50_000, 50_010), start=1)
    ]
    _table(conn, "remittances", figures)
    worlds = []
    for credits, overdue in itertools.product((False, True), repeat=2):
        rows = {
            (m["id"],): (
                {
                    "m.expected": m["expected"],
                    "m.credited": m["credited"],
                    ":credits": credits,
                    ":overdue": overdue,
                },
                (),
            )
            for m in figures
        }
        worlds.append(World("m.id", rows, {"credits": credits, "overdue": overdue}))
    return worlds


WORLDS: dict[str, Callable[[sa.Connection], list[World]]] = {
    "UNKNOWN_SLIP": _unknown_world,
    "AMOUNT_MISMATCH": _payment_world,
    "DUPLICATE_PAYMENT": _duplicate_world,
    "PAID_AFTER_EXPIRY": _payment_world,
    "PAID_VOID_SLIP": _payment_world,
    "OVERPAYMENT": _overpayment_world,
    "UNEXPECTED_CHANNEL": _payment_world,
    "CANCEL_WITHOUT_PRELIMINARY": _leftover_world,
    "CANCEL_PAIRED_CONFIRMED": _pair_world,
    "CANCEL_AFTER_CONFIRMATION": _leftover_world,
    "CONFIRMATION_DIFFERS": _pair_world,
    "UNCONFIRMED_PRELIMINARY": _ageing_world,
    "REMITTANCE_MISMATCH": _remittance_world,
}
"""The rows each declaration of :data:`rules.RULES` (by its name in :mod:`reconciliation.rules`) is checked
on."""


def _declared(rule: rules.Rule) -> str:
    return next(name for name, value in vars(rules).items() if value is rule)


@pytest.mark.parametrize("rule", rules.RULES, ids=_declared)
def test_each_rule_sql_agrees_with_its_predicate(conn: sa.Connection, rule: rules.Rule) -> None:
    raised = spared = 0
    for world in WORLDS[_declared(rule)](conn):
        binds = [sa.bindparam(k, v, type_=sa.Date()) for k, v in world.params.items() if isinstance(v, D)]
        statement = sa.text(f"SELECT {world.names} FROM {rule.source} WHERE {rule.condition}").bindparams(
            *binds
        )
        plain = {k: v for k, v in world.params.items() if not isinstance(v, D)}
        by_sql = {tuple(row) for row in conn.execute(statement, plain)}
        by_python = {names for names, (row, args) in world.rows.items() if rule.predicate(row, *args)}
        assert by_sql == by_python, world.params
        raised, spared = raised + len(by_python), spared + len(world.rows) - len(by_python)
    assert raised and spared  # some rows raise, some do not: the rows tell the two outcomes apart


def test_every_kind_is_declared_and_every_declaration_checked() -> None:
    assert {rule.kind for rule in rules.RULES} == set(rules.KINDS)
    assert sorted(WORLDS) == sorted(_declared(rule) for rule in rules.RULES)
    assert [r.kind for r in rules.RULES] == sorted((r.kind for r in rules.RULES), key=rules.KINDS.index)


@pytest.mark.parametrize("rule", rules.RULES, ids=_declared)
def test_each_rule_names_the_steps_that_raise_it_from_the_declaration(rule: rules.Rule) -> None:
    assert rule.spec.startswith("../shared/spec/interfaces.md § Exception kinds")
    uses = {f"rules.{_declared(rule)}"} | ({"rules.PAYMENT_RULES"} if rule in rules.PAYMENT_RULES else set())
    for step in rule.step.split(", "):
        module, name = step.split(".")
        function = getattr(importlib.import_module(f"reconciliation.{module}"), name)
        assert any(use in inspect.getsource(function) for use in uses), step


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


def test_lateness_sql_agrees_with_its_rule(conn: sa.Connection) -> None:
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
