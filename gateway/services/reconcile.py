"""The reconciliation engine: settlement records → payments on claims, exceptions, remittances.

Set-based: every step is one or a few ``INSERT … SELECT`` / ``UPDATE … FROM`` statements over the records
not yet processed, so a million records never pass through Python one by one. The rules each step applies
are in :mod:`reconciliation.rules` and spec/settlement-formats.md:

1. a preliminary record and its exact confirmation that arrive together → one confirmed payment;
2. a preliminary record whose exact confirmation already made a payment (a late 速報 file) is linked to it;
   the other preliminary records → preliminary payments (on the slip with that reissue count, else the
   newest);
3. confirmations and cancellations are linked to the preliminary payment with the same payment number,
   reissue count, payment date-time and store (rank to rank, so two identical payments pair with two
   identical confirmations); failing that, to the oldest open preliminary payment of the payment number
   (a differing amount or date then raises ``confirmation_differs``); confirmations with no preliminary
   become confirmed payments; a ``22`` postal correction replaces the amount of its ``12``; records left
   over whose (issuer prefix, consignor, payment number) matches no slip of this office → ``unknown_slip``;
4. checks on the payments this run touched (amount, expiry, void slip, channel, duplicates), slips paid,
   claim statuses, overpayments, ageing of unconfirmed preliminaries, and the three-way match of each
   agent's confirmed records with its bank credits.

New records are those queued in ``unreconciled_records`` (ingest queues them); each step removes the ids it
has placed and the run empties the queue. Running twice changes nothing: placed records have left the
queue, exceptions carry a unique key, remittances are recomputed to the same figures.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import sqlalchemy as sa
from sqlmodel import select
from sqlmodel.sql.sqltypes import UTCDateTime

from gateway import business_calendar as cal
from gateway.context import Context
from gateway.context import mutation
from gateway.faults import crash_point
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.recon import Payment
from gateway.models.recon import ReconException
from gateway.models.recon import Remittance
from gateway.models.settlement import select_fee
from reconciliation import rules

SYSTEM_ACTOR = "system:reconcile"
#: A transfer date's credit is expected in the bank data by this many office days after it.
CREDIT_GRACE_OFFICE_DAYS = 2
#: Above this many new rows, PostgreSQL's planner statistics are refreshed within the run.
BULK_ANALYZE = 10_000


@dataclass
class RunResult:
    """What one run changed (a rerun with nothing new reports zeros)."""

    matched: int = 0
    confirmed: int = 0
    cancelled: int = 0
    exceptions_opened: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    remittances_matched: int = 0
    as_of: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "confirmed": self.confirmed,
            "cancelled": self.cancelled,
            "exceptions_opened": self.exceptions_opened,
            "by_kind": dict(sorted(self.by_kind.items())),
            "remittances_matched": self.remittances_matched,
            "as_of": self.as_of,
        }


class _Sql:
    """Dialect-aware SQL helpers bound to one run (typed parameters, JSON builders)."""

    def __init__(self, ctx: Context, now: datetime.datetime, today: datetime.date) -> None:
        self.ctx = ctx
        self.pg = ctx.session.get_bind().dialect.name == "postgresql"
        self.now = now
        self.today = today
        s = ctx.settings
        self.transfer_dates: set[tuple[int, datetime.date]] = set()
        self.base: dict[str, Any] = {
            "now": now,
            "today": today,
            "prefix": s.issuer_prefix,
            "consignor": s.consignor_code,
        }

    def json_array(self, *items: str) -> str:
        return f"{'json_build_array' if self.pg else 'json_array'}({', '.join(items)})"

    def json_object(self, **items: str) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        pairs = ", ".join(f"'{k}', {v}" for k, v in items.items())
        return f"{fn}({pairs})"

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
        return self.ctx.session.execute(stmt, used)  # type: ignore[return-value]

    def scratch(self, name: str, columns: str) -> None:
        """A fresh temporary table for this run (dropped at commit on PostgreSQL, replaced on the next run
        on SQLite)."""
        self.run(f"DROP TABLE IF EXISTS {name}")
        self.run(f"CREATE TEMP TABLE {name} ({columns}){' ON COMMIT DROP' if self.pg else ''}")

    # -- exceptions ----------------------------------------------------------------------------------
    def raise_exceptions(self, kind: str, select_sql: str, **params: Any) -> None:
        """INSERT one exception per row of ``select_sql`` (columns: key, slip_id, claim_id, payment_id,
        agent_id,
        amount, record_ids, detail); an existing key is left alone."""
        sql = f"""
            INSERT INTO recon_exceptions (key, kind, status, slip_id, claim_id, payment_id, agent_id, amount,
                                          record_ids, bank_record_ids, detail, opened_at, opened_date)
            SELECT x.key, '{kind}', 'open', x.slip_id, x.claim_id, x.payment_id, x.agent_id, x.amount,
                   x.record_ids, {self.json_array()}, x.detail, :now, :today
            FROM ({select_sql}) x
            WHERE NOT EXISTS (SELECT 1 FROM recon_exceptions e WHERE e.key = x.key)
        """
        self.run(sql, **params)


_OFFICE = "r.issuer_prefix = :prefix AND r.consignor_code = :consignor"


def _queued(alias: str, *, drive: bool = True) -> str:
    """Whether record ``alias`` is still queued for reconciliation. ``drive``: the statement starts from the
    queue (its ids are looked up in the records by primary key); otherwise a probe for a record found by
    other means, e.g. in a correlated subquery."""
    if drive:
        return f"{alias}.id IN (SELECT u.record_id FROM unreconciled_records u)"
    return f"EXISTS (SELECT 1 FROM unreconciled_records u WHERE u.record_id = {alias}.id)"


_NEW = _queued("r")


_PAY_COLUMNS = """claim_id, slip_id, payment_number, reissue_count, amount, state, source, channel_code,
    store_code, agent_id, paid_at, paid_date, late, preliminary_record_id, confirmed_record_id, transfer_date,
    received_at, received_date, confirmed_at, created_at, updated_at"""


_NULL_INT = "CAST(NULL AS INTEGER)"
_NULL_BIGINT = "CAST(NULL AS BIGINT)"
_PAYMENT_RECORDS = "COALESCE(p.preliminary_record_id, p.confirmed_record_id)"


def _raise_for_payments(
    q: _Sql,
    kind: str,
    *,
    where: str,
    detail: dict[str, str],
    join: str = "",
    records: str = _PAYMENT_RECORDS,
    key: str = "p.id",
    source: str = "payments p",
) -> None:
    """One exception per payment row of ``source`` matching ``where`` (key ``<kind>:pay:<key>``)."""
    q.raise_exceptions(
        kind,
        f"""SELECT '{kind}:pay:' || {key} AS key, p.slip_id, p.claim_id, p.id AS payment_id, p.agent_id,
                   p.amount, {q.json_array(records)} AS record_ids, {q.json_object(**detail)} AS detail
            FROM {source} {join}
            WHERE {where}""",
    )


def _raise_for_records(
    q: _Sql,
    kind: str,
    *,
    where: str,
    detail: dict[str, str],
    slip: str = _NULL_INT,
    claim: str = _NULL_INT,
    payment: str = _NULL_BIGINT,
) -> None:
    """One exception per new settlement record ``r`` matching ``where`` (key ``<kind>:rec:<id>``)."""
    q.raise_exceptions(
        kind,
        f"""SELECT '{kind}:rec:' || r.id AS key, {slip} AS slip_id, {claim} AS claim_id,
                   {payment} AS payment_id, r.agent_id, r.amount, {q.json_array("r.id")} AS record_ids,
                   {q.json_object(**detail)} AS detail
            FROM settlement_records r
            WHERE {_NEW} AND {where}""",
    )


def _slip_for(r: str = "r") -> str:
    """SQL for the slip a record pays: same payment number and reissue count, else the newest reissue."""
    return f"""COALESCE(
        (SELECT s1.id FROM slips s1 WHERE s1.payment_number = {r}.payment_number
                                      AND s1.reissue_count = {r}.reissue_count),
        (SELECT s2.id FROM slips s2 WHERE s2.payment_number = {r}.payment_number
         ORDER BY s2.reissue_count DESC LIMIT 1))"""


def _create_pairs(q: _Sql) -> None:
    """The run's scratch tables: ranked records (``recon_c``), ranked payments (``recon_m``) and the pairs.

    Joining two window-function CTEs directly is a nested loop on SQLite (quadratic in the records of a
    run); ranked rows materialised into indexed temporary tables join in O(n log n) on both databases.
    """
    keys = "payment_number VARCHAR(16) NOT NULL, k2 TEXT, k3 TEXT, k4 TEXT, rn BIGINT NOT NULL"
    for name, columns in (
        ("recon_direct", "pid BIGINT PRIMARY KEY, cid BIGINT NOT NULL, payment_number VARCHAR(16) NOT NULL"),
        ("recon_pairs", "rid BIGINT NOT NULL, pid BIGINT NOT NULL, how VARCHAR(16) NOT NULL"),
        ("recon_c", f"rid BIGINT NOT NULL, {keys}"),
        ("recon_m", f"pid BIGINT NOT NULL, {keys}"),
    ):
        q.scratch(name, columns)
    q.run("CREATE INDEX recon_pairs_pid ON recon_pairs (pid)")
    q.run("CREATE INDEX recon_pairs_rid ON recon_pairs (rid)")
    q.run("CREATE INDEX recon_c_number ON recon_c (payment_number)")
    q.run("CREATE INDEX recon_m_key ON recon_m (payment_number, rn)")


def _drop_pairs(q: _Sql) -> None:
    for name in ("recon_direct", "recon_pairs", "recon_c", "recon_m"):
        q.run(f"DROP TABLE IF EXISTS {name}")


def _mark_paired(q: _Sql) -> None:
    q.run("DELETE FROM unreconciled_records WHERE record_id IN (SELECT rid FROM recon_pairs)")


def _key_columns(alias: str, keys: tuple[str, ...]) -> str:
    """The pairing key as (payment_number, k2, k3, k4), the extra keys as text so both sides compare alike."""
    extra = [f"CAST({alias}.{k} AS TEXT)" for k in keys[1:]]
    extra += ["NULL"] * (3 - len(extra))
    return ", ".join([f"{alias}.{keys[0]}", *extra])


def _rank_pair(
    q: _Sql, *, keys: tuple[str, ...], records: str, payments: str, how: str, clear: bool = True
) -> int:
    """Pair records (``r`` rows of ``records``) with payments (``p`` rows of ``payments``) rank to rank:
    the n-th record with a key pairs with the n-th payment with that key (oldest first). Rows already in
    recon_pairs take no part. Fills recon_pairs (cleared first unless ``clear`` is false); returns how many
    pairs it holds."""
    if clear:
        q.run("DELETE FROM recon_pairs")
    for name in ("recon_c", "recon_m"):
        q.run(f"DELETE FROM {name}")
    part_r = ", ".join(f"r.{k}" for k in keys)
    part_p = ", ".join(f"p.{k}" for k in keys)
    q.run(
        f"""INSERT INTO recon_c (rid, payment_number, k2, k3, k4, rn)
            SELECT r.id, {_key_columns("r", keys)}, ROW_NUMBER() OVER (PARTITION BY {part_r} ORDER BY r.id)
            {records} AND NOT EXISTS (SELECT 1 FROM recon_pairs x WHERE x.rid = r.id)"""
    )
    q.run(
        f"""INSERT INTO recon_m (pid, payment_number, k2, k3, k4, rn)
            SELECT p.id, {_key_columns("p", keys)}, ROW_NUMBER() OVER (PARTITION BY {part_p} ORDER BY p.id)
            {payments} AND p.payment_number IN (SELECT c0.payment_number FROM recon_c c0)
              AND NOT EXISTS (SELECT 1 FROM recon_pairs x WHERE x.pid = p.id)"""
    )
    if q.pg:
        q.run("ANALYZE recon_c")
        q.run("ANALYZE recon_m")
    same = " AND ".join(f"(c.{k} = m.{k} OR (c.{k} IS NULL AND m.{k} IS NULL))" for k in ("k2", "k3", "k4"))
    q.run(
        f"""INSERT INTO recon_pairs (rid, pid, how)
            SELECT c.rid, m.pid, '{how}' FROM recon_c c
            JOIN recon_m m ON m.payment_number = c.payment_number AND m.rn = c.rn
            WHERE {same}"""
    )
    return int(q.run("SELECT count(*) FROM recon_pairs").scalar_one())


def _pair(
    q: _Sql,
    *,
    record_kind: str,
    kind_codes: tuple[str, ...],
    payment_states: tuple[str, ...],
    exact: bool,
    how: str,
    unlinked: str | None = None,
    ranked: bool = True,
) -> int:
    """Pair new records of a kind with agent payments: on the exact key (payment number, reissue count,
    payment date-time, store) or, failing that, with the oldest open preliminary of the payment number.

    Almost every key occurs once on each side; those pair with one indexed join. Only keys that repeat
    (two identical payments, two confirmations of one number) go through the ranked path, unless
    ``ranked`` is false. ``unlinked`` names a record column of the payment that must still be empty."""
    keys = ("payment_number", "reissue_count", "paid_at", "store_code") if exact else ("payment_number",)
    codes = ", ".join(f"'{c}'" for c in kind_codes)
    states = ", ".join(f"'{s}'" for s in payment_states)

    def record_in(a: str, drive: bool = True) -> str:
        return (
            f"{_queued(a, drive=drive)} AND {a}.issuer_prefix = :prefix AND {a}.consignor_code = :consignor "
            f"AND {a}.kind = '{record_kind}' AND {a}.kind_code IN ({codes})"
        )

    def payment_in(a: str) -> str:
        extra = "" if exact else f" AND {a}.preliminary_record_id IS NOT NULL"
        if unlinked:
            extra += f" AND {a}.{unlinked} IS NULL"
        return f"{a}.source = 'agent' AND {a}.state IN ({states}){extra}"

    def same_key(a: str, b: str) -> str:
        return " AND ".join(f"{a}.{k} = {b}.{k}" for k in keys)

    q.run("DELETE FROM recon_pairs")
    unique = q.run(
        f"""INSERT INTO recon_pairs (rid, pid, how)
            SELECT r.id, p.id, '{how}'
            FROM settlement_records r JOIN payments p ON {same_key("p", "r")} AND {payment_in("p")}
            WHERE {record_in("r")}
              AND NOT EXISTS (SELECT 1 FROM settlement_records r2
                              WHERE {same_key("r2", "r")} AND r2.id <> r.id
                                AND {record_in("r2", drive=False)})
              AND NOT EXISTS (SELECT 1 FROM payments p2
                              WHERE {same_key("p2", "p")} AND p2.id <> p.id AND {payment_in("p2")})"""
    ).rowcount
    if not ranked:
        return int(unique)
    return _rank_pair(
        q,
        keys=keys,
        records=f"FROM settlement_records r WHERE {record_in('r')}",
        payments=f"FROM payments p WHERE {payment_in('p')}",
        how=how,
        clear=False,
    )


def _raise_differs(q: _Sql, *, preliminary: str, confirmed: str, record_ids: tuple[str, str]) -> None:
    """``confirmation_differs`` for the pairs in recon_pairs (payment ``p``, record ``r``) whose amount or
    payment date differ; ``preliminary`` and ``confirmed`` say which side is which."""
    detail = q.json_object(
        preliminary_amount=f"{preliminary}.amount",
        confirmed_amount=f"{confirmed}.amount",
        preliminary_paid_date=f"{preliminary}.paid_date",
        confirmed_paid_date=f"{confirmed}.paid_date",
        linked="x.how",
    )
    q.raise_exceptions(
        "confirmation_differs",
        f"""SELECT 'confirmation_differs:pay:' || p.id || ':rec:' || r.id AS key, p.slip_id, p.claim_id,
                   p.id AS payment_id, r.agent_id, r.amount, {q.json_array(*record_ids)} AS record_ids,
                   {detail} AS detail
            FROM recon_pairs x JOIN payments p ON p.id = x.pid JOIN settlement_records r ON r.id = x.rid
            WHERE p.amount <> r.amount OR p.paid_date <> r.paid_date""",
    )


def _confirm_pairs(q: _Sql, result: RunResult, how: str) -> None:
    """Apply recon_pairs of confirmations: raise confirmation_differs where amount or date differ, confirm."""
    _raise_differs(q, preliminary="p", confirmed="r", record_ids=("p.preliminary_record_id", "r.id"))
    # An exact pair shares the payment date and time, so only an "oldest" pair rewrites them (each column
    # in SET costs index work on a million rows).
    dates = "paid_at = r.paid_at, paid_date = r.paid_date, " if how != "exact" else ""
    changed = q.run(
        f"""UPDATE payments SET state = 'confirmed', confirmed_record_id = r.id, amount = r.amount, {dates}
               transfer_date = r.transfer_date, confirmed_at = :now, updated_at = :now
            FROM recon_pairs x JOIN settlement_records r ON r.id = x.rid
            WHERE payments.id = x.pid"""
    ).rowcount
    result.confirmed += changed
    result.matched += changed
    _mark_paired(q)


def _late_preliminaries(q: _Sql, result: RunResult) -> None:
    """Preliminary records that arrive after their exact confirmation (a 速報 file delivered late) belong to
    the payment that confirmation made: they are linked to it, not made into a second payment. A differing
    amount raises ``confirmation_differs``; the confirmed amount stands. Only keys that occur once on each
    side are linked; the rest become payments of their own and ``duplicate_payment`` asks a person."""
    if not _pair(
        q,
        record_kind="preliminary",
        kind_codes=("01",),
        payment_states=("confirmed",),
        exact=True,
        how="late",
        unlinked="preliminary_record_id",
        ranked=False,  # a repeated key is left to a person (duplicate_payment); it is not worth a ranking
    ):
        return
    _raise_differs(q, preliminary="r", confirmed="p", record_ids=("r.id", "p.confirmed_record_id"))
    result.matched += q.run(
        """UPDATE payments SET preliminary_record_id = x.rid, updated_at = :now
           FROM recon_pairs x WHERE payments.id = x.pid"""
    ).rowcount
    _mark_paired(q)


def _direct_confirmations(q: _Sql, result: RunResult) -> int:
    """Preliminary records whose exact confirmation (``02``, same key and amount) arrives in the same run
    become confirmed payments directly: the state the preliminary payment would reach by the next step,
    written once instead of inserted and then updated. Returns how many payments it created.

    Only keys that occur once on each side among the new records, with no open preliminary payment of
    that payment number (an older one would take the confirmation first), go this way; everything else
    (repeated keys, differing amounts, numbers with open payments) takes the general path below."""
    # The usual day has only preliminaries or only confirmations new: then there is nothing to group.
    new = f"SELECT 1 FROM settlement_records r WHERE {_NEW}"
    both = q.run(
        f"""SELECT CASE WHEN EXISTS ({new} AND r.kind = 'preliminary')
                         AND EXISTS ({new} AND r.kind_code = '02') THEN 1 ELSE 0 END"""
    ).scalar_one()
    if not both:
        return 0
    q.run(
        f"""INSERT INTO recon_direct (pid, cid, payment_number)
            SELECT max(CASE WHEN r.kind = 'preliminary' THEN r.id END),
                   max(CASE WHEN r.kind = 'confirmed' THEN r.id END), r.payment_number
            FROM settlement_records r
            WHERE {_NEW} AND {_OFFICE} AND (r.kind = 'preliminary' OR r.kind_code = '02')
            GROUP BY r.payment_number, r.reissue_count, r.paid_at, r.store_code
            HAVING count(*) = 2 AND min(r.kind) <> max(r.kind) AND min(r.amount) = max(r.amount)"""
    )
    q.run(
        """DELETE FROM recon_direct
           WHERE NOT EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = recon_direct.payment_number)
              OR EXISTS (SELECT 1 FROM payments p WHERE p.payment_number = recon_direct.payment_number
                                                   AND p.state = 'preliminary' AND p.source = 'agent')"""
    )
    created = q.run(
        f"""INSERT INTO payments ({_PAY_COLUMNS})
            SELECT s.claim_id, s.id, a.payment_number, a.reissue_count, c.amount, 'confirmed', 'agent',
                   a.channel_code, a.store_code, a.agent_id, a.paid_at, a.paid_date,
                   (a.paid_date > s.due_date AND a.paid_date <= s.barcode_expiry), a.id, c.id,
                   c.transfer_date, a.received_at, a.received_date, :now, :now, :now
            FROM recon_direct d
            JOIN settlement_records a ON a.id = d.pid
            JOIN settlement_records c ON c.id = d.cid
            JOIN slips s ON s.id = {_slip_for("a")}"""
    ).rowcount
    q.run(
        """DELETE FROM unreconciled_records
           WHERE record_id IN (SELECT pid FROM recon_direct UNION ALL SELECT cid FROM recon_direct)"""
    )
    result.matched += 2 * created  # a preliminary and a confirmation record each
    result.confirmed += created
    return created


def _insert_payments(q: _Sql, *, state: str, where: str) -> int:
    """New payments from new records, on their slip; returns how many.

    The slip is the one with the record's payment number and reissue count (a direct hit on the unique
    index); a reissue count this office never issued falls back to the newest reissue of the number.
    """
    confirmed = state == "confirmed"
    columns = f"""s.claim_id, s.id, r.payment_number, r.reissue_count, r.amount, '{state}', 'agent',
               r.channel_code, r.store_code, r.agent_id, r.paid_at, r.paid_date,
               (r.paid_date > s.due_date AND r.paid_date <= s.barcode_expiry),
               {"NULL" if confirmed else "r.id"}, {"r.id" if confirmed else "NULL"}, r.transfer_date,
               r.received_at, r.received_date, {":now" if confirmed else "NULL"}, :now, :now"""
    count = q.run(
        f"""INSERT INTO payments ({_PAY_COLUMNS})
            SELECT {columns}
            FROM settlement_records r
            JOIN slips s ON s.payment_number = r.payment_number AND s.reissue_count = r.reissue_count
            WHERE {_NEW} AND {_OFFICE} AND {where}"""
    ).rowcount
    record = "confirmed_record_id" if confirmed else "preliminary_record_id"
    count += q.run(
        f"""INSERT INTO payments ({_PAY_COLUMNS})
            SELECT {columns}
            FROM settlement_records r
            JOIN slips s ON s.id = (SELECT s2.id FROM slips s2 WHERE s2.payment_number = r.payment_number
                                    ORDER BY s2.reissue_count DESC LIMIT 1)
            WHERE {_NEW} AND {_OFFICE} AND {where}
              AND NOT EXISTS (SELECT 1 FROM slips s3 WHERE s3.payment_number = r.payment_number
                                                       AND s3.reissue_count = r.reissue_count)"""
    ).rowcount
    # Driven by the records still queued (a probe of the unique record index each), not by every payment
    # the run has touched so far.
    q.run(
        f"""DELETE FROM unreconciled_records
            WHERE EXISTS (SELECT 1 FROM payments p WHERE p.{record} = unreconciled_records.record_id)"""
    )
    return count


def _many_new_records(q: _Sql) -> bool:
    """Whether more than BULK_ANALYZE records wait (counting no further than that)."""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM unreconciled_records LIMIT {BULK_ANALYZE + 1}) n"
    return int(q.run(sql).scalar_one()) > BULK_ANALYZE


def _match_records(q: _Sql, result: RunResult) -> None:
    if q.pg:
        # One run at a time sees the queue: an ingest that commits during the run waits at its INSERT into
        # the queue (its records are then the next run's), instead of having its records swept unseen.
        q.run("LOCK TABLE unreconciled_records IN EXCLUSIVE MODE")
        if _many_new_records(q):
            q.run("ANALYZE unreconciled_records")
            q.run("ANALYZE settlement_records")
    # 0. which transfer dates the new confirmations concern (for the three-way match at the end)
    q.transfer_dates = {
        (int(agent_id), _date(day))
        for agent_id, day in q.run(
            f"""SELECT DISTINCT r.agent_id, r.transfer_date FROM settlement_records r
                WHERE {_NEW} AND r.kind = 'confirmed' AND r.transfer_date IS NOT NULL"""
        ).all()
    }
    _create_pairs(q)
    # 1. a preliminary and its exact confirmation both new: one confirmed payment, written once
    created = _direct_confirmations(q, result)
    # 2. preliminaries whose confirmation came first; the others become preliminary payments
    _late_preliminaries(q, result)
    preliminaries = _insert_payments(q, state="preliminary", where="r.kind = 'preliminary'")
    crash_point("reconcile.after_payments")
    result.matched += preliminaries
    if q.pg and created + preliminaries > BULK_ANALYZE:
        # A big batch makes the planner's statistics stale inside this transaction (autovacuum has not seen
        # the rows yet): without fresh ones PostgreSQL pairs a million rows by nested loop. The queue is
        # re-analysed too: most of it is gone now, and plans that still expect every record to be new scan
        # every payment for the few records left.
        q.run("ANALYZE payments")
        q.run("ANALYZE unreconciled_records")
    # 3. exact confirmations and exact cancellations
    if _pair(
        q,
        record_kind="confirmed",
        kind_codes=("02",),
        payment_states=("preliminary",),
        exact=True,
        how="exact",
    ):
        _confirm_pairs(q, result, "exact")
    _cancel_pairs(q, result, exact=True)
    # 4. fallback confirmations: the oldest open preliminary of the payment number
    if _pair(
        q,
        record_kind="confirmed",
        kind_codes=("02",),
        payment_states=("preliminary",),
        exact=False,
        how="oldest",
    ):
        _confirm_pairs(q, result, "oldest")
    # 5. postal corrections (22) replace the amount of their 12 (same payment number and payment date)
    _postal_corrections(q, result)
    # 6. confirmations with no preliminary (postal 12, a lost preliminary file, an unmatched 22)
    created = _insert_payments(q, state="confirmed", where="r.kind = 'confirmed'")
    result.matched += created
    result.confirmed += created
    # 7. cancellations: the oldest open preliminary, else an exception
    _cancel_pairs(q, result, exact=False)
    _cancel_exceptions(q)
    # 8. what is left and matches no slip of this office (every step above needs a slip, so only the
    # leftovers are looked at, not every new record)
    _raise_for_records(
        q,
        "unknown_slip",
        where=f"""NOT ({_OFFICE} AND EXISTS (SELECT 1 FROM slips s
                                             WHERE s.payment_number = r.payment_number))""",
        detail={
            "kind": "r.kind",
            "kind_code": "r.kind_code",
            "payment_number": "r.payment_number",
            "paid_date": "r.paid_date",
            "issuer_prefix": "r.issuer_prefix",
            "consignor_code": "r.consignor_code",
        },
    )
    # everything else new has been looked at
    q.run("DELETE FROM unreconciled_records")
    _drop_pairs(q)


def _cancel_pairs(q: _Sql, result: RunResult, *, exact: bool) -> None:
    states = ("preliminary", "confirmed") if exact else ("preliminary",)
    if not _pair(
        q,
        record_kind="cancellation",
        kind_codes=("03",),
        payment_states=states,
        exact=exact,
        how="exact" if exact else "oldest",
    ):
        return  # nothing paired: skip the statements below (on SQLite each walks the payments even so)
    detail = q.json_object(payment_state="p.state", confirmed_record_id="p.confirmed_record_id")
    q.raise_exceptions(
        "cancel_after_confirmation",
        f"""SELECT 'cancel_after_confirmation:rec:' || r.id AS key, p.slip_id, p.claim_id, p.id AS payment_id,
                   r.agent_id, r.amount,
                   {q.json_array("p.preliminary_record_id", "p.confirmed_record_id", "r.id")} AS record_ids,
                   {detail} AS detail
            FROM recon_pairs x JOIN payments p ON p.id = x.pid JOIN settlement_records r ON r.id = x.rid
            WHERE p.state = 'confirmed'""",
    )
    cancelled = q.run(
        """UPDATE payments SET state = 'cancelled', cancel_record_id = x.rid, cancelled_at = :now,
               updated_at = :now
           FROM recon_pairs x WHERE payments.id = x.pid AND payments.state = 'preliminary'"""
    ).rowcount
    result.cancelled += cancelled
    result.matched += cancelled
    _mark_paired(q)


def _cancel_exceptions(q: _Sql) -> None:
    """Cancellations left over: after a confirmation of that payment number, or with nothing to cancel."""
    detail = {"payment_number": "r.payment_number", "paid_date": "r.paid_date"}
    confirmed = """EXISTS (SELECT 1 FROM payments p WHERE p.payment_number = r.payment_number
                           AND p.state = 'confirmed' AND p.source = 'agent')"""
    cancellation = f"{_OFFICE} AND r.kind = 'cancellation'"
    _raise_for_records(
        q,
        "cancel_after_confirmation",
        where=f"{cancellation} AND {confirmed}",
        detail=detail,
        slip="(SELECT max(p.slip_id) FROM payments p WHERE p.payment_number = r.payment_number)",
        claim="(SELECT max(p.claim_id) FROM payments p WHERE p.payment_number = r.payment_number)",
        # the payment the cancellation would withdraw, when only one confirmed agent payment can be meant
        payment="""(SELECT CASE WHEN count(*) = 1 THEN min(p.id) END FROM payments p
                    WHERE p.payment_number = r.payment_number AND p.state = 'confirmed'
                      AND p.source = 'agent')""",
    )
    _raise_for_records(
        q,
        "cancel_without_preliminary",
        where=f"""{cancellation} AND NOT {confirmed}
                  AND EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = r.payment_number)""",
        detail=detail,
        slip=_slip_for(),
        claim="(SELECT max(s.claim_id) FROM slips s WHERE s.payment_number = r.payment_number)",
    )


def _postal_corrections(q: _Sql, result: RunResult) -> None:
    if not _rank_pair(
        q,
        keys=("payment_number", "paid_date"),
        records=f"FROM settlement_records r WHERE {_NEW} AND {_OFFICE} AND r.kind_code = '22'",
        payments="""FROM payments p JOIN settlement_records o ON o.id = p.confirmed_record_id
                    WHERE p.state = 'confirmed' AND o.kind_code = '12'""",
        how="postal",
    ):
        return
    changed = q.run(
        """UPDATE payments SET amount = r.amount, correction_record_id = r.id,
               transfer_date = r.transfer_date,
               updated_at = :now
           FROM recon_pairs x JOIN settlement_records r ON r.id = x.rid
           WHERE payments.id = x.pid"""
    ).rowcount
    result.matched += changed
    _mark_paired(q)


def _check_payments(q: _Sql) -> None:
    """Exceptions on the payments this run created or changed."""
    touched = "p.updated_at = :now AND p.state <> 'cancelled'"
    # One pass over the touched payments finds the few that break any rule; each rule then looks only at
    # those (instead of four passes over every payment the run touched).
    q.scratch("recon_suspects", "pid BIGINT PRIMARY KEY")
    q.run(
        f"""INSERT INTO recon_suspects (pid)
            SELECT p.id FROM payments p
            LEFT JOIN slips s ON s.id = p.slip_id
            LEFT JOIN agents a ON a.id = p.agent_id
            WHERE {touched}
              AND ((s.id IS NOT NULL AND (p.amount <> s.amount OR p.paid_date > s.barcode_expiry
                                          OR s.status = 'void'))
                   OR (a.id IS NOT NULL
                       AND (',' || a.channels || ',') NOT LIKE ('%,' || p.channel_code || ',%')))"""
    )
    # Driven by the suspects' ids: a join to the (unanalysed) scratch table lets the planner walk every
    # touched payment instead.
    suspect = "p.id IN (SELECT x.pid FROM recon_suspects x)"
    slip = "JOIN slips s ON s.id = p.slip_id"
    _raise_for_payments(
        q,
        "amount_mismatch",
        join=slip,
        where=f"{suspect} AND p.amount <> s.amount AND p.source IN ('agent', 'manual')",
        detail={"slip_amount": "s.amount", "paid_amount": "p.amount"},
        records="COALESCE(p.correction_record_id, p.confirmed_record_id, p.preliminary_record_id)",
        key="p.id || ':' || p.amount",  # a later different amount is a new mismatch
    )
    _raise_for_payments(
        q,
        "paid_after_expiry",
        join=slip,
        where=f"{suspect} AND p.source = 'agent' AND p.paid_date > s.barcode_expiry",
        detail={"paid_date": "p.paid_date", "barcode_expiry": "s.barcode_expiry"},
    )
    _raise_for_payments(
        q,
        "paid_void_slip",
        join=slip,
        where=f"{suspect} AND s.status = 'void'",
        detail={"void_reason": "s.void_reason"},
    )
    _raise_for_payments(
        q,
        "unexpected_channel",
        join="JOIN agents a ON a.id = p.agent_id",
        where=f"""{suspect} AND p.source = 'agent'
                  AND (',' || a.channels || ',') NOT LIKE ('%,' || p.channel_code || ',%')""",
        detail={"channel_code": "p.channel_code", "enabled": "a.channels"},
    )
    # A second distinct, uncancelled payment for the same payment number (original and reissue alike).
    _raise_for_payments(
        q,
        "duplicate_payment",
        source="""(SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.payment_number ORDER BY d.id) AS rn,
                          MIN(d.id) OVER (PARTITION BY d.payment_number) AS first_id
                   FROM payments d
                   WHERE d.state <> 'cancelled' AND d.payment_number IS NOT NULL
                     AND d.source IN ('agent', 'manual', 'matched')
                     AND d.payment_number IN (SELECT n.payment_number FROM recon_numbers n WHERE n.live > 1)
                  ) p""",
        where="p.rn > 1",
        detail={"payment_number": "p.payment_number", "first_payment_id": "p.first_id"},
    )
    q.run("DROP TABLE IF EXISTS recon_suspects")


_CLAIM_SUMS = "claim_id BIGINT PRIMARY KEY, paid BIGINT NOT NULL, refunded BIGINT NOT NULL"


def _touched_sums(q: _Sql, *, in_run: bool = False) -> None:
    """Per payment number and per claim touched at ``now``: confirmed money (and, per payment number, how
    many live payments), into indexed scratch tables the next steps join instead of re-summing per row."""
    q.scratch(
        "recon_numbers",
        "payment_number VARCHAR(16) PRIMARY KEY, confirmed BIGINT NOT NULL, live INTEGER NOT NULL",
    )
    q.scratch("recon_claims", _CLAIM_SUMS)
    q.run(
        """INSERT INTO recon_numbers (payment_number, confirmed, live)
           SELECT p.payment_number,
                  sum(CASE WHEN p.state = 'confirmed' THEN p.amount ELSE 0 END),
                  sum(CASE WHEN p.state <> 'cancelled' AND p.source IN ('agent', 'manual', 'matched')
                           THEN 1 ELSE 0 END)
           FROM payments p
           WHERE p.payment_number IN (SELECT t.payment_number FROM payments t WHERE t.updated_at = :now)
           GROUP BY p.payment_number"""
    )
    # A claim's status follows its confirmed money. Within a run a payment touched and still preliminary was
    # just inserted, which changes no claim's confirmed money; outside a run (an undo) a payment can go back
    # from confirmed to preliminary, so every touched payment counts there.
    moved = " AND t.state <> 'preliminary'" if in_run else ""
    _fill_claim_sums(q, f"SELECT t.claim_id FROM payments t WHERE t.updated_at = :now{moved}")
    if q.pg:
        q.run("ANALYZE recon_numbers")
        q.run("ANALYZE recon_claims")


def _fill_claim_sums(q: _Sql, claim_ids_sql: str) -> None:
    """recon_claims: per claim of ``claim_ids_sql``, its confirmed money and the refunds paid out."""
    q.run(
        f"""INSERT INTO recon_claims (claim_id, paid, refunded)
            SELECT c.id, COALESCE(sum(CASE WHEN p.state = 'confirmed' THEN p.amount ELSE 0 END), 0),
                   COALESCE((SELECT sum(f.amount) FROM refunds f
                             WHERE f.claim_id = c.id AND f.status = 'refunded'), 0)
            FROM claims c LEFT JOIN payments p ON p.claim_id = c.id
            WHERE c.id IN ({claim_ids_sql})
            GROUP BY c.id"""
    )


def _claim_statuses(q: _Sql) -> None:
    """The claims of recon_claims take ``open``/``paid``/``overpaid`` from their confirmed money net of
    refunds (a refunded overpayment leaves the claim paid); closed claims keep their decision. Each change
    is logged."""
    status = """CASE WHEN x.paid - x.refunded > c.amount THEN 'overpaid'
                     WHEN x.paid - x.refunded = c.amount THEN 'paid' ELSE 'open' END"""
    q.scratch(
        "recon_status",
        "claim_id BIGINT PRIMARY KEY, old_status VARCHAR(16) NOT NULL, new_status VARCHAR(16) NOT NULL",
    )
    # The changes once, into a scratch table: the log and the update read them instead of re-deriving them.
    q.run(
        f"""INSERT INTO recon_status (claim_id, old_status, new_status)
            SELECT c.id, c.status, {status}
            FROM recon_claims x JOIN claims c ON c.id = x.claim_id
            WHERE c.status NOT IN {CLOSED_STATUSES!r} AND c.status <> {status}"""
    )
    q.run(
        """INSERT INTO claim_status_log (claim_id, old_status, new_status, at, on_date)
           SELECT n.claim_id, n.old_status, n.new_status, :now, :today FROM recon_status n"""
    )
    q.run("UPDATE claims SET status = n.new_status FROM recon_status n WHERE claims.id = n.claim_id")
    q.run("DROP TABLE IF EXISTS recon_status")


def refresh_claim_statuses(ctx: Context, claim_ids: list[int]) -> None:
    """Apply the claim-status rule of a run to these claims (after an adjustment or a refund); inside the
    caller's mutation."""
    ids = [int(i) for i in claim_ids]
    if not ids:
        return
    ctx.session.flush()
    q = _Sql(ctx, ctx.now(), ctx.today())
    q.scratch("recon_claims", _CLAIM_SUMS)
    _fill_claim_sums(q, ", ".join(map(str, ids)))
    _claim_statuses(q)
    q.run("DROP TABLE IF EXISTS recon_claims")
    ctx.session.expire_all()  # statuses changed by SQL behind the ORM's back


