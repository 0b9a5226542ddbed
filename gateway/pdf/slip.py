"""A4 slip pages (納付書) and mailing batches, drawn with reportlab.

Page layout (A4 portrait, folded in three for a 長形3号 window envelope; the folds at 99 mm and 198 mm):

* top third (0–99 mm): the envelope window with the sender and the addressee (first page of an envelope only),
  the title with the office's contact (お問い合わせ先) under it, a short neutral notice and the payer-page QR
  code, captioned with what the page it opens is for (the caption and the page's heading share the wording of
  :mod:`gateway.pdf.wording`);
* bottom two thirds: three parts side by side, 70 mm each, separated by perforation lines:
  領収証書 (kept by the payer, the only part with the payer's name; below the seal it says where the slip is
  paid after its 取扱期限 and whom to call), 納付書 (kept by the store or other collecting institution, as
  municipal slips name it; carries the GS1-128 barcode) and 領収済通知書 (returned to the office). Every part
  carries the due date and the 取扱期限 (the barcode's expiry). The office's part keeps an area free for an
  eL-QR code, printed blank (no box, no label) until eL-QR is enabled.

The barcode is drawn as vector rectangles from :func:`barcodes.render.modules` (no raster, no jitter) at
least 9 mm below the lower fold, with its quiet zones clear; the QR code is drawn from
:func:`barcodes.qr.qr_matrix` in the top third, far from the barcode. Text uses the embedded (subset) IPAex
Gothic TrueType font, never a CID font: CID fonts are not embedded and print as boxes where the font is
missing.

Output is reproducible (reportlab ``invariant``): the same input gives the same bytes.
"""

from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from barcodes import qr
from barcodes import render
from barcodes.render import SymbolOptions
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import ContactBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipContentError
from gateway.pdf.model import SlipDocument
from gateway.pdf.wareki import fiscal_year_label
from gateway.pdf.wareki import wareki_date
from gateway.pdf.wording import CONTACT_HEADING
from gateway.pdf.wording import QR_LABEL
from gateway.pdf.wording import after_expiry_sentence

__all__ = ["BatchStats", "render_batch_pdf", "render_slip_pdf"]

FONT_NAME = "IPAexGothic"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "ipaexg.ttf"
DEFAULT_SYMBOL = SymbolOptions()
CREATOR = "konbini-gateway"
TITLE = "納付書"

PAGE_WIDTH_MM = 210.0
PAGE_HEIGHT_MM = 297.0

# Window envelope assumed: 長形3号 (120 × 235 mm) with an address window of about 90 × 45 mm whose top-left
# corner is 23 mm from the left and 13 mm from the top edge of the A4 sheet folded in three (panels of 99 mm).
# These are the common dimensions of stock 長3 window envelopes; check them against the envelopes actually
# bought, and the read test of the print run, before go-live.
WINDOW_LEFT_MM = 23.0
WINDOW_TOP_MM = 13.0
WINDOW_WIDTH_MM = 90.0
WINDOW_HEIGHT_MM = 45.0
# The sheet slides a few millimetres inside the envelope: keep the text this far inside the window.
WINDOW_INSET_MM = 4.0
FOLD_MM = (99.0, 198.0)

PART_WIDTH_MM = 70.0
PART_TOP_MM = FOLD_MM[0]
PART_MARGIN_MM = 5.0
# The bars start 9 mm below the lower fold: a crease across the bars can make them unreadable.
BARCODE_TOP_MM = FOLD_MM[1] + 9.0
STAMP_BOX_TOP_MM = 258.0
STAMP_BOX_SIZE_MM = 33.0
QR_MODULE_MM = 0.6
QR_RIGHT_MM = 200.0
QR_TOP_MM = 56.0
EL_QR_AREA_MM = 28.0
"""Side of the square kept free on the office's part for an eL-QR code (nothing is drawn in it)."""
NOTICE_LEFT_MM = 15.0
NOTICE_RIGHT_MM = 165.0
NOTICE_TOP_MM = 66.0
NOTICE_BOTTOM_MM = 96.0
CONTACT_TOP_LEFT_MM = 120.0
"""The office's contact under the title, left of the QR code and outside the envelope window."""
CONTACT_TOP_MM = 41.5

