"""The two reports offices are asked for: 収納日報 and 委託徴収(収納)計算書.

* :func:`daily_collection` — 収納日報 for one 収入日 (receipt date): what was booked that day, by
  歳入所属年度, channel and 歳入科目, split 現年度分 / 滞納繰越分, counts and amounts. Its source is the
  accounting entries (``accounting_entries``, the rows of the 消込データ), so its totals are the
  accounting export's for the same day, and a past 収入日 never changes (entries are append-only; a
  correction is a negative entry dated on the correction's day). The fiscal year and the arrears flag are
  those :func:`reconciliation.rules.revenue_year` gave each entry when it was booked (no rule of its own).
* :func:`agent_statement` — 委託徴収(収納)計算書 for one agent and a period of transfer dates (振込日): per
  transfer date the confirmed records by channel and fee, the fee, its consumption tax, what the agent must
  remit (gross, or net of fees and tax for an agent that remits net, :func:`reconciliation.rules.owed`), and
  what the three-way match recorded: the remittance, the bank credits matched to it and any difference.

Both aggregate in SQL (a handful of groups come back, never the records). Writers: JSON-able dicts, CSV
(UTF-8 with BOM by default, cp932 on request; integer yen; dates as 2026/12/03, the way Excel shows them) —
the PDFs are :mod:`gateway.pdf.office_reports`. docs/reports.md describes every field and column.

>>> Figure(2, 3000) + Figure(1, -500)
Figure(count=3, amount=2500)
"""

from __future__ import annotations

import datetime
import hashlib
import io
from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gateway import catalogue
from gateway import formats
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.models import Agent
from gateway.models import AgentFee
from gateway.models import Remittance
from gateway.models.base import table_of
from gateway.models.settlement import select_fee
from gateway.pdf.office_reports import ReportDocument
from gateway.pdf.office_reports import ReportTable
from gateway.pdf.office_reports import figure_text
from gateway.pdf.office_reports import render_report_pdf
from gateway.reporting import reports
from reconciliation import rules

ENTRIES, CLAIMS, PAY, SR, BR = reports.ENTRIES, reports.CLAIMS, reports.PAY, reports.SR, reports.BR
REM = table_of(Remittance)

_COUNT = sa.func.count().label("counted")
"""``count(*)`` labelled ``counted`` (a row's ``count`` is the tuple method)."""


def _sum(column: sa.ColumnElement[Any]) -> sa.Label[Any]:
    return sa.func.coalesce(sa.func.sum(column), 0).label("amount")


def _day(value: Any) -> datetime.date | None:
    """A date column value (SQLite may hand back text)."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


MAX_STATEMENT_DAYS = 366
"""The longest period one 計算書 covers (a fiscal year)."""
DOWNLOAD_ACTION = "report.download"
"""The audit action of every office report downloaded from a staff page (PDF or CSV)."""


@dataclass(frozen=True)
class Figure:
    """A count and an amount (integer yen, signed: a correction is negative)."""

    count: int = 0
    amount: int = 0

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.count + other.count, self.amount + other.amount)

    def as_json(self) -> dict[str, int]:
        return {"count": self.count, "amount": self.amount}


def _sum_figures(figures: Sequence[Figure]) -> Figure:
    total = Figure()
    for f in figures:
        total = total + f
    return total


# ============================================================================================ 収納日報


@dataclass(frozen=True)
class CollectionLine:
    """One 歳入所属年度 × channel × revenue item of a 収納日報."""

    fiscal_year: int
    channel_code: str | None
    channel_name: str
    revenue_item: str
    current: Figure
    """現年度分."""
    arrears: Figure
    """滞納繰越分."""

    @property
    def total(self) -> Figure:
        return self.current + self.arrears


@dataclass(frozen=True)
class CollectionSubtotal:
    """A subtotal of a 収納日報 (per channel or per revenue item, within one fiscal year)."""

    fiscal_year: int
    key: str
    current: Figure
    arrears: Figure

    @property
    def total(self) -> Figure:
        return self.current + self.arrears


@dataclass(frozen=True)
class DailyCollection:
    """収納日報 of one 収入日. Counts are rows of the 消込データ (a correction's negative row counts as
    one)."""

    receipt_date: datetime.date
    lines: tuple[CollectionLine, ...]
    by_channel: tuple[CollectionSubtotal, ...]
    by_item: tuple[CollectionSubtotal, ...]
    by_year: tuple[CollectionSubtotal, ...]
    current: Figure
    arrears: Figure

    @property
    def total(self) -> Figure:
        return self.current + self.arrears

    @property
    def fiscal_years(self) -> tuple[int, ...]:
        return tuple(sorted({line.fiscal_year for line in self.lines}))


def revenue_item_name(revenue_item: str | None, legal_basis: str | None) -> str:
    """歳入科目 as the office recorded it on the claim; without one, the legal basis's name.

    >>> revenue_item_name("雑入", "art63"), revenue_item_name(None, "art78"), revenue_item_name(" ", None)
    ('雑入', '第78条徴収金', '—')
    """
    text = (revenue_item or "").strip()
    if text:
        return text
    return catalogue.label("legal_basis", legal_basis)


def channel_name(code: str | None) -> str:
    """The channel's Japanese name (money moved by a resolution has none: 「例外処理」)."""
    if code is None:
        return catalogue.LABELS["office_report"]["no_channel"]
    return catalogue.label("channel", code)


