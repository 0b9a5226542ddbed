"""SQL helpers of one run: typed parameters, the two dialects' JSON builders, scratch tables, and how an
exception is raised (from the declaration of its kind in :mod:`reconciliation.rules`). SQLAlchemy Core on
a connection the caller gives."""

from __future__ import annotations

import datetime
import json
from typing import TYPE_CHECKING
from typing import Any

import sqlalchemy as sa
from sqlmodel.sql.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from reconciliation.rules import Rule

OFFICE = "r.issuer_prefix = :prefix AND r.consignor_code = :consignor"
"""Record ``r`` carries this office's issuer prefix and consignor code."""

NULL_INT = "CAST(NULL AS INTEGER)"
NULL_BIGINT = "CAST(NULL AS BIGINT)"

PAY_COLUMNS = """claim_id, slip_id, payment_number, reissue_count, amount, state, source, channel_code,
    store_code, agent_id, paid_at, paid_date, late, preliminary_record_id, confirmed_record_id, transfer_date,
    received_at, received_date, confirmed_at, created_at, updated_at"""
"""The payment columns an agent's record fills (in this order)."""


def queued(alias: str, *, drive: bool = True) -> str:
    """Whether record ``alias`` is still queued for reconciliation. ``drive``: the statement starts from the
    queue (its ids are looked up in the records by primary key); otherwise a probe for a record found by
    other means, e.g. in a correlated subquery."""
    if drive:
        return f"{alias}.id IN (SELECT u.record_id FROM unreconciled_records u)"
    return f"EXISTS (SELECT 1 FROM unreconciled_records u WHERE u.record_id = {alias}.id)"


NEW = queued("r")
"""Record ``r`` is new (still queued)."""


def slip_for(r: str = "r") -> str:
    """SQL for the slip a record pays: same payment number and reissue count, else the newest reissue."""
    return f"""COALESCE(
        (SELECT s1.id FROM slips s1 WHERE s1.payment_number = {r}.payment_number
                                      AND s1.reissue_count = {r}.reissue_count),
        (SELECT s2.id FROM slips s2 WHERE s2.payment_number = {r}.payment_number
         ORDER BY s2.reissue_count DESC LIMIT 1))"""


def to_json(value: Any) -> str:
    """A JSON column's value as the engine writes it (sorted keys, Japanese kept)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def as_date(value: Any) -> datetime.date:
    """A date column's value (SQLite returns text)."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