NO_APP_RECEIPT = "アプリでは領収証書は発行されません。"
NO_CORRECTION = "金額を訂正したものは取り扱えません"
AFTER_EXPIRY = "期限後は金融機関窓口でお支払いください"
REISSUE_MARK = "再発行"
RED = (0.8, 0.0, 0.0)


@dataclass(frozen=True)
class BatchStats:
    """What :func:`render_batch_pdf` wrote."""

    pages: int
    envelopes: int


@dataclass(frozen=True)
class _ContactLayout:
    """The contact block measured once: the wrapped after-expiry sentence, each contact line and its size."""

    sentence: tuple[str, ...]
    lines: tuple[tuple[str, float], ...]


@functools.cache
def _register_font() -> str:
    """Register the TrueType font once per process (reportlab keeps it in a global registry)."""
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    return FONT_NAME


@functools.lru_cache(maxsize=8)
def _seal_reader(png: bytes) -> ImageReader:
    """One decoded seal image per distinct PNG: reportlab then stores it once per document and reuses it."""
    return ImageReader(io.BytesIO(png))


# Characters that must not begin a line (行頭禁則), kept with the character before them.
_NO_LINE_START = frozenset("、。,.，．)）」』】〕ー・:：;；!！?？ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ々")
_TOKEN = re.compile(r"[A-Za-z0-9]+|\s+|.")


