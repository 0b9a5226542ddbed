"""Pairing new records with payments: on the exact key (payment number, reissue count, payment date-time,
store) or with the oldest open preliminary of the payment number; unique keys by one indexed join, repeated
keys rank to rank through indexed scratch tables."""

from __future__ import annotations

from reconciliation import rules
from reconciliation.sql import Sql
from reconciliation.sql import queued

PAIR_TABLES = ("recon_direct", "recon_pairs", "recon_c", "recon_m")
"""The scratch tables of the matching steps."""


def create_pairs(q: Sql) -> None:
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


def drop_pairs(q: Sql) -> None:
    """Drop the scratch tables of :func:`create_pairs`."""
    q.drop(*PAIR_TABLES)


def mark_paired(q: Sql) -> None:
    """The records in recon_pairs are placed: they leave the queue."""
    q.run("DELETE FROM unreconciled_records WHERE record_id IN (SELECT rid FROM recon_pairs)")


def _key_columns(alias: str, keys: tuple[str, ...]) -> str:
    """The pairing key as (payment_number, k2, k3, k4), the extra keys as text so both sides compare alike."""
    extra = [f"CAST({alias}.{k} AS TEXT)" for k in keys[1:]]
    extra += ["NULL"] * (3 - len(extra))
    return ", ".join([f"{alias}.{keys[0]}", *extra])


def rank_pair(
    q: Sql, *, keys: tuple[str, ...], records: str, payments: str, how: str, clear: bool = True
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


def pair(
    q: Sql,
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
            f"{queued(a, drive=drive)} AND {a}.issuer_prefix = :prefix AND {a}.consignor_code = :consignor "
            f"AND {a}.kind = '{record_kind}' AND {a}.kind_code IN ({codes}) "
            # a bank-counter payment is money of its own, never the confirmation of a store's 速報
            f"AND {a}.channel_code <> '{rules.BANK_COUNTER}'"
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
    return rank_pair(
        q,
        keys=keys,
        records=f"FROM settlement_records r WHERE {record_in('r')}",
        payments=f"FROM payments p WHERE {payment_in('p')}",
        how=how,
        clear=False,
    )
