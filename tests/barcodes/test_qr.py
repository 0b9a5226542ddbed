"""The payer-page QR code: decoded by zxing-cpp, error correction M, 4-module quiet zone."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from barcodes import qr

URLS = (
    "http://127.0.0.1:8000/p/AbCdEf0123456789",
    "https://pay.example.jp/p/Zx9_-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk",
)


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_to_the_url(url: str) -> None:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.qr_png(url))))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].text == url
    assert results[0].ec_level == "M"


def test_png_box_size_is_pixels_per_module() -> None:
    matrix = qr.qr_matrix(URLS[0])
    image = Image.open(io.BytesIO(qr.qr_png(URLS[0], box_size=3)))
    assert image.size == (len(matrix) * 3, len(matrix) * 3)


@pytest.mark.parametrize("url", URLS)
def test_matrix_has_a_four_module_quiet_zone(url: str) -> None:
    matrix = qr.qr_matrix(url)
    n = len(matrix)
    assert all(len(row) == n for row in matrix)
    assert (n - 8 - 17) % 4 == 0  # a QR version is 17 + 4v modules wide
    for i in range(4):
        assert not any(matrix[i])
        assert not any(matrix[n - 1 - i])
        assert not any(row[i] or row[n - 1 - i] for row in matrix)
    # The finder pattern's dark outer ring starts right after the quiet zone.
    assert all(matrix[4][4:11])
    assert all(row[4] for row in matrix[4:11])


def test_matrix_decodes_when_drawn() -> None:
    matrix = qr.qr_matrix(URLS[1])
    image = Image.new("L", (len(matrix), len(matrix)), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x, y), 0)
    image = image.resize((len(matrix) * 8, len(matrix) * 8), Image.Resampling.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [URLS[1]]


def test_svg_is_one_path_in_millimetres() -> None:
    root = ET.fromstring(qr.qr_svg(URLS[0]))
    n = len(qr.qr_matrix(URLS[0]))
    assert root.get("width") == f"{n}mm"  # box size 10 = 1 mm per module
    assert root.get("viewBox") == f"0 0 {n} {n}"
    paths = list(root.iter("{http://www.w3.org/2000/svg}path"))
    assert len(paths) == 1


@pytest.mark.parametrize("url", ["", "javascript:alert(1)", "/p/relative"])
def test_refuses_what_is_not_an_http_url(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        qr.qr_svg(url)
    with pytest.raises(ValueError, match="URL"):
        qr.qr_png(url)


def test_refuses_a_zero_box_size() -> None:
    with pytest.raises(ValueError, match="box size"):
        qr.qr_png(URLS[0], box_size=0)
