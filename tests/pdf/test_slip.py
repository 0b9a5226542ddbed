"""Slip and batch PDFs read back: text, privacy, embedded font, metadata, and the barcode and QR decoded."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
import zxingcpp
from reportlab.pdfgen.canvas import Canvas

from barcodes.render import SymbolOptions
from gateway.pdf import slip as slip_module
from gateway.pdf.model import PRIVACY_WORDS
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipContentError
from gateway.pdf.model import SlipDocument
from gateway.pdf.slip import BatchStats
from gateway.pdf.slip import render_batch_pdf
from gateway.pdf.slip import render_slip_pdf
from tests.pdf.pdf_samples import CHANNELS
from tests.pdf.pdf_samples import PAYER_NAME
from tests.pdf.pdf_samples import PAYMENT_NUMBER
from tests.pdf.pdf_samples import QR_URL
from tests.pdf.pdf_samples import SAMPLE_BARCODE
from tests.pdf.pdf_samples import Box
from tests.pdf.pdf_samples import RenderedPdf
from tests.pdf.pdf_samples import instalment_slip
from tests.pdf.pdf_samples import page_geometry
from tests.pdf.pdf_samples import pdf_strings
from tests.pdf.pdf_samples import read_pdf
from tests.pdf.pdf_samples import reissued_slip
from tests.pdf.pdf_samples import slip_fields

Render = Callable[..., RenderedPdf]

# Where things are (mm from the top-left corner), from the layout the slip module documents.
WINDOW = (23.0, 13.0, 113.0, 58.0)
PARTS = {
    "payer": (0.0, 99.0, 70.0, 297.0),
    "store": (70.0, 99.0, 140.0, 297.0),
    "office": (140.0, 99.0, 210.0, 297.0),
}


def _normal(text: str) -> str:
    """pdfium ends lines with CR LF; compare without line breaks."""
    return text.replace("\r", "").replace("\n", "")


def _decode_page(
    pdf: RenderedPdf, page: int = 0, dpi: int = 300
) -> tuple[list[zxingcpp.Barcode], list[zxingcpp.Barcode]]:
    results = zxingcpp.read_barcodes(pdf.raster(page, dpi=dpi))
    linear = [r for r in results if r.format == zxingcpp.BarcodeFormat.Code128]
    qrs = [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(results) == len(linear) + len(qrs), results
    return linear, qrs


def _box(result: zxingcpp.Barcode, dpi: int = 300) -> tuple[float, float, float, float]:
    """left, top, right, bottom in mm of a symbol found in a raster at ``dpi``."""
    px = dpi / 25.4
    p = result.position
    xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
    return (min(xs) / px, min(ys) / px, max(xs) / px, max(ys) / px)


# --- text ----------------------------------------------------------------------------------------------


def test_slip_prints_the_required_phrases(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    assert len(pdf.pages) == 1
    text = pdf.pages[0]
    for phrase in (
        "令和7年度 納付金",
        "10,000円",
        "納期限 令和7年12月26日",
        "取扱期限 令和8年1月31日",
        "期限後は金融機関窓口で",
        "金額を訂正したものは取り扱えません",
        "アプリでは領収証書は発行されません",
        "みほん市",
        "会計管理者",
        "令和7年11月1日付け通知のとおり",
        "令和7年11月1日付け通知により、下記のとおり納付してください。",
        "スマートフォンで納付書を表示",
        "(QRコードでは支払えません)",
        "領収証書",
        "納付書 (収納機関保管)",
        "領収済通知書",
        "(91)912345-00123-2600000123400300",
        "0-260131-0-010000-1",
        *CHANNELS,
    ):
        assert phrase in text, phrase
    assert "再発行" not in text
    assert "第1回" not in text
    assert "収納店控え" not in text
    assert "のとおり、下記のとおり" not in text  # the opening sentence says 「とおり」 once


def test_the_el_qr_area_is_reserved_blank(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    assert "eL-QR" not in pdf.pages[0]
    # nothing at all is drawn in the office's part at the barcode's height (no box, no label)
    area = (140 + (70 - slip_module.EL_QR_AREA_MM) / 2, slip_module.BARCODE_TOP_MM)
    area_box = (area[0], area[1], area[0] + slip_module.EL_QR_AREA_MM, area[1] + slip_module.EL_QR_AREA_MM)
    for left, top, right, bottom in page_geometry(pdf.data).objects:
        inside = left < area_box[2] and right > area_box[0] and top < area_box[3] and bottom > area_box[1]
        spans_page = right - left > 100 or bottom - top > 100  # the perforation lines' path
        assert not inside or spans_page, (left, top, right, bottom)


def test_every_part_carries_payment_and_slip_numbers(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    for part, box in PARTS.items():
        text = pdf.region(0, *box)
        assert f"納付番号 {PAYMENT_NUMBER}" in text, part
        assert f"{PAYMENT_NUMBER}-0" in text, part
        assert "10,000円" in text, part
        assert "納期限 令和7年12月26日" in text, part
        assert "取扱期限 令和8年1月31日" in text, part


def test_payer_name_only_on_the_payers_receipt(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    assert pdf.pages[0].count(PAYER_NAME) == 1
    assert f"{PAYER_NAME} 様" in pdf.region(0, *PARTS["payer"])
    assert PAYER_NAME not in pdf.region(0, *PARTS["store"])
    assert PAYER_NAME not in pdf.region(0, *PARTS["office"])


def test_without_payer_name_no_name_is_printed(render_pdf: Render) -> None:
    pdf = render_pdf(render_slip_pdf, SlipDocument(**slip_fields(payer_name=None)))
    assert "様" not in pdf.pages[0]


def test_address_and_sender_in_the_window(
    render_pdf: Render, slip: SlipDocument, address: AddressBlock, sender: SenderBlock
) -> None:
    pdf = render_pdf(render_slip_pdf, slip, address=address, sender=sender)
    window = pdf.region(0, *WINDOW)
    for line in (
        "〒100-0001",
        *address.address_lines,
        f"{PAYER_NAME} 様",
        "みほん市 会計管理者",
        "〒100-0000",
    ):
        assert line in window, line
    # The name twice: the window and the payer's receipt, nowhere else.
    assert pdf.pages[0].count(PAYER_NAME) == 2
    assert PAYER_NAME not in pdf.region(0, *PARTS["store"])
    assert PAYER_NAME not in pdf.region(0, *PARTS["office"])


def test_window_stays_empty_without_an_address(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    assert pdf.region(0, *WINDOW).strip() == ""


def test_reissue_shows_the_mark(render_pdf: Render) -> None:
    pdf = render_pdf(render_slip_pdf, reissued_slip())
    assert pdf.pages[0].count("再発行") >= 4  # top of the page and each of the three parts
    for box in PARTS.values():
        assert "再発行" in pdf.region(0, *box)


def test_instalment_printed_when_there_are_several(render_pdf: Render) -> None:
    pdf = render_pdf(render_slip_pdf, instalment_slip(serial=77, instalment=2, count=6))
    assert pdf.pages[0].count("第2回(全6回)") == 3
    single = render_pdf(render_slip_pdf, instalment_slip(serial=77, instalment=1, count=1))
    assert "第1回" not in single.pages[0]


# --- privacy -------------------------------------------------------------------------------------------


def _assert_no_privacy_word(pdf: RenderedPdf) -> None:
    strings = pdf_strings(pdf.data)
    assert any(string.startswith("納付書") for string in strings)  # the title was decoded
    for word in PRIVACY_WORDS:
        for page in pdf.pages:
            assert word not in _normal(page), word
        for value in pdf.metadata.values():
            assert word not in value, word
        for encoding in ("utf-8", "utf-16-be", "utf-16-le", "cp932", "euc-jp"):
            assert word.encode(encoding) not in pdf.data, (word, encoding)
        for string in strings:
            assert word not in string, word


def test_privacy_check_would_see_a_word_in_the_metadata() -> None:
    # Negative control of _assert_no_privacy_word: a PDF written with reportlab alone, bypassing the model.
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    canvas.setTitle("納付書")
    canvas.setSubject("生活保護")
    canvas.showPage()
    canvas.save()
    with pytest.raises(AssertionError):
        _assert_no_privacy_word(read_pdf(out.getvalue()))
    assert "生活保護" in pdf_strings(out.getvalue())


def test_no_privacy_word_anywhere(
    render_pdf: Render, slip: SlipDocument, address: AddressBlock, sender: SenderBlock
) -> None:
    _assert_no_privacy_word(render_pdf(render_slip_pdf, slip, address=address, sender=sender))
    _assert_no_privacy_word(render_pdf(render_slip_pdf, reissued_slip()))


def test_metadata_is_neutral_and_reproducible(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    assert pdf.metadata["Title"] == f"納付書 {PAYMENT_NUMBER}-0"
    assert pdf.metadata["Author"] == "みほん市"
    assert pdf.metadata["Creator"] == "konbini-gateway"
    assert pdf.metadata["Subject"] == ""
    assert pdf.metadata["Keywords"] == ""
    assert render_pdf(render_slip_pdf, slip).data == pdf.data


# --- font ----------------------------------------------------------------------------------------------


def test_font_is_an_embedded_truetype_subset(render_pdf: Render, slip: SlipDocument) -> None:
    data = render_pdf(render_slip_pdf, slip).data
    base_fonts = set(re.findall(rb"/BaseFont\s*/([^\s/>]+)", data))
    assert base_fonts
    assert all(re.fullmatch(rb"[A-Z]{6}\+IPAexGothic", name) for name in base_fonts), base_fonts
    assert data.count(b"/FontFile2") >= len(base_fonts)
    assert b"/Subtype /TrueType" in data
    assert b"HeiseiKakuGo" not in data
    assert b"/CIDFontType0" not in data


# --- symbols -------------------------------------------------------------------------------------------


def test_barcode_and_qr_decode_from_a_300_dpi_raster(render_pdf: Render, slip: SlipDocument) -> None:
    pdf = render_pdf(render_slip_pdf, slip)
    linear, qrs = _decode_page(pdf)
    assert [(r.symbology_identifier, r.bytes) for r in linear] == [("]C1", SAMPLE_BARCODE.encode())]
    assert [r.text for r in qrs] == [QR_URL]
    # The QR code stands apart from the barcode (at least 15 mm between their boxes).
    bl, bt, br, bb = _box(linear[0])
    ql, qt, qr, qb = _box(qrs[0])
    gap = math.hypot(max(0.0, ql - br, bl - qr), max(0.0, qt - bb, bt - qb))
    assert gap >= 15


# The published 料金代理収納 printing rule (spec/barcode.md "Symbol"), checked on the PDF's own drawing:
# at most 60 mm with a 2.54 mm quiet zone on each side, bars at least 10 mm high, every module a whole
# number of the printer's dots (300 dpi: 2 dots, 400 dpi: 3 dots, 600 dpi: 4 dots by default).
QUIET_MM = 2.54
GRID_TOLERANCE_MM = 0.004  # reportlab writes coordinates to 1/100 pt (0.0035 mm)


def _bars(pdf: bytes) -> list[Box]:
    """The rectangles of the one path drawn in the store's part below the lower fold: the barcode."""
    geometry = page_geometry(pdf)
    (bars,) = [
        rects
        for rects in geometry.paths
        if len(rects) > 50 and all(r[0] > 70 and r[2] < 140 and r[1] > 198 for r in rects)
    ]
    return bars