def _tokens(text: str) -> list[str]:
    """Break opportunities: each Japanese character, each run of Latin letters or digits, each space."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if tokens and token[0] in _NO_LINE_START:
            tokens[-1] += token
        else:
            tokens.append(token)
    return tokens


def _opening(reason_line: str) -> str:
    """The notice's first sentence: the reason line (``…付け通知のとおり``) as ``…付け通知により``, so the
    sentence says 「とおり」 once.

    >>> _opening("令和8年11月1日付け通知のとおり")
    '令和8年11月1日付け通知により、下記のとおり納付してください。'
    >>> _opening("別途通知のとおり")
    '別途通知により、下記のとおり納付してください。'
    """
    return f"{reason_line.removesuffix('のとおり')}により、下記のとおり納付してください。"


def _channel_tokens(channels: tuple[str, ...]) -> list[str]:
    """取扱:A、B、C as tokens that break only after 、 (never inside a chain or app name)."""
    items = [f"{name}、" for name in channels[:-1]] + [channels[-1]]
    items[0] = "取扱:" + items[0]
    return items


def _qr_left_mm() -> float:
    """Left edge of the QR code (quiet zone included) at its largest (a 45-module symbol for a long URL)."""
    return QR_RIGHT_MM - 45 * QR_MODULE_MM


def _amount_text(amount: int) -> str:
    return f"{amount:,}円"


def _with_sama(name: str) -> str:
    return f"{name.strip().removesuffix('様').rstrip()} 様"


class _Page:
    """Drawing helpers in millimetres measured from the top-left corner of the page."""

    def __init__(self, canvas: Canvas, font: str) -> None:
        self.c = canvas
        self.font = font

    def y(self, top_mm: float) -> float:
        return float((PAGE_HEIGHT_MM - top_mm) * mm)

    def width_mm(self, text: str, size: float) -> float:
        return float(pdfmetrics.stringWidth(text, self.font, size) / mm)

    def text(self, x_mm: float, baseline_mm: float, text: str, size: float, align: str = "left") -> None:
        self.c.setFont(self.font, size)
        if align == "left":
            self.c.drawString(x_mm * mm, self.y(baseline_mm), text)
        elif align == "right":
            self.c.drawRightString(x_mm * mm, self.y(baseline_mm), text)
        else:
            self.c.drawCentredString(x_mm * mm, self.y(baseline_mm), text)

    def fit_size(self, text: str, size: float, width_mm: float, *, smallest: float, field: str) -> float:
        """Shrink ``size`` until ``text`` fits ``width_mm``; refuse to go below ``smallest``."""
        while self.width_mm(text, size) > width_mm:
            size -= 0.5
            if size < smallest:
                raise SlipContentError(f"{field} is too long to print in {width_mm:.0f} mm", field=field)
        return size

    def wrap(self, text: str, size: float, width_mm: float) -> list[str]:
        """Break ``text`` into lines of at most ``width_mm`` (Japanese: anywhere but before 、。ー etc.)."""
        return self.wrap_tokens(_tokens(text), size, width_mm)

    def wrap_tokens(self, tokens: Iterable[str], size: float, width_mm: float) -> list[str]:
        """Fill lines greedily with unbreakable ``tokens``; a token wider than a line is split."""
        lines: list[str] = []
        line = ""
        for token in tokens:
            if line and self.width_mm(line + token, size) > width_mm:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line += token
            while len(line) > 1 and self.width_mm(line, size) > width_mm:
                cut = len(line) - 1
                while cut > 1 and self.width_mm(line[:cut], size) > width_mm:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        if line.strip():
            lines.append(line)
        return lines

    def rect(self, x_mm: float, top_mm: float, w_mm: float, h_mm: float, *, dashed: bool = False) -> None:
        self.c.setLineWidth(0.5)
        self.c.setDash([2, 2] if dashed else [])
        self.c.rect(x_mm * mm, self.y(top_mm + h_mm), w_mm * mm, h_mm * mm, stroke=1, fill=0)
        self.c.setDash([])

    def line(self, x1: float, y1: float, x2: float, y2: float, *, dashed: bool = False) -> None:
        self.c.setLineWidth(0.4)
        self.c.setDash([3, 2] if dashed else [])
        self.c.line(x1 * mm, self.y(y1), x2 * mm, self.y(y2))
        self.c.setDash([])


class _SlipPainter:
    """Draws slip pages on one canvas; holds what is shared by all its pages (font, symbol options)."""

    def __init__(self, canvas: Canvas, symbol: SymbolOptions) -> None:
        self.page = _Page(canvas, _register_font())
        self.symbol = symbol
        self._check_symbol_fits(symbol)
        # Every slip of a batch carries the same contact: measure and wrap it once, not once per page.
        self._contact_layouts: dict[tuple[ContactBlock, float, float], _ContactLayout] = {}

    @staticmethod
    def _check_symbol_fits(symbol: SymbolOptions) -> None:
        if render.symbol_width_mm(symbol) > PART_WIDTH_MM - 2 * 2.0:
            raise SlipContentError("barcode is wider than the store's part", field="symbol")
        if BARCODE_TOP_MM + symbol.bar_height_mm + 9.0 > STAMP_BOX_TOP_MM - 20.0:
            raise SlipContentError("barcode bars are too high for the slip layout", field="symbol")

    def draw(self, slip: SlipDocument, address: AddressBlock | None, sender: SenderBlock | None) -> None:
        if address is not None or sender is not None:
            self._window(address, sender)
        self._top(slip)
        self._perforations()
        for index, part in enumerate(("payer", "store", "office")):
            x0 = index * PART_WIDTH_MM
            bottom = self._part_common(slip, x0, part)
            if part == "payer":
                self._payer_part(slip, x0, bottom)
            elif part == "store":
                self._store_part(slip, x0, bottom)
            else:
                self._office_part(x0, bottom)
            self._stamp_box(x0)
        self.page.c.showPage()

    # --- top third ---------------------------------------------------------------------------------------

    def _window(self, address: AddressBlock | None, sender: SenderBlock | None) -> None:
        p = self.page
        left = WINDOW_LEFT_MM + WINDOW_INSET_MM
        width = WINDOW_WIDTH_MM - 2 * WINDOW_INSET_MM
        top = WINDOW_TOP_MM + WINDOW_INSET_MM
        if sender is not None:
            for i, line in enumerate((sender.sender_label, " ".join(sender.address_lines))):
                if line:
                    size = p.fit_size(line, 6.5, width, smallest=5.0, field="sender")
                    p.text(left, top + 2.3 + i * 2.8, line, size)
            p.line(left, top + 7.0, left + width, top + 7.0)
        if address is None:
            return
        p.text(left, top + 12.0, f"〒{address.postal_code}", 10)
        for i, line in enumerate(address.address_lines):
            size = p.fit_size(line, 10, width, smallest=7.0, field="address_lines")
            p.text(left, top + 17.0 + i * 4.5, line, size)
        name = _with_sama(address.name)
        size = p.fit_size(name, 13, width, smallest=8.0, field="name")
        p.text(left, top + 17.0 + 3 * 4.5 + 1.5, name, size)

    def _top(self, slip: SlipDocument) -> None:
        p = self.page
        p.text(120, 23, TITLE, 18)
        p.text(120, 30, f"{slip.issuer_name} {slip.payee_label}", 9)
        p.text(120, 35, f"納付書番号 {slip.slip_number}", 8)
        if slip.reissue_count > 0:
            self._reissue_mark(176, 16.5, 11)
        self._contact_top(slip.contact)
        lines = [_opening(slip.reason_line)]
        lines.append("次のコンビニエンスストア・スマートフォン決済アプリでお支払いいただけます。")
        lines.append(NO_APP_RECEIPT + "領収証書が必要な方はコンビニエンスストアでお支払いください。")
        lines.extend(slip.notes)
        size, leading = 8.0, 4.0
        width = NOTICE_RIGHT_MM - NOTICE_LEFT_MM
        wrapped = [p.wrap(paragraph, size, width) for paragraph in lines]
        wrapped.insert(2, p.wrap_tokens(_channel_tokens(slip.accepted_channels), size, width))
        baseline = NOTICE_TOP_MM
        for paragraph_lines in wrapped:
            for line in paragraph_lines:
                if baseline > NOTICE_BOTTOM_MM:
                    raise SlipContentError("notice is too long for the top of the page", field="notes")
                p.text(NOTICE_LEFT_MM, baseline, line, size)
                baseline += leading
        self._qr(slip.qr_url)

    def _contact_layout(self, contact: ContactBlock, width: float, smallest: float) -> _ContactLayout:
        """The after-expiry sentence wrapped to ``width`` and the contact's lines with their font sizes.

        Raises:
            SlipContentError: a line does not fit ``width`` at ``smallest`` (``field`` names its setting).
        """
        key = (contact, width, smallest)
        layout = self._contact_layouts.get(key)
        if layout is None:
            p = self.page
            lines = zip(
                ("contact_name", "contact_phone", "contact_hours"),
                (contact.name, f"電話 {contact.phone}", contact.hours),
                strict=True,
            )
            layout = _ContactLayout(
                sentence=tuple(p.wrap(after_expiry_sentence(contact.counter_bank), 6.5, width)),
                lines=tuple(
                    (line, p.fit_size(line, 7.5, width, smallest=smallest, field=field))
                    for field, line in lines
                ),
            )
            self._contact_layouts[key] = layout
        return layout

    def _contact_top(self, contact: ContactBlock) -> None:
        """お問い合わせ先 under the title: right of the envelope window, left of the QR code."""
        p = self.page
        layout = self._contact_layout(contact, _qr_left_mm() - 3.0 - CONTACT_TOP_LEFT_MM, 5.5)
        p.text(CONTACT_TOP_LEFT_MM, CONTACT_TOP_MM, CONTACT_HEADING, 6.5)
        for i, (line, size) in enumerate(layout.lines):
            p.text(CONTACT_TOP_LEFT_MM, CONTACT_TOP_MM + 4.0 + i * 3.8, line, size)

    def _qr(self, url: str) -> None:
        p = self.page
        matrix = qr.qr_matrix(url)
        side = len(matrix) * QR_MODULE_MM
        left = QR_RIGHT_MM - side
        path = p.c.beginPath()
        for row, cells in enumerate(matrix):
            start = -1
            for col, dark in enumerate([*cells, False]):
                if dark and start < 0:
                    start = col
                elif not dark and start >= 0:
                    # One rectangle per horizontal run of dark modules keeps the page small and fast.
                    path.rect(
                        (left + start * QR_MODULE_MM) * mm,
                        p.y(QR_TOP_MM + (row + 1) * QR_MODULE_MM),
                        (col - start) * QR_MODULE_MM * mm,
                        QR_MODULE_MM * mm,
                    )
                    start = -1
        p.c.setFillColorRGB(0, 0, 0)
        p.c.drawPath(path, stroke=0, fill=1)
        centre = left + side / 2
        p.text(centre, QR_TOP_MM + side + 2.5, QR_LABEL[0], 6.5, align="centre")
        p.text(centre, QR_TOP_MM + side + 5.3, QR_LABEL[1], 6.5, align="centre")

    def _reissue_mark(self, x_mm: float, top_mm: float, size: float) -> None:
        p = self.page
        width = p.width_mm(REISSUE_MARK, size) + 2.0
        height = size * 0.3528 + 2.0
        p.c.setStrokeColorRGB(*RED)
        p.c.setFillColorRGB(*RED)
        p.rect(x_mm, top_mm, width, height)
        p.text(x_mm + 1.0, top_mm + height - 1.0 - size * 0.3528 * 0.12, REISSUE_MARK, size)
        p.c.setStrokeColorRGB(0, 0, 0)
        p.c.setFillColorRGB(0, 0, 0)

    def _perforations(self) -> None:
        p = self.page
        p.line(0, PART_TOP_MM, PAGE_WIDTH_MM, PART_TOP_MM, dashed=True)
        for i in (1, 2):
            x = i * PART_WIDTH_MM
            p.line(x, PART_TOP_MM, x, PAGE_HEIGHT_MM, dashed=True)
        p.text(PAGE_WIDTH_MM / 2, PART_TOP_MM - 1.2, "キリトリ線", 5.5, align="centre")

    # --- the three parts ---------------------------------------------------------------------------------

    def _part_common(self, slip: SlipDocument, x0: float, part: str) -> float:
        """Draw what every part carries; return the top of the free space below it (mm)."""
        p = self.page
        left = x0 + PART_MARGIN_MM
        right = x0 + PART_WIDTH_MM - PART_MARGIN_MM
        inner = right - left
        title, subtitle = {
            "payer": ("領収証書", "(納付者保管)"),
            "store": ("納付書", "(収納機関保管)"),
            "office": ("領収済通知書", "(発行者へ送付)"),
        }[part]
        p.text(left, 105.5, title, 11)
        p.text(left + p.width_mm(title, 11) + 1.0, 105.5, subtitle, 6.5)
        if slip.reissue_count > 0:
            self._reissue_mark(right - p.width_mm(REISSUE_MARK, 7) - 2.0, 101.5, 7)
        p.text(left, 111.5, f"{fiscal_year_label(slip.fiscal_year)} {slip.item_label}", 8)
        if slip.instalment_count is not None and slip.instalment_count > 1:
            p.text(right, 111.5, f"第{slip.instalment}回(全{slip.instalment_count}回)", 8, align="right")
        p.text(left, 116.5, f"納付番号 {slip.payment_number}", 7)
        p.text(left, 120.5, f"納付書番号 {slip.slip_number}", 7)
        p.rect(left, 123.0, inner, 10.0)
        p.text(left + 1.5, 129.5, "金額", 7)
        p.text(right - 1.5, 130.5, _amount_text(slip.amount), 14, align="right")
        p.text(left, 138.5, f"納期限 {wareki_date(slip.due_date)}", 8)
        p.text(left, 142.5, f"取扱期限 {wareki_date(slip.barcode_expiry)}", 7)
        baseline = 147.0
        for line in p.wrap(f"納付先 {slip.issuer_name} {slip.payee_label}", 7, inner):
            p.text(left, baseline, line, 7)
            baseline += 3.3
        for line in p.wrap(slip.reason_line, 6.5, inner):
            p.text(left, baseline, line, 6.5)
            baseline += 3.1
        return baseline + 2.0

    def _payer_part(self, slip: SlipDocument, x0: float, top: float) -> None:
        p = self.page
        left = x0 + PART_MARGIN_MM
        inner = PART_WIDTH_MM - 2 * PART_MARGIN_MM
        baseline = top + 4.0
        if slip.payer_name is not None:
            name = _with_sama(slip.payer_name)
            p.text(left, baseline, name, p.fit_size(name, 10, inner, smallest=6.0, field="payer_name"))
        baseline += 6.0
        p.text(left, baseline, "上記の金額を領収しました。", 7)
        baseline += 4.0
        for line in p.wrap(NO_APP_RECEIPT, 6.5, inner):
            p.text(left, baseline, line, 6.5)
            baseline += 3.1
        seal_size = 16.0
        seal_left = x0 + PART_WIDTH_MM - PART_MARGIN_MM - seal_size
        seal_top = baseline + 1.0
        issuer_lines = [
            *p.wrap(slip.issuer_name, 8, seal_left - left - 1.0),
            *p.wrap(slip.payee_label, 8, seal_left - left - 1.0),
        ]
        if len(issuer_lines) > 4:
            raise SlipContentError("issuer name and payee label are too long", field="issuer_name")
        for i, line in enumerate(issuer_lines):
            p.text(left, seal_top + 6.0 + i * 3.8, line, 8)
        if slip.issuer_seal_png is not None:
            p.c.drawImage(
                _seal_reader(slip.issuer_seal_png),
                seal_left * mm,
                p.y(seal_top + seal_size),
                seal_size * mm,
                seal_size * mm,
                mask="auto",
                preserveAspectRatio=True,
            )
        bottom = max(seal_top + seal_size, seal_top + 6.0 + (len(issuer_lines) - 1) * 3.8)
        self._contact_payer(slip.contact, left, inner, bottom + 5.0)

    def _contact_payer(self, contact: ContactBlock, left: float, inner: float, top: float) -> None:
        """Where to pay after the 取扱期限 (the counter bank, with this slip) and whom to call, above the
        stamp box of the payer's part."""
        p = self.page
        layout = self._contact_layout(contact, inner, 6.0)
        p.line(left, top, left + inner, top)
        baseline = top + 3.6
        for line in layout.sentence:
            p.text(left, baseline, line, 6.5)
            baseline += 3.1
        baseline += 1.2
        p.text(left, baseline, CONTACT_HEADING, 6.5)
        baseline += 3.6
        for line, size in layout.lines:
            p.text(left, baseline, line, size)
            baseline += 3.6
        if baseline - 2.0 > STAMP_BOX_TOP_MM - 5.0:
            raise SlipContentError("the office's contact does not fit the payer's part", field="contact")

    def _store_part(self, slip: SlipDocument, x0: float, top: float) -> None:
        p = self.page
        left = x0 + PART_MARGIN_MM
        inner = PART_WIDTH_MM - 2 * PART_MARGIN_MM
        baseline = top + 3.5
        p.text(left, baseline, AFTER_EXPIRY, 6.5)
        p.text(left, baseline + 3.5, NO_CORRECTION, 6.5)
        baseline += 7.0
        for line in p.wrap_tokens(_channel_tokens(slip.accepted_channels), 6, inner):
            if baseline > FOLD_MM[1] - 3.0:
                raise SlipContentError("too many channels for the store's part", field="accepted_channels")
            p.text(left, baseline, line, 6)
            baseline += 2.9
        self._barcode(slip.barcode, x0)

    def _barcode(self, digits: str, x0: float) -> None:
        p = self.page
        s = self.symbol
        width = render.symbol_width_mm(s)
        # The symbol (quiet zones included) is centred in the part; nothing else is drawn inside it. The first
        # bar starts on the printer's dot grid (counted from the page's left edge), so every bar edge falls
        # between two dots and no module is printed a dot wider or narrower than the next.
        centred = x0 + (PART_WIDTH_MM - width) / 2 + s.quiet_zone_mm
        bars_left = round(centred / s.dot_mm) * s.dot_mm
        path = p.c.beginPath()
        for start, run in render.bar_runs(render.modules(digits)):
            path.rect(
                (bars_left + start * s.module_width_mm) * mm,
                p.y(BARCODE_TOP_MM + s.bar_height_mm),
                run * s.module_width_mm * mm,
                s.bar_height_mm * mm,
            )
        p.c.setFillColorRGB(0, 0, 0)
        p.c.drawPath(path, stroke=0, fill=1)
        centre = x0 + PART_WIDTH_MM / 2
        baseline = BARCODE_TOP_MM + s.bar_height_mm + 3.4
        for line in render.hri_lines(digits):
            p.text(centre, baseline, line, 7, align="centre")
            baseline += 3.2

    def _office_part(self, x0: float, top: float) -> None:
        """Nothing yet: the eL-QR area (``EL_QR_AREA_MM`` square at the barcode's height) stays blank."""

    def _stamp_box(self, x0: float) -> None:
        p = self.page
        left = x0 + (PART_WIDTH_MM - STAMP_BOX_SIZE_MM) / 2
        p.rect(left, STAMP_BOX_TOP_MM, STAMP_BOX_SIZE_MM, STAMP_BOX_SIZE_MM)
        p.text(x0 + PART_WIDTH_MM / 2, STAMP_BOX_TOP_MM - 1.2, "領収日付印", 6.5, align="centre")