class Sql:
    """Dialect-aware SQL bound to one run on ``conn``: ``now`` marks the rows it touches, ``today`` (a Japan
    date) dates them; ``prefix``/``consignor`` name this office's barcodes; ``closed_statuses`` are the claim
    statuses a run never changes (a decision, not money)."""

    def __init__(
        self,
        conn: sa.Connection,
        now: datetime.datetime,
        today: datetime.date,
        *,
        prefix: str,
        consignor: str,
        closed_statuses: tuple[str, ...] = (),
    ) -> None:
        self.conn = conn
        self.closed_statuses = closed_statuses
        self.pg = conn.dialect.name == "postgresql"
        self.now = now
        self.today = today
        self.transfer_dates: set[tuple[int, datetime.date]] = set()
        self.base: dict[str, Any] = {"now": now, "today": today, "prefix": prefix, "consignor": consignor}

    def json_array(self, *items: str) -> str:
        return f"{'json_build_array' if self.pg else 'json_array'}({', '.join(items)})"

    def json_object(self, **items: str) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        pairs = ", ".join(f"'{k}', {v}" for k, v in items.items())
        return f"{fn}({pairs})"

    def json_agg(self, item: str) -> str:
        """An aggregate: the JSON array of ``item`` over a group, in ascending order."""
        return f"json_agg({item} ORDER BY {item})" if self.pg else f"json_group_array({item})"

    def json_ids_union(self, column: str, more: str) -> str:
        """The JSON array of the ids in JSON array ``column`` and in the one-column query ``more``, ascending,
        each once."""
        if self.pg:
            return f"""(SELECT json_agg(v ORDER BY v) FROM (
                           SELECT CAST(j.value AS BIGINT) AS v FROM json_array_elements_text({column}) j
                           UNION SELECT m.id FROM ({more}) m) u)"""
        return f"""(SELECT json_group_array(v) FROM (
                       SELECT CAST(j.value AS INTEGER) AS v FROM json_each({column}) j
                       UNION SELECT m.id FROM ({more}) m ORDER BY 1) u)"""

    def instant_text(self, column: str) -> str:
        """A timestamp column as fixed UTC text (``20261201T143200``), the same on both databases."""
        if self.pg:
            return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS')"""
        return f"strftime('%Y%m%dT%H%M%S', {column})"

    def run(self, sql: str, **params: Any) -> sa.CursorResult[*tuple[Any, ...]]:
        values = {**self.base, **params}
        stmt = sa.text(sql)
        binds: list[sa.BindParameter[Any]] = []
        for name, value in values.items():
            if f":{name}" not in sql:
                continue
            if isinstance(value, datetime.datetime):
                binds.append(sa.bindparam(name, type_=UTCDateTime()))
            elif isinstance(value, datetime.date):
                binds.append(sa.bindparam(name, type_=sa.Date()))
        if binds:
            stmt = stmt.bindparams(*binds)
        used = {k: v for k, v in values.items() if f":{k}" in sql}
        return self.conn.execute(stmt, used)

    def scratch(self, name: str, columns: str) -> None:
        """A fresh temporary table for this run (dropped at commit on PostgreSQL, replaced on the next run
        on SQLite)."""
        self.run(f"DROP TABLE IF EXISTS {name}")
        self.run(f"CREATE TEMP TABLE {name} ({columns}){' ON COMMIT DROP' if self.pg else ''}")

    def drop(self, *names: str) -> None:
        """Drop the run's scratch tables ``names``."""
        for name in names:
            self.run(f"DROP TABLE IF EXISTS {name}")

    # -- exceptions ----------------------------------------------------------------------------------------
    def raise_exceptions(self, kind: str, select_sql: str, *, order_by: str = "", **params: Any) -> None:
        """INSERT one exception per row ``x`` of ``select_sql`` (columns: key, slip_id, claim_id, payment_id,
        agent_id, amount, record_ids, detail), in the order ``order_by`` when given; an existing key is left
        alone."""
        sql = f"""
            INSERT INTO recon_exceptions (key, kind, status, slip_id, claim_id, payment_id, agent_id, amount,
                                          record_ids, bank_record_ids, detail, opened_at, opened_date)
            SELECT x.key, '{kind}', 'open', x.slip_id, x.claim_id, x.payment_id, x.agent_id, x.amount,
                   x.record_ids, {self.json_array()}, x.detail, :now, :today
            FROM ({select_sql}) x
            WHERE NOT EXISTS (SELECT 1 FROM recon_exceptions e WHERE e.key = x.key)
            {f"ORDER BY {order_by}" if order_by else ""}
        """
        self.run(sql, **params)

    def raise_rule(
        self, rule: Rule, *, where: str = "", source: str = "", order_by: str = "", **params: Any
    ) -> None:
        """One exception of ``rule`` (:class:`reconciliation.rules.Rule`) per row of its source that meets its
        condition: the step's ``where`` narrows the rows to its own (the records still queued, the suspects),
        as may ``source``, the same rows as the rule's fewer of them (see :meth:`raise_exceptions` for
        ``order_by``)."""
        holds = {
            "slip_id": NULL_INT,
            "claim_id": NULL_INT,
            "payment_id": NULL_BIGINT,
            "agent_id": NULL_INT,
            "amount": NULL_BIGINT,
            **rule.holds,
        }
        scope = f"{where} AND " if where else ""
        self.raise_exceptions(
            rule.kind,
            f"""SELECT {rule.key_sql(self.instant_text)} AS key,
                       {", ".join(f"{sql} AS {name}" for name, sql in holds.items())},
                       {self.json_array(*rule.records)} AS record_ids,
                       {self.json_object(**rule.detail)} AS detail
                FROM {source or rule.source}
                WHERE {scope}({rule.condition})""",
            order_by=order_by,
            **params,
        )
