"""Placing new settlement records: a preliminary and its exact confirmation → one confirmed payment; late
preliminaries linked to their confirmation's payment; other preliminaries → preliminary payments;
confirmations and cancellations paired with preliminary payments (exact key, then the oldest open one);
postal corrections; confirmations without a preliminary → confirmed payments; the exceptions of pairing;
records of payments this office never issued a slip for → one ``unknown_slip`` per payment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciliation import pairing
from reconciliation import rules
from reconciliation.results import RunResult
from reconciliation.sql import NEW
from reconciliation.sql import NULL_BIGINT
from reconciliation.sql import NULL_INT
from reconciliation.sql import OFFICE
from reconciliation.sql import PAY_COLUMNS
from reconciliation.sql import Sql
from reconciliation.sql import as_date
from reconciliation.sql import slip_for

BULK_ANALYZE = 10_000
"""Above this many new rows, PostgreSQL's planner statistics are refreshed within the run."""


def _many_new_records(q: Sql) -> bool:
    """Whether more than BULK_ANALYZE records wait (counting no further than that)."""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM unreconciled_records LIMIT {BULK_ANALYZE + 1}) n"
    return int(q.run(sql).scalar_one()) > BULK_ANALYZE


def match_records(q: Sql, result: RunResult, crash: Callable[[str], None]) -> None:
    """Place the queued records: payments on slips, the exceptions of pairing, ``unknown_slip``; empties the
    queue. ``crash`` is called with the name of each crash point (tests of crash safety)."""
    if q.pg:
        # One run at a time sees the queue: an ingest that commits during the run waits at its INSERT into
        # the queue (its records are then the next run's), instead of having its records swept unseen.
        q.run("LOCK TABLE unreconciled_records IN EXCLUSIVE MODE")
        if _many_new_records(q):
            q.run("ANALYZE unreconciled_records")
            q.run("ANALYZE settlement_records")
    # 0. which transfer dates the new confirmations concern (for the three-way match at the end)
    q.transfer_dates = {
        (int(agent_id), as_date(day))
        for agent_id, day in q.run(
            f"""SELECT DISTINCT r.agent_id, r.transfer_date FROM settlement_records r
                WHERE {NEW} AND r.kind = 'confirmed' AND r.transfer_date IS NOT NULL"""
        ).all()
    }
    # Records no step can place (no slip and no payment has their payment number) leave the queue first, for
    # the last step: a file of unknown payments then costs each step nothing.
    if _set_aside_unknown(q) > BULK_ANALYZE and q.pg:
        q.run("ANALYZE unreconciled_records")
    pairing.create_pairs(q)
    # 1. a preliminary and its exact confirmation both new: one confirmed payment, written once
    created = _direct_confirmations(q, result)
    # 2. preliminaries whose confirmation came first; the others become preliminary payments
    _late_preliminaries(q, result)
    preliminaries = _insert_payments(q, state="preliminary", where="r.kind = 'preliminary'")
    crash("reconcile.after_payments")
    result.matched += preliminaries
    if q.pg and created + preliminaries > BULK_ANALYZE:
        # A big batch makes the planner's statistics stale inside this transaction (autovacuum has not seen
        # the rows yet): without fresh ones PostgreSQL pairs a million rows by nested loop. The queue is
        # re-analysed too: most of it is gone now, and plans that still expect every record to be new scan
        # every payment for the few records left.
        q.run("ANALYZE payments")
        q.run("ANALYZE unreconciled_records")
    # 3. exact confirmations and exact cancellations
    _confirmations(q, result, "exact")
    _cancel_pairs(q, result, exact=True)
    # 4. fallback confirmations: the oldest open preliminary of the payment number
    _confirmations(q, result, "oldest")
    # 5. postal corrections (22) replace the amount of their 12 (same payment number and payment date)
    _postal_corrections(q, result)
    # 6. confirmations with no preliminary (postal 12, a lost preliminary file, an unmatched 22)
    created = _insert_payments(q, state="confirmed", where="r.kind = 'confirmed'")
    result.matched += created
    result.confirmed += created
    # 7. cancellations: the oldest open preliminary, else an exception
    _cancel_pairs(q, result, exact=False)
    _cancel_exceptions(q)
    # 8. what is left and matches no slip of this office, with the records set aside at the start (every
    # step above needs a slip, so only the leftovers are looked at, not every new record)
    _unknown_payments(q)
    # everything else new has been looked at
    q.run("DELETE FROM unreconciled_records")
    pairing.drop_pairs(q)


