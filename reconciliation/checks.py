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
        q.raise_rule(rule, where=suspect)
    # Only the numbers the run touched that have more than one live payment.
    numbers = "SELECT n.payment_number FROM recon_numbers n WHERE n.live > 1"
    q.raise_rule(rules.DUPLICATE_PAYMENT, source=rules.live_by_number(numbers))
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
        f"""INSERT INTO recon_numbers (payment_number, confirmed, live)
           SELECT p.payment_number,
                  sum(CASE WHEN p.state = 'confirmed' THEN p.amount ELSE 0 END),
                  sum(CASE WHEN {rules.live_payment("p")} THEN 1 ELSE 0 END)
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
    """One open overpayment exception per claim of recon_claims paid beyond its amount and the refunds
    decided (:data:`rules.OVERPAYMENT`); an open one takes the new excess."""
    rule = rules.OVERPAYMENT
    # Only claims whose confirmed money exceeds amount + refunds decided: normally none or a handful.
    for claim_id, amount, paid, decided, excess in q.run(
        f"""SELECT c.id, c.amount, x.paid, x.decided, {rule.holds["amount"]}
            FROM {rule.source} WHERE {rule.condition}"""
    ).all():
        detail = {"claim_amount": int(amount), "paid_amount": int(paid), "refunded_amount": int(decided)}
        q.run(
            """UPDATE recon_exceptions SET amount = :a, detail = :d
               WHERE kind = 'overpayment' AND claim_id = :c AND status <> 'resolved' AND amount <> :a""",
            a=int(excess),
            d=to_json(detail),
            c=claim_id,
        )
    q.raise_rule(
        rule,
        where="""NOT EXISTS (SELECT 1 FROM recon_exceptions e WHERE e.kind = 'overpayment'
                                AND e.claim_id = c.id AND e.status <> 'resolved')""",
        order_by="x.claim_id",
    )


def ageing(q: Sql, as_of: datetime.date, days: int) -> None:
    """Preliminary payments still unconfirmed more than ``days`` calendar days after they were paid
    (:func:`rules.unconfirmed_too_long`)."""
    q.raise_rule(
        rules.UNCONFIRMED_PRELIMINARY,
        cutoff=rules.unconfirmed_cutoff(as_of, days),
        as_of_text=as_of.isoformat(),
    )
