"""The report pages in Japanese: the daily report opens on the latest day with data, dates in the
convention (no ISO text), the arrears list, and the accounting export page (preview, download, history of
exports from the audit trail, roles) — Flask test client."""

from __future__ import annotations

import csv
import datetime
import io
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.reporting import reports
from tests.pages.pagetools import assert_clerk_text
from tests.pages.pagetools import csrf
from tests.pages.pagetools import sign_in
from tests.pages.pagetools import visible_text
from tests.reports import conftest as reports_world
from tests.reports.conftest import DAY1
from tests.reports.conftest import DAY2
from tests.reports.conftest import Week

week = reports_world.week


@pytest.fixture
def both_days(week: Week) -> Week:
    week.day1()
    week.day2()
    week.clock.set("2026-12-07T09:00:00")  # a Monday: nothing was received on the weekend
    week.ctx.session.commit()
    return week


def _exports(week: Week) -> list[tuple[str, str, dict[str, Any]]]:
    week.ctx.session.commit()
    rows = week.ctx.session.execute(
        sa.text("SELECT actor_name, target_id, detail FROM audit_events WHERE action = 'export.accounting'")
    ).all()
    return [(r[0], r[1], r[2] if isinstance(r[2], dict) else __import__("json").loads(r[2])) for r in rows]


def test_the_daily_report_opens_on_the_latest_day_with_data(app: Any, both_days: Week) -> None:
    client = sign_in(app, both_days.ctx, "finance")
    response = client.get("/staff/reports/daily")
    assert response.headers["Location"].endswith("/staff/reports/daily/2026-12-04")  # not Sunday 12-06
    both_days.clock.set("2026-12-03T09:00:00")
    assert client.get("/staff/reports/daily").headers["Location"].endswith("/2026-12-02")


def test_without_any_data_the_report_opens_on_yesterday(app: Any, week: Week) -> None:
    client = sign_in(app, week.ctx, "auditor")
    assert client.get("/staff/reports/daily").headers["Location"].endswith("/staff/reports/daily/2026-11-19")


def test_the_daily_page_shows_dates_and_labels_for_clerks(app: Any, both_days: Week) -> None:
    client = sign_in(app, both_days.ctx, "accounting")
    html = client.get("/staff/reports/daily/2026-12-02").get_data(as_text=True)
    text = assert_clerk_text(html)
    assert html.count('<g class="day"') == 30  # the chart stays
    assert "← 前日 2026/12/01" in text and "翌日 2026/12/03 →" in text
    assert 'href="/staff/reports/daily/2026-12-01"' in html
    assert "日報 令和8年12月2日(水)" in " ".join(text.split()).replace("（", "(").replace("）", ")")
    assert "契約外の収納チャネル" in text and "該当納付書なし" in text  # the catalogue's names
    assert "unexpected_channel" not in html
    assert "2026/12/01" in visible_text(html.split("受信データ（納付日・チャネル別）")[1])


def test_the_cli_html_report_still_renders_with_the_shared_body(both_days: Week) -> None:
    page = reports.render_daily_html(both_days.ctx, reports.daily(both_days.ctx, DAY1))
    assert page.startswith("<!doctype html>") and page.count('<g class="day"') == 30
    text = assert_clerk_text(page)
    assert "令和8年12月2日" in text and "<title>日報 2026/12/02</title>" in page


def test_channel_labels_are_the_catalogues() -> None:
    from gateway import catalogue

    assert reports.CHANNEL_LABELS is catalogue.LABELS["channel"]
    assert reports.EXCEPTION_LABELS is catalogue.LABELS["exception_kind"]
    assert reports.channel_label("0020") == "ローソン" and reports.channel_label("window") == "窓口"


def test_the_arrears_list_does_not_wrap_numbers_or_show_iso_dates(app: Any, both_days: Week) -> None:
    client = sign_in(app, both_days.ctx, "finance")
    html = client.get("/staff/reports/arrears?as_of=2026-12-16").get_data(as_text=True)
    text = assert_clerk_text(html)
    assert "令和8年12月16日 現在" in text and "見本 花子" in text
    row = html.split('class="arrears-list"')[1]
    assert '<td class="date">2026/11/30</td>' in row and re.search(r'<td class="num"[^>]*>10,000円</td>', row)
    assert "For the office" not in text  # the English notes are for the CLI/API