def _update_slips_and_claims(q: _Sql) -> None:
    """Slips whose instalment is paid become ``paid`` (and back to ``issued`` when a correction leaves less
    than the slip's amount confirmed); claim statuses follow the confirmed money net of refunds.
    Needs :func:`_touched_sums`."""
    q.run(
        """UPDATE slips SET status = 'issued', status_changed_at = :now
           FROM recon_numbers n
           WHERE slips.payment_number = n.payment_number AND slips.status = 'paid'
             AND slips.amount > n.confirmed"""
    )
    q.run(
        """UPDATE slips SET status = 'paid', status_changed_at = :now
           FROM recon_numbers n
           WHERE slips.payment_number = n.payment_number AND slips.status = 'issued'
             AND slips.amount <= n.confirmed"""
    )
    _claim_statuses(q)
    _overpayments(q)
    for name in ("recon_numbers", "recon_claims"):
        q.run(f"DROP TABLE IF EXISTS {name}")


def _overpayments(q: _Sql) -> None:
    """One open overpayment exception per claim whose confirmed money exceeds its amount (refund due)."""
    # Only claims whose confirmed money exceeds amount + refunds decided: normally none or a handful.
    rows = q.run(
        """SELECT c.id, c.amount, x.paid, x.decided FROM (
               SELECT r.claim_id, r.paid,
                      COALESCE((SELECT sum(f.amount) FROM refunds f
                                WHERE f.claim_id = r.claim_id AND f.status <> 'undone'), 0) AS decided
               FROM recon_claims r) x
           JOIN claims c ON c.id = x.claim_id
           WHERE x.paid > c.amount + x.decided"""
    ).all()
    for claim_id, amount, paid, refunded in rows:
        excess = int(paid) - int(amount) - int(refunded)
        if excess <= 0:
            continue
        open_row = q.run(
            "SELECT id, amount FROM recon_exceptions WHERE kind = 'overpayment' AND claim_id = :c "
            "AND status <> 'resolved'",
            c=claim_id,
        ).first()
        detail = {"claim_amount": int(amount), "paid_amount": int(paid), "refunded_amount": int(refunded)}
        if open_row is not None:
            if int(open_row[1]) != excess:
                q.run(
                    "UPDATE recon_exceptions SET amount = :a, detail = :d WHERE id = :i",
                    a=excess,
                    d=_json(detail),
                    i=open_row[0],
                )
            continue
        seq = q.run(
            "SELECT count(*) FROM recon_exceptions WHERE kind = 'overpayment' AND claim_id = :c", c=claim_id
        ).scalar_one()
        q.raise_exceptions(
            "overpayment",
            f"""SELECT 'overpayment:claim:' || CAST(:c AS TEXT) || ':' || CAST(:n AS TEXT) AS key,
                       CAST(NULL AS INTEGER) AS slip_id, CAST(:c AS INTEGER) AS claim_id,
                       CAST(NULL AS BIGINT) AS payment_id, CAST(NULL AS INTEGER) AS agent_id,
                       CAST(:a AS BIGINT) AS amount, {q.json_array()} AS record_ids,
                       {
                q.json_object(claim_amount="CAST(:amount AS BIGINT)", paid_amount="CAST(:paid AS BIGINT)")
            } AS detail
                WHERE 1 = 1""",
            c=claim_id,
            n=int(seq) + 1,
            a=excess,
            amount=int(amount),
            paid=int(paid),
        )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _ageing(q: _Sql, as_of: datetime.date, days: int) -> None:
    """Preliminary payments still unconfirmed more than ``days`` calendar days after they were paid."""
    cutoff = as_of - datetime.timedelta(days=days)
    q.raise_exceptions(
        "unconfirmed_preliminary",
        f"""SELECT 'unconfirmed_preliminary:pay:' || p.id AS key, p.slip_id, p.claim_id, p.id AS payment_id,
                   p.agent_id, p.amount, {q.json_array("p.preliminary_record_id")} AS record_ids,
                   {q.json_object(paid_date="p.paid_date", as_of="CAST(:as_of_text AS TEXT)")} AS detail
            FROM payments p
            WHERE p.state = 'preliminary' AND p.source = 'agent' AND p.paid_date < :cutoff""",
        cutoff=cutoff,
        as_of_text=as_of.isoformat(),
    )