def _canvas(out: BinaryIO, *, title: str, author: str) -> Canvas:
    # initialFontName keeps reportlab's default Helvetica out of the page resources.
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1, initialFontName=_register_font())
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setSubject("")
    canvas.setKeywords("")
    canvas.setCreator(CREATOR)
    return canvas


#: reportlab's TTFont keeps per-document subsetting state on the shared font object; one render at a time per
#: process keeps a threaded server (``gateway serve``) from interleaving two documents' subsets.
_RENDER_LOCK = threading.Lock()


def render_slip_pdf(
    slip: SlipDocument,
    *,
    address: AddressBlock | None = None,
    sender: SenderBlock | None = None,
    symbol: SymbolOptions = DEFAULT_SYMBOL,
    out: BinaryIO,
) -> None:
    """Write a one-page A4 PDF of ``slip`` to ``out``.

    With ``address`` (and ``sender``) the page is ready for a window envelope; without, the window area stays
    empty. The title is ``納付書 <slip number>``, the author the issuer.

    Raises:
        SlipContentError: a text does not fit its place, or ``symbol`` does not fit the layout.
    """
    with _RENDER_LOCK:
        canvas = _canvas(out, title=f"{TITLE} {slip.slip_number}", author=slip.issuer_name)
        _SlipPainter(canvas, symbol).draw(slip, address, sender)
        canvas.save()


