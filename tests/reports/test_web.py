"""Roles and shapes over HTTP: ``GET /api/v1/reports/daily/{date}``, the arrears list, the staff pages."""

from __future__ import annotations

import json

import pytest

from gateway.reporting import reports
from tests.reports.conftest import DAY1
from tests.reports.conftest import Week


@pytest.fixture
def day1(week: Week) -> Week:
    week.day1()
    week.clock.set("2026-12-03T08:00:00")
    week.ctx.session.commit()
    return week


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("finance", 200),
        ("accounting", 200),
        ("auditor", 200),
        ("approver", 403),
        ("admin", 403),
        ("print_vendor", 403),
    ],
)
def test_daily_api_roles(client, make_token, day1: Week, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/reports/daily/2026-12-02", headers=make_token(role))
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_daily_api_needs_credentials(client, day1: Week) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/reports/daily/2026-12-02")
    assert response.status_code == 401


def test_daily_api_json_csv_html(client, make_token, day1: Week) -> None:  # type: ignore[no-untyped-def]
    headers = make_token("accounting")
    response = client.get("/api/v1/reports/daily/2026-12-02", headers=headers)
    assert response.mimetype == "application/json"
    assert response.data == reports.json_bytes(reports.daily(day1.ctx, DAY1))
    assert json.loads(response.data)["totals"]["received"]["preliminary"] == {"count": 6, "amount": 63_000}
    csv_response = client.get("/api/v1/reports/daily/2026-12-02?format=csv", headers=headers)
    assert csv_response.mimetype == "text/csv"
    assert csv_response.data.startswith(b"\xef\xbb\xbf")
    assert "daily-report-2026-12-02.csv" in csv_response.headers["Content-Disposition"]
    cp932 = client.get("/api/v1/reports/daily/2026-12-02?format=csv&encoding=cp932", headers=headers)
    assert "ローソン" in cp932.data.decode("cp932")
    html = client.get("/api/v1/reports/daily/2026-12-02?format=html", headers=headers)
    assert html.mimetype == "text/html" and b'class="day"' in html.data


def test_daily_api_refuses_a_bad_date(client, make_token, day1: Week) -> None:  # type: ignore[no-untyped-def]
    headers = make_token("finance")
    response = client.get("/api/v1/reports/daily/2026-02-30", headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["field"] == "date"
    assert client.get("/api/v1/reports/daily/2026-12-02?format=pdf", headers=headers).status_code == 422


def test_openapi_lists_the_report_paths(client, make_token) -> None:  # type: ignore[no-untyped-def]
    paths = client.get("/api/v1/openapi.json", headers=make_token("auditor")).get_json()["paths"]
    assert "/api/v1/reports/daily/{day}" in paths
    assert "/api/v1/reports/arrears" in paths


def test_arrears_api_masks_names_by_role(client, make_token, day1: Week) -> None:  # type: ignore[no-untyped-def]
    finance = client.get("/api/v1/reports/arrears?as_of=2026-12-16", headers=make_token("finance"))
    accounting = client.get("/api/v1/reports/arrears?as_of=2026-12-16", headers=make_token("accounting"))
    assert finance.headers["Cache-Control"] == "no-store"
    assert [c["debtor"]["name"] for c in finance.get_json()["claims"]] == ["見本 花子", "見本 花子"]
    assert [c["debtor"]["name"] for c in accounting.get_json()["claims"]] == ["***", "***"]
    body = client.get(
        "/api/v1/reports/arrears?as_of=2026-12-16&format=csv", headers=make_token("auditor")
    ).data.decode("utf-8-sig")
    assert body.startswith("# 滞納一覧") and "見本 花子" not in body
    assert client.get("/api/v1/reports/arrears", headers=make_token("approver")).status_code == 403
    bad = client.get("/api/v1/reports/arrears?as_of=16-12-2026", headers=make_token("finance"))
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("role", "status"),
    [("finance", 200), ("accounting", 200), ("auditor", 200), ("approver", 403), ("print_vendor", 403)],
)
def test_daily_page_roles(client, make_token, day1: Week, role: str, status: int) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/staff/reports/daily/2026-12-02", headers=make_token(role))
    assert response.status_code == status


def test_daily_page(client, make_token, day1: Week) -> None:  # type: ignore[no-untyped-def]
    headers = make_token("finance")
    page = client.get("/staff/reports/daily/2026-12-02", headers=headers)
    html = page.data.decode()
    assert "<script" not in html
    assert html.count('<g class="day"') == 30
    assert 'href="/staff/reports/daily/2026-12-01"' in html  # previous day
    assert 'href="/staff/reports/daily/2026-12-03"' in html  # next day (today, 2026-12-03, is allowed)
    assert 'type="date"' in html and 'name="date"' in html  # the date picker, a plain GET form
    assert 'href="/staff/reports/daily"' in html  # the navigation link
    assert "/api/v1/reports/daily/2026-12-02?format=csv" in html
    latest = client.get("/staff/reports/daily/2026-12-03", headers=headers).data.decode()
    assert 'href="/staff/reports/daily/2026-12-04"' not in latest  # no link into the future
    picked = client.get("/staff/reports/daily?date=2026-11-30", headers=headers)
    assert picked.status_code == 302 and picked.headers["Location"].endswith(
        "/staff/reports/daily/2026-11-30"
    )
    default = client.get("/staff/reports/daily", headers=headers)
    assert default.headers["Location"].endswith("/staff/reports/daily/2026-12-02")  # yesterday
    assert client.get("/staff/reports/daily/yesterday", headers=headers).status_code == 422


def test_pages_need_a_login(client, day1: Week) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/staff/reports/daily/2026-12-02")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_arrears_page(client, make_token, day1: Week) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/staff/reports/arrears?as_of=2026-12-16", headers=make_token("accounting"))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.data.decode()
    assert "T-0008" in html and "2026/11/21" in html and "延滞金を加算しません" in html
    assert "2026-11-21" not in html.split("<main>")[1].replace('value="2026-12-16"', "")  # no ISO date shown
    assert "見本 花子" not in html  # accounting sees the reference only
    assert client.get("/staff/reports/arrears", headers=make_token("approver")).status_code == 403