def _direct_confirmations(q: Sql, result: RunResult) -> int:
    """Preliminary records whose exact confirmation (``02``, same key and amount) arrives in the same run
    become confirmed payments directly: the state the preliminary payment would reach by the next step,
    written once instead of inserted and then updated. Returns how many payments it created.

    Only keys that occur once on each side among the new records, with no open preliminary payment of
    that payment number (an older one would take the confirmation first), go this way; everything else
    (repeated keys, differing amounts, numbers with open payments) takes the general path below."""
    # The usual day has only preliminaries or only confirmations new: then there is nothing to group.
    new = f"SELECT 1 FROM settlement_records r WHERE {NEW}"
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
            WHERE {NEW} AND {OFFICE} AND (r.kind = 'preliminary' OR r.kind_code = '02')
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
        f"""INSERT INTO payments ({PAY_COLUMNS})
            SELECT s.claim_id, s.id, a.payment_number, a.reissue_count, c.amount, 'confirmed', 'agent',
                   a.channel_code, a.store_code, a.agent_id, a.paid_at, a.paid_date,
                   {rules.is_late_sql("a", "s")}, a.id, c.id,
                   c.transfer_date, a.received_at, a.received_date, :now, :now, :now
            FROM recon_direct d
            JOIN settlement_records a ON a.id = d.pid
            JOIN settlement_records c ON c.id = d.cid
            JOIN slips s ON s.id = {slip_for("a")}"""
    ).rowcount
    q.run(
        """DELETE FROM unreconciled_records
           WHERE record_id IN (SELECT pid FROM recon_direct UNION ALL SELECT cid FROM recon_direct)"""
    )
    result.matched += 2 * created  # a preliminary and a confirmation record each
    result.confirmed += created
    return created


