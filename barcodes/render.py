"""The GS1-128 symbol of a payment barcode, as a module pattern, an SVG or a PNG.

python-barcode is used only to encode: :func:`modules` returns its '1'/'0' module string (Start C, FNC1,
22 digit pairs in subset C, the mod-103 check, Stop: 288 modules for the 44 digits). The drawing is ours,
because python-barcode's PNG jitters bar widths by ±1 px and its text is the raw digits, not the two-line
human-readable text of the guideline.

The published 料金代理収納 printing rule (spec/barcode.md "Symbol"): at most 60 mm wide including a quiet
zone of at least 2.54 mm on each side, bars at least 10 mm high, and a module width that is a whole number
of the printer's dots. :class:`SymbolOptions` takes the printer's resolution and the dots per module (by
default the widest that fits: 2 at 300 dpi, 3 at 400 dpi, 4 at 600 dpi) and refuses anything else. The
default, 3 dots at 400 dpi (0.1905 mm), gives 59.94 mm.

More information:

* ../shared/spec/barcode.md, section "Symbol"
* https://en.wikipedia.org/wiki/Code_128

>>> m = modules('91912345012345678901234567890101033101230003')
>>> len(m), m[:11], m[11:22], m[-13:]
(288, '11010011100', '11110101110', '1100011101011')
>>> options = SymbolOptions()
>>> options.module_dots, round(options.module_width_mm, 4), symbol_width_mm(options)
(3, 0.1905, 59.944)
>>> [SymbolOptions(printer_dpi=dpi).module_dots for dpi in (300, 400, 600)]
[2, 3, 4]
>>> SymbolOptions(printer_dpi=600, module_dots=5)
Traceback (most recent call last):
    ...
barcodes.exceptions.InvalidComponent: symbol is 66.04 mm wide with quiet zones, at most 60 mm allowed
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from barcode.codex import Gs1_128
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

from barcodes import cvs
from barcodes.exceptions import InvalidComponent

SYMBOL_MODULES = 288
"""Modules of the 44-digit symbol without quiet zones: 25 symbol characters of 11 modules, Stop 13."""
MAX_WIDTH_MM = 60.0
"""Width of the symbol with both quiet zones, at most."""
MIN_QUIET_ZONE_MM = 2.54
"""Clear space on each side of the bars, at least."""
MIN_BAR_HEIGHT_MM = 10.0
MIN_PRINTER_DPI = 200
START_C = "11010011100"
FNC1 = "11110101110"
STOP = "1100011101011"

DEFAULT_FONT_PATH = Path(__file__).resolve().parent.parent / "gateway" / "pdf" / "fonts" / "ipaexg.ttf"
"""IPAex Gothic, shipped for the slip PDFs; the PNG falls back to Pillow's default font without it."""

_MM_PER_INCH = 25.4
# Tolerance for comparing millimetres computed in floating point (0.19 * 308 is not exact in binary).
_EPSILON_MM = 1e-9


