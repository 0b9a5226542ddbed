"""The SVG symbol rendered by a real SVG renderer (headless Chromium) still decodes and keeps its millimetres.

Marked ``browser``: uses the shared ``chromium`` fixture of tests/conftest.py (Debian's /usr/bin/chromium);
fails when it is missing. Deselect with ``-m "not browser"``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from barcodes import render
from barcodes.render import SymbolOptions

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CSS_PX_PER_MM = 96 / 25.4
VECTORS = (
    "91912345012345678901234567890101033101230003",
    "91929023219420000000000037554399999999999999",
)


@pytest.fixture(scope="module")
def page(chromium: Any) -> Iterator[Page]:
    # 6 device pixels per CSS pixel: a 0.1905 mm module is about 4.3 device pixels.
    page = chromium.new_page(device_scale_factor=6)
    yield page
    page.context.close()


def _screenshot(page: Page, svg: str) -> tuple[FloatRect, Image.Image]:
    # The whole SVG document (XML declaration included) as an image, as a browser would load barcode.svg.
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    page.set_content(f'<html><body style="margin:8px;background:#fff"><img src="{source}"></body></html>')
    image = page.locator("img")
    box = image.bounding_box()
    assert box is not None
    return box, Image.open(io.BytesIO(image.screenshot()))


@pytest.mark.parametrize("digits", VECTORS)
def test_svg_in_chromium_decodes_at_its_millimetre_size(page: Page, digits: str) -> None:
    options = SymbolOptions()
    box, shot = _screenshot(page, render.render_svg(digits, options))
    assert box["width"] == pytest.approx(59.944 * CSS_PX_PER_MM, abs=0.5)  # 288 × 0.1905 + 2 × 2.54 mm
    assert box["height"] == pytest.approx(render.symbol_height_mm(options) * CSS_PX_PER_MM, abs=0.5)
    results = zxingcpp.read_barcodes(shot)
    assert [(r.symbology_identifier, r.bytes) for r in results] == [("]C1", digits.encode("ascii"))]
