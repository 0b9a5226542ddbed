"""The staff upload page takes the bank's counter-payment file like any other: detected by its header row
(mapping ``example``), its outcome and its records in Japanese only."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from gateway.context import Context
from tests.ingest.conftest import add_agent
from tests.pages import pagetools
from tests.pages.pagetools import csrf
from tests.pages.pagetools import visible_text

GOOD = Path(__file__).parents[1] / "data" / "adapters" / "bank_counter" / "20261204_counter.csv"
BAD = GOOD.with_name("bad-date.csv")


def _client(app: Any, ctx: Context) -> FlaskClient:
    return pagetools.sign_in(app, ctx, "finance", None)


def test_the_upload_page_accepts_a_bank_counter_file(app: Any, ctx: Context) -> None:
    add_agent(ctx)
    client = _client(app, ctx)
    token = csrf(client.get("/staff/settlements").data)
    response = client.post(
        "/staff/settlements/upload",
        data={
            "csrf_token": token,
            "files": [(io.BytesIO(GOOD.read_bytes()), GOOD.name), (io.BytesIO(BAD.read_bytes()), BAD.name)],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = re.findall(r"<tr class=\"(accepted|duplicate_file|rejected)\">(.*?)</tr>", html, re.S)
    assert [status for status, _ in rows] == ["accepted", "rejected"]
    good, bad = (visible_text(row) for _, row in rows)
    assert "取込済" in good and "確報 3件 320,000円" in good
    assert "4行目" in bad and "(値: 20261232)" in bad
    files = visible_text(client.get("/staff/settlements").get_data(as_text=True))
    assert "20261204_counter.csv" in files
    page = client.get("/staff/settlements/1")
    text = visible_text(page.get_data(as_text=True))
    assert "金融機関窓口" in text and "確報" in text
    for code in ("bank_counter", "paid_date", "FieldError", "bank", "9990012"):
        assert code not in visible_text(html) + text, code
