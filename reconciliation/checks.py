"""Checks on the payments a run touched (the payment rules, duplicates), slips paid, claim statuses,
overpayments and the ageing of unconfirmed preliminaries."""

from __future__ import annotations

import datetime

from reconciliation import rules
from reconciliation.sql import Sql
from reconciliation.sql import to_json


def check_payments(q: Sql) -> None:
    """Exceptions on the payments this run created or changed: each of :data:`rules.PAYMENT_RULES`, and
    ``duplicate_payment``."""
    touched = "p.updated_at = :now AND p.state <> 'cancelled'"
    # One pass over the touched payments finds the few that break any rule; each rule then looks only at
    # those (instead of a pass per rule over every payment the run touched).
    q.scratch("recon_suspects", "pid BIGINT PRIMARY KEY")
    joins = " ".join(f"LEFT JOIN {join}" for join in rules.JOINS.values())
    q.run(
        f"""INSERT INTO recon_suspects (pid)
            SELECT p.id FROM payments p {joins}
            WHERE {touched} AND {rules.suspects_condition()}"""
    )
    # Driven by the suspects' ids: a join to the (unanalysed) scratch table lets the planner walk every
    # touched payment instead.
    suspect = "p.id IN (SELECT x.pid FROM recon_suspects x)"
    for rule in rules.PAYMENT_RULES:
        q.raise_for_payments(
            rule.kind,
            join=f"JOIN {rules.JOINS[rule.reads]}",
            where=f"{suspect} AND {rule.condition}",
            detail=dict(rule.detail),
            records=rule.records,
            key=rule.key,
        )
    # A second distinct, uncancelled payment for the same payment number (original and reissue alike).
    q.raise_for_payments(
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
    q.drop("recon_suspects")


CLAIM_SUMS = "claim_id BIGINT PRIMARY KEY, paid BIGINT NOT NULL, refunded BIGINT NOT NULL"


def touched_sums(q: Sql, *, in_run: bool = False) -> None:
    """Per payment number and per claim touched at ``now``: confirmed money (and, per payment number, how
    many live payments), into indexed scratch tables the next steps join instead of re-summing per row."""
    q.scratch(
        "recon_numbers",
        "payment_number VARCHAR(16) PRIMARY KEY, confirmed BIGINT NOT NULL, live INTEGER NOT NULL",
    )
    q.scratch("recon_claims", CLAIM_SUMS)
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
    fill_claim_sums(q, f"SELECT t.claim_id FROM payments t WHERE t.updated_at = :now{moved}")
    if q.pg:
        q.run("ANALYZE recon_numbers")
        q.run("ANALYZE recon_claims")


def fill_claim_sums(q: Sql, claim_ids_sql: str) -> None:
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


def claim_statuses(q: Sql) -> None:
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
            WHERE c.status NOT IN {q.closed_statuses!r} AND c.status <> {status}"""
    )
    q.run(
        """INSERT INTO claim_status_log (claim_id, old_status, new_status, at, on_date)
           SELECT n.claim_id, n.old_status, n.new_status, :now, :today FROM recon_status n"""
    )
    q.run("UPDATE claims SET status = n.new_status FROM recon_status n WHERE claims.id = n.claim_id")
    q.drop("recon_status")


def update_slips_and_claims(q: Sql) -> None:
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
    claim_statuses(q)
    _overpayments(q)
    q.drop("recon_numbers", "recon_claims")


def _overpayments(q: Sql) -> None:
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
                    d=to_json(detail),
                    i=open_row[0],
                )
            continue
        seq = q.run(
            "SELECT count(*) FROM recon_exceptions WHERE kind = 'overpayment' AND claim_id = :c", c=claim_id
        ).scalar_one()
        q.raise_one(
            "overpayment",
            f"overpayment:claim:{claim_id}:{int(seq) + 1}",
            claim_id=claim_id,
            amount=excess,
            detail={"claim_amount": int(amount), "paid_amount": int(paid)},
        )


def ageing(q: Sql, as_of: datetime.date, days: int) -> None:
    """Preliminary payments still unconfirmed more than ``days`` calendar days after they were paid
    (:func:`rules.unconfirmed_too_long`)."""
    q.raise_for_payments(
        "unconfirmed_preliminary",
        where=rules.UNCONFIRMED_SQL,
        records="p.preliminary_record_id",
        detail={"paid_date": "p.paid_date", "as_of": "CAST(:as_of_text AS TEXT)"},
        cutoff=rules.unconfirmed_cutoff(as_of, days),
        as_of_text=as_of.isoformat(),
    )
