"""Fixtures of the PDF tests: a sample slip, an address, a sender, and rendering to bytes read back."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from gateway.pdf.model import AddressBlock
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipDocument
from tests.pdf.pdf_samples import PAYER_NAME
from tests.pdf.pdf_samples import RenderedPdf
from tests.pdf.pdf_samples import read_pdf
from tests.pdf.pdf_samples import slip_fields


@pytest.fixture
def slip() -> SlipDocument:
    return SlipDocument(**slip_fields())


@pytest.fixture
def address() -> AddressBlock:
    return AddressBlock(
        postal_code="1000001",
        address_lines=("東京都みほん市見本町1丁目2番3号", "見本ハイツ101号室"),
        name=PAYER_NAME,
    )


@pytest.fixture
def sender() -> SenderBlock:
    return SenderBlock(sender_label="みほん市 会計管理者", address_lines=("〒100-0000 みほん市本町1-1",))


@pytest.fixture
def render_pdf() -> Callable[..., RenderedPdf]:
    """Call ``render_pdf(function, *args, **kwargs)``; the PDF goes to a BytesIO and is read back."""

    def _render(function: Callable[..., object], *args: Any, **kwargs: Any) -> RenderedPdf:
        out = io.BytesIO()
        function(*args, out=out, **kwargs)
        return read_pdf(out.getvalue())

    return _render
