"""Every rule of the reconciliation, in one place: the plain rules of a record (which fiscal year money
belongs to, lateness, what an agent owes) and one declaration (:class:`Rule`) for each exception kind.

A declaration holds the kind's condition (SQL over the rows its ``source`` names), the detail the exception
shows (name → SQL), its key (SQL, so that a rerun raises nothing new), a Python predicate that says the same
as the condition with a doctest beside it, and the engine ``step`` that raises it with them; the steps hold
no condition of their own. ``tests/reconciliation/test_rules_sql.py`` runs each declaration's SQL and its
predicate on the same generated rows. The kinds (``../shared/spec/interfaces.md`` § Exception kinds, "fixed
vocabulary"; :data:`KINDS`) and their declarations:

==============================  ====================================  ========================================
kind                            declaration (raised by)               spec
==============================  ====================================  ========================================
``unknown_slip``                :data:`UNKNOWN_SLIP`                  interfaces.md § Exception kinds;
                                (``matching._unknown_payments``)      settlement-formats.md, introduction
                                                                      ("A structurally valid record that does
                                                                      not match any slip …")
``amount_mismatch``             :data:`AMOUNT_MISMATCH`               interfaces.md § Exception kinds
                                (``checks.check_payments``)
``duplicate_payment``           :data:`DUPLICATE_PAYMENT`             interfaces.md § Exception kinds;
                                (``checks.check_payments``)           barcode.md § reissue
``paid_after_expiry``           :data:`PAID_AFTER_EXPIRY`             interfaces.md § Exception kinds;
                                (``checks.check_payments``)           barcode.md (positions 31–36, expiry)
``paid_void_slip``              :data:`PAID_VOID_SLIP`                interfaces.md § Exception kinds
                                (``checks.check_payments``)
``overpayment``                 :data:`OVERPAYMENT`                   interfaces.md § Exception kinds and
                                (``checks._overpayments``)            § Resolutions (``refund_due``)
``unexpected_channel``          :data:`UNEXPECTED_CHANNEL`            interfaces.md § Exception kinds;
                                (``checks.check_payments``)           settlement-formats.md § 4 (channels)
``cancel_without_preliminary``  :data:`CANCEL_WITHOUT_PRELIMINARY`    interfaces.md § Exception kinds;
                                (``matching._cancel_exceptions``)     settlement-formats.md, introduction
                                                                      (a confirmation or cancellation
                                                                      belongs to …)
``cancel_after_confirmation``   a pairing outcome, two steps:         interfaces.md § Exception kinds;
                                :data:`CANCEL_PAIRED_CONFIRMED`       settlement-formats.md, introduction
                                (``matching._cancel_pairs``: its
                                exact pair is confirmed) and
                                :data:`CANCEL_AFTER_CONFIRMATION`
                                (``matching._cancel_exceptions``:
                                left over, its number confirmed)
``confirmation_differs``        :data:`CONFIRMATION_DIFFERS`          interfaces.md § Exception kinds;
                                (``matching._confirm_pairs`` and      settlement-formats.md, introduction
                                ``matching._late_preliminaries``,     ("… then a differing amount or date
                                on the pairs they made)               raises ``confirmation_differs``")
``unconfirmed_preliminary``     :data:`UNCONFIRMED_PRELIMINARY`       interfaces.md § Exception kinds and
                                (``checks.ageing``)                   § Configuration
                                                                      (``GATEWAY_UNCONFIRMED_DAYS``)
``remittance_mismatch``         :data:`REMITTANCE_MISMATCH`           interfaces.md § Exception kinds;
                                (``threeway._settle_mismatch_         settlement-formats.md, introduction
                                exceptions``)                         (gross or net) and § 3
==============================  ====================================  ========================================

:data:`RULES` lists them all; the prefilter of the payment checks (:func:`suspects_condition`) is built from
the conditions of :data:`PAYMENT_RULES`.

>>> sorted({rule.kind for rule in RULES}) == sorted(KINDS)
True
>>> fiscal_year_of(datetime.date(2027, 3, 31)), fiscal_year_of(datetime.date(2027, 4, 1))
(2026, 2027)
>>> revenue_year(datetime.date(2027, 4, 15), claim_fiscal_year=2026)   # 出納整理期間: the earlier year
RevenueYear(fiscal_year=2026, arrears=False)
>>> revenue_year(datetime.date(2027, 6, 1), claim_fiscal_year=2026)
RevenueYear(fiscal_year=2027, arrears=True)
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from reconciliation import vocabulary
from reconciliation.sql import slip_for

KINDS = vocabulary.KINDS
"""The exception vocabulary (see :mod:`reconciliation.vocabulary`)."""

CLOSING_PERIOD_END = (5, 31)
"""出納整理期間: receipts from 1 April to 31 May may still belong to the fiscal year that ended in March."""


def fiscal_year_of(day: datetime.date) -> int:
    """The fiscal year (April to March) a date falls in, named by its starting calendar year."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass(frozen=True)
class RevenueYear:
    fiscal_year: int
    """歳入所属年度."""
    arrears: bool
    """True for 滞納繰越分 (a claim of an earlier fiscal year), False for 現年度分."""


def in_closing_period(receipt_date: datetime.date) -> bool:
    """Whether a receipt date falls in the closing period (1 April to 31 May).

    >>> in_closing_period(datetime.date(2027, 5, 31)), in_closing_period(datetime.date(2027, 6, 1))
    (True, False)
    """
    return receipt_date.month in (4, 5) and (receipt_date.month, receipt_date.day) <= CLOSING_PERIOD_END