@dataclass(frozen=True)
class SymbolOptions:
    """How the symbol is drawn: for the printer of the slips (its resolution), and configurable because every
    agent's read test (読取テスト) may ask for changes.

    Raises:
        InvalidComponent: a size that is not positive, fewer than 200 dpi, bars under 10 mm, quiet zones
            under 2.54 mm, or a symbol with its quiet zones wider than 60 mm (``field`` names the option).
    """

    printer_dpi: int = 400
    """Resolution of the printer the slips are printed on; a module is a whole number of its dots."""
    module_dots: int = 0
    """Dots per module (narrowest bar); 0: the widest whole number of dots that fits in 60 mm."""
    bar_height_mm: float = MIN_BAR_HEIGHT_MM
    quiet_zone_mm: float = MIN_QUIET_ZONE_MM
    """Clear space left and right of the bars."""
    text: bool = True
    """Draw the two-line human-readable text under the bars (SVG and PNG; slip PDFs always print it)."""
    font_size_mm: float = 2.4
    """Height of the human-readable text (the em size); 2.4 mm is about 7 pt."""
    text_gap_mm: float = 0.8
    """Space between the bottom of the bars and the top of the first text line."""
    margin_mm: float = 1.0
    """White space above the bars and below the text (or the bars when there is no text)."""

    def __post_init__(self) -> None:
        for name in ("font_size_mm",):
            if not getattr(self, name) > 0:
                raise InvalidComponent(f"{name} must be positive, got {getattr(self, name)}", field=name)
        for name in ("text_gap_mm", "margin_mm"):
            if getattr(self, name) < 0:
                raise InvalidComponent(f"{name} must not be negative, got {getattr(self, name)}", field=name)
        if self.printer_dpi < MIN_PRINTER_DPI:
            raise InvalidComponent(
                f"printer resolution must be at least {MIN_PRINTER_DPI} dpi, got {self.printer_dpi}",
                field="printer_dpi",
            )
        if self.bar_height_mm < MIN_BAR_HEIGHT_MM:
            raise InvalidComponent(
                f"bars must be at least {MIN_BAR_HEIGHT_MM:g} mm high, got {self.bar_height_mm}",
                field="bar_height_mm",
            )
        if self.quiet_zone_mm < MIN_QUIET_ZONE_MM:
            raise InvalidComponent(
                f"quiet zone must be at least {MIN_QUIET_ZONE_MM} mm, got {self.quiet_zone_mm}",
                field="quiet_zone_mm",
            )
        if self.module_dots < 0:
            raise InvalidComponent(
                f"module_dots must not be negative, got {self.module_dots}", field="module_dots"
            )
        if self.module_dots == 0:
            widest = (MAX_WIDTH_MM - 2 * self.quiet_zone_mm) / SYMBOL_MODULES
            dots = math.floor(widest / self.dot_mm + _EPSILON_MM)
            if dots < 1:
                raise InvalidComponent(
                    f"{self.printer_dpi} dpi cannot draw the symbol within {MAX_WIDTH_MM:g} mm",
                    field="printer_dpi",
                )
            object.__setattr__(self, "module_dots", dots)
        width = symbol_width_mm(self)
        if width > MAX_WIDTH_MM + _EPSILON_MM:
            raise InvalidComponent(
                f"symbol is {width:.2f} mm wide with quiet zones, at most {MAX_WIDTH_MM:.0f} mm allowed",
                field="module_dots",
            )

    @property
    def dot_mm(self) -> float:
        """One printer dot in mm."""
        return _MM_PER_INCH / self.printer_dpi

    @property
    def module_width_mm(self) -> float:
        """Width of the narrowest bar (X): ``module_dots`` printer dots."""
        return self.module_dots * self.dot_mm


def symbol_width_mm(options: SymbolOptions) -> float:
    """Width of the symbol including both quiet zones: 288 × module width + 2 × quiet zone, in mm.

    >>> symbol_width_mm(SymbolOptions(printer_dpi=300, quiet_zone_mm=3.0))
    54.768
    """
    return round(SYMBOL_MODULES * options.module_width_mm + 2 * options.quiet_zone_mm, 6)


def text_line_height_mm(options: SymbolOptions) -> float:
    """Baseline-to-baseline distance of the two human-readable lines."""
    return options.font_size_mm * 1.25


def symbol_height_mm(options: SymbolOptions) -> float:
    """Height of the drawing: margins, bars and, with ``options.text``, the two text lines."""
    height = options.margin_mm * 2 + options.bar_height_mm
    if options.text:
        height += options.text_gap_mm + text_line_height_mm(options) * 2
    return round(height, 6)


