"""Each role's start page 「今日」: its panels, counts linking to their lists, nothing of other roles."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from gateway.access import users
from gateway.context import Context
from gateway.issuing import slips as slip_service
from gateway.models import JobRun
from gateway.models import PrintBatch
from gateway.models import ReconException
from gateway.permissions import ROLES
from tests.helpers import make_claim
from tests.pages.pagetools import PASSWORD
from tests.pages.pagetools import sign_in
from tests.pages.pagetools import visible_text

UTC = datetime.UTC
NOW = datetime.datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # the pinned clock: 10:00 in Japan


@pytest.fixture
def world(ctx: Context) -> None:
    """A claim with a slip (a debtor name), exceptions of several ages, one pending approval, a print batch
    and a job run."""
    make_claim(ctx, "R08-00001", debtor_name="見本 花子")
    slip_service.issue_slips(ctx, "R08-00001")
    day = datetime.date(2026, 11, 27)
    rows = [
        ("unknown_slip", "open", day, None),
        ("unknown_slip", "open", day - datetime.timedelta(days=5), None),
        ("unconfirmed_preliminary", "open", day - datetime.timedelta(days=20), None),
        ("amount_mismatch", "pending_approval", day - datetime.timedelta(days=1), "user:sato"),
    ]
    for n, (kind, status, opened, proposer) in enumerate(rows):
        ctx.session.add(
            ReconException(
                key=f"k{n}",
                kind=kind,
                status=status,
                amount=1000,
                opened_date=opened,
                opened_at=NOW,
                resolution="matched_to_claim" if proposer else None,
                proposed_by=proposer,
                proposed_at=NOW - datetime.timedelta(days=1) if proposer else None,
            )
        )
    ctx.session.add(PrintBatch(created_by="user:sato", envelopes=3, pages=3, created_at=NOW))
    ctx.session.add(
        PrintBatch(created_by="user:sato", envelopes=9, pages=9, created_at=NOW - datetime.timedelta(days=30))
    )
    ctx.session.add(JobRun(job="reconcile", fire_time=NOW, host="h", outcome="failed", started_at=NOW))
    ctx.session.commit()


def _client(app: Any, ctx: Context, role: str) -> FlaskClient:
    return sign_in(app, ctx, role, f"u-{role}")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_lands_on_its_start_page(app: Any, ctx: Context, world: None, role: str) -> None:
    client = app.test_client()
    users.create_user(ctx, f"u-{role}", role, PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token
    login = client.post(
        "/login", data={"name": f"u-{role}", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert login.headers["Location"] == "/staff/today"
    assert client.get("/").headers["Location"].endswith("/staff/today")
    response = client.get("/staff/today")
    assert response.status_code == 200
    text = visible_text(response.get_data(as_text=True), head=True)
    assert "見本 花子" not in text  # no start page shows a debtor
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert 'id="panel-' in response.get_data(as_text=True)


def test_finance_panels(app: Any, ctx: Context, world: None) -> None:
    html = _client(app, ctx, "finance").get("/staff/today").get_data(as_text=True)
    assert 'id="panel-finance"' in html and 'id="panel-admin"' not in html
    assert 'href="/staff/exceptions?status=open&amp;kind=unknown_slip"' in html
    row = re.search(r'<tr data-kind="unknown_slip">(.*?)</tr>', html, re.S)
    assert row and re.findall(r">(\d+)<", row.group(1)) == ["1", "1", "0", "2"]  # by age, then the total
    assert "確報未着" in html and "kind=unconfirmed_preliminary" in html
    assert "/staff/claims?due_from=2026-11-27&amp;due_to=2026-12-03" in html
    assert "/staff/settlements" in html
    assert "印刷バッチ" not in visible_text(html, head=True)


def test_approver_sees_proposals_first(app: Any, ctx: Context, world: None) -> None:
    html = _client(app, ctx, "approver").get("/staff/today").get_data(as_text=True)
    assert 'id="panel-approver"' in html
    assert "承認待ちの提案" in html and "sato" in html and "user:sato" not in html
    assert "債権に消込" in html and "1日" in html
    assert 'href="/staff/exceptions?status=pending_approval"' in html
    assert 'id="panel-finance"' not in html


def test_print_vendor_sees_only_unexpired_batches(app: Any, ctx: Context, world: None) -> None:
    html = _client(app, ctx, "print_vendor").get("/staff/today").get_data(as_text=True)
    text = visible_text(html, head=True)
    assert 'id="panel-print"' in html
    assert html.count('href="/staff/print-batches/') == 1  # the 30-day-old batch has expired
    assert "R08-00001" not in text and "債権" not in text and "例外" not in text


def test_admin_sees_counts_and_jobs_but_no_names(app: Any, ctx: Context, world: None) -> None:
    html = _client(app, ctx, "admin").get("/staff/today").get_data(as_text=True)
    text = visible_text(html, head=True)
    assert 'id="panel-admin"' in html
    assert "消込" in text and "失敗" in text and "reconcile" not in text and "failed" not in text
    assert 'href="/staff/admin/users"' in html and 'href="/staff/jobs"' in html
    assert "R08-00001" not in text


def test_accounting_and_auditor(app: Any, ctx: Context, world: None) -> None:
    html = _client(app, ctx, "accounting").get("/staff/today").get_data(as_text=True)
    assert 'id="panel-accounting"' in html and "入金予定と入金額" in html and "/staff/exports" in html
    html = _client(app, ctx, "auditor").get("/staff/today").get_data(as_text=True)
    assert 'id="panel-auditor"' in html and "ハッシュチェーンを検証" in html
    assert "納付書の発行" in html and 'href="/staff/audit"' in html