# -- three-way match ----------------------------------------------------------------------------------------


def _remittance_keys(q: _Sql, as_of: datetime.date) -> set[tuple[int, datetime.date]]:
    """(agent, transfer date) pairs to evaluate: touched by this run's records or credits, or not yet matched
    (a pending remittance becomes a mismatch once its credit is overdue, see ``_remittances``)."""
    keys: set[tuple[int, datetime.date]] = set(q.transfer_dates)
    for agent_id, day in q.run(
        """SELECT DISTINCT b.agent_id, b.value_date FROM bank_records b
           WHERE b.processed_at IS NULL AND b.agent_id IS NOT NULL AND b.direction = 'credit'"""
    ).all():
        keys.add((int(agent_id), _date(day)))
    for agent_id, day in q.run(
        "SELECT agent_id, transfer_date FROM remittances WHERE status <> 'matched'"
    ).all():
        keys.add((int(agent_id), _date(day)))
    return keys


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def _remittances(q: _Sql, as_of: datetime.date, result: RunResult) -> None:
    keys = _remittance_keys(q, as_of)
    agents = {a.id: a for a in q.ctx.session.exec(select(Agent))}
    fees: dict[int, list[AgentFee]] = defaultdict(list)
    for agent_fee in q.ctx.session.exec(select(AgentFee)):
        fees[agent_fee.agent_id].append(agent_fee)
    for agent_id, day in sorted(keys):
        agent = agents.get(agent_id)
        if agent is None:
            continue
        groups = q.run(
            """SELECT r.channel_code, r.paid_date, count(*), COALESCE(sum(r.amount), 0)
               FROM settlement_records r
               WHERE r.agent_id = :a AND r.transfer_date = :d AND r.kind = 'confirmed'
                 AND NOT (r.kind_code = '12' AND EXISTS (
                     SELECT 1 FROM settlement_records k WHERE k.kind_code = '22' AND k.agent_id = r.agent_id
                       AND k.payment_number = r.payment_number AND k.paid_date = r.paid_date))
               GROUP BY r.channel_code, r.paid_date""",
            a=agent_id,
            d=day,
        ).all()
        gross = sum(int(g[3]) for g in groups)
        items = sum(int(g[2]) for g in groups)
        lines = []
        for channel, paid_date, count, _amount in groups:
            fee, rate = select_fee(fees[agent_id], channel, _date(paid_date))
            lines.append(rules.FeeLine(int(count), fee, rate))
        owed = rules.owed(gross, lines, agent.remittance_mode)
        credits = q.run(
            """SELECT b.id, b.amount, b.cancelled FROM bank_records b
               WHERE b.agent_id = :a AND b.value_date = :d AND b.direction = 'credit' ORDER BY b.id""",
            a=agent_id,
            d=day,
        ).all()
        credited = sum(-int(c[1]) if c[2] else int(c[1]) for c in credits)
        bank_ids = [int(c[0]) for c in credits]
        due_by = cal.next_office_day(day)
        for _ in range(CREDIT_GRACE_OFFICE_DAYS):
            due_by = cal.next_office_day(due_by + datetime.timedelta(days=1))
        evaluate = bool(credits) or as_of >= due_by
        if credited == owed.expected and credits:
            status = "matched"
        elif evaluate:
            status = "mismatch"
        else:
            status = "pending"
        row = q.ctx.session.exec(
            select(Remittance).where(Remittance.agent_id == agent_id, Remittance.transfer_date == day)
        ).first()
        figures = {
            "records": items,
            "gross": owed.gross,
            "fees": owed.fees,
            "fee_tax": owed.fee_tax,
            "expected": owed.expected,
            "credited": credited,
            "bank_record_ids": bank_ids,
            "status": status,
            "mode": agent.remittance_mode,
        }
        if row is None:
            row = Remittance(agent_id=agent_id, transfer_date=day, **figures)  # type: ignore[arg-type]
        elif all(getattr(row, k) == v for k, v in figures.items()):
            continue
        else:
            for k, v in figures.items():
                setattr(row, k, v)
        row.updated_at = q.now
        if status == "matched" and row.matched_at is None:
            row.matched_at = q.now
        q.ctx.session.add(row)
        q.ctx.session.flush()
        _settle_mismatch_exceptions(q, row)
        if status == "matched":
            result.remittances_matched += 1
            _give_receipt_dates(q, row)
    q.run("UPDATE bank_records SET processed_at = :now WHERE processed_at IS NULL")