def render_batch_pdf(
    envelopes: Iterable[Envelope],
    *,
    out: BinaryIO,
    symbol: SymbolOptions = DEFAULT_SYMBOL,
) -> BatchStats:
    """Write one PDF with a page per slip, envelope after envelope, to ``out``; return what was written.

    ``envelopes`` is consumed once, lazily (a generator reading from the database is fine). The addressee and
    sender are printed in the window area of the first page of each envelope only; the envelope's later pages
    leave it empty, so a sheet put in the wrong envelope shows no address. reportlab keeps the finished
    pages in memory until the end and writes ``out`` once, so split very large runs into several batches.

    Raises:
        SlipContentError: the batch is empty (nothing is written), or a text does not fit its place.
    """
    with _RENDER_LOCK:
        return _render_batch(envelopes, out, symbol)


def _render_batch(envelopes: Iterable[Envelope], out: BinaryIO, symbol: SymbolOptions) -> BatchStats:
    canvas: Canvas | None = None
    painter: _SlipPainter | None = None
    pages = count = 0
    for envelope in envelopes:
        if canvas is None or painter is None:
            canvas = _canvas(out, title=TITLE, author=envelope.slips[0].issuer_name)
            painter = _SlipPainter(canvas, symbol)
        for index, slip in enumerate(envelope.slips):
            if index == 0:
                painter.draw(slip, envelope.address, envelope.sender)
            else:
                painter.draw(slip, None, None)
            pages += 1
        count += 1
    if canvas is None:
        raise SlipContentError("the batch has no envelopes", field="envelopes")
    canvas.save()
    return BatchStats(pages=pages, envelopes=count)