def daily_collection(ctx: Context, day: datetime.date) -> DailyCollection:
    """収納日報 for the 収入日 ``day``: the accounting entries booked on it, grouped in SQL.

    Args:
        ctx: the service context (read only).
        day: the receipt date (収入日), a Japan date.

    Returns:
        Lines per (fiscal year, channel, revenue item) with 現年度分 and 滞納繰越分, subtotals per channel,
        per revenue item and per fiscal year, and the totals. Empty on a day without entries.
    """
    channel = PAY.c.channel_code
    stmt = (
        sa.select(
            ENTRIES.c.fiscal_year,
            ENTRIES.c.arrears,
            channel,
            CLAIMS.c.revenue_item,
            CLAIMS.c.legal_basis,
            _COUNT,
            _sum(ENTRIES.c.amount),
        )
        .select_from(
            ENTRIES.join(CLAIMS, CLAIMS.c.id == ENTRIES.c.claim_id).outerjoin(
                PAY, PAY.c.id == ENTRIES.c.payment_id
            )
        )
        .where(ENTRIES.c.receipt_date == day)
        .group_by(
            ENTRIES.c.fiscal_year, ENTRIES.c.arrears, channel, CLAIMS.c.revenue_item, CLAIMS.c.legal_basis
        )
    )
    cells: dict[tuple[int, str | None, str], list[Figure]] = defaultdict(lambda: [Figure(), Figure()])
    for r in ctx.session.execute(stmt):
        key = (int(r.fiscal_year), r.channel_code, revenue_item_name(r.revenue_item, r.legal_basis))
        cells[key][1 if r.arrears else 0] += Figure(int(r.counted), int(r.amount))
    order = list(catalogue.LABELS["channel"])

    def channel_order(code: str | None) -> tuple[int, str]:
        return (order.index(code) if code in order else len(order), code or "~")

    lines = tuple(
        CollectionLine(year, code, channel_name(code), item, figures[0], figures[1])
        for (year, code, item), figures in sorted(
            cells.items(), key=lambda kv: (kv[0][0], channel_order(kv[0][1]), kv[0][2])
        )
    )

    def subtotals(key_of: Any) -> tuple[CollectionSubtotal, ...]:
        groups: dict[tuple[int, str], list[CollectionLine]] = defaultdict(list)
        for line in lines:
            groups[(line.fiscal_year, key_of(line))].append(line)
        return tuple(
            CollectionSubtotal(
                year,
                key,
                _sum_figures([ln.current for ln in group]),
                _sum_figures([ln.arrears for ln in group]),
            )
            for (year, key), group in groups.items()
        )

    return DailyCollection(
        receipt_date=day,
        lines=lines,
        by_channel=subtotals(lambda ln: ln.channel_name),
        by_item=tuple(sorted(subtotals(lambda ln: ln.revenue_item), key=lambda s: (s.fiscal_year, s.key))),
        by_year=subtotals(lambda ln: ""),
        current=_sum_figures([ln.current for ln in lines]),
        arrears=_sum_figures([ln.arrears for ln in lines]),
    )


