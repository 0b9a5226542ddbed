"""Office reports as A4 PDF: titled tables of figures (収納日報, 委託徴収(収納)計算書), drawn with reportlab.

The module knows nothing of claims or agents: :mod:`gateway.reporting.office` turns a report into a
:class:`ReportDocument` (Japanese text already formatted: 2026/12/03, 12,345) and this draws it — a heading,
a few lines about the report, then each table with its caption; a table that does not fit continues on the
next page with its header repeated; each page carries its number.

Same font and settings as the slips (:mod:`gateway.pdf.slip`): the embedded IPAex Gothic TrueType subset,
reportlab ``invariant`` output (the same document gives the same bytes: no creation date, no random id), and
neutral metadata — the title is the report's title and date, the author the office (``GATEWAY_ISSUER_NAME``),
subject and keywords empty, the creator ``konbini-gateway``: nothing names the assistance the money repays.
The body shows the revenue items as the office recorded them on its claims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import BinaryIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import CondPageBreak
from reportlab.platypus import LongTable
from reportlab.platypus import Paragraph
from reportlab.platypus import SimpleDocTemplate
from reportlab.platypus import TableStyle
from reportlab.platypus.flowables import Flowable

from gateway.pdf.slip import _RENDER_LOCK
from gateway.pdf.slip import CREATOR
from gateway.pdf.slip import _register_font

__all__ = ["ReportDocument", "ReportTable", "render_report_pdf"]

MARGIN_MM = 15.0
CAPTION_ROOM_MM = 30.0
BODY_SIZE = 8.0
TOTAL_FILL = colors.Color(0.92, 0.92, 0.92)
HEADER_FILL = colors.Color(0.85, 0.85, 0.85)


@dataclass(frozen=True)
class ReportTable:
    """One table: a caption, the header cells, the rows (text), which columns are figures (right-aligned)
    and which rows are totals (shaded). ``widths`` are relative column widths (default equal)."""

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    total_rows: frozenset[int] = frozenset()
    widths: tuple[float, ...] | None = None
    empty_text: str = "該当なし"


@dataclass(frozen=True)
class ReportDocument:
    """What a report PDF shows: ``title`` (also the metadata title), ``lines`` under it, the tables and
    closing ``notes``. ``author`` is the office's name (metadata only)."""

    title: str
    author: str
    lines: tuple[str, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _styles(font: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=15, leading=20, spaceAfter=3 * mm),
        "line": ParagraphStyle("line", fontName=font, fontSize=9.5, leading=13),
        "caption": ParagraphStyle(
            "caption",
            fontName=font,
            fontSize=10.5,
            leading=14,
            spaceBefore=4 * mm,
            spaceAfter=1.5 * mm,
        ),
        "note": ParagraphStyle("note", fontName=font, fontSize=8, leading=11, spaceBefore=2 * mm),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.25),
        "head": ParagraphStyle(
            "head", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.25, alignment=TA_CENTER
        ),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(spec: ReportTable, font: str, width: float, styles: dict[str, ParagraphStyle]) -> Flowable:
    cell_style = styles["cell"]
    # Header cells wrap (a space in a header is where it breaks first).
    rows: list[list[Any]] = [
        [Paragraph(_escape(text).replace(" ", "<br/>"), styles["head"]) for text in spec.header]
    ]
    for row in spec.rows:
        # Text columns wrap (a long revenue item or channel name); figures stay on one line.
        rows.append(
            [
                value if i in spec.numeric else Paragraph(_escape(value), cell_style)
                for i, value in enumerate(row)
            ]
        )
    if not spec.rows:
        rows.append([spec.empty_text] + [""] * (len(spec.header) - 1))
    weights = spec.widths or tuple(1.0 for _ in spec.header)
    scale = width / sum(weights)
    table = LongTable(rows, colWidths=[w * scale for w in weights], repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), BODY_SIZE),
        ("LEADING", (0, 0), (-1, -1), BODY_SIZE * 1.25),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    for column in spec.numeric:
        style.append(("ALIGN", (column, 1), (column, -1), "RIGHT"))
    for index in spec.total_rows:
        style.append(("BACKGROUND", (0, index + 1), (-1, index + 1), TOTAL_FILL))
    if not spec.rows:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    return table


def _page_number(font: str) -> Any:
    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, MARGIN_MM * mm / 2, f"- {doc.page} -")
        canvas.restoreState()

    return draw


def render_report_pdf(report: ReportDocument, *, out: BinaryIO) -> None:
    """Write ``report`` as an A4 portrait PDF to ``out`` (reproducible bytes, neutral metadata)."""
    with _RENDER_LOCK:
        font = _register_font()
        styles = _styles(font)
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=MARGIN_MM * mm,
            rightMargin=MARGIN_MM * mm,
            topMargin=MARGIN_MM * mm,
            bottomMargin=MARGIN_MM * mm,
            title=report.title,
            author=report.author,
            subject="",
            keywords="",
            creator=CREATOR,
            invariant=1,
            pageCompression=1,
            initialFontName=font,
        )
        story: list[Flowable] = [Paragraph(_escape(report.title), styles["title"])]
        story += [Paragraph(_escape(line), styles["line"]) for line in report.lines]
        for spec in report.tables:
            # A new page when less than a few rows' room is left: the caption stays with the table's first
            # rows (keepWithNext would move a long table whole to the next page).
            story.append(CondPageBreak(CAPTION_ROOM_MM * mm))
            story.append(Paragraph(_escape(spec.caption), styles["caption"]))
            story.append(_table(spec, font, doc.width, styles))
        story += [Paragraph(_escape(note), styles["note"]) for note in report.notes]
        doc.build(story, onFirstPage=_page_number(font), onLaterPages=_page_number(font))


def figure_text(value: int | None) -> str:
    """A count or an amount in a table cell: 12,345 (the header says 円/件); ``""`` for none.

    >>> figure_text(1234567), figure_text(-500), figure_text(None)
    ('1,234,567', '-500', '')
    """
    return "" if value is None else f"{value:,}"


def column_indexes(header: Sequence[str], names: Sequence[str]) -> frozenset[int]:
    """The indexes of ``names`` in ``header`` (to mark figure columns by name)."""
    return frozenset(header.index(name) for name in names)
