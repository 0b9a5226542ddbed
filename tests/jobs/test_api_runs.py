"""``GET /api/v1/jobs/runs``: who may read it, filters, keyset pagination."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from gateway import jobs
from gateway.api import jobs as jobs_api
from gateway.db import get_engine
from tests.conftest import JST

T0 = datetime.datetime(2026, 11, 27, 9, 0, tzinfo=JST)


@pytest.fixture
def api_client(app: Flask) -> FlaskClient:
    """The test client, with the jobs blueprint registered (until gateway/api/__init__.py does it)."""
    if "jobs" not in app.blueprints:
        api = app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
        api.register_blueprint(jobs_api.bp)
    return app.test_client()


@pytest.fixture
def runs(db_url: str) -> list[int]:
    """Seven runs: inbox ok ×4, fetch failed, fetch ok, inbox running (ids ascending)."""
    rows: list[dict[str, Any]] = []
    for i in range(4):
        rows.append({"job": "inbox", "outcome": "ok", "counts": {"seen": i}, "error": None})
    rows.append({"job": "fetch", "outcome": "failed", "counts": {}, "error": "RuntimeError: down"})
    rows.append({"job": "fetch", "outcome": "ok", "counts": {"new": 1}, "error": None})
    rows.append({"job": "inbox", "outcome": "running", "counts": {}, "error": None})
    ids = []
    with get_engine(db_url).begin() as conn:
        for i, row in enumerate(rows):
            at = T0 + datetime.timedelta(minutes=5 * i)
            result = conn.execute(
                sa.insert(jobs.RUNS).values(
                    **row,
                    fire_time=at,
                    host="web1:100",
                    started_at=at,
                    finished_at=None if row["outcome"] == "running" else at + datetime.timedelta(seconds=3),
                )
            )
            ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
    return ids


@pytest.mark.parametrize("role", ["finance", "accounting", "auditor", "admin"])
def test_staff_who_follow_the_money_may_read_runs(
    api_client: FlaskClient, make_token: Callable[[str], dict[str, str]], runs: list[int], role: str
) -> None:
    response = api_client.get("/api/v1/jobs/runs", headers=make_token(role))
    assert response.status_code == 200
    doc = response.get_json()
    assert [item["id"] for item in doc["items"]] == runs[::-1]
    assert doc["next"] is None
    newest = doc["items"][0]
    assert set(newest) == {
        "id",
        "job",
        "fire_time",
        "host",
        "started_at",
        "finished_at",
        "outcome",
        "counts",
        "error",
    }
    assert (newest["job"], newest["outcome"], newest["finished_at"]) == ("inbox", "running", None)
    failed = doc["items"][2]
    assert (failed["outcome"], failed["error"]) == ("failed", "RuntimeError: down")
    assert datetime.datetime.fromisoformat(failed["fire_time"]) == T0 + datetime.timedelta(minutes=20)


@pytest.mark.parametrize("role", ["approver", "print_vendor"])
def test_other_roles_get_403(
    api_client: FlaskClient, make_token: Callable[[str], dict[str, str]], role: str
) -> None:
    assert api_client.get("/api/v1/jobs/runs", headers=make_token(role)).status_code == 403


def test_without_credentials_401(api_client: FlaskClient) -> None:
    response = api_client.get("/api/v1/jobs/runs", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_filter_by_job_and_outcome(
    api_client: FlaskClient, make_token: Callable[[str], dict[str, str]], runs: list[int]
) -> None:
    headers = make_token("auditor")
    fetches = api_client.get("/api/v1/jobs/runs?job=fetch", headers=headers).get_json()["items"]
    assert [i["id"] for i in fetches] == [runs[5], runs[4]]
    failed = api_client.get("/api/v1/jobs/runs?outcome=failed", headers=headers).get_json()["items"]
    assert [i["id"] for i in failed] == [runs[4]]
    both = api_client.get("/api/v1/jobs/runs?job=inbox&outcome=ok", headers=headers).get_json()["items"]
    assert [i["counts"]["seen"] for i in both] == [3, 2, 1, 0]


def test_pages_follow_the_next_cursor_without_gaps_or_repeats(
    api_client: FlaskClient, make_token: Callable[[str], dict[str, str]], runs: list[int]
) -> None:
    headers = make_token("finance")
    seen: list[int] = []
    url = "/api/v1/jobs/runs?limit=3"
    pages = 0
    while True:
        doc = api_client.get(url, headers=headers).get_json()
        seen += [i["id"] for i in doc["items"]]
        pages += 1
        if doc["next"] is None:
            break
        url = f"/api/v1/jobs/runs?limit=3&after={doc['next']}"
    assert seen == runs[::-1]
    assert pages == 3


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "outcome=maybe", "after=x", "after=0"])
def test_bad_queries_are_422(
    api_client: FlaskClient, make_token: Callable[[str], dict[str, str]], query: str
) -> None:
    response = api_client.get(f"/api/v1/jobs/runs?{query}", headers=make_token("finance"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_the_endpoint_is_in_the_openapi_document(api_client: FlaskClient, make_token: Any) -> None:
    spec = api_client.get("/api/v1/openapi.json", headers=make_token("auditor")).get_json()
    assert "get" in spec["paths"]["/api/v1/jobs/runs"]