def daily_collection_json(doc: DailyCollection) -> dict[str, Any]:
    """The 収納日報 as one JSON document (English keys, ISO dates: the CLI's and the API's vocabulary)."""

    def split(current: Figure, arrears: Figure) -> dict[str, Any]:
        return {
            "current": current.as_json(),
            "arrears": arrears.as_json(),
            "total": (current + arrears).as_json(),
        }

    return {
        "report": "collection_daily",
        "receipt_date": doc.receipt_date.isoformat(),
        "timezone": "Asia/Tokyo",
        "currency": "JPY",
        "lines": [
            {
                "fiscal_year": ln.fiscal_year,
                "channel_code": ln.channel_code,
                "channel_name": ln.channel_name,
                "revenue_item": ln.revenue_item,
                **split(ln.current, ln.arrears),
            }
            for ln in doc.lines
        ],
        "by_channel": [
            {"fiscal_year": s.fiscal_year, "channel_name": s.key, **split(s.current, s.arrears)}
            for s in doc.by_channel
        ],
        "by_revenue_item": [
            {"fiscal_year": s.fiscal_year, "revenue_item": s.key, **split(s.current, s.arrears)}
            for s in doc.by_item
        ],
        "by_fiscal_year": [
            {"fiscal_year": s.fiscal_year, **split(s.current, s.arrears)} for s in doc.by_year
        ],
        "totals": split(doc.current, doc.arrears),
    }


COLLECTION_CSV_HEADER = (
    "収入日",
    "区分",
    "歳入所属年度",
    "収納チャネル",
    "歳入科目",
    "現年度分件数",
    "現年度分金額",
    "滞納繰越分件数",
    "滞納繰越分金額",
    "合計件数",
    "合計金額",
)
"""The 収納日報 CSV's columns (docs/reports.md). 区分: 明細, チャネル計, 科目計, 年度計, 合計."""


def _fiscal_text(year: int | None) -> str:
    return formats.nendo(year) if year is not None else ""


def collection_rows(doc: DailyCollection) -> Iterator[tuple[Any, ...]]:
    """The 収納日報 as CSV rows in :data:`COLLECTION_CSV_HEADER` order."""
    day = formats.ymd(doc.receipt_date)
    words = catalogue.LABELS["office_report"]

    def row(
        section: str, year: int | None, channel: str, item: str, current: Figure, arrears: Figure
    ) -> tuple[Any, ...]:
        total = current + arrears
        return (
            day,
            words[section],
            _fiscal_text(year),
            channel,
            item,
            current.count,
            current.amount,
            arrears.count,
            arrears.amount,
            total.count,
            total.amount,
        )

    for ln in doc.lines:
        yield row("line", ln.fiscal_year, ln.channel_name, ln.revenue_item, ln.current, ln.arrears)
    for s in doc.by_channel:
        yield row("channel_total", s.fiscal_year, s.key, "", s.current, s.arrears)
    for s in doc.by_item:
        yield row("item_total", s.fiscal_year, "", s.key, s.current, s.arrears)
    for s in doc.by_year:
        yield row("year_total", s.fiscal_year, "", "", s.current, s.arrears)
    yield row("grand_total", None, "", "", doc.current, doc.arrears)


def collection_csv(
    doc: DailyCollection, encoding: str = "utf-8", stats: reports.EncodeStats | None = None
) -> bytes:
    """The 収納日報 as CSV bytes (UTF-8 with BOM, or cp932)."""
    return b"".join(reports.csv_chunks(COLLECTION_CSV_HEADER, collection_rows(doc), encoding, stats))


def collection_file_name(day: datetime.date, suffix: str) -> str:
    """ASCII download name: ``shuno-nippo-20261203.pdf`` (no welfare word)."""
    return f"shuno-nippo-{day:%Y%m%d}.{suffix}"


# ====================================================================================== 委託徴収計算書


@dataclass(frozen=True)
class FeeLine:
    """Confirmed records of one transfer date, channel and fee: the fee is items × fee per item."""

    channel_code: str
    channel_name: str
    fee_per_item: int
    tax_rate_bp: int
    records: int
    amount: int

    @property
    def fees(self) -> int:
        return self.records * self.fee_per_item