def _settle_mismatch_exceptions(q: _Sql, row: Remittance) -> None:
    """Keep one open remittance_mismatch per (agent, date) with the current figures; close it when they
    agree."""
    prefix = f"remittance_mismatch:{row.agent_id}:{row.transfer_date.isoformat()}:"
    current = f"{prefix}{row.expected}:{row.credited}"
    stale = (
        q.run(
            "SELECT id FROM recon_exceptions WHERE key LIKE :p AND key <> :k AND status = 'open'",
            p=prefix + "%",
            k=current,
        )
        .scalars()
        .all()
    )
    for exception_id in stale:
        note = "the figures now agree" if row.status == "matched" else "superseded by newer figures"
        q.run(
            """UPDATE recon_exceptions SET status = 'resolved', resolution = 'no_action', resolved_by = :who,
                   resolved_at = :now, resolved_date = :today, note = :note WHERE id = :i""",
            who=SYSTEM_ACTOR,
            note=note,
            i=exception_id,
        )
        q.run(
            """INSERT INTO exception_actions (exception_id, action, actor, at, on_date, note, data)
               VALUES (:i, 'resolved', :who, :now, :today, :note, :data)""",
            i=exception_id,
            who=SYSTEM_ACTOR,
            note=note,
            data=_json({"resolution": "no_action"}),
        )
    if row.status != "mismatch":
        return
    q.raise_exceptions(
        "remittance_mismatch",
        f"""SELECT CAST(:key AS TEXT) AS key, CAST(NULL AS INTEGER) AS slip_id,
                   CAST(NULL AS INTEGER) AS claim_id, CAST(NULL AS BIGINT) AS payment_id,
                   CAST(:agent AS INTEGER) AS agent_id, CAST(:diff AS BIGINT) AS amount,
                   {q.json_array()} AS record_ids,
                   {
            q.json_object(
                transfer_date="CAST(:day_text AS TEXT)",
                expected="CAST(:expected AS BIGINT)",
                credited="CAST(:credited AS BIGINT)",
                gross="CAST(:gross AS BIGINT)",
                fees="CAST(:fees AS BIGINT)",
                fee_tax="CAST(:fee_tax AS BIGINT)",
                mode="CAST(:mode AS TEXT)",
            )
        } AS detail
            WHERE 1 = 1""",
        key=current,
        agent=row.agent_id,
        diff=row.expected - row.credited,
        day_text=row.transfer_date.isoformat(),
        expected=row.expected,
        credited=row.credited,
        gross=row.gross,
        fees=row.fees,
        fee_tax=row.fee_tax,
        mode=row.mode,
    )
    if row.bank_record_ids:
        q.run(
            "UPDATE recon_exceptions SET bank_record_ids = :b WHERE key = :k",
            b=_json(row.bank_record_ids),
            k=current,
        )


