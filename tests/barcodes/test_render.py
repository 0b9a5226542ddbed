"""The GS1-128 symbol: module pattern, SVG and PNG, each decoded by a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import itertools
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from barcode.charsets import code128
from PIL import Image
from PIL import ImageDraw

from barcodes import render
from barcodes.exceptions import BarcodeError
from barcodes.exceptions import InvalidChecksum
from barcodes.exceptions import InvalidComponent
from barcodes.render import SymbolOptions

# The test vectors of spec/barcode.md, copied literally.
SPEC_VECTORS = (
    "91912345012345678901234567890101033101230003",
    "91942386178953917853935692730103073110312903",
    "91929023252070000010123499900299999900154357",
    "91929023252070000010123499900399999911066327",
    "91929023219420000000000037554399999999999999",
)
# The spec's human-readable example and the barcode it belongs to.
HRI_SAMPLE = "91912345001232600000123400300026013100100001"
HRI_SAMPLE_LINES = ("(91)912345-00123-2600000123400300", "0-260131-0-010000-1")

SVG_NS = "{http://www.w3.org/2000/svg}"
START_C_VALUE = 105
FNC1_VALUE = 102


def _decode(image: Image.Image) -> zxingcpp.Barcode:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, results
    return results[0]


def _assert_gs1_44(result: zxingcpp.Barcode, digits: str) -> None:
    assert result.format == zxingcpp.BarcodeFormat.Code128
    assert result.symbology_identifier == "]C1"
    # zxing-cpp 3.1 returns GS1 text in HRI form "(91)…"; the raw bytes are the data without the FNC1.
    assert result.bytes == digits.encode("ascii")


@pytest.mark.parametrize("digits", SPEC_VECTORS)
def test_modules_encode_start_c_fnc1_pairs_check_stop(digits: str) -> None:
    pattern = render.modules(digits)
    assert len(pattern) == 288
    assert pattern.startswith("11010011100" + "11110101110")  # Start C, FNC1
    assert pattern.endswith("1100011101011")  # Stop with its final bar
    # Decode the 11-module characters with python-barcode's table and check them against the spec by hand.
    by_pattern = {p: value for value, p in enumerate(code128.CODES)}
    values = [by_pattern[pattern[i : i + 11]] for i in range(0, 275, 11)]
    assert values[0] == START_C_VALUE
    assert values[1] == FNC1_VALUE
    assert values[2:24] == [int(digits[i : i + 2]) for i in range(0, 44, 2)]
    weighted = values[0] + sum(position * value for position, value in enumerate(values[1:24], start=1))
    assert values[24] == weighted % 103


def test_modules_do_not_leak_state_between_calls() -> None:
    first = [render.modules(d) for d in SPEC_VECTORS]
    second = [render.modules(d) for d in reversed(SPEC_VECTORS)]
    assert first == list(reversed(second))


def test_modules_accept_display_separators() -> None:
    displayed = "(91)912345-00123-2600000123400300\n0-260131-0-010000-1"
    assert render.modules(displayed) == render.modules(HRI_SAMPLE)


@pytest.mark.parametrize(
    ("digits", "error"),
    [
        ("91912345012345678901234567890101033101230004", InvalidChecksum),
        ("9191234501234567890123456789010103310123000", BarcodeError),
        ("(91)ABC", BarcodeError),
    ],
)
def test_modules_refuse_invalid_barcodes(digits: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        render.modules(digits)


# spec/barcode.md "Symbol": whole printer dots per module — 300 dpi: 2 dots = 0.169 mm; 400 dpi: 3 dots =
# 0.190 mm; 600 dpi: 4 dots = 0.169 mm — and 2.54 mm of quiet zone on each side, 60 mm in all at most.
@pytest.mark.parametrize(("dpi", "dots"), [(300, 2), (400, 3), (600, 4)])
def test_the_default_module_is_the_widest_whole_number_of_dots_that_fits(dpi: int, dots: int) -> None:
    options = SymbolOptions(printer_dpi=dpi)
    assert options.module_dots == dots
    assert options.module_width_mm == pytest.approx(dots * 25.4 / dpi)
    assert render.symbol_width_mm(options) == pytest.approx(288 * dots * 25.4 / dpi + 2 * 2.54)
    assert render.symbol_width_mm(options) <= 60
    wider = 288 * (dots + 1) * 25.4 / dpi + 2 * 2.54
    assert wider > 60  # one dot more would not fit


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"printer_dpi": 400, "module_dots": 4}, "module_dots"),  # 288 × 0.254 + 5.08 = 78.2 mm
        ({"printer_dpi": 600, "module_dots": 5}, "module_dots"),  # 288 × 0.2117 + 5.08 = 66.0 mm
        ({"quiet_zone_mm": 2.5}, "quiet_zone_mm"),
        ({"quiet_zone_mm": 3.0, "module_dots": 3}, "module_dots"),  # 54.86 + 6 mm
        ({"bar_height_mm": 9.9}, "bar_height_mm"),
        ({"printer_dpi": 150}, "printer_dpi"),
        ({"module_dots": -1}, "module_dots"),
    ],
)
def test_options_refuse_what_breaks_the_printing_rule(options: dict[str, float], field: str) -> None:
    with pytest.raises(InvalidComponent) as info:
        SymbolOptions(**options)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_wider_quiet_zone_takes_a_narrower_default_module() -> None:
    assert SymbolOptions(quiet_zone_mm=3.0).module_dots == 2  # 3 dots would need 60.86 mm


def test_hri_lines_follow_the_spec_example() -> None:
    assert render.hri_lines(HRI_SAMPLE) == HRI_SAMPLE_LINES


def _svg_bars(svg: str) -> tuple[ET.Element, list[tuple[float, float, float, float]]]:
    root = ET.fromstring(svg)
    group = root.find(f"{SVG_NS}g")
    assert group is not None
    bars = [
        (float(r.get("x", "")), float(r.get("y", "")), float(r.get("width", "")), float(r.get("height", "")))
        for r in group.iter(f"{SVG_NS}rect")
    ]
    return root, bars


def _rasterise_bars(
    bars: list[tuple[float, float, float, float]], width_mm: float, height_mm: float
) -> Image.Image:
    """Draw the SVG's rectangles with Pillow at exactly 4 px per module (the default 0.1905 mm).

    No SVG renderer (cairosvg, rsvg, ImageMagick) is installed; this reads the geometry the SVG declares and
    nothing else, so it checks the bar positions and widths, not how a viewer scales the viewBox (the browser
    test does that).
    """
    px_per_mm = 4 / SymbolOptions().module_width_mm
    image = Image.new("L", (round(width_mm * px_per_mm), round(height_mm * px_per_mm)), 255)
    draw = ImageDraw.Draw(image)
    for x, y, w, h in bars:
        draw.rectangle(
            (
                round(x * px_per_mm),
                round(y * px_per_mm),
                round((x + w) * px_per_mm) - 1,
                round((y + h) * px_per_mm) - 1,
            ),
            fill=0,
        )
    return image


@pytest.mark.parametrize("digits", SPEC_VECTORS)
def test_svg_rectangles_decode(digits: str) -> None:
    svg = render.render_svg(digits)
    root, bars = _svg_bars(svg)
    assert root.get("width") == "59.944mm"  # 288 × 3 × 25.4 / 400 + 2 × 2.54
    assert root.get("viewBox", "").split()[:3] == ["0", "0", "59.944"]
    height = float(root.get("viewBox", "").split()[3])
    assert root.get("height") == f"{root.get('viewBox', '').split()[3]}mm"
    _assert_gs1_44(_decode(_rasterise_bars(bars, 59.944, height)), digits)


def test_svg_merges_adjacent_modules_and_keeps_quiet_zones() -> None:
    _, bars = _svg_bars(render.render_svg(HRI_SAMPLE))
    pattern = render.modules(HRI_SAMPLE)
    assert len(bars) == pattern.count("10") + 1  # one rect per bar (a run of dark modules)
    module = 0.1905  # 3 dots at 400 dpi
    assert sum(w for _, _, w, _ in bars) == pytest.approx(pattern.count("1") * module, abs=1e-3)
    for (x1, _, w1, _), (x2, _, _, _) in itertools.pairwise(bars):
        assert x2 - (x1 + w1) >= module - 1e-3  # a gap of at least one module between rects
    assert bars[0][0] == pytest.approx(2.54)
    assert bars[-1][0] + bars[-1][2] == pytest.approx(59.944 - 2.54, abs=1e-3)


def test_svg_for_html_has_no_xml_declaration() -> None:
    svg = render.render_svg(HRI_SAMPLE, xml_declaration=False)
    assert svg.startswith("<svg ")
    assert svg == render.render_svg(HRI_SAMPLE).split("\n", 1)[1]


def test_svg_prints_the_two_text_lines_only_when_asked() -> None:
    root = ET.fromstring(render.render_svg(HRI_SAMPLE))
    assert tuple(t.text for t in root.iter(f"{SVG_NS}text")) == HRI_SAMPLE_LINES
    bare = ET.fromstring(render.render_svg(HRI_SAMPLE, SymbolOptions(text=False)))
    assert list(bare.iter(f"{SVG_NS}text")) == []


@pytest.mark.parametrize("digits", SPEC_VECTORS)
@pytest.mark.parametrize("text", [True, False])
def test_png_decodes(digits: str, text: bool) -> None:
    image = Image.open(io.BytesIO(render.render_png(digits, text=text)))
    _assert_gs1_44(_decode(image), digits)


def test_png_bars_are_whole_pixels_without_jitter() -> None:
    png = render.render_png(HRI_SAMPLE, SymbolOptions(), dpi=300, text=False)
    image = Image.open(io.BytesIO(png))
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)  # PNG stores pixels per metre
    px = 2  # round(0.1905 mm × 300 / 25.4) = round(2.25)
    quiet = 30  # 2.54 mm at 300 dpi
    assert image.width == 288 * px + 2 * quiet
    row = [image.getpixel((x, image.height // 2)) for x in range(image.width)]
    assert (
        row
        == [255] * quiet
        + [0 if m == "1" else 255 for m in render.modules(HRI_SAMPLE) for _ in range(px)]
        + [255] * quiet
    )


def test_png_at_600_dpi_uses_4_px_modules() -> None:
    image = Image.open(io.BytesIO(render.render_png(HRI_SAMPLE, dpi=600, text=False)))
    assert image.width == 288 * 4 + 2 * 60


def test_png_without_the_font_falls_back_to_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "DEFAULT_FONT_PATH", render.DEFAULT_FONT_PATH.with_name("missing.ttf"))
    image = Image.open(io.BytesIO(render.render_png(HRI_SAMPLE, text=True)))
    _assert_gs1_44(_decode(image), HRI_SAMPLE)


def test_png_refuses_a_resolution_too_low_for_60_mm() -> None:
    with pytest.raises(ValueError, match="dpi"):
        render.render_png(HRI_SAMPLE, dpi=100)


def test_negative_spacing_is_refused() -> None:
    with pytest.raises(InvalidComponent) as info:
        SymbolOptions(text_gap_mm=-0.1)
    assert info.value.field == "text_gap_mm"


def test_png_refuses_a_non_positive_resolution() -> None:
    with pytest.raises(ValueError, match="dpi"):
        render.render_png(HRI_SAMPLE, dpi=0)


def test_an_unexpected_encoding_is_never_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    class SubsetB:
        """Stands in for a python-barcode that encodes the digits some other way."""

        def __init__(self, code: str) -> None:
            self.code = code

        def build(self) -> list[str]:
            return ["11010010000" + "0" * 277]

    monkeypatch.setattr(render, "Gs1_128", SubsetB)
    with pytest.raises(RuntimeError):
        render.render_svg(HRI_SAMPLE)