def _late_preliminaries(q: Sql, result: RunResult) -> None:
    """Preliminary records that arrive after their exact confirmation (a 速報 file delivered late) belong to
    the payment that confirmation made: they are linked to it, not made into a second payment. A differing
    amount raises ``confirmation_differs``; the confirmed amount stands. Only keys that occur once on each
    side are linked; the rest become payments of their own and ``duplicate_payment`` asks a person."""
    if not pairing.pair(
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
    q.raise_rule(rules.CONFIRMATION_DIFFERS)
    result.matched += q.run(
        """UPDATE payments SET preliminary_record_id = x.rid, updated_at = :now
           FROM recon_pairs x WHERE payments.id = x.pid"""
    ).rowcount
    pairing.mark_paired(q)


def _insert_payments(q: Sql, *, state: str, where: str) -> int:
    """New payments from new records, on their slip; returns how many.

    The slip is the one with the record's payment number and reissue count (a direct hit on the unique
    index); a reissue count this office never issued falls back to the newest reissue of the number.
    """
    confirmed = state == "confirmed"
    columns = f"""s.claim_id, s.id, r.payment_number, r.reissue_count, r.amount, '{state}', 'agent',
               r.channel_code, r.store_code, r.agent_id, r.paid_at, r.paid_date,
               {rules.is_late_sql("r", "s")},
               {"NULL" if confirmed else "r.id"}, {"r.id" if confirmed else "NULL"}, r.transfer_date,
               r.received_at, r.received_date, {":now" if confirmed else "NULL"}, :now, :now"""
    count = q.run(
        f"""INSERT INTO payments ({PAY_COLUMNS})
            SELECT {columns}
            FROM settlement_records r
            JOIN slips s ON s.payment_number = r.payment_number AND s.reissue_count = r.reissue_count
            WHERE {NEW} AND {OFFICE} AND {where}"""
    ).rowcount
    record = "confirmed_record_id" if confirmed else "preliminary_record_id"
    count += q.run(
        f"""INSERT INTO payments ({PAY_COLUMNS})
            SELECT {columns}
            FROM settlement_records r
            JOIN slips s ON s.id = (SELECT s2.id FROM slips s2 WHERE s2.payment_number = r.payment_number
                                    ORDER BY s2.reissue_count DESC LIMIT 1)
            WHERE {NEW} AND {OFFICE} AND {where}
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


def _confirmations(q: Sql, result: RunResult, how: str) -> None:
    """Pair new confirmations (``02``) with open preliminary payments, ``how``: ``exact`` (same key) or
    ``oldest`` (the oldest open preliminary of the payment number), and confirm them."""
    exact = how == "exact"
    if pairing.pair(
        q, record_kind="confirmed", kind_codes=("02",), payment_states=("preliminary",), exact=exact, how=how
    ):
        _confirm_pairs(q, result, how)


def _confirm_pairs(q: Sql, result: RunResult, how: str) -> None:
    """Apply recon_pairs of confirmations: raise confirmation_differs where amount or date differ, confirm."""
    q.raise_rule(rules.CONFIRMATION_DIFFERS)
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
    pairing.mark_paired(q)


def _cancel_pairs(q: Sql, result: RunResult, *, exact: bool) -> None:
    states = ("preliminary", "confirmed") if exact else ("preliminary",)
    if not pairing.pair(
        q,
        record_kind="cancellation",
        kind_codes=("03",),
        payment_states=states,
        exact=exact,
        how="exact" if exact else "oldest",
    ):
        return  # nothing paired: skip the statements below (on SQLite each walks the payments even so)
    q.raise_rule(rules.CANCEL_PAIRED_CONFIRMED)
    cancelled = q.run(
        """UPDATE payments SET state = 'cancelled', cancel_record_id = x.rid, cancelled_at = :now,
               updated_at = :now
           FROM recon_pairs x WHERE payments.id = x.pid AND payments.state = 'preliminary'"""
    ).rowcount
    result.cancelled += cancelled
    result.matched += cancelled
    pairing.mark_paired(q)


def _cancel_exceptions(q: Sql) -> None:
    """Cancellations of this office left over by pairing: after a confirmation of that payment number
    (:data:`rules.CANCEL_AFTER_CONFIRMATION`), or with nothing to cancel
    (:data:`rules.CANCEL_WITHOUT_PRELIMINARY`)."""
    leftover = f"{NEW} AND {OFFICE} AND r.kind = 'cancellation'"
    q.raise_rule(rules.CANCEL_AFTER_CONFIRMATION, where=leftover)
    q.raise_rule(rules.CANCEL_WITHOUT_PRELIMINARY, where=leftover)


def _postal_corrections(q: Sql, result: RunResult) -> None:
    if not pairing.rank_pair(
        q,
        keys=("payment_number", "paid_date"),
        records=f"FROM settlement_records r WHERE {NEW} AND {OFFICE} AND r.kind_code = '22'",
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
    pairing.mark_paired(q)


def _set_aside_unknown(q: Sql) -> int:
    """Move the queued records whose payment number has no slip and no payment into ``recon_unknown``: no
    step before :func:`_unknown_payments` could place them (each needs one or the other, and a run makes
    payments only on slips), and they pay no slip of this office (:data:`rules.UNKNOWN_SLIP`). Returns
    how many."""
    q.scratch("recon_unknown", "rid BIGINT PRIMARY KEY, ukey VARCHAR(160) NOT NULL, cid BIGINT")
    moved = _unknown_records(
        q,
        f"""{NEW} AND NOT EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = r.payment_number)
            AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_number = r.payment_number)""",
    )
    if moved:
        q.run("DELETE FROM unreconciled_records WHERE record_id IN (SELECT u.rid FROM recon_unknown u)")
    return moved


def _unknown_records(q: Sql, where: str) -> int:
    """Add the records ``r`` of ``where`` to ``recon_unknown``, with the key of their payment
    (:data:`rules.UNKNOWN_SLIP`) and, for a confirmation, its id (``cid``)."""
    rule = rules.UNKNOWN_SLIP
    return int(
        q.run(
            f"""INSERT INTO recon_unknown (rid, ukey, cid)
                SELECT r.id, {rule.key_sql(q.instant_text)}, CASE WHEN r.kind = 'confirmed' THEN r.id END
                FROM {rule.source} WHERE {where}
                ORDER BY r.id"""
        ).rowcount
    )


def _unknown_payments(q: Sql) -> None:
    """Records left over that pay no slip of this office (:data:`rules.UNKNOWN_SLIP`) → one ``unknown_slip``
    exception per payment, holding all its records (preliminary, confirmation, cancellation).

    A payment is named by :data:`rules.UNKNOWN_PAYMENT_IDENTITY`, which makes the exception's key.
    Records of a payment that arrive in a later run join its exception while it is open; once a person has
    acted on it (resolved, or a resolution awaits approval) they make a follow-up exception of their own
    (key ``<that key>:<first record id>``), which later records of the payment join while it is open."""
    found = _unknown_records(q, f"{NEW} AND {rules.UNKNOWN_SLIP.condition}")
    if not found and not q.run("SELECT 1 FROM recon_unknown LIMIT 1").first():
        q.drop("recon_unknown")
        return
    q.run("CREATE INDEX recon_unknown_key ON recon_unknown (ukey)")
    if q.pg:
        q.run("ANALYZE recon_unknown")
    _join_unknown(q, "recon_exceptions.key", "recon_exceptions.key IN (SELECT u.ukey FROM recon_unknown u)")
    q.raise_exceptions(
        "unknown_slip",
        _unknown_groups(q, "g.ukey", "FROM recon_unknown u"),
        order_by="x.first_id",
    )
    # Records of payments a person has already acted on: the open follow-up, else a new one.
    held = q.run(
        """SELECT DISTINCT u.ukey FROM recon_unknown u JOIN recon_exceptions e ON e.key = u.ukey
           WHERE e.status <> 'open' ORDER BY 1"""
    ).scalars()
    for ukey in list(held):
        follow_up = q.run(
            """SELECT max(e.id) FROM recon_exceptions e
               WHERE e.kind = 'unknown_slip' AND e.status = 'open' AND substr(e.key, 1, :n) = :p""",
            n=len(ukey) + 1,
            p=ukey + ":",
        ).scalar_one()
        if follow_up is not None:
            _join_unknown(q, "CAST(:ukey AS TEXT)", f"recon_exceptions.id = {int(follow_up)}", ukey=ukey)
            continue
        q.raise_exceptions(
            "unknown_slip",
            _unknown_groups(q, "g.ukey || ':' || g.first_id", "FROM recon_unknown u WHERE u.ukey = :ukey"),
            ukey=ukey,
        )
    q.drop("recon_unknown")


def _unknown_groups(q: Sql, key: str, source: str) -> str:
    """SELECT of one exception row per payment (``ukey``) of the records ``u`` of ``source``: the detail and
    agent of its first record, the amount of its latest confirmation (else of its first record)."""
    amount = "COALESCE((SELECT c.amount FROM settlement_records c WHERE c.id = g.cid), r.amount)"
    detail = q.json_object(**rules.UNKNOWN_SLIP.detail)
    return f"""SELECT {key} AS key, {NULL_INT} AS slip_id, {NULL_INT} AS claim_id,
                      {NULL_BIGINT} AS payment_id, r.agent_id, {amount} AS amount, g.ids AS record_ids,
                      {detail} AS detail, g.first_id
               FROM (SELECT u.ukey, min(u.rid) AS first_id, max(u.cid) AS cid, {q.json_agg("u.rid")} AS ids
                     {source}
                     GROUP BY u.ukey) g
               JOIN settlement_records r ON r.id = g.first_id"""


def _confirmed_amount(ukey: str) -> str:
    """SQL: the amount of the latest new confirmation of payment ``ukey`` (NULL when there is none)."""
    return f"""(SELECT c.amount FROM settlement_records c
                WHERE c.id = (SELECT max(u.cid) FROM recon_unknown u WHERE u.ukey = {ukey}))"""


def _join_unknown(q: Sql, payment: str, target: str, **params: Any) -> None:
    """The new records of payment ``payment`` (SQL of its key) join the open ``unknown_slip`` exceptions
    ``target`` (SQL over ``recon_exceptions``); a new confirmation's amount becomes the exception's."""
    more = f"SELECT u.rid AS id FROM recon_unknown u WHERE u.ukey = {payment}"
    q.run(
        f"""UPDATE recon_exceptions
            SET record_ids = {q.json_ids_union("recon_exceptions.record_ids", more)},
                amount = COALESCE({_confirmed_amount(payment)}, recon_exceptions.amount)
            WHERE recon_exceptions.kind = 'unknown_slip' AND recon_exceptions.status = 'open' AND {target}""",
        **params,
    )
