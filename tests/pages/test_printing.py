"""Print-batch staff pages (Flask test client): create with a confirmation, audited downloads from the
server-side folder, the mailing date, reprints, and the print contractor's limits and expiry."""

from __future__ import annotations

import datetime
import re
import stat
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import AuditEvent
from gateway.models import PrintBatch
from tests.conftest import Clock
from tests.helpers import make_claim
from tests.pages.pagetools import csrf
from tests.pages.pagetools import log_in
from tests.pages.pagetools import visible_text

ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def slips(ctx: Context) -> None:
    """Three debtors: two slips due in December, one in January, one December slip without an address."""
    make_claim(ctx, "R08-00001", debtor_ref="A", debtor_name="見本 一郎", amount=45_000)
    make_claim(
        ctx, "R08-00002", debtor_ref="B", debtor_name="試験 花子", amount=12_000, postal_code="999-0002"
    )
    make_claim(ctx, "R08-00003", debtor_ref="C", debtor_name="見本 三郎", amount=8_000)
    make_claim(ctx, "R08-00004", debtor_ref="D", debtor_name="試験 四郎", amount=5_000, postal_code=None)
    for number, due in (
        ("R08-00001", datetime.date(2026, 12, 10)),
        ("R08-00002", datetime.date(2026, 12, 20)),
        ("R08-00003", datetime.date(2027, 1, 15)),
        ("R08-00004", datetime.date(2026, 12, 15)),
    ):
        slip_service.issue_slips(ctx, number, slip_service.Plan(first_due_date=due))


def _create(client: FlaskClient, **form: str) -> Any:
    token = csrf(client.get("/staff/print-batches/new").data)
    return client.post("/staff/print-batches/create", data={"csrf_token": token, **form})


def _download(client: FlaskClient, url: str) -> tuple[int, bytes]:
    """GET a download and close it (send_file keeps the file open until the response is closed)."""
    response = client.get(url)
    try:
        return response.status_code, response.get_data()
    finally:
        response.close()