def _give_receipt_dates(q: _Sql, row: Remittance) -> None:
    """Payments carried by a matched remittance get its value date as receipt date, their fiscal year, and
    an accounting entry."""
    receipt = row.transfer_date
    year = rules.fiscal_year_of(receipt)
    in_closing = receipt.month in (4, 5)
    # Per claim fiscal year: the closing-period rule and current/arrears, applied set-based.
    fiscal = "CASE WHEN :closing AND c.fiscal_year < :year THEN :year - 1 ELSE :year END"
    q.run(
        f"""UPDATE payments SET receipt_date = :receipt, remittance_id = :rid, updated_at = :now,
               fiscal_year = (SELECT {fiscal} FROM claims c WHERE c.id = payments.claim_id),
               arrears = (SELECT c.fiscal_year < {fiscal} FROM claims c WHERE c.id = payments.claim_id)
            WHERE agent_id = :a AND transfer_date = :receipt AND state = 'confirmed'
              AND source IN ('agent', 'matched') AND receipt_date IS NULL""",
        receipt=receipt,
        rid=row.id,
        a=row.agent_id,
        closing=in_closing,
        year=year,
    )
    from gateway.services import ledger

    ledger.add_entries(q.ctx, remittance_id=row.id)


def fresh_instant(ctx: Context) -> datetime.datetime:
    """The instant that marks the rows one run (or one manual change) touches.

    Steps find "what this run changed" by ``updated_at = now``/``opened_at = now``, so the instant must be
    later than any earlier mark — even if the clock stands still (a pinned test clock, a coarse clock).
    """
    now = ctx.now()
    latest = ctx.session.execute(
        sa.select(
            sa.select(sa.func.max(Payment.updated_at)).scalar_subquery(),
            sa.select(sa.func.max(ReconException.opened_at)).scalar_subquery(),
        )
    ).one()
    for value in latest:
        if value is not None:
            value = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
            if value >= now:
                now = value + datetime.timedelta(microseconds=1)
    return now


