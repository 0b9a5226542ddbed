"""Synthetic slips for the PDF tests; reading rendered PDFs back with pypdfium2 (text, metadata, raster)."""

from __future__ import annotations

import ctypes
import datetime
import re
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from barcodes import cvs
from gateway.pdf.model import ContactBlock
from gateway.pdf.model import SlipDocument

SEAL_PATH = Path(__file__).resolve().parents[2] / "gateway" / "pdf" / "assets" / "demo_seal.png"

# The spec's sample barcode: prefix 912345, consignor 00123, payment number 2600000123400300, reissue 0,
# expiry 2026-01-31, stamp flag 0, 10,000 yen.
SAMPLE_BARCODE = "91912345001232600000123400300026013100100001"
PAYMENT_NUMBER = "2600000123400300"
PAYER_NAME = "見本 花子"
QR_URL = "https://pay.example.jp/p/Qm9vZ3VzVG9rZW4xMjM0NTY"
CONTACT = ContactBlock(
    name="みほん市 会計課 収納係",
    phone="000-1111-2222",
    hours="平日 8時30分〜17時15分",
    counter_bank="指定金融機関(見本銀行)の窓口",
)
CHANNELS = ("セブン-イレブン", "ローソン", "ファミリーマート", "PayPay", "au PAY", "d払い")

PT_PER_MM = 72 / 25.4
PAGE_HEIGHT_MM = 297.0


def slip_fields(**overrides: Any) -> dict[str, Any]:
    """The keyword arguments of a valid original slip (the spec's sample barcode), with ``overrides``."""
    fields: dict[str, Any] = {
        "slip_number": f"{PAYMENT_NUMBER}-0",
        "payment_number": PAYMENT_NUMBER,
        "barcode": SAMPLE_BARCODE,
        "amount": 10_000,
        "due_date": datetime.date(2025, 12, 26),
        "barcode_expiry": datetime.date(2026, 1, 31),
        "fiscal_year": 2025,
        "issuer_name": "みほん市",
        "reason_line": "令和7年11月1日付け通知のとおり",
        "qr_url": QR_URL,
        "accepted_channels": CHANNELS,
        "contact": CONTACT,
        "payer_name": PAYER_NAME,
        "issuer_seal_png": SEAL_PATH.read_bytes(),
    }
    fields.update(overrides)
    return fields


def reissued_slip(reissue_count: int = 1, **overrides: Any) -> SlipDocument:
    """The sample slip reissued: reissue count + 1, new expiry, same payment number and amount."""
    expiry = datetime.date(2026, 3, 2)
    barcode = cvs.compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number=PAYMENT_NUMBER,
        reissue_count=reissue_count,
        expiry=expiry,
        amount=10_000,
    )
    return SlipDocument(
        **slip_fields(
            slip_number=f"{PAYMENT_NUMBER}-{reissue_count}",
            barcode=barcode,
            reissue_count=reissue_count,
            due_date=datetime.date(2026, 1, 30),
            barcode_expiry=expiry,
            **overrides,
        )
    )


def instalment_slip(serial: int, instalment: int, count: int, payer_name: str = PAYER_NAME) -> SlipDocument:
    """Slip ``instalment`` of ``count`` of claim ``serial`` (FY2026), 5,000 yen."""
    due = datetime.date(2026, 11, 30) + datetime.timedelta(days=31 * (instalment - 1))
    expiry = due + datetime.timedelta(days=30)
    number = cvs.compose_payment_number(2026, serial, instalment)
    barcode = cvs.compose(
        issuer_prefix="912345",
        consignor_code="00123",
        payment_number=number,
        reissue_count=0,
        expiry=expiry,
        amount=5_000,
    )
    return SlipDocument(
        **slip_fields(
            slip_number=f"{number}-0",
            payment_number=number,
            barcode=barcode,
            amount=5_000,
            due_date=due,
            barcode_expiry=expiry,
            fiscal_year=2026,
            instalment=instalment,
            instalment_count=count,
            payer_name=payer_name,
        )
    )


@dataclass
class RenderedPdf:
    """A rendered PDF read back: the raw bytes, each page's text and the metadata."""

    data: bytes
    pages: list[str]
    metadata: dict[str, str]

    def region(self, page: int, left_mm: float, top_mm: float, right_mm: float, bottom_mm: float) -> str:
        """The text inside a rectangle given in mm from the page's top-left corner."""
        document = pdfium.PdfDocument(self.data)
        try:
            textpage = document[page].get_textpage()
            return str(
                textpage.get_text_bounded(
                    left=left_mm * PT_PER_MM,
                    bottom=(PAGE_HEIGHT_MM - bottom_mm) * PT_PER_MM,
                    right=right_mm * PT_PER_MM,
                    top=(PAGE_HEIGHT_MM - top_mm) * PT_PER_MM,
                )
            )
        finally:
            document.close()

    def raster(self, page: int, dpi: int = 300) -> Image.Image:
        document = pdfium.PdfDocument(self.data)
        try:
            image: Image.Image = document[page].render(scale=dpi / 72).to_pil()
            return image
        finally:
            document.close()