def modules(digits: str) -> str:
    """Return the module pattern ('1' dark, '0' light) of the GS1-128 symbol for 44 barcode digits.

    The pattern has no quiet zones. Display separators (``(``, ``)``, ``-``, spaces) are removed first.

    Raises:
        BarcodeError: the digits are not a valid payment barcode (:func:`barcodes.cvs.validate`).
    """
    number = cvs.validate(digits)
    # A fresh object per call: Code128 keeps its current charset and digit buffer on the instance.
    pattern = str(Gs1_128(number).build()[0])
    if len(pattern) != SYMBOL_MODULES or not pattern.startswith(START_C + FNC1) or not pattern.endswith(STOP):
        # Not the input's fault: python-barcode changed how it encodes. Refuse rather than print it.
        raise RuntimeError(f"python-barcode produced an unexpected GS1-128 pattern of {len(pattern)} modules")
    return pattern


def bar_runs(pattern: str) -> list[tuple[int, int]]:
    """Merge adjacent dark modules into bars: ``(first module, width in modules)`` for each bar.

    >>> bar_runs('1101001110')
    [(0, 2), (3, 1), (6, 3)]
    """
    runs: list[tuple[int, int]] = []
    start = -1
    for i, module in enumerate(pattern + "0"):
        if module == "1" and start < 0:
            start = i
        elif module != "1" and start >= 0:
            runs.append((start, i - start))
            start = -1
    return runs


def hri_lines(digits: str) -> tuple[str, str]:
    """The two human-readable lines printed under the bars (:func:`barcodes.cvs.format`).

    >>> hri_lines('91912345001232600000123400300026013100100001')
    ('(91)912345-00123-2600000123400300', '0-260131-0-010000-1')
    """
    first, second = cvs.format(digits).split("\n")
    return first, second


def _mm(value: float) -> str:
    """A length for the SVG: at most 4 decimals, no trailing zeros (0.19 * 3 must not print 0.5700000001)."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def render_svg(digits: str, options: SymbolOptions | None = None, *, xml_declaration: bool = True) -> str:
    """Draw the symbol as an SVG document in exact millimetres.

    ``width``/``height`` are in mm and the ``viewBox`` uses the same numbers, so one user unit is 1 mm.
    Adjacent dark modules are merged into one ``<rect>``; a white background covers the quiet zones.
    Pass ``xml_declaration=False`` to embed the ``<svg>`` element in an HTML page.

    Raises:
        BarcodeError: the digits are not a valid payment barcode.
    """
    options = options or SymbolOptions()
    pattern = modules(digits)
    mw = options.module_width_mm
    width = symbol_width_mm(options)
    height = symbol_height_mm(options)
    x0 = options.quiet_zone_mm
    y0 = options.margin_mm
    parts = ['<?xml version="1.0" encoding="UTF-8"?>'] if xml_declaration else []
    parts += [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{_mm(width)}mm" '
        f'height="{_mm(height)}mm" viewBox="0 0 {_mm(width)} {_mm(height)}">',
        f'<rect x="0" y="0" width="{_mm(width)}" height="{_mm(height)}" fill="#ffffff"/>',
        '<g fill="#000000" shape-rendering="crispEdges">',
    ]
    parts.extend(
        f'<rect x="{_mm(x0 + start * mw)}" y="{_mm(y0)}" width="{_mm(run * mw)}" '
        f'height="{_mm(options.bar_height_mm)}"/>'
        for start, run in bar_runs(pattern)
    )
    parts.append("</g>")
    if options.text:
        line_height = text_line_height_mm(options)
        # Baselines: the first line's ascent (≈ 0.88 em for IPAex Gothic) sits below the gap.
        baseline = y0 + options.bar_height_mm + options.text_gap_mm + options.font_size_mm * 0.88
        for i, line in enumerate(hri_lines(digits)):
            parts.append(
                f'<text x="{_mm(width / 2)}" y="{_mm(baseline + i * line_height)}" '
                f'font-family="IPAexGothic, IPAexGothic-Regular, sans-serif" '
                f'font-size="{_mm(options.font_size_mm)}" text-anchor="middle" fill="#000000">'
                f"{escape(line)}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def quiet_zone_px(options: SymbolOptions, dpi: int) -> int:
    """Whole pixels of quiet zone at ``dpi``: never less than the quiet zone in mm.

    >>> quiet_zone_px(SymbolOptions(), 300), quiet_zone_px(SymbolOptions(), 400)
    (30, 40)
    """
    return math.ceil(options.quiet_zone_mm * dpi / _MM_PER_INCH - _EPSILON_MM)


def png_module_px(options: SymbolOptions, dpi: int) -> int:
    """Whole pixels per module for a PNG at ``dpi``.

    The module width rounded to the nearest pixel, or rounded down when rounding up would make the symbol
    wider than 60 mm at ``dpi``. At the printer's own resolution it is ``module_dots``.

    >>> [png_module_px(SymbolOptions(), dpi) for dpi in (400, 300, 600)]
    [3, 2, 4]
    >>> png_module_px(SymbolOptions(), 100)
    Traceback (most recent call last):
        ...
    ValueError: 100 dpi cannot draw 0.1905 mm modules within 60 mm
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    exact = options.module_width_mm * dpi / _MM_PER_INCH
    quiet = 2 * quiet_zone_px(options, dpi)
    px = round(exact)
    if (SYMBOL_MODULES * px + quiet) * _MM_PER_INCH / dpi > MAX_WIDTH_MM + _EPSILON_MM:
        px = math.floor(exact)
    if px < 1:
        raise ValueError(f"{dpi} dpi cannot draw {options.module_width_mm:.4f} mm modules within 60 mm")
    return px


