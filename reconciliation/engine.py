"""The engine: runs the steps of reconciliation in order on a SQLAlchemy connection it is given.

Set-based: every step is one or a few ``INSERT … SELECT`` / ``UPDATE … FROM`` statements over the records
not yet processed, so a million records never pass through Python one by one. The rules each step applies
are in :mod:`reconciliation.rules` (spec/settlement-formats.md); the steps of a run:

1. :mod:`~reconciliation.matching` places the queued records: a preliminary and its exact confirmation that
   arrive together → one confirmed payment; a preliminary whose exact confirmation already made a payment
   (a late 速報 file) is linked to it; other preliminaries → preliminary payments (on the slip with that
   reissue count, else the newest); confirmations and cancellations are paired
   (:mod:`~reconciliation.pairing`) with the preliminary payment of the same payment number, reissue count,
   payment date-time and store
   (rank to rank), failing that with the oldest open preliminary of the payment number (a differing amount
   or date raises ``confirmation_differs``); confirmations with no preliminary become confirmed payments; a
   ``22`` postal correction replaces the amount of its ``12``; records left over that pay no slip of this
   office → one ``unknown_slip`` per payment, holding all its records;
2. :mod:`~reconciliation.checks` on the payments the run touched (:data:`rules.PAYMENT_RULES`, duplicates),
   slips paid, claim statuses, overpayments, and the ageing of unconfirmed preliminaries;
3. :mod:`~reconciliation.threeway`: each agent's confirmed records against its bank credits.

New records are those queued in ``unreconciled_records`` (ingest queues them); each step removes the ids it
has placed and the run empties the queue. Running twice changes nothing: placed records have left the
queue, exceptions carry a unique key, remittances are recomputed to the same figures.

No Flask and no gateway here: what the gateway knows (its settings, agents' fees, the office calendar, how
accounting entries are booked, crash points for tests) comes in through :class:`Params`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

import sqlalchemy as sa

from reconciliation import checks
from reconciliation import matching
from reconciliation import threeway
from reconciliation.results import RunResult
from reconciliation.sql import Sql
from reconciliation.threeway import SYSTEM_ACTOR
from reconciliation.threeway import AgentTerms
from reconciliation.threeway import Calendar


def _nothing(_: object) -> None:
    """The default hooks: no crash point is set, nothing else is booked."""


@dataclass(frozen=True)
class Params:
    """What a run needs besides the database: this office (``prefix``, ``consignor``), the instant that
    marks the rows it touches (``now``) and its Japan date (``today``), the claim statuses no run changes,
    the days a preliminary may stay unconfirmed, and — for the three-way match — the agents' terms, the
    office calendar and ``on_matched(remittance id)``, which books a matched remittance's entries
    (``on_received(payment ids)`` those of money the bank received directly).
    ``crash(name)`` is called at each named crash point (tests of crash safety)."""

    prefix: str
    consignor: str
    now: datetime.datetime
    today: datetime.date
    closed_statuses: tuple[str, ...] = ()
    unconfirmed_days: int = 14
    agents: Callable[[], Mapping[int, AgentTerms]] = dict
    calendar: Calendar = field(default_factory=lambda: Calendar(lambda day: day))
    on_matched: Callable[[int], None] = _nothing
    on_received: Callable[[list[int]], None] = _nothing
    """Books the accounting entries of payments received directly (the bank counter), given their ids."""
    crash: Callable[[str], None] = _nothing

    def sql(self, conn: sa.Connection) -> Sql:
        """The SQL helpers of this run on ``conn``."""
        return Sql(
            conn,
            self.now,
            self.today,
            prefix=self.prefix,
            consignor=self.consignor,
            closed_statuses=self.closed_statuses,
        )


def run(conn: sa.Connection, params: Params, as_of: datetime.date) -> RunResult:
    """One reconciliation run on ``conn`` (inside the caller's transaction); ``as_of`` (a Japan date) governs
    ageing and remittance deadlines."""
    q = params.sql(conn)
    result = RunResult(as_of=as_of.isoformat())
    matching.match_records(q, result, params.crash)
    params.on_received(threeway.direct_receipts(q))
    params.crash("reconcile.after_match")
    checks.touched_sums(q, in_run=True)
    checks.check_payments(q)
    params.crash("reconcile.before_statuses")
    checks.update_slips_and_claims(q)
    _time_rules(q, params, as_of, result)
    return result


def age(conn: sa.Connection, params: Params, as_of: datetime.date) -> RunResult:
    """The time rules alone, for the morning job: unconfirmed preliminaries and overdue remittances."""
    q = params.sql(conn)
    result = RunResult(as_of=as_of.isoformat())
    _time_rules(q, params, as_of, result)
    return result


def _time_rules(q: Sql, params: Params, as_of: datetime.date, result: RunResult) -> None:
    checks.ageing(q, as_of, params.unconfirmed_days)
    threeway.remittances(
        q, as_of, result, agents=params.agents(), calendar=params.calendar, on_matched=params.on_matched
    )
    _opened(q, result)


def after_payments(conn: sa.Connection, params: Params) -> RunResult:
    """The checks of a run for payments changed outside one (manual receipts, resolutions) at
    ``params.now``."""
    q = params.sql(conn)
    result = RunResult(as_of=params.today.isoformat())
    checks.touched_sums(q)
    checks.check_payments(q)
    checks.update_slips_and_claims(q)
    _opened(q, result)
    return result


def refresh_claim_statuses(conn: sa.Connection, params: Params, claim_ids: list[int]) -> None:
    """Apply the claim-status rule of a run to these claims (after an adjustment or a refund)."""
    ids = [int(i) for i in claim_ids]
    if not ids:
        return
    q = params.sql(conn)
    q.scratch("recon_claims", checks.CLAIM_SUMS)
    checks.fill_claim_sums(q, ", ".join(map(str, ids)))
    checks.claim_statuses(q)
    q.drop("recon_claims")


def _opened(q: Sql, result: RunResult) -> None:
    """Log the exceptions opened at ``now`` and count them by kind."""
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