Box = tuple[float, float, float, float]
"""left, top, right, bottom in mm from the page's top-left corner."""


@dataclass
class PageGeometry:
    """What a page draws, read from the PDF's own content: every object's box, and each path's rectangles."""

    objects: list[Box]
    paths: list[list[Box]]


def _mm_box(left: float, bottom: float, right: float, top: float) -> Box:
    return (
        left / PT_PER_MM,
        PAGE_HEIGHT_MM - top / PT_PER_MM,
        right / PT_PER_MM,
        PAGE_HEIGHT_MM - bottom / PT_PER_MM,
    )


def page_geometry(data: bytes, page: int = 0) -> PageGeometry:
    """The page's objects (text, paths, images) by their boxes, and the rectangles each path is made of
    (a reportlab ``rect`` is a move and four lines; its box is the box of those points)."""
    document = pdfium.PdfDocument(data)
    try:
        objects: list[Box] = []
        paths: list[list[Box]] = []
        x, y = ctypes.c_float(), ctypes.c_float()
        for obj in document[page].get_objects():
            objects.append(_mm_box(*obj.get_bounds()))
            if obj.type != pdfium_c.FPDF_PAGEOBJ_PATH:
                continue
            rects: list[Box] = []
            points: list[tuple[float, float]] = []
            for i in range(pdfium_c.FPDFPath_CountSegments(obj.raw)):
                segment = pdfium_c.FPDFPath_GetPathSegment(obj.raw, i)
                pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
                if pdfium_c.FPDFPathSegment_GetType(segment) == pdfium_c.FPDF_SEGMENT_MOVETO and points:
                    rects.append(_points_box(points))
                    points = []
                points.append((x.value, y.value))
            if points:
                rects.append(_points_box(points))
            paths.append(rects)
        return PageGeometry(objects=objects, paths=paths)
    finally:
        document.close()


def _points_box(points: list[tuple[float, float]]) -> Box:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return _mm_box(min(xs), min(ys), max(xs), max(ys))


def read_pdf(data: bytes) -> RenderedPdf:
    document = pdfium.PdfDocument(data)
    try:
        pages = [str(page.get_textpage().get_text_range()) for page in document]
        metadata = dict(document.get_metadata_dict())
    finally:
        document.close()
    return RenderedPdf(data=data, pages=pages, metadata=metadata)


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
_LITERAL = re.compile(rb"\((?:\\.|[^\\()])*\)", re.DOTALL)
_HEX = re.compile(rb"<([0-9A-Fa-f\s]+)>")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _unescape(literal: bytes) -> bytes:
    """The bytes of a PDF literal string ``(...)``: backslash escapes and octal codes resolved."""
    out = bytearray()
    body = literal[1:-1]
    i = 0
    while i < len(body):
        char = body[i : i + 1]
        if char != b"\\":
            out += char
            i += 1
            continue
        following = body[i + 1 : i + 2]
        octal = re.match(rb"[0-7]{1,3}", body[i + 1 : i + 4])
        if octal:
            out.append(int(octal.group(), 8) & 0xFF)
            i += 1 + len(octal.group())
        else:
            out += _ESCAPES.get(following, following)
            i += 2
    return bytes(out)


def _decode_text_string(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")


def pdf_strings(data: bytes) -> list[str]:
    """Every string object of the PDF, decoded, from the file and from its Flate-compressed streams.

    A raw byte search finds nothing in a PDF: reportlab writes metadata as octal-escaped UTF-16 and page text
    as glyph codes. This decodes what can be decoded, so a privacy check has something real to look at.
    """
    chunks = [data]
    for match in _STREAM.finditer(data):
        try:
            chunks.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue  # not Flate (an image, a font program)
    strings: list[str] = []
    for chunk in chunks:
        strings.extend(_decode_text_string(_unescape(m.group())) for m in _LITERAL.finditer(chunk))
        for m in _HEX.finditer(chunk):
            digits = re.sub(rb"\s", b"", m.group(1))
            if len(digits) % 2 == 0:
                strings.append(_decode_text_string(bytes.fromhex(digits.decode())))
    return strings