@pytest.mark.parametrize(
    ("dpi", "dots", "height"),
    [(400, 0, 10.0), (300, 0, 10.0), (600, 0, 12.0), (400, 2, 15.0)],
)
def test_the_symbol_follows_the_printing_rule_in_the_pdf(
    render_pdf: Render, slip: SlipDocument, dpi: int, dots: int, height: float
) -> None:
    symbol = SymbolOptions(printer_dpi=dpi, module_dots=dots, bar_height_mm=height)
    expected_dots = dots or {300: 2, 400: 3, 600: 4}[dpi]
    dot = 25.4 / dpi
    module = expected_dots * dot
    pdf = render_pdf(render_slip_pdf, slip, symbol=symbol)
    bars = _bars(pdf.data)
    left, right = min(b[0] for b in bars), max(b[2] for b in bars)
    top, bottom = min(b[1] for b in bars), max(b[3] for b in bars)
    # 288 modules from the first bar's left edge to the last bar's right edge
    assert right - left == pytest.approx(288 * module, abs=GRID_TOLERANCE_MM)
    for bar_left, bar_top, bar_right, bar_bottom in bars:
        # each bar is a whole number of modules wide, starts on the printer's dot grid, and is full height
        assert (bar_right - bar_left) / module == pytest.approx(
            round((bar_right - bar_left) / module), abs=0.05
        )
        assert bar_left / dot == pytest.approx(round(bar_left / dot), abs=GRID_TOLERANCE_MM / dot)
        assert (bar_top, bar_bottom) == (pytest.approx(top, abs=1e-3), pytest.approx(bottom, abs=1e-3))
    assert (
        bottom - top == pytest.approx(height, abs=GRID_TOLERANCE_MM)
        and bottom - top >= 10 - GRID_TOLERANCE_MM
    )
    # quiet zones: nothing else of the page within 2.54 mm left and right of the bars
    zones = ((left - QUIET_MM, top, left, bottom), (right, top, right + QUIET_MM, bottom))
    others = [
        o for o in page_geometry(pdf.data).objects if not (o[0] >= left - 1e-3 and o[2] <= right + 1e-3)
    ]
    for z_left, z_top, z_right, z_bottom in zones:
        for o_left, o_top, o_right, o_bottom in others:
            overlap = o_left < z_right and o_right > z_left and o_top < z_bottom and o_bottom > z_top
            assert not overlap, ((o_left, o_top, o_right, o_bottom), (z_left, z_right))
    assert right - left + 2 * QUIET_MM <= 60
    # and a 300-dpi raster of the page decodes to the slip's digits
    linear, _ = _decode_page(pdf, dpi=300)
    assert [r.bytes for r in linear] == [SAMPLE_BARCODE.encode()]


