"""The office reports' PDFs read back with pypdfium2: the totals are in the text, the metadata is neutral,
the font is the slips' embedded IPAex Gothic, the bytes are reproducible."""

from __future__ import annotations

import datetime
import io
from pathlib import Path

import pytest

from gateway.context import Context
from gateway.pdf.office_reports import ReportDocument
from gateway.pdf.office_reports import ReportTable
from gateway.pdf.office_reports import render_report_pdf
from gateway.reporting import office
from tests.conftest import Clock
from tests.helpers import PRIVACY_WORDS
from tests.pdf.pdf_samples import read_pdf
from tests.reports import office_day
from tests.reports.conftest import AGENT
from tests.reports.conftest import Week

D = datetime.date


def _flat(text: str) -> str:
    """Page text without the line breaks and spaces table cells add."""
    return "".join(text.split())


def _assert_neutral(metadata: dict[str, str], title: str) -> None:
    assert metadata["Title"] == title
    assert metadata["Author"] == "見本市"  # GATEWAY_ISSUER_NAME's default: the office, nothing more
    assert metadata["Creator"] == "konbini-gateway"
    assert metadata["Subject"] == "" and metadata["Keywords"] == ""
    for value in metadata.values():
        for word in PRIVACY_WORDS:
            assert word not in value, (word, value)


def test_collection_pdf(ctx: Context, clock: Clock, tmp_path: Path) -> None:
    office_day.build(ctx, clock, tmp_path)
    doc = office.daily_collection(ctx, office_day.DAY)
    data = office.collection_pdf(doc, ctx.settings.issuer_name)
    pdf = read_pdf(data)
    text = _flat("".join(pdf.pages))
    total = sum(r.amount for r in office_day.receipts())
    assert f"合計:{len(office_day.receipts())}件{total:,}円" in text
    assert f"合計{doc.current.count}{doc.current.amount:,}{doc.arrears.count}{doc.arrears.amount:,}" in text
    assert "令和8年12月3日" in text and "滞納繰越分" in text and "PayPay" in text
    _assert_neutral(pdf.metadata, "収納日報 2026/12/03")
    assert b"/FontFile2" in data and b"IPAexGothic" in data  # the embedded TrueType subset, as the slips
    assert b"Helvetica" not in data
    assert office.collection_pdf(doc, ctx.settings.issuer_name) == data  # reproducible


def test_statement_pdf(week: Week) -> None:
    week.day1()
    week.day2()
    doc = office.agent_statement(week.ctx, AGENT, D(2026, 12, 1), D(2026, 12, 31))
    pdf = read_pdf(office.statement_pdf(doc, week.ctx.settings.issuer_name))
    text = _flat("".join(pdf.pages))
    # per transfer date and in total: records, gross, fees, tax, net, expected, credited, difference
    assert "2026/12/04328,00039039 27,57127,57127,5710一致".replace(" ", "") in text
    assert "合計328,00039039 27,57127,57127,5710".replace(" ", "") in text
    assert "見本収納代行(12345)" in text and "手数料差引入金" in text and "101" in text
    _assert_neutral(pdf.metadata, "委託徴収(収納)計算書 12345")


def test_long_tables_continue_on_later_pages() -> None:
    rows = tuple((f"行{i}", f"{i * 1000:,}") for i in range(200))
    out = io.BytesIO()
    render_report_pdf(
        ReportDocument(
            "試験", "見本市", tables=(ReportTable("長い表", ("項目", "金額"), rows, frozenset({1})),)
        ),
        out=out,
    )
    pdf = read_pdf(out.getvalue())
    assert len(pdf.pages) > 2
    assert all("項目" in page for page in pdf.pages)  # the header is repeated on every page
    assert "行199" in pdf.pages[-1] and "- 1 -" in pdf.pages[0]


@pytest.mark.parametrize("title", ["収納日報 2026/12/03", "委託徴収(収納)計算書 12345"])
def test_report_titles_carry_no_privacy_word(title: str) -> None:
    # the negative control: the check above would see a welfare word in a title
    assert not any(word in title for word in PRIVACY_WORDS)
    assert any(word in "生活保護費返還金" for word in PRIVACY_WORDS)