def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if DEFAULT_FONT_PATH.is_file():
        return ImageFont.truetype(str(DEFAULT_FONT_PATH), size_px)
    return ImageFont.load_default(size=size_px)


def render_png(
    digits: str,
    options: SymbolOptions | None = None,
    dpi: int = 300,
    *,
    text: bool | None = None,
) -> bytes:
    """Draw the symbol as a grayscale PNG with a whole number of pixels per module.

    Every module is exactly :func:`png_module_px` pixels wide, so bars never jitter; the price is that the
    module width is rounded to the pixel grid (0.19 mm at 300 dpi becomes 2 px = 0.169 mm; never wider than
    60 mm at ``dpi``). For print use
    the vector output (the slip PDF or :func:`render_svg`). The PNG records ``dpi`` as its resolution.

    Args:
        digits: the 44 barcode digits.
        options: sizes; defaults to :class:`SymbolOptions`.
        dpi: target resolution in dots per inch.
        text: overrides ``options.text``; ``text=False`` gives decoders a clean symbol.

    Raises:
        BarcodeError: the digits are not a valid payment barcode.
        ValueError: ``dpi`` is too low to draw the modules within 60 mm.
    """
    options = options or SymbolOptions()
    draw_text = options.text if text is None else text
    pattern = modules(digits)
    px = png_module_px(options, dpi)

    def to_px(mm: float) -> int:
        return round(mm * dpi / _MM_PER_INCH)

    quiet = quiet_zone_px(options, dpi)
    width = SYMBOL_MODULES * px + 2 * quiet
    margin = to_px(options.margin_mm)
    bar_height = max(1, to_px(options.bar_height_mm))
    height = margin * 2 + bar_height
    font_px = max(6, to_px(options.font_size_mm))
    line_px = max(font_px, to_px(text_line_height_mm(options)))
    gap = to_px(options.text_gap_mm)
    if draw_text:
        height += gap + line_px * 2

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for start, run in bar_runs(pattern):
        x = quiet + start * px
        # Pillow's rectangle includes both corners, hence the -1.
        draw.rectangle((x, margin, x + run * px - 1, margin + bar_height - 1), fill=0)
    if draw_text:
        font = _font(font_px)
        top = margin + bar_height + gap
        for i, line in enumerate(hri_lines(digits)):
            draw.text((width / 2, top + i * line_px), line, fill=0, font=font, anchor="ma")

    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()