def test_bars_too_high_for_the_layout_are_refused(slip: SlipDocument) -> None:
    with pytest.raises(SlipContentError) as info:
        render_slip_pdf(slip, symbol=SymbolOptions(bar_height_mm=30), out=io.BytesIO())
    assert info.value.field == "symbol"


# --- batches -------------------------------------------------------------------------------------------


def _envelopes(sender: SenderBlock) -> Iterator[Envelope]:
    """Three envelopes, the second with two slips; a generator, as a database query would give."""
    people = ("見本 一郎", "見本 二郎", "見本 三郎")
    for serial, (name, count) in enumerate(zip(people, (1, 2, 1), strict=True), start=1):
        yield Envelope(
            address=AddressBlock(
                postal_code=f"100-000{serial}", address_lines=(f"みほん市見本町{serial}番地",), name=name
            ),
            sender=sender,
            slips=tuple(instalment_slip(serial, i, count, payer_name=name) for i in range(1, count + 1)),
        )


def test_batch_puts_the_address_on_each_envelopes_first_page(sender: SenderBlock) -> None:
    out = io.BytesIO()
    stats = render_batch_pdf(_envelopes(sender), out=out)
    assert stats == BatchStats(pages=4, envelopes=3)
    pdf = read_pdf(out.getvalue())
    assert len(pdf.pages) == 4
    window = [pdf.region(page, *WINDOW) for page in range(4)]
    assert "見本 一郎 様" in window[0]
    assert "見本 二郎 様" in window[1]
    assert window[2].strip() == ""  # second slip of the second envelope
    assert "見本 三郎 様" in window[3]
    for page, postal in ((0, "〒100-0001"), (1, "〒100-0002"), (3, "〒100-0003")):
        assert postal in window[page]
        assert pdf.pages[page].count(postal) == 1
    assert re.search("〒100-000[123]", pdf.pages[2]) is None
    assert "〒100-0000" not in pdf.pages[2]  # nor the sender
    names = ("見本 一郎", "見本 二郎", "見本 二郎", "見本 三郎")
    for page, name in enumerate(names):
        assert pdf.pages[page].count(name) == (1 if page == 2 else 2), page
    assert pdf.metadata["Title"] == "納付書"
    _assert_no_privacy_word(pdf)