@dataclass(frozen=True)
class BankCredit:
    """A bank credit the three-way match counted for a remittance (a cancellation counts negative)."""

    value_date: datetime.date
    inquiry_number: str
    amount: int
    cancelled: bool

    @property
    def credited(self) -> int:
        return -self.amount if self.cancelled else self.amount


@dataclass(frozen=True)
class StatementDay:
    """One transfer date of a 計算書: what the records say is owed, and what the three-way match found."""

    transfer_date: datetime.date
    lines: tuple[FeeLine, ...]
    records: int
    gross: int
    fees: int
    fee_tax: int
    net: int
    """gross − fees − fee tax (差引額), whatever the remittance mode."""
    expected: int
    """What the agent must remit: the gross, or ``net`` for an agent that remits net."""
    status: str | None
    """The remittance's status (``pending``/``matched``/``mismatch``), ``None`` before any reconciliation."""
    matched_at: datetime.datetime | None
    credits: tuple[BankCredit, ...]

    @property
    def credited(self) -> int:
        return sum(c.credited for c in self.credits)

    @property
    def difference(self) -> int:
        """expected − credited: what is still missing (negative: credited too much)."""
        return self.expected - self.credited


@dataclass(frozen=True)
class AgentStatement:
    """委託徴収(収納)計算書 of one agent for transfer dates ``date_from`` … ``date_to``."""

    agent_code: str
    agent_name: str
    mode: str
    date_from: datetime.date
    date_to: datetime.date
    days: tuple[StatementDay, ...]

    def total(self, name: str) -> int:
        return sum(int(getattr(d, name)) for d in self.days)


def parse_period(date_from: datetime.date, date_to: datetime.date) -> None:
    """Refuse a period that ends before it starts or is longer than :data:`MAX_STATEMENT_DAYS`."""
    if date_to < date_from:
        raise InvalidInput(
            f"period ends ({date_to}) before it starts ({date_from})", field="date_to", key="office.period"
        )
    if (date_to - date_from).days >= MAX_STATEMENT_DAYS:
        raise InvalidInput(
            f"period longer than {MAX_STATEMENT_DAYS} days", field="date_to", key="office.period_long"
        )


