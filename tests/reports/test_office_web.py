"""The office reports' staff pages: roles, the preview in Japanese only, PDF and CSV downloads (each a
``report.download`` audit event); and the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway.cli import main
from gateway.models import AuditEvent
from tests.reports.conftest import Week

ROLES = [
    ("finance", 200),
    ("accounting", 200),
    ("auditor", 200),
    ("approver", 403),
    ("admin", 403),
    ("print_vendor", 403),
]
STATEMENT = "/staff/reports/statement?agent=12345&from=2026-12-01&to=2026-12-31"


@pytest.fixture
def both_days(week: Week) -> Week:
    week.day1()
    week.day2()
    week.ctx.session.commit()
    return week


def visible_text(html: str) -> str:
    """What a clerk reads: the page without tags, attributes, styles and scripts."""
    html = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", html)
    return re.sub(r"(?s)<[^>]*>", " ", html)


def assert_japanese_only(html: str) -> None:
    text = visible_text(html)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "an ISO date reaches the clerk"
    for word in ("None", "matched", "pending", "mismatch", "gross", "net", "current", "arrears", "_"):
        assert not re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", text), word


def downloads(week: Week) -> list[AuditEvent]:
    return list(
        week.ctx.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "report.download")
        ).scalars()
    )


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_pages_by_role(client, make_token, both_days: Week, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    headers = make_token(role)
    assert client.get("/staff/reports/collection?date=2026-12-04", headers=headers).status_code == status
    assert client.get(STATEMENT, headers=headers).status_code == status
    pdf = client.get("/staff/reports/collection/2026-12-04/pdf", headers=headers)
    assert pdf.status_code == status


def test_collection_page(client, make_token, both_days: Week) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/staff/reports/collection?date=2026-12-04", headers=make_token("accounting"))
    html = page.data.decode()
    assert "令和8年12月4日 収入分" in html
    # A, B and G were booked on the transfer date 2026-12-04 when the bank's credit matched
    assert 'data-total="28000"' in html and "28,000円" in html
    assert "返還金" in html and "セブン-イレブン" in html and "ローソン" in html
    assert_japanese_only(html)
    assert 'href="/staff/reports/collection/2026-12-04/pdf"' in html
    default = client.get("/staff/reports/collection", headers=make_token("finance")).data.decode()
    assert 'data-total="28000"' in default  # the latest 収入日 with entries
    bad = client.get("/staff/reports/collection?date=2026-13-40", headers=make_token("finance"))
    assert bad.status_code == 200 and "日付" in bad.data.decode() and 'role="alert"' in bad.data.decode()
    future = client.get("/staff/reports/collection?date=2027-01-01", headers=make_token("finance"))
    assert "未来の日付" in future.data.decode()


def test_statement_page(client, make_token, both_days: Week) -> None:  # type: ignore[no-untyped-def]
    html = client.get(STATEMENT, headers=make_token("finance")).data.decode()
    assert (
        "見本収納代行(12345)" in html and "27,571円" in html and "一致" in html and "手数料差引入金" in html
    )
    assert 'data-expected="27571"' in html
    assert_japanese_only(html)
    default = client.get("/staff/reports/statement", headers=make_token("finance"))
    assert default.status_code == 200  # the first agent, the current month (December 2026)
    assert 'data-expected="27571"' in default.data.decode()
    unknown = client.get("/staff/reports/statement?agent=99999", headers=make_token("finance")).data.decode()
    assert "その収納代行会社は登録されていません。" in unknown
    reversed_period = client.get(
        "/staff/reports/statement?agent=12345&from=2026-12-31&to=2026-12-01", headers=make_token("finance")
    ).data.decode()
    assert "「期間」の終わりが始まりより前になっています。" in reversed_period


def test_downloads_are_audited(client, make_token, both_days: Week) -> None:  # type: ignore[no-untyped-def]
    headers = make_token("auditor", "audit-reader")
    pdf = client.get("/staff/reports/collection/2026-12-04/pdf", headers=headers)
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "shuno-nippo-20261204.pdf" in pdf.headers["Content-Disposition"]
    assert pdf.headers["Cache-Control"] == "no-store"
    csv = client.get("/staff/reports/collection/2026-12-04/csv?encoding=cp932", headers=headers)
    assert csv.mimetype == "text/csv" and "合計" in csv.data.decode("cp932")
    statement = client.get(
        "/staff/reports/statement/download/csv?agent=12345&from=2026-12-01&to=2026-12-31", headers=headers
    )
    assert "keisansho-12345-20261201-20261231.csv" in statement.headers["Content-Disposition"]
    assert statement.data.decode("utf-8-sig").splitlines()[-1].startswith("12345,合計,,,3,28000,")
    events = downloads(both_days)
    assert [(e.actor_name, e.target_type, e.target_id) for e in events] == [
        ("audit-reader", "report", "収納日報 2026/12/04"),
        ("audit-reader", "report", "収納日報 2026/12/04"),
        ("audit-reader", "report", "委託徴収計算書 12345 2026/12/01〜2026/12/31"),
    ]
    assert events[0].detail["bytes"] == len(pdf.data) and events[1].detail["encoding"] == "cp932"
    bad = client.get("/staff/reports/collection/2026-12-04/xls", headers=headers)
    assert bad.status_code == 302 and len(downloads(both_days)) == 3


def test_cli(cli_env, both_days: Week, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["report", *args], env=cli_env, catch_exceptions=False)

    shown = run("collection-daily", "--day", "2026-12-04", "--json")
    assert shown.exit_code == 0, shown.output
    doc = json.loads(shown.stdout)
    assert doc["receipt_date"] == "2026-12-04"
    assert doc["totals"]["total"] == {"count": 3, "amount": 28_000}
    same = run("collection-daily", "--date", "2026-12-04", "--json")  # as `report daily --date` names it
    assert same.exit_code == 0 and json.loads(same.stdout) == doc
    pdf, csv = tmp_path / "nippo.pdf", tmp_path / "nippo.csv"
    written = run("collection-daily", "--day", "2026-12-04", "--pdf", str(pdf), "--csv", str(csv), "--json")
    assert written.exit_code == 0, written.output
    summary = json.loads(written.stdout)
    assert [f["file"] for f in summary["files"]] == [str(pdf), str(csv)]
    assert pdf.read_bytes().startswith(b"%PDF") and csv.read_bytes().startswith(b"\xef\xbb\xbf")
    statement = run("agent-statement", "--agent", "12345", "--from", "2026-12-01", "--to", "2026-12-31")
    assert statement.exit_code == 0, statement.output
    body = json.loads(statement.stdout)
    assert body["totals"]["expected"] == 27_571 and body["days"][0]["status"] == "matched"
    assert body["days"][0]["credits"] == [
        {"value_date": "2026-12-04", "inquiry_number": "101", "amount": 27_571, "cancelled": False}
    ]
    unknown = run("agent-statement", "--agent", "99999", "--from", "2026-12-01", "--to", "2026-12-31")
    assert unknown.exit_code == 65 and "agent" in unknown.stderr
    bad = run("collection-daily", "--day", "2026/12/04")
    assert bad.exit_code == 65 and "day" in bad.stderr
    assert len(downloads(both_days)) == 2  # the two files written