def revenue_year(receipt_date: datetime.date, claim_fiscal_year: int) -> RevenueYear:
    """Which fiscal year received money belongs to, and whether it is arrears.

    Money for an earlier year's claim received from 1 April to 31 May belongs to the year that just ended
    (the closing period); otherwise money belongs to the fiscal year of its receipt date. It is current-year
    money (現年度分) when that year is the claim's own, arrears (滞納繰越分) when the claim is older.

    >>> revenue_year(datetime.date(2027, 5, 31), 2025)
    RevenueYear(fiscal_year=2026, arrears=True)
    >>> revenue_year(datetime.date(2027, 4, 1), 2027)
    RevenueYear(fiscal_year=2027, arrears=False)
    """
    year = fiscal_year_of(receipt_date)
    if in_closing_period(receipt_date) and claim_fiscal_year < year:
        year -= 1
    return RevenueYear(fiscal_year=year, arrears=claim_fiscal_year < year)


def revenue_year_sql(receipt_date: datetime.date, claim_fiscal_year: str) -> tuple[str, str, dict[str, Any]]:
    """:func:`revenue_year` for one receipt date as SQL over a claim's fiscal year column: the SQL of the
    fiscal year, of the arrears flag, and their parameters.

    >>> revenue_year_sql(datetime.date(2027, 4, 15), "c.fiscal_year")[2]
    {'revenue_year': 2027, 'revenue_closing': True}
    """
    year = "CASE WHEN :revenue_closing AND {c} < :revenue_year THEN :revenue_year - 1 ELSE :revenue_year END"
    fiscal = year.format(c=claim_fiscal_year)
    params = {
        "revenue_year": fiscal_year_of(receipt_date),
        "revenue_closing": in_closing_period(receipt_date),
    }
    return fiscal, f"{claim_fiscal_year} < {fiscal}", params


def is_late(paid_date: datetime.date, due_date: datetime.date, barcode_expiry: datetime.date) -> bool:
    """Paid after the printed due date but within the barcode expiry: valid money, flagged late.

    >>> d = datetime.date
    >>> due, expiry = d(2026, 12, 15), d(2027, 1, 14)
    >>> is_late(d(2026, 12, 16), due, expiry), is_late(d(2027, 1, 15), due, expiry), is_late(due, due, expiry)
    (True, False, False)
    """
    return due_date < paid_date <= barcode_expiry


def is_late_sql(paid: str, slip: str) -> str:
    """:func:`is_late` in SQL: record or payment ``paid`` against slip ``slip``."""
    return f"({paid}.paid_date > {slip}.due_date AND {paid}.paid_date <= {slip}.barcode_expiry)"


def paid_after_expiry(paid_date: datetime.date, barcode_expiry: datetime.date | None) -> bool:
    """Paid after the last day registers accept the barcode (``None`` = no limit).

    >>> paid_after_expiry(datetime.date(2027, 1, 15), datetime.date(2027, 1, 14))
    True
    >>> paid_after_expiry(datetime.date(2027, 1, 14), datetime.date(2027, 1, 14)), paid_after_expiry(
    ...     datetime.date(2030, 1, 1), None)
    (False, False)
    """
    return barcode_expiry is not None and paid_date > barcode_expiry


def unconfirmed_too_long(paid_date: datetime.date, as_of: datetime.date, days: int) -> bool:
    """A preliminary payment still unconfirmed more than ``days`` calendar days after it was paid.

    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 15), 14)
    False
    >>> unconfirmed_too_long(datetime.date(2026, 11, 1), datetime.date(2026, 11, 16), 14)
    True
    """
    return (as_of - paid_date).days > days


def unconfirmed_cutoff(as_of: datetime.date, days: int) -> datetime.date:
    """The ``cutoff`` parameter of :data:`UNCONFIRMED_PRELIMINARY`: paid before it is unconfirmed too long.

    >>> unconfirmed_cutoff(datetime.date(2026, 11, 16), 14)
    datetime.date(2026, 11, 2)
    """
    return as_of - datetime.timedelta(days=days)


REMITTED = """r.kind = 'confirmed' AND NOT (r.kind_code = '12' AND EXISTS (
    SELECT 1 FROM settlement_records k WHERE k.kind_code = '22' AND k.agent_id = r.agent_id
      AND k.payment_number = r.payment_number AND k.paid_date = r.paid_date))"""
"""A settlement record ``r`` the agent's remittance carries (spec settlement-formats.md §2, the postal
correction): its confirmed records, except a postal ``12`` that a ``22`` correction of the same payment
replaces. The three-way match and the 委託徴収計算書 count the same records."""


@dataclass(frozen=True)
class FeeLine:
    """Items of one remittance charged at one fee and tax rate."""

    items: int
    fee_per_item: int
    tax_rate_bp: int


@dataclass(frozen=True)
class Owed:
    gross: int
    fees: int
    fee_tax: int
    expected: int


