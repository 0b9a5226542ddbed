"""The QR code on a slip that opens the payer's slip page (never a payment code).

Error correction M and the standard 4-module quiet zone. Every builder passes an explicit image factory:
qrcode's default factory imports Pillow implicitly and fails without it.

>>> m = qr_matrix('http://127.0.0.1:8000/p/AbCdEf0123456789')
>>> len(m), len(m[0]), m[0][0], m[4][4]
(37, 37, False, True)
>>> qr_svg('')
Traceback (most recent call last):
    ...
ValueError: QR URL must be an http(s) URL, got ''
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
from qrcode.image.pil import PilImage
from qrcode.image.svg import SvgPathImage

ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M
BORDER = 4
"""Quiet zone in modules, part of every output (and of :func:`qr_matrix`)."""


def _code(url: str, box_size: int = 10) -> qrcode.QRCode:
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError(f"QR URL must be an http(s) URL, got {url!r}")
    if box_size < 1:
        raise ValueError(f"box size must be at least 1, got {box_size}")
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER, box_size=box_size)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_svg(url: str, *, box_size: int = 10) -> str:
    """The QR code as one SVG ``<path>``; ``box_size`` 10 makes a module 1 mm.

    Raises:
        ValueError: ``url`` is not an http(s) URL.
    """
    image = _code(url, box_size).make_image(image_factory=SvgPathImage)
    svg: str = image.to_string(encoding="unicode")
    return svg


def qr_png(url: str, *, box_size: int = 10) -> bytes:
    """The QR code as a black-and-white PNG with ``box_size`` pixels per module.

    Raises:
        ValueError: ``url`` is not an http(s) URL.
    """
    image = _code(url, box_size).make_image(image_factory=PilImage)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def qr_matrix(url: str) -> list[list[bool]]:
    """The modules row by row, ``True`` for dark, quiet zone included (for vector drawing in PDFs).

    Raises:
        ValueError: ``url`` is not an http(s) URL.
    """
    return [[bool(module) for module in row] for row in _code(url).get_matrix()]