def test_batch_pages_all_decode(sender: SenderBlock) -> None:
    envelopes = list(_envelopes(sender))
    out = io.BytesIO()
    render_batch_pdf(iter(envelopes), out=out)
    pdf = read_pdf(out.getvalue())
    slips = [slip for envelope in envelopes for slip in envelope.slips]
    for page, slip in enumerate(slips):
        linear, qrs = _decode_page(pdf, page)
        assert [(r.symbology_identifier, r.bytes) for r in linear] == [("]C1", slip.barcode.encode())]
        assert [r.text for r in qrs] == [slip.qr_url]


def test_batch_reads_the_envelopes_lazily(sender: SenderBlock, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []
    original = slip_module._SlipPainter.draw

    def draw(self: Any, slip: SlipDocument, *args: Any) -> None:
        drawn.append(slip.slip_number)
        original(self, slip, *args)

    monkeypatch.setattr(slip_module._SlipPainter, "draw", draw)
    pages_before_each_envelope: list[int] = []

    def envelopes() -> Iterator[Envelope]:
        for envelope in _envelopes(sender):
            pages_before_each_envelope.append(len(drawn))
            yield envelope

    assert render_batch_pdf(envelopes(), out=io.BytesIO()).envelopes == 3
    # Each envelope is drawn before the next one is requested: nothing collects the iterable first.
    assert pages_before_each_envelope == [0, 1, 3]
    assert len(drawn) == 4


def test_empty_batch_is_refused_and_writes_nothing() -> None:
    out = io.BytesIO()
    with pytest.raises(SlipContentError) as info:
        render_batch_pdf(iter(()), out=out)
    assert info.value.field == "envelopes"
    assert out.getvalue() == b""


def test_long_channel_lists_break_between_names(render_pdf: Render) -> None:
    channels = (
        "セブン-イレブン",
        "ローソン",
        "ファミリーマート",
        "デイリーヤマザキ",
        "ミニストップ",
        "セイコーマート",
        "ポプラ",
        "PayPay",
        "au PAY",
        "d払い",
        "LINE Pay",
        "楽天銀行",
    )
    pdf = render_pdf(render_slip_pdf, SlipDocument(**slip_fields(accepted_channels=channels)))
    lines = pdf.pages[0].split("\r\n")
    for name in channels:
        assert sum(name in line for line in lines) == 2, name  # the notice and the store's part, unbroken
    assert not [line for line in lines if line[:1] in "、。ー)"]


def test_notes_are_printed_in_the_notice(render_pdf: Render) -> None:
    notes = ("お問い合わせは見本市会計課(電話 000-000-0000)まで。",)
    pdf = render_pdf(render_slip_pdf, SlipDocument(**slip_fields(notes=notes)))
    assert notes[0] in pdf.pages[0]


def test_a_notice_too_long_for_its_box_is_refused() -> None:
    notes = ("見本の注意書きです。" * 12,) * 4
    with pytest.raises(SlipContentError) as info:
        render_slip_pdf(SlipDocument(**slip_fields(notes=notes)), out=io.BytesIO())
    assert info.value.field == "notes"