def _audit(ctx: Context, action: str) -> list[AuditEvent]:
    ctx.session.commit()
    return list(ctx.session.exec(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars())  # type: ignore[call-overload]


def test_confirmation_then_create_download_mail_and_reprint(
    app: Any, login: Any, slips: None, ctx: Context, settings: Any, clock: Clock
) -> None:
    client = login("finance")
    form = client.get("/staff/print-batches/new").get_data(as_text=True)
    assert 'type="date"' in form and "債権番号" in form
    confirm = client.get("/staff/print-batches/new?confirm=1&due_from=2026-12-01&due_to=2026-12-31")
    text = visible_text(confirm.get_data(as_text=True))
    assert "次の内容で作成します" in text
    assert "3枚" in text and "62,000円" in text  # 45,000 + 12,000 + 5,000
    assert "2026/12/10" in text and "2026/12/21" in text and not ISO.search(text)
    assert ctx.session.execute(sa.select(sa.func.count()).select_from(PrintBatch)).scalar_one() == 0

    response = _create(client, due_from="2026-12-01", due_to="2026-12-31")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/print-batches/1")
    page = client.get("/staff/print-batches/1")
    assert page.headers["Cache-Control"] == "no-store"
    text = visible_text(page.get_data(as_text=True))
    assert "印刷バッチ 1 を作成しました" in text and "封筒 2通" in text
    assert "未発送" in text
    # the debtor without an address is listed for staff, by slip and claim number only
    assert "R08-00004" in text and "郵便番号または住所が未登録" in text and "no_address" not in text
    folder = Path(settings.instance_dir) / "print-batches"
    for name in ("print-batch-1.pdf", "print-batch-1-manifest.csv"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    pdf = client.get("/staff/print-batches/1/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert pdf.headers["Cache-Control"] == "no-store"
    pdf.close()
    status, manifest = _download(client, "/staff/print-batches/1/manifest")
    assert status == 200 and "見本 一郎" in manifest.decode("utf-8-sig")
    downloads = _audit(ctx, "print_batch.download")
    assert [e.detail["file"] for e in downloads] == ["pdf", "manifest"]
    assert all(e.actor_name == "finance-page" for e in downloads)

    clock.advance(days=3)  # handed to the post on Monday
    client, _ = log_in(app, "finance-page")  # another day, another sign-in
    token = csrf(client.get("/staff/print-batches/1").data)
    mailed = client.post(
        "/staff/print-batches/1/mailed",
        data={"csrf_token": token, "mailed_on": "2026-11-30"},
        follow_redirects=True,
    )
    assert "発送日を令和8年11月30日と記録しました" in mailed.get_data(as_text=True)
    ctx.session.commit()
    assert ctx.session.get(PrintBatch, 1).mailed_on == datetime.date(2026, 11, 30)  # type: ignore[union-attr]
    bad = client.post(
        "/staff/print-batches/1/mailed", data={"csrf_token": token, "mailed_on": ""}, follow_redirects=True
    )
    assert "「発送日」を入力してください。" in bad.get_data(as_text=True)
    future = client.post(
        "/staff/print-batches/1/mailed",
        data={"csrf_token": token, "mailed_on": "2026-12-01"},
        follow_redirects=True,
    )
    assert "未来の日付は入力できません" in future.get_data(as_text=True)

    reprinted = client.post(
        "/staff/print-batches/1/reprint", data={"csrf_token": token}, follow_redirects=True
    )
    assert "作り直しました" in reprinted.get_data(as_text=True)
    ctx.session.commit()
    assert ctx.session.get(PrintBatch, 1).reprints == 1  # type: ignore[union-attr]

    listing = visible_text(client.get("/staff/print-batches").get_data(as_text=True))
    assert "印刷バッチ 1" in listing and "2026/11/30" in listing and "finance-page" in listing
    assert "user:" not in listing and not ISO.search(listing)


def test_selected_claims_and_japanese_errors(login: Any, slips: None, ctx: Context) -> None:
    client = login("finance")
    confirm = client.get("/staff/print-batches/new?confirm=1&claims=R08-00003")
    assert "1枚" in visible_text(confirm.get_data(as_text=True))
    assert _create(client, claims="R08-00003").status_code == 302
    batch = ctx.session.get(PrintBatch, 1)
    assert batch is not None and batch.envelopes == 1
    unknown = client.get("/staff/print-batches/new?confirm=1&claims=NOPE-1")
    assert "債権番号 NOPE-1 は見つかりません" in unknown.get_data(as_text=True)
    empty = client.get("/staff/print-batches/new?confirm=1")
    assert "印刷する納付書の条件" in empty.get_data(as_text=True)
    reversed_window = client.get("/staff/print-batches/new?confirm=1&due_from=2026-12-31&due_to=2026-12-01")
    assert "範囲が逆です" in reversed_window.get_data(as_text=True)
    # nothing left to print for that claim: no batch, a message saying so
    again = _create(client, claims="R08-00003")
    assert again.status_code == 302 and "/new" in again.headers["Location"]
    assert "印刷前の納付書はありませんでした" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_print_vendor_sees_only_batches_until_they_expire(
    app: Any, login: Any, slips: None, ctx: Context, clock: Clock, settings: Any
) -> None:
    finance = login("finance")
    _create(finance, due_from="2026-12-01", due_to="2026-12-31")
    vendor = login("print_vendor")
    today = vendor.get("/staff/today")
    nav = re.search(r"<nav>(.*?)</nav>", today.get_data(as_text=True), re.S)
    assert nav and "印刷" in nav.group(1) and "債権" not in nav.group(1) and "収納データ" not in nav.group(1)
    listing = visible_text(vendor.get("/staff/print-batches").get_data(as_text=True))
    assert "印刷バッチ 1" in listing and "表示期限" in listing and "2026/12/11" in listing
    assert "印刷バッチを作成する" not in listing
    page = vendor.get("/staff/print-batches/1").get_data(as_text=True)
    assert "R08-" not in page and "見本" not in page and "/staff/claims" not in page
    assert "再印刷(PDF" not in visible_text(page) and "/reprint" not in page
    assert _download(vendor, "/staff/print-batches/1/pdf")[0] == 200
    assert _audit(ctx, "print_batch.download")[-1].actor_name == "print_vendor-page"
    token = csrf(vendor.get("/staff/print-batches/1").data)
    assert (
        vendor.post(
            "/staff/print-batches/1/mailed", data={"csrf_token": token, "mailed_on": "2026-11-28"}
        ).status_code
        == 302
    )
    for url in ("/staff/print-batches/new", "/staff/claims", "/staff/settlements"):
        assert vendor.get(url).status_code == 403, url
    assert vendor.post("/staff/print-batches/create", data={"csrf_token": token}).status_code == 403
    assert vendor.post("/staff/print-batches/1/reprint", data={"csrf_token": token}).status_code == 403

    clock.advance(days=settings.print_batch_days, minutes=1)
    vendor, _ = log_in(app, "print_vendor-page")  # days later, signed in again
    finance, _ = log_in(app, "finance-page")
    listing = visible_text(vendor.get("/staff/print-batches").get_data(as_text=True))
    assert "印刷バッチ 1" not in listing and "印刷バッチはありません" in listing
    for url in ("/staff/print-batches/1", "/staff/print-batches/1/pdf", "/staff/print-batches/1/manifest"):
        response = vendor.get(url)
        assert response.status_code == 404, url
        assert "作成から14日を過ぎたため" in response.get_data(as_text=True)
    downloads = len(_audit(ctx, "print_batch.download"))
    # finance still sees and downloads it
    assert "印刷バッチ 1" in visible_text(finance.get("/staff/print-batches").get_data(as_text=True))
    assert _download(finance, "/staff/print-batches/1/pdf")[0] == 200
    assert len(_audit(ctx, "print_batch.download")) == downloads + 1


def test_expiry_days_are_configurable(overrides: dict[str, Any]) -> None:
    from gateway.config import load_settings
    from gateway.errors import ConfigError

    assert load_settings(environ={}, overrides=overrides).print_batch_days == 14
    assert load_settings(environ={"GATEWAY_PRINT_BATCH_DAYS": "3"}, overrides=overrides).print_batch_days == 3
    with pytest.raises(ConfigError):
        load_settings(environ={"GATEWAY_PRINT_BATCH_DAYS": "0"}, overrides=overrides)


def test_a_batch_printed_elsewhere_says_to_reprint(
    login: Any, slips: None, ctx: Context, tmp_path: Path
) -> None:
    from gateway.issuing import printing

    printing.print_batch(ctx, tmp_path / "cli-out")  # `gateway slips print-batch -o DIR`
    finance = login("finance")
    page = visible_text(finance.get("/staff/print-batches/1").get_data(as_text=True))
    assert "ファイルはサーバーにありません" in page and "再印刷" in page
    missing = finance.get("/staff/print-batches/1/pdf")
    assert missing.status_code == 404 and "再印刷" in missing.get_data(as_text=True)
    token = csrf(finance.get("/staff/print-batches/1").data)
    finance.post("/staff/print-batches/1/reprint", data={"csrf_token": token})
    assert _download(finance, "/staff/print-batches/1/pdf")[0] == 200


def test_roles_without_print_rights_are_refused(login: Any) -> None:
    for role in ("accounting", "auditor", "approver", "admin"):
        assert login(role).get("/staff/print-batches").status_code == 403, role