def owed(gross: int, lines: Iterable[FeeLine], mode: str) -> Owed:
    """What an agent owes for one transfer date: the gross, or net of its fees and their consumption tax.

    Fees are items × fee per item; the tax is computed once per rate on the fee total of that rate and
    rounded down (one invoice per remittance, as the qualified-invoice rules round per rate).

    >>> owed(100_000, [FeeLine(3, 130, 1000), FeeLine(1, 60, 1000)], "net")
    Owed(gross=100000, fees=450, fee_tax=45, expected=99505)
    >>> owed(100_000, [FeeLine(3, 130, 1000)], "gross").expected
    100000
    """
    lines = list(lines)
    fees = sum(line.items * line.fee_per_item for line in lines)
    by_rate: dict[int, int] = {}
    for line in lines:
        by_rate[line.tax_rate_bp] = by_rate.get(line.tax_rate_bp, 0) + line.items * line.fee_per_item
    tax = sum(total * rate // 10_000 for rate, total in by_rate.items())
    if mode not in ("gross", "net"):
        raise ValueError(f"remittance mode must be gross or net, not {mode!r}")
    expected = gross if mode == "gross" else gross - fees - tax
    return Owed(gross=gross, fees=fees, fee_tax=tax, expected=expected)


def remittance_status(expected: int, credited: int, credits: bool, *, overdue: bool) -> str:
    """The three-way match of one agent and transfer date: ``matched`` when the bank ``credits`` add up to
    what the agent owes, ``mismatch`` when they do not or none came by the deadline (``overdue``; a
    ``remittance_mismatch`` exception is then open), else ``pending``.

    >>> remittance_status(500, 500, True, overdue=False), remittance_status(500, 0, False, overdue=False)
    ('matched', 'pending')
    >>> remittance_status(500, 0, False, overdue=True), remittance_status(500, 490, True, overdue=False)
    ('mismatch', 'mismatch')
    """
    if credited == expected and credits:
        return "matched"
    return "mismatch" if credits or overdue else "pending"


# -- the declarations -------------------------------------------------------------------------------------

Row = Mapping[str, Any]
"""One row as a predicate sees it, each value named as the declaration's SQL names it: ``"p.amount"``
(payment), ``"s.amount"`` (its slip), ``"a.channels"`` (its agent), ``"r.amount"`` (a settlement record),
``":credits"`` (a parameter of the statement) …; a missing slip or agent reads as ``None``, as a LEFT JOIN
does."""

_UTC = re.compile(r"\{utc\(([\w.]+)\)\}")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """The declaration of one exception kind (of one step's share, for a kind two steps raise).

    ``source`` names the rows the rule looks at (SQL after ``FROM``, with the aliases the rest uses) and
    ``condition`` (SQL over them) which of them raise ``kind``; ``predicate`` says the same in Python (over
    a :data:`Row`, with what else its doctest shows). ``detail`` is what the exception shows (name → SQL),
    ``key`` its unique key (SQL, so that a rerun raises nothing new; ``{utc(column)}`` stands for a
    timestamp as fixed UTC text, see :meth:`key_sql`), ``holds`` the SQL of what it is about (any of
    ``slip_id``, ``claim_id``, ``payment_id``, ``agent_id``, ``amount``; the rest NULL) and ``records`` the
    SQL of the settlement record ids it holds. ``step`` names the engine functions that raise it
    (``module.function`` in :mod:`reconciliation`, comma-separated), ``spec`` where the spec says so."""

    kind: str
    step: str
    spec: str
    source: str
    condition: str
    predicate: Callable[..., bool]
    detail: Mapping[str, str]
    key: str
    holds: Mapping[str, str] = field(default_factory=dict)
    records: tuple[str, ...] = ()

    def key_sql(self, instant: Callable[[str], str]) -> str:
        """``key`` with each ``{utc(column)}`` written by ``instant`` (the dialect's fixed UTC text).

        >>> print(CONFIRMATION_DIFFERS.key_sql(str))
        'confirmation_differs:pay:' || p.id || ':rec:' || r.id
        >>> UNKNOWN_SLIP.key_sql(lambda c: f"utc_text({c})").count("utc_text(r.paid_at)")
        1
        """
        return _UTC.sub(lambda m: instant(m[1]), self.key)


SPEC = "../shared/spec/interfaces.md § Exception kinds"
"""Where the spec names every kind and when it is raised."""

ON_PAYMENT: Mapping[str, str] = {
    "slip_id": "p.slip_id",
    "claim_id": "p.claim_id",
    "payment_id": "p.id",
    "agent_id": "p.agent_id",
    "amount": "p.amount",
}
"""What an exception on payment ``p`` is about."""

PAYMENT_RECORDS = "COALESCE(p.preliminary_record_id, p.confirmed_record_id)"
"""The record ids an exception on payment ``p`` holds, unless its rule says otherwise."""


def _known(*values: Any) -> bool:
    """None of the values is NULL (SQL's comparisons with NULL are never true)."""
    return all(v is not None for v in values)


# -- unknown payments (matching._unknown_payments) ----------------------------------------------------------

OUR_NUMBER = "EXISTS (SELECT 1 FROM slips s WHERE s.payment_number = r.payment_number)"
"""SQL over a settlement record ``r``: its payment number is one of this office's slips."""

UNKNOWN_PAYMENT_IDENTITY = (
    "issuer_prefix",
    "consignor_code",
    "payment_number",
    "reissue_count",
    "paid_at",
    "store_code",
)
"""The record columns that name one payment, so that its preliminary, confirmation and cancellation make
one ``unknown_slip`` exception."""


def unknown_slip_key(r: str, instant: Callable[[str], str]) -> str:
    """SQL: the key of the ``unknown_slip`` exception of record ``r``'s payment, ``unknown_slip:`` and the
    :data:`UNKNOWN_PAYMENT_IDENTITY` joined by ``:`` (``instant`` writes ``paid_at`` as fixed UTC text).

    >>> print(unknown_slip_key("r", lambda c: f"utc({c})"))
    'unknown_slip' || ':' || r.issuer_prefix || ':' || r.consignor_code || ':' || r.payment_number || ':' ||
    r.reissue_count || ':' || utc(r.paid_at) || ':' || r.store_code
    """
    columns = [instant(f"{r}.{c}") if c == "paid_at" else f"{r}.{c}" for c in UNKNOWN_PAYMENT_IDENTITY]
    return " || ':' || ".join(["'unknown_slip'", *columns])


def unknown_slip(row: Row, office: tuple[str, str], our_numbers: Iterable[str]) -> bool:
    """A record of a payment this office never issued a slip for: another issuer or consignor, or a payment
    number none of ``our_numbers``.

    >>> row = {"r.issuer_prefix": "919123", "r.consignor_code": "45001", "r.payment_number": "0001"}
    >>> unknown_slip(row, ("919123", "45001"), ["0001"]), unknown_slip(row, ("919123", "45001"), ["0002"])
    (False, True)
    >>> unknown_slip(row, ("919290", "23252"), ["0001"])
    True
    """
    ours = (row["r.issuer_prefix"], row["r.consignor_code"]) == office
    return not (ours and row["r.payment_number"] in set(our_numbers))


UNKNOWN_SLIP = Rule(
    kind="unknown_slip",
    step="matching._unknown_payments",
    spec=f"{SPEC}; settlement-formats.md, introduction (a record that matches no slip)",
    source="settlement_records r",
    condition=f"NOT (r.issuer_prefix = :prefix AND r.consignor_code = :consignor AND {OUR_NUMBER})",
    predicate=unknown_slip,
    detail={
        "kind": "r.kind",
        "kind_code": "r.kind_code",
        "payment_number": "r.payment_number",
        "paid_date": "r.paid_date",
        "issuer_prefix": "r.issuer_prefix",
        "consignor_code": "r.consignor_code",
    },
    key=unknown_slip_key("r", lambda column: f"{{utc({column})}}"),
)
"""A settlement record that pays no slip of this office (``prefix``/``consignor``). Its step raises one
exception per payment (:data:`UNKNOWN_PAYMENT_IDENTITY`, the key), holding all its records and showing the
detail of its first; the amount is its latest confirmation's, else its first record's."""


# -- the checks on every payment a run touches (checks.check_payments) -------------------------------------

JOINS: dict[str, str] = {"s": "slips s ON s.id = p.slip_id", "a": "agents a ON a.id = p.agent_id"}
"""What a payment rule's condition may read besides the payment ``p``: its slip ``s`` or its agent ``a``."""


def payment_rule(
    kind: str,
    predicate: Callable[..., bool],
    *,
    condition: str,
    detail: Mapping[str, str],
    reads: str = "",
    source: str = "",
    step: str = "checks.check_payments",
    key: str = "",
    records: str = PAYMENT_RECORDS,
    spec: str = SPEC,
) -> Rule:
    """The rule of ``kind`` on payments ``p``, with key ``<kind>:pay:<payment id>`` unless ``key`` says
    otherwise. By default one of :data:`PAYMENT_RULES`, the checks on every payment a run creates or
    changes: its source is the payment joined with the one table it ``reads`` (a key of :data:`JOINS`)."""
    return Rule(
        kind=kind,
        step=step,
        spec=spec,
        source=source or f"payments p JOIN {JOINS[reads]}",
        condition=condition,
        predicate=predicate,
        detail=detail,
        key=key or f"'{kind}:pay:' || p.id",
        holds=ON_PAYMENT,
        records=(records,),
    )


def _slip_amount_differs(row: Row) -> bool:
    """An agent's or a clerk's payment whose amount is not its slip's.

    >>> _slip_amount_differs({"p.source": "agent", "p.amount": 12_000, "s.amount": 12_500})
    True
    >>> _slip_amount_differs({"p.source": "matched", "p.amount": 12_000, "s.amount": 12_500})
    False
    """
    return (
        row["p.source"] in ("agent", "manual")
        and _known(row["s.amount"], row["p.amount"])
        and (row["p.amount"] != row["s.amount"])
    )


AMOUNT_MISMATCH = payment_rule(
    "amount_mismatch",
    _slip_amount_differs,
    reads="s",
    condition="p.source IN ('agent', 'manual') AND p.amount <> s.amount",
    detail={"slip_amount": "s.amount", "paid_amount": "p.amount"},
    key="'amount_mismatch:pay:' || p.id || ':' || p.amount",  # a later different amount is a new mismatch
    records="COALESCE(p.correction_record_id, p.confirmed_record_id, p.preliminary_record_id)",
)


BANK_COUNTER = "bank"
"""The channel of money paid at the designated bank's counter (``adapters.bank_counter.CHANNEL``; a clerk
records such money with the same code). The bank is not the slip's agent and the slip sends the payer there
after the store deadline, so neither the agent's contract (``unexpected_channel``) nor the barcode expiry
(``paid_after_expiry``) applies; the bank took the money into the office's account itself, so the payment
date is its receipt date (:data:`RECEIVED_DIRECTLY`). docs/settlements.md "The bank counter"."""

NOT_BANK_COUNTER = f"COALESCE(p.channel_code, '') <> '{BANK_COUNTER}'"
"""SQL: payment ``p`` was not paid at the bank's counter."""

RECEIVED_DIRECTLY = f"p.source = 'agent' AND p.channel_code = '{BANK_COUNTER}' AND p.state = 'confirmed'"
"""SQL: an agent-data payment the office's bank received itself (bank-counter data): its receipt date (収入日)
is its payment date, with :func:`revenue_year` as for any receipt (``threeway.direct_receipts``)."""


def _paid_after_expiry(row: Row) -> bool:
    """An agent's payment made after its slip's barcode expired (:func:`paid_after_expiry`); not one at the
    bank's counter (:data:`BANK_COUNTER`), where the slip is payable after the store deadline.

    >>> row = {"p.source": "agent", "p.channel_code": "0010", "p.paid_date": datetime.date(2027, 1, 15)}
    >>> _paid_after_expiry({**row, "s.barcode_expiry": datetime.date(2027, 1, 14)})
    True
    >>> _paid_after_expiry({**row, "s.barcode_expiry": None})
    False
    >>> _paid_after_expiry({**row, "p.channel_code": "bank", "s.barcode_expiry": datetime.date(2027, 1, 14)})
    False
    """
    return (
        row["p.source"] == "agent"
        and row["p.channel_code"] != BANK_COUNTER
        and paid_after_expiry(row["p.paid_date"], row["s.barcode_expiry"])
    )


PAID_AFTER_EXPIRY = payment_rule(
    "paid_after_expiry",
    _paid_after_expiry,
    reads="s",
    condition=f"p.source = 'agent' AND {NOT_BANK_COUNTER} AND p.paid_date > s.barcode_expiry",
    detail={"paid_date": "p.paid_date", "barcode_expiry": "s.barcode_expiry"},
    spec=f"{SPEC}; barcode.md (positions 31–36, barcode expiry)",
)


def _slip_void(row: Row) -> bool:
    """Any payment on a slip the office made void.

    >>> _slip_void({"s.status": "void"}), _slip_void({"s.status": "paid"}), _slip_void({"s.status": None})
    (True, False, False)
    """
    return bool(row["s.status"] == "void")


PAID_VOID_SLIP = payment_rule(
    "paid_void_slip",
    _slip_void,
    reads="s",
    condition="s.status = 'void'",
    detail={"void_reason": "s.void_reason"},
)


def channel_enabled(channel: str, channels: str) -> bool:
    """Whether ``channel`` is one of an agent's comma-separated enabled ``channels``.

    >>> channel_enabled("0010", "0010,0020"), channel_enabled("0820", "0010,0020")
    (True, False)
    >>> channel_enabled("001", "0010"), channel_enabled("0010", "0010")
    (False, True)
    """
    return f",{channel}," in f",{channels},"


def _channel_not_enabled(row: Row) -> bool:
    """An agent's payment through a channel its contract does not enable (:func:`channel_enabled`); not one
    at the bank's counter (:data:`BANK_COUNTER`: the bank is not the agent).

    >>> _channel_not_enabled({"p.source": "agent", "p.channel_code": "0820", "a.channels": "0010,0020"})
    True
    >>> _channel_not_enabled({"p.source": "agent", "p.channel_code": "0820", "a.channels": None})
    False
    >>> _channel_not_enabled({"p.source": "agent", "p.channel_code": "bank", "a.channels": "0010,0020"})
    False
    """
    channel, channels = row["p.channel_code"], row["a.channels"]
    return (
        row["p.source"] == "agent"
        and channel != BANK_COUNTER
        and _known(channel, channels)
        and not channel_enabled(channel, channels)
    )


UNEXPECTED_CHANNEL = payment_rule(
    "unexpected_channel",
    _channel_not_enabled,
    reads="a",
    condition=f"""p.source = 'agent' AND {NOT_BANK_COUNTER}
                  AND (',' || a.channels || ',') NOT LIKE ('%,' || p.channel_code || ',%')""",
    detail={"channel_code": "p.channel_code", "enabled": "a.channels"},
    spec=f"{SPEC}; settlement-formats.md § 4 (the channels enabled for an agent)",
)

PAYMENT_RULES: list[Rule] = [AMOUNT_MISMATCH, PAID_AFTER_EXPIRY, PAID_VOID_SLIP, UNEXPECTED_CHANNEL]
"""The checks on every payment a run creates or changes, in the order they are raised."""


def suspects_condition(rules: Iterable[Rule] = PAYMENT_RULES) -> str:
    """The prefilter: SQL true for a payment (with its slip ``s`` and agent ``a`` LEFT JOINed) that some
    rule would raise an exception for, built from the rules' own conditions.

    >>> print(suspects_condition(PAYMENT_RULES[2:3]))
    ((s.status = 'void'))
    """
    return "(" + " OR ".join(f"({rule.condition})" for rule in rules) + ")"


LIVE_SOURCES = ("agent", "manual", "matched")
"""Payments that count as money paid on their payment number: an agent's, a clerk's, a person's match."""


def live_payment(p: str) -> str:
    """SQL: payment ``p`` is live (:func:`is_live`)."""
    return f"{p}.state <> 'cancelled' AND {p}.source IN {LIVE_SOURCES!r}"


def is_live(row: Row) -> bool:
    """A payment not cancelled, from one of :data:`LIVE_SOURCES`.

    >>> agent = {"p.state": "preliminary", "p.source": "agent"}
    >>> is_live(agent), is_live({**agent, "p.state": "cancelled"}), is_live({**agent, "p.source": "bank"})
    (True, False, False)
    """
    return row["p.state"] != "cancelled" and row["p.source"] in LIVE_SOURCES


def live_by_number(numbers: str) -> str:
    """SQL (a ``FROM`` item ``p``): the live payments of the payment numbers the one-column query
    ``numbers`` gives, each with its rank ``rn`` among its number's (oldest first) and ``first_id``, the
    number's first."""
    return f"""(SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.payment_number ORDER BY d.id) AS rn,
                      MIN(d.id) OVER (PARTITION BY d.payment_number) AS first_id
               FROM payments d
               WHERE {live_payment("d")} AND d.payment_number IS NOT NULL
                 AND d.payment_number IN ({numbers})) p"""


def duplicate_payment(row: Row, payments: Iterable[Row]) -> bool:
    """A live payment (:func:`is_live`) whose payment number has an older live payment among ``payments``
    (an original and its reissues share the number).

    >>> first = {"p.id": 1, "p.payment_number": "0001", "p.state": "confirmed", "p.source": "agent"}
    >>> second = {**first, "p.id": 2, "p.source": "manual"}
    >>> duplicate_payment(second, [first, second]), duplicate_payment(first, [first, second])
    (True, False)
    >>> duplicate_payment(second, [{**first, "p.state": "cancelled"}, second])
    False
    """
    number = row["p.payment_number"]
    return (
        number is not None
        and is_live(row)
        and any(o["p.payment_number"] == number and o["p.id"] < row["p.id"] and is_live(o) for o in payments)
    )


DUPLICATE_PAYMENT = payment_rule(
    "duplicate_payment",
    duplicate_payment,
    source=live_by_number("SELECT n.payment_number FROM payments n"),
    condition="p.rn > 1",
    detail={"payment_number": "p.payment_number", "first_payment_id": "p.first_id"},
    spec=f"{SPEC}; barcode.md (reissue: same payment number)",
)
"""A second live payment of a payment number (its step narrows :func:`live_by_number` to the numbers the
run touched with more than one live payment)."""


# -- overpayments (checks._overpayments) -------------------------------------------------------------------


def overpaid(row: Row, refunds: Iterable[Row]) -> bool:
    """A claim whose confirmed money (``x.paid``) exceeds its amount and the refunds decided on it (any not
    undone, of ``refunds``): the excess is due back.

    >>> claim = {"c.id": 7, "c.amount": 30_000, "x.paid": 35_000}
    >>> overpaid(claim, []), overpaid(claim, [{"f.claim_id": 7, "f.amount": 5_000, "f.status": "refunded"}])
    (True, False)
    >>> overpaid(claim, [{"f.claim_id": 7, "f.amount": 5_000, "f.status": "undone"}])
    True
    """
    decided = sum(
        f["f.amount"] for f in refunds if f["f.claim_id"] == row["c.id"] and f["f.status"] != "undone"
    )
    return bool(row["x.paid"] > row["c.amount"] + decided)


OVERPAYMENT = Rule(
    kind="overpayment",
    step="checks._overpayments",
    spec=f"{SPEC} and § Resolutions (refund_due)",
    source="""(SELECT m.claim_id, m.paid,
                      COALESCE((SELECT sum(f.amount) FROM refunds f
                                WHERE f.claim_id = m.claim_id AND f.status <> 'undone'), 0) AS decided
               FROM recon_claims m) x
              JOIN claims c ON c.id = x.claim_id""",
    condition="x.paid > c.amount + x.decided",
    predicate=overpaid,
    detail={"claim_amount": "c.amount", "paid_amount": "x.paid"},
    # numbered: a claim overpaid again after its first overpayment was resolved raises a new one
    key="""'overpayment:claim:' || c.id || ':' || (SELECT count(*) + 1 FROM recon_exceptions e
                                                   WHERE e.kind = 'overpayment' AND e.claim_id = c.id)""",
    holds={"claim_id": "c.id", "amount": "x.paid - c.amount - x.decided"},
)
"""A claim (of the scratch table ``recon_claims``: its confirmed money ``paid``) paid beyond its amount and
the refunds decided; the exception's amount is the excess. Its step keeps one open per claim (an open one
takes the new excess)."""


# -- pairing outcomes (matching) ---------------------------------------------------------------------------

PAIRS = "recon_pairs x JOIN payments p ON p.id = x.pid JOIN settlement_records r ON r.id = x.rid"
"""The pairs a pairing step made: settlement record ``r`` paired with payment ``p`` (``x.how``: ``exact``,
``oldest``, or ``late`` for a preliminary record paired with the payment its confirmation made)."""


def _pair_rule(
    kind: str,
    step: str,
    predicate: Callable[[Row], bool],
    *,
    condition: str,
    detail: Mapping[str, str],
    key: str,
    records: tuple[str, ...],
) -> Rule:
    """The rule of ``kind`` on the :data:`PAIRS` a pairing ``step`` made: about the payment, and the
    record's agent and amount."""
    return Rule(
        kind=kind,
        step=step,
        spec=f"{SPEC}; settlement-formats.md, introduction (which preliminary a record belongs to)",
        source=PAIRS,
        condition=condition,
        predicate=predicate,
        detail=detail,
        key=key,
        holds={**ON_PAYMENT, "agent_id": "r.agent_id", "amount": "r.amount"},
        records=records,
    )


def _sides(late: str, other: str) -> str:
    """SQL over a pair: ``late`` in a ``late`` pair (the record is the preliminary, the payment the
    confirmation's), else ``other``."""
    return f"CASE WHEN x.how = 'late' THEN {late} ELSE {other} END"


def confirmation_differs(row: Row) -> bool:
    """A preliminary and its confirmation that disagree on the amount or the payment date; the confirmation
    stands.

    >>> day = datetime.date(2026, 12, 1)
    >>> row = {"p.amount": 20_000, "p.paid_date": day, "r.paid_date": day}
    >>> confirmation_differs({**row, "r.amount": 19_000}), confirmation_differs({**row, "r.amount": 20_000})
    (True, False)
    """
    return bool(row["p.amount"] != row["r.amount"] or row["p.paid_date"] != row["r.paid_date"])


CONFIRMATION_DIFFERS = _pair_rule(
    "confirmation_differs",
    "matching._confirm_pairs, matching._late_preliminaries",
    confirmation_differs,
    condition="p.amount <> r.amount OR p.paid_date <> r.paid_date",
    detail={
        "preliminary_amount": _sides("r.amount", "p.amount"),
        "confirmed_amount": _sides("p.amount", "r.amount"),
        "preliminary_paid_date": _sides("r.paid_date", "p.paid_date"),
        "confirmed_paid_date": _sides("p.paid_date", "r.paid_date"),
        "linked": "x.how",
    },
    key="'confirmation_differs:pay:' || p.id || ':rec:' || r.id",
    records=(_sides("r.id", "p.preliminary_record_id"), _sides("p.confirmed_record_id", "r.id")),
)
"""A confirmation paired with a preliminary payment, or a late preliminary record linked to its
confirmation's payment, that differs from it."""


def _cancels_confirmed(row: Row) -> bool:
    """A cancellation whose exact pair is a payment already confirmed (it stays confirmed).

    >>> _cancels_confirmed({"p.state": "confirmed"}), _cancels_confirmed({"p.state": "preliminary"})
    (True, False)
    """
    return bool(row["p.state"] == "confirmed")


CANCEL_PAIRED_CONFIRMED = _pair_rule(
    "cancel_after_confirmation",
    "matching._cancel_pairs",
    _cancels_confirmed,
    condition="p.state = 'confirmed'",
    detail={"payment_state": "p.state", "confirmed_record_id": "p.confirmed_record_id"},
    key="'cancel_after_confirmation:rec:' || r.id",
    records=("p.preliminary_record_id", "p.confirmed_record_id", "r.id"),
)
"""``cancel_after_confirmation`` of a cancellation paired on the exact key with a confirmed payment."""


def leftover_cancellation(confirmed: Iterable[str], slips: Iterable[str], payment_number: str) -> str | None:
    """The exception for a cancellation of ``payment_number`` that matched no open preliminary payment:
    ``cancel_after_confirmation`` when an agent's payment of the number is ``confirmed``,
    ``cancel_without_preliminary`` when there is none but the number is one of the office's ``slips``,
    else ``None`` (``unknown_slip`` then takes it).

    >>> leftover_cancellation(["0001"], ["0001", "0002"], "0001"), leftover_cancellation([], ["0002"], "0002")
    ('cancel_after_confirmation', 'cancel_without_preliminary')
    >>> leftover_cancellation([], ["0002"], "0003") is None
    True
    """
    if payment_number in set(confirmed):
        return "cancel_after_confirmation"
    return "cancel_without_preliminary" if payment_number in set(slips) else None


def _after_confirmation(row: Row, confirmed: Iterable[str], slips: Iterable[str]) -> bool:
    """:func:`leftover_cancellation` of record ``r`` is ``cancel_after_confirmation``.

    >>> _after_confirmation({"r.payment_number": "0001"}, ["0001"], [])
    True
    """
    return leftover_cancellation(confirmed, slips, row["r.payment_number"]) == "cancel_after_confirmation"


def _without_preliminary(row: Row, confirmed: Iterable[str], slips: Iterable[str]) -> bool:
    """:func:`leftover_cancellation` of record ``r`` is ``cancel_without_preliminary``.

    >>> _without_preliminary({"r.payment_number": "0002"}, ["0001"], ["0002"])
    True
    """
    return leftover_cancellation(confirmed, slips, row["r.payment_number"]) == "cancel_without_preliminary"


_CONFIRMED_OF = "p.payment_number = r.payment_number AND p.state = 'confirmed' AND p.source = 'agent'"
"""SQL: payment ``p`` is an agent's confirmed payment of record ``r``'s payment number."""


def _leftover_rule(kind: str, predicate: Callable[..., bool], *, condition: str, **holds: str) -> Rule:
    """The rule of ``kind`` on the cancellation records ``r`` that pairing left over: key
    ``<kind>:rec:<record id>``, showing the record's payment number and date; ``holds`` its slip, claim …"""
    return Rule(
        kind=kind,
        step="matching._cancel_exceptions",
        spec=f"{SPEC}; settlement-formats.md, introduction",
        source="settlement_records r",
        condition=condition,
        predicate=predicate,
        detail={"payment_number": "r.payment_number", "paid_date": "r.paid_date"},
        key=f"'{kind}:rec:' || r.id",
        holds={"agent_id": "r.agent_id", "amount": "r.amount", **holds},
        records=("r.id",),
    )


CANCEL_AFTER_CONFIRMATION = _leftover_rule(
    "cancel_after_confirmation",
    _after_confirmation,
    condition=f"EXISTS (SELECT 1 FROM payments p WHERE {_CONFIRMED_OF})",
    slip_id="(SELECT max(p.slip_id) FROM payments p WHERE p.payment_number = r.payment_number)",
    claim_id="(SELECT max(p.claim_id) FROM payments p WHERE p.payment_number = r.payment_number)",
    # the payment the cancellation would withdraw, when only one confirmed agent payment can be meant
    payment_id=f"(SELECT CASE WHEN count(*) = 1 THEN min(p.id) END FROM payments p WHERE {_CONFIRMED_OF})",
)
"""``cancel_after_confirmation`` of a cancellation record ``r`` that no open preliminary took: an agent's
payment of its number is confirmed already."""

CANCEL_WITHOUT_PRELIMINARY = _leftover_rule(
    "cancel_without_preliminary",
    _without_preliminary,
    condition=f"NOT EXISTS (SELECT 1 FROM payments p WHERE {_CONFIRMED_OF}) AND {OUR_NUMBER}",
    slip_id=slip_for("r"),
    claim_id="(SELECT max(s.claim_id) FROM slips s WHERE s.payment_number = r.payment_number)",
)
"""A cancellation record ``r`` that no open preliminary took, with nothing to cancel, though its payment
number is one of this office's slips."""


# -- the time rules (checks.ageing, threeway) --------------------------------------------------------------


def _unconfirmed(row: Row, as_of: datetime.date, days: int) -> bool:
    """An agent's preliminary payment :func:`unconfirmed_too_long` as of ``as_of``.

    >>> row = {"p.state": "preliminary", "p.source": "agent", "p.paid_date": datetime.date(2026, 11, 1)}
    >>> _unconfirmed(row, datetime.date(2026, 11, 16), 14), _unconfirmed(row, datetime.date(2026, 11, 15), 14)
    (True, False)
    """
    return (
        row["p.state"] == "preliminary"
        and row["p.source"] == "agent"
        and unconfirmed_too_long(row["p.paid_date"], as_of, days)
    )


UNCONFIRMED_PRELIMINARY = payment_rule(
    "unconfirmed_preliminary",
    _unconfirmed,
    step="checks.ageing",
    source="payments p",
    condition="p.state = 'preliminary' AND p.source = 'agent' AND p.paid_date < :cutoff",
    detail={"paid_date": "p.paid_date", "as_of": "CAST(:as_of_text AS TEXT)"},
    records="p.preliminary_record_id",
    spec=f"{SPEC}; interfaces.md § Configuration (GATEWAY_UNCONFIRMED_DAYS)",
)
"""Parameters: ``cutoff`` (:func:`unconfirmed_cutoff`) and ``as_of_text`` (the as-of date, ISO)."""


def remittance_mismatch(row: Row) -> bool:
    """The remittance ``m`` of an agent and transfer date is a mismatch (:func:`remittance_status`):
    ``":credits"``, whether any bank credit came for it, ``":overdue"``, whether its deadline has passed.

    >>> row = {"m.expected": 500, "m.credited": 490, ":credits": True, ":overdue": False}
    >>> remittance_mismatch(row), remittance_mismatch({**row, "m.credited": 500})
    (True, False)
    >>> remittance_mismatch({**row, "m.credited": 0, ":credits": False})
    False
    """
    status = remittance_status(row["m.expected"], row["m.credited"], row[":credits"], overdue=row[":overdue"])
    return status == "mismatch"


REMITTANCE_OF = "'remittance_mismatch:' || m.agent_id || ':' || CAST(m.transfer_date AS TEXT) || ':'"
"""SQL: how every key of remittance ``m``'s mismatch exceptions starts, whatever the figures."""

REMITTANCE_MISMATCH = Rule(
    kind="remittance_mismatch",
    step="threeway._settle_mismatch_exceptions",
    spec=f"{SPEC}; settlement-formats.md, introduction (gross or net) and § 3",
    source="remittances m",
    condition="(:credits OR :overdue) AND NOT (:credits AND m.credited = m.expected)",
    predicate=remittance_mismatch,
    detail={
        "transfer_date": "CAST(m.transfer_date AS TEXT)",
        **{name: f"m.{name}" for name in ("expected", "credited", "gross", "fees", "fee_tax", "mode")},
    },
    key=f"{REMITTANCE_OF} || m.expected || ':' || m.credited",
    holds={"agent_id": "m.agent_id", "amount": "m.expected - m.credited"},
)
"""The figures of one agent and transfer date (a row of ``remittances``) that do not match; a new key for
new figures (the step resolves the stale one)."""

RULES: tuple[Rule, ...] = (
    UNKNOWN_SLIP,
    AMOUNT_MISMATCH,
    DUPLICATE_PAYMENT,
    PAID_AFTER_EXPIRY,
    PAID_VOID_SLIP,
    OVERPAYMENT,
    UNEXPECTED_CHANNEL,
    CANCEL_WITHOUT_PRELIMINARY,
    CANCEL_PAIRED_CONFIRMED,
    CANCEL_AFTER_CONFIRMATION,
    CONFIRMATION_DIFFERS,
    UNCONFIRMED_PRELIMINARY,
    REMITTANCE_MISMATCH,
)
"""Every declaration, in the order of :data:`KINDS`."""