def test_the_export_page_previews_downloads_and_records_history(
    app: Any, both_days: Week, tmp_path: Path
) -> None:
    client = sign_in(app, both_days.ctx, "accounting", "acc-abe")
    page = client.get("/staff/exports")
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    text = assert_clerk_text(html)
    assert "令和8年12月4日 収入分" in text  # the latest receipt date is chosen
    preview = reports.export_preview(both_days.ctx, DAY2)
    assert preview.rows == 3
    assert f'data-rows="{preview.rows}"' in html and f'data-amount="{preview.amount}"' in html
    assert f"{preview.amount:,}円" in text and "まだ出力していません" in text
    response = client.post(
        "/staff/exports", data={"csrf_token": csrf(html), "receipt_date": "2026-12-04", "encoding": "utf-8"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "filename=keshikomi-20261204.csv" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    reports.write_accounting_export(both_days.ctx, DAY2, tmp_path / "cli.csv")  # the CLI's file
    assert response.data == (tmp_path / "cli.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) - 1 == preview.rows and sum(int(r[7]) for r in rows[1:]) == preview.amount
    events = _exports(both_days)
    assert next((who, target, d["rows"], d["amount"]) for who, target, d in events) == (
        "acc-abe",
        "2026-12-04",
        3,
        preview.amount,
    )
    history_page = client.get("/staff/exports").get_data(as_text=True)
    assert_clerk_text(history_page)
    history = visible_text(history_page.split('class="export-history"')[1])
    assert "acc-abe" in history and "2026/12/04" in history and f"{preview.amount:,}円" in history
    # again from the history's link, in cp932: recorded too
    again = client.get("/staff/exports/2026-12-04/download?encoding=cp932")
    assert again.status_code == 200 and again.data.decode("cp932").startswith("収入日")
    assert len(_exports(both_days)) == 3  # the page's download, the CLI's and this one


def test_export_errors_and_roles(app: Any, both_days: Week) -> None:
    accounting = sign_in(app, both_days.ctx, "accounting")
    html = accounting.get("/staff/exports?receipt_date=2026-12-31").get_data(as_text=True)
    assert "「収入日」に未来の日付は選べません。" in html
    token = csrf(html)
    bad = accounting.post(
        "/staff/exports", data={"csrf_token": token, "receipt_date": "2026/13/40"}, follow_redirects=True
    )
    assert "「収入日」は日付で入力してください" in bad.get_data(as_text=True)
    assert _exports(both_days) == []
    auditor = sign_in(app, both_days.ctx, "auditor")
    page = auditor.get("/staff/exports").get_data(as_text=True)
    assert "出力の履歴" in page and "/staff/exports/" not in page
    assert 'method="post" action="/staff/exports"' not in page
    assert (
        auditor.post(
            "/staff/exports", data={"csrf_token": csrf(page), "receipt_date": "2026-12-04"}
        ).status_code
        == 403
    )
    assert auditor.get("/staff/exports/2026-12-04/download").status_code == 403
    for role in ("finance", "approver", "admin", "print_vendor"):
        assert sign_in(app, both_days.ctx, role).get("/staff/exports").status_code == 403, role


def test_the_export_history_pages_back(app: Any, both_days: Week, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.pages import reports as pages

    monkeypatch.setattr(pages, "HISTORY_PAGE", 1)
    for day in (datetime.date(2026, 12, 3), DAY2):
        summary = reports.export_preview(both_days.ctx, day)
        reports.record_export(both_days.ctx, summary)
    client = sign_in(app, both_days.ctx, "accounting")
    first = client.get("/staff/exports").get_data(as_text=True)
    history = visible_text(first.split('class="export-history"')[1])
    assert "2026/12/04" in history and "2026/12/03" not in history
    assert "管理コマンド" in history and "cli:" not in history  # recorded by the operator's context
    older = re.search(r'href="(/staff/exports\?[^"]*before=\d+)"', first)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "2026/12/03" in visible_text(second.split('class="export-history"')[1])
    assert 'rel="first"' in second