@mutation("reconcile.run")
def run(ctx: Context, as_of: datetime.date | None = None) -> RunResult:
    """One reconciliation run; ``as_of`` (a Japan date) governs ageing and remittance deadlines (default:
    today in Japan)."""
    now, today = fresh_instant(ctx), ctx.today()
    as_of = as_of or today
    q = _Sql(ctx, now, today)
    result = RunResult(as_of=as_of.isoformat())
    _match_records(q, result)
    crash_point("reconcile.after_match")
    _touched_sums(q, in_run=True)
    _check_payments(q)
    crash_point("reconcile.before_statuses")
    _update_slips_and_claims(q)
    _ageing(q, as_of, ctx.settings.unconfirmed_days)
    _remittances(q, as_of, result)
    _opened(q, result)
    ctx.record("reconcile.run", None, None, **result.as_json())
    ctx.session.expire_all()  # rows changed by SQL behind the ORM's back
    crash_point("reconcile.before_commit")
    return result


@mutation("reconcile.ageing")
def age(ctx: Context, as_of: datetime.date | None = None) -> RunResult:
    """The time rules alone, for the morning job: unconfirmed preliminaries and overdue remittances."""
    now, today = fresh_instant(ctx), ctx.today()
    as_of = as_of or today
    q = _Sql(ctx, now, today)
    result = RunResult(as_of=as_of.isoformat())
    _ageing(q, as_of, ctx.settings.unconfirmed_days)
    _remittances(q, as_of, result)
    _opened(q, result)
    ctx.record("reconcile.ageing", None, None, **result.as_json())
    ctx.session.expire_all()
    return result


def after_payments(ctx: Context, now: datetime.datetime) -> RunResult:
    """The checks of a run for payments changed outside one (manual receipts, resolutions) at ``now``;
    called inside the caller's mutation."""
    q = _Sql(ctx, now, ctx.today())
    result = RunResult(as_of=ctx.today().isoformat())
    _touched_sums(q)
    _check_payments(q)
    _update_slips_and_claims(q)
    _opened(q, result)
    ctx.session.expire_all()
    return result


def _opened(q: _Sql, result: RunResult) -> None:
    q.run(
        """INSERT INTO exception_actions (exception_id, action, actor, at, on_date, note, data)
           SELECT e.id, 'opened', :who, :now, :today, NULL, :empty FROM recon_exceptions e
           WHERE e.opened_at = :now
             AND NOT EXISTS (SELECT 1 FROM exception_actions a
                             WHERE a.exception_id = e.id AND a.action = 'opened')""",
        who=SYSTEM_ACTOR,
        empty="{}",
    )
    for kind, count in q.run(
        "SELECT kind, count(*) FROM recon_exceptions WHERE opened_at = :now GROUP BY kind"
    ).all():
        result.by_kind[kind] = int(count)
        result.exceptions_opened += int(count)