def agent_statement(
    ctx: Context, agent_code: str, date_from: datetime.date, date_to: datetime.date
) -> AgentStatement:
    """委託徴収(収納)計算書 of ``agent_code`` for the transfer dates (振込日) ``date_from`` to ``date_to``.

    The records are the agent's confirmed records of each transfer date, as the three-way match counts them
    (a postal ``12`` record replaced by a ``22`` correction is not counted); each channel and payment date
    gets the fee of :func:`select_fee`, and :func:`reconciliation.rules.owed` rounds the tax once per rate
    and transfer date, so ``expected`` is the three-way match's figure. The remittance row and its bank
    credits are those the last reconciliation recorded.

    Raises:
        NotFound: no agent has that code.
        InvalidInput: the period is reversed or longer than a year.
    """
    parse_period(date_from, date_to)
    agent = ctx.session.execute(sa.select(Agent).where(Agent.code == agent_code)).scalar_one_or_none()  # type: ignore[arg-type]
    if agent is None or agent.id is None:
        raise NotFound(f"agent {agent_code} not found", field="agent", key="office.no_agent")
    rec = SR.alias("r")  # the alias rules.REMITTED names
    stmt = (
        sa.select(rec.c.transfer_date, rec.c.channel_code, rec.c.paid_date, _COUNT, _sum(rec.c.amount))
        .where(
            rec.c.agent_id == agent.id,
            rec.c.transfer_date.between(date_from, date_to),
            sa.text(rules.REMITTED),
        )
        .group_by(rec.c.transfer_date, rec.c.channel_code, rec.c.paid_date)
    )
    fees = list(ctx.session.execute(sa.select(AgentFee).where(AgentFee.agent_id == agent.id)).scalars())
    groups: dict[datetime.date, dict[tuple[str, int, int], list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    for r in ctx.session.execute(stmt):
        transfer, paid = _day(r.transfer_date), _day(r.paid_date)
        assert transfer is not None and paid is not None
        fee, rate = select_fee(fees, r.channel_code, paid)
        cell = groups[transfer][(r.channel_code, fee, rate)]
        cell[0] += int(r.counted)
        cell[1] += int(r.amount)
    remittances = {
        _day(r.transfer_date): r
        for r in ctx.session.execute(
            sa.select(REM).where(REM.c.agent_id == agent.id, REM.c.transfer_date.between(date_from, date_to))
        )
    }
    bank_ids = sorted({int(i) for r in remittances.values() for i in (r.bank_record_ids or [])})
    credits: dict[int, BankCredit] = {}
    if bank_ids:
        for b in ctx.session.execute(
            sa.select(BR.c.id, BR.c.value_date, BR.c.inquiry_number, BR.c.amount, BR.c.cancelled).where(
                BR.c.id.in_(bank_ids)
            )
        ):
            value = _day(b.value_date)
            assert value is not None
            credits[int(b.id)] = BankCredit(value, b.inquiry_number, int(b.amount), bool(b.cancelled))
    days = []
    for transfer in sorted(set(groups) | {d for d in remittances if d is not None}):
        lines = tuple(
            FeeLine(channel, channel_name(channel), fee, rate, items, amount)
            for (channel, fee, rate), (items, amount) in sorted(groups.get(transfer, {}).items())
        )
        owed = rules.owed(
            sum(ln.amount for ln in lines),
            [rules.FeeLine(ln.records, ln.fee_per_item, ln.tax_rate_bp) for ln in lines],
            agent.remittance_mode,
        )
        rem = remittances.get(transfer)
        days.append(
            StatementDay(
                transfer_date=transfer,
                lines=lines,
                records=sum(ln.records for ln in lines),
                gross=owed.gross,
                fees=owed.fees,
                fee_tax=owed.fee_tax,
                net=owed.gross - owed.fees - owed.fee_tax,
                expected=owed.expected,
                status=rem.status if rem is not None else None,
                matched_at=rem.matched_at if rem is not None else None,
                credits=tuple(credits[int(i)] for i in (rem.bank_record_ids or []) if int(i) in credits)
                if rem is not None
                else (),
            )
        )
    return AgentStatement(
        agent_code=agent.code,
        agent_name=agent.name,
        mode=agent.remittance_mode,
        date_from=date_from,
        date_to=date_to,
        days=tuple(days),
    )


STATEMENT_TOTALS = ("records", "gross", "fees", "fee_tax", "net", "expected", "credited", "difference")


def agent_statement_json(doc: AgentStatement) -> dict[str, Any]:
    """The 計算書 as one JSON document (English keys, ISO dates)."""
    return {
        "report": "agent_statement",
        "agent_code": doc.agent_code,
        "agent_name": doc.agent_name,
        "mode": doc.mode,
        "date_from": doc.date_from.isoformat(),
        "date_to": doc.date_to.isoformat(),
        "period_basis": "transfer_date",
        "currency": "JPY",
        "days": [
            {
                "transfer_date": d.transfer_date.isoformat(),
                "lines": [
                    {
                        "channel_code": ln.channel_code,
                        "channel_name": ln.channel_name,
                        "records": ln.records,
                        "amount": ln.amount,
                        "fee_per_item": ln.fee_per_item,
                        "tax_rate_bp": ln.tax_rate_bp,
                        "fees": ln.fees,
                    }
                    for ln in d.lines
                ],
                **{name: getattr(d, name) for name in STATEMENT_TOTALS},
                "status": d.status,
                "credits": [
                    {
                        "value_date": c.value_date.isoformat(),
                        "inquiry_number": c.inquiry_number,
                        "amount": c.amount,
                        "cancelled": c.cancelled,
                    }
                    for c in d.credits
                ],
            }
            for d in doc.days
        ],
        "totals": {name: doc.total(name) for name in STATEMENT_TOTALS},
    }


STATEMENT_CSV_HEADER = (
    "収納代行会社コード",
    "区分",
    "振込日",
    "収納チャネル",
    "件数",
    "収納金額",
    "1件当たり手数料",
    "手数料",
    "消費税率(%)",
    "消費税",
    "差引額",
    "送金額",
    "入金日",
    "照会番号",
    "入金額",
    "差額",
    "照合結果",
)
"""The 計算書 CSV's columns (docs/reports.md). 区分: 明細, 振込日計, 入金, 合計."""


def _rate_text(bp: int) -> str:
    """Basis points as a percentage: 1000 → ``10``, 800 → ``8``, 1050 → ``10.5``.

    >>> _rate_text(1000), _rate_text(1050)
    ('10', '10.5')
    """
    return f"{bp / 100:g}"


def statement_rows(doc: AgentStatement) -> Iterator[tuple[Any, ...]]:
    """The 計算書 as CSV rows in :data:`STATEMENT_CSV_HEADER` order (empty cells where a row has none)."""
    words = catalogue.LABELS["office_report"]
    status = catalogue.LABELS["office_remittance_status"]
    for d in doc.days:
        transfer = formats.ymd(d.transfer_date)
        for ln in d.lines:
            yield (
                doc.agent_code, words["line"], transfer, ln.channel_name, ln.records, ln.amount,
                ln.fee_per_item, ln.fees, _rate_text(ln.tax_rate_bp), *(None,) * 8,
            )  # fmt: skip
        yield (
            doc.agent_code, words["day_total"], transfer, "", d.records, d.gross, None, d.fees, None,
            d.fee_tax, d.net, d.expected, None, None, d.credited, d.difference,
            status.get(d.status or "none", ""),
        )  # fmt: skip
        for c in d.credits:
            yield (
                doc.agent_code, words["credit"], transfer, "", None, None, None, None, None, None, None, None,
                formats.ymd(c.value_date), c.inquiry_number, c.credited, None, None,
            )  # fmt: skip
    t = doc.total
    yield (
        doc.agent_code, words["grand_total"], "", "", t("records"), t("gross"), None, t("fees"), None,
        t("fee_tax"), t("net"), t("expected"), None, None, t("credited"), t("difference"), None,
    )  # fmt: skip


def statement_csv(
    doc: AgentStatement, encoding: str = "utf-8", stats: reports.EncodeStats | None = None
) -> bytes:
    """The 計算書 as CSV bytes (UTF-8 with BOM, or cp932)."""
    return b"".join(reports.csv_chunks(STATEMENT_CSV_HEADER, statement_rows(doc), encoding, stats))


def statement_file_name(doc: AgentStatement, suffix: str) -> str:
    """ASCII download name: ``keisansho-12345-20261201-20261231.pdf``."""
    return f"keisansho-{doc.agent_code}-{doc.date_from:%Y%m%d}-{doc.date_to:%Y%m%d}.{suffix}"


def agents_for_picker(ctx: Context) -> list[tuple[str, str]]:
    """(code, name) of every agent, by code: the 計算書 page's choice."""
    return [(a.code, a.name) for a in ctx.session.execute(sa.select(Agent).order_by(Agent.code)).scalars()]


# ================================================================================================= PDF


def _split_cells(current: Figure, arrears: Figure) -> tuple[str, ...]:
    total = current + arrears
    return tuple(
        figure_text(v)
        for v in (current.count, current.amount, arrears.count, arrears.amount, total.count, total.amount)
    )


_SPLIT_HEADER = (
    "現年度分 件数",
    "現年度分 金額(円)",
    "滞納繰越分 件数",
    "滞納繰越分 金額(円)",
    "合計 件数",
    "合計 金額(円)",
)


def collection_document(doc: DailyCollection, author: str) -> ReportDocument:
    """The 収納日報 as a :class:`ReportDocument`: lines, subtotals per channel and per item, totals."""
    words = catalogue.LABELS["office_report"]
    header = ("歳入所属年度", "収納チャネル", "歳入科目", *_SPLIT_HEADER)
    rows = [
        (
            formats.nendo(ln.fiscal_year),
            ln.channel_name,
            ln.revenue_item,
            *_split_cells(ln.current, ln.arrears),
        )
        for ln in doc.lines
    ]
    totals_at = set()
    for s in doc.by_year:
        totals_at.add(len(rows))
        rows.append(
            (formats.nendo(s.fiscal_year), words["year_total"], "", *_split_cells(s.current, s.arrears))
        )
    totals_at.add(len(rows))
    rows.append((words["grand_total"], "", "", *_split_cells(doc.current, doc.arrears)))
    numeric = frozenset(range(3, 9))
    widths = (1.2, 1.5, 1.7, 1.0, 1.3, 1.0, 1.3, 0.8, 1.3)

    def subtotal_table(caption: str, first: str, subtotals: Sequence[CollectionSubtotal]) -> ReportTable:
        return ReportTable(
            caption=caption,
            header=("歳入所属年度", first, *_SPLIT_HEADER),
            rows=tuple(
                (formats.nendo(s.fiscal_year), s.key, *_split_cells(s.current, s.arrears)) for s in subtotals
            ),
            numeric=frozenset(range(2, 8)),
            widths=(1.2, 3.2, 1.0, 1.3, 1.0, 1.3, 0.8, 1.3),
        )

    return ReportDocument(
        title=f"{words['collection_title']} {formats.ymd(doc.receipt_date)}",
        author=author,
        lines=(
            f"収入日: {formats.wareki(doc.receipt_date)}",
            f"合計: {doc.total.count:,}件 {formats.yen(doc.total.amount)}"
            f"(現年度分 {formats.yen(doc.current.amount)}、滞納繰越分 {formats.yen(doc.arrears.amount)})",
        ),
        tables=(
            ReportTable("明細", header, tuple(rows), numeric, frozenset(totals_at), widths),
            subtotal_table("収納チャネル別", "収納チャネル", doc.by_channel),
            subtotal_table("歳入科目別", "歳入科目", doc.by_item),
        ),
        notes=(
            "収入日は収納代行会社からの入金の勘定日(窓口等で受けたお金は納付日)です。",
            "件数は消込データの行数です。訂正は打ち消しの行(金額はマイナス)で表します。合計は同じ収入日の消込データの合計と一致します。",
        ),
    )


def collection_pdf(doc: DailyCollection, author: str) -> bytes:
    """The 収納日報 as PDF bytes."""
    out = io.BytesIO()
    render_report_pdf(collection_document(doc, author), out=out)
    return out.getvalue()


def statement_document(doc: AgentStatement, author: str) -> ReportDocument:
    """The 計算書 as a :class:`ReportDocument`: fee lines, the calculation per transfer date, the credits."""
    words = catalogue.LABELS["office_report"]
    status = catalogue.LABELS["office_remittance_status"]
    lines = tuple(
        (
            formats.ymd(d.transfer_date),
            ln.channel_name,
            figure_text(ln.records),
            figure_text(ln.amount),
            figure_text(ln.fee_per_item),
            figure_text(ln.fees),
            f"{_rate_text(ln.tax_rate_bp)}%",
        )
        for d in doc.days
        for ln in d.lines
    )
    t = doc.total
    calc_rows = [
        (
            formats.ymd(d.transfer_date),
            *(figure_text(getattr(d, name)) for name in STATEMENT_TOTALS),
            status.get(d.status or "none", ""),
        )
        for d in doc.days
    ]
    calc_rows.append((words["grand_total"], *(figure_text(t(name)) for name in STATEMENT_TOTALS), ""))
    credit_rows = tuple(
        (
            formats.ymd(d.transfer_date),
            formats.ymd(c.value_date),
            c.inquiry_number,
            figure_text(c.amount),
            "取消" if c.cancelled else "",
        )
        for d in doc.days
        for c in d.credits
    )
    return ReportDocument(
        title=f"{words['statement_title']} {doc.agent_code}",
        author=author,
        lines=(
            f"収納代行会社: {doc.agent_name}({doc.agent_code})",
            f"期間(振込日): {formats.wareki(doc.date_from)} 〜 {formats.wareki(doc.date_to)}",
            f"入金方式: {catalogue.label('remittance_mode', doc.mode)}",
            f"送金額 合計 {formats.yen(t('expected'))}、入金額 合計 {formats.yen(t('credited'))}、"
            f"差額 {formats.yen(t('difference'))}",
        ),
        tables=(
            ReportTable(
                "手数料の明細",
                (
                    "振込日",
                    "収納チャネル",
                    "件数",
                    "収納金額(円)",
                    "1件当たり手数料(円)",
                    "手数料(円)",
                    "消費税率",
                ),
                lines,
                frozenset(range(2, 7)),
                widths=(1.2, 2.2, 0.8, 1.4, 1.3, 1.2, 0.9),
            ),
            ReportTable(
                "振込日ごとの計算",
                (
                    "振込日",
                    "件数",
                    "収納金額",
                    "手数料",
                    "消費税",
                    "差引額",
                    "送金額",
                    "入金額",
                    "差額",
                    "照合結果",
                ),
                tuple(calc_rows),
                frozenset(range(1, 9)),
                frozenset({len(calc_rows) - 1}),
                widths=(1.2, 0.7, 1.3, 1.0, 0.9, 1.3, 1.3, 1.3, 1.0, 1.0),
            ),
            ReportTable(
                "照合した入金(銀行の入金通知)",
                ("振込日", "入金日(勘定日)", "照会番号", "金額(円)", "取消"),
                credit_rows,
                frozenset({3}),
                widths=(1.2, 1.4, 1.4, 1.4, 0.8),
            ),
        ),
        notes=(
            "金額の単位は円です。手数料は件数×1件当たり手数料、消費税は振込日ごとに税率別の手数料合計から計算し、1円未満を切り捨てます。",
            "差引額は収納金額から手数料と消費税を引いた額です。送金額は総額入金の場合は収納金額、手数料差引入金の場合は差引額です。",
            "差額は送金額から入金額を引いた額です。照合結果は最後に実行した消込の時点のものです。",
        ),
    )


def statement_pdf(doc: AgentStatement, author: str) -> bytes:
    """The 計算書 as PDF bytes."""
    out = io.BytesIO()
    render_report_pdf(statement_document(doc, author), out=out)
    return out.getvalue()


# ============================================================================================ downloads


@dataclass(frozen=True)
class ReportFile:
    """A rendered office report: its bytes, download name and MIME type, and how the audit trail names it."""

    data: bytes
    file_name: str
    mimetype: str
    target: str
    """The audit event's target, as an auditor reads it: 「収納日報 2026/12/03」."""


MIMETYPES = {"pdf": "application/pdf", "csv": "text/csv"}


def collection_file(ctx: Context, day: datetime.date, fmt: str, encoding: str = "utf-8") -> ReportFile:
    """The 収納日報 of ``day`` as a PDF or CSV file."""
    doc = daily_collection(ctx, day)
    data = collection_pdf(doc, ctx.settings.issuer_name) if fmt == "pdf" else collection_csv(doc, encoding)
    words = catalogue.LABELS["office_report"]
    return ReportFile(
        data,
        collection_file_name(day, fmt),
        MIMETYPES[fmt],
        f"{words['collection_title']} {formats.ymd(day)}",
    )


def statement_file(
    ctx: Context,
    agent_code: str,
    date_from: datetime.date,
    date_to: datetime.date,
    fmt: str,
    encoding: str = "utf-8",
) -> ReportFile:
    """The 計算書 of an agent and period as a PDF or CSV file."""
    doc = agent_statement(ctx, agent_code, date_from, date_to)
    data = statement_pdf(doc, ctx.settings.issuer_name) if fmt == "pdf" else statement_csv(doc, encoding)
    target = f"委託徴収計算書 {doc.agent_code} {formats.ymd(date_from)}〜{formats.ymd(date_to)}"
    return ReportFile(data, statement_file_name(doc, fmt), MIMETYPES[fmt], target)


@mutation(DOWNLOAD_ACTION)
def record_download(ctx: Context, report: str, file: ReportFile, encoding: str | None = None) -> None:
    """Record a download of an office report in the audit trail: which report, file, size and SHA-256
    (the figures are aggregates: no personal data is in them)."""
    ctx.record(
        DOWNLOAD_ACTION,
        "report",
        file.target,
        report=report,
        file=file.file_name,
        bytes=len(file.data),
        sha256=hashlib.sha256(file.data).hexdigest(),
        encoding=encoding,
    )
