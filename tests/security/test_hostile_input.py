"""Hostile input never gets a 500: bad signature headers, hostile JSON, out-of-range dates and ids, and
identifiers that only look valid (trailing newline, non-ASCII digits) — each a 4xx with the API's error shape,
located where it can be."""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.routing import IntegerConverter

from tests.ingest.conftest import agent  # noqa: F401  (fixture)
from tests.ingest.conftest import counts  # noqa: F401  (fixture)
from tests.ingest.test_api import B1
from tests.ingest.test_api import batch
from tests.ingest.test_api import public_client  # noqa: F401  (fixture)
from tests.ingest.test_api import record
from tests.ingest.test_api import signer  # noqa: F401  (fixture)

HUGE = "9" * 400
BEYOND_64_BITS = str(2**64 + 1)


def _error(response: Any) -> dict[str, Any]:
    doc = response.get_json()
    assert isinstance(doc, dict) and set(doc) >= {"error"}, response.get_data(as_text=True)[:300]
    assert set(doc["error"]) >= {"code", "message", "details"}
    return doc["error"]  # type: ignore[no-any-return]


# -- signature headers, before any key is looked up

STAMPS = ["999999999999", "000000000001", "-1", "12a", HUGE, "１２３", "1e9", " "]


@pytest.mark.parametrize("stamp", STAMPS)
def test_a_hostile_timestamp_is_401_on_the_api(client, stamp):
    headers = {"X-Gateway-Key": "kgc_nobody", "X-Gateway-Timestamp": stamp, "X-Gateway-Signature": "ab" * 32}
    response = client.post("/api/v1/settlements", data=b"{}", headers=headers)
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


@pytest.mark.parametrize("stamp", ["999999999999", HUGE, "-5"])
def test_a_hostile_timestamp_on_the_payer_page_is_401_with_the_error_shape(client, public_client, stamp):  # noqa: F811
    headers = {"X-Gateway-Key": "kgc_nobody", "X-Gateway-Timestamp": stamp, "X-Gateway-Signature": "00"}
    for web in (client, public_client):
        response = web.get("/p/" + "A" * 32, headers=headers)
        assert response.status_code == 401
        assert _error(response)["code"] == "unauthorized"
        assert response.headers["Cache-Control"] == "no-store"


# -- hostile JSON in signed bodies


def _post_raw(signer: Any, body: bytes) -> Any:  # noqa: F811
    return signer.request("POST", "/api/v1/settlements", body)


def test_a_5000_digit_integer_is_a_located_422(signer):  # noqa: F811
    body = json.dumps(batch()).replace('"amount": 10000', '"amount": ' + "7" * 5000).encode()
    response = _post_raw(signer, body)
    assert response.status_code == 422
    errors = _error(response)["details"]["errors"]
    assert {"index": 0, "field": "amount"}.items() <= errors[0].items()


def test_json_nested_thousands_deep_is_a_422(signer):  # noqa: F811
    deep = b'{"batch_id": "b", "records": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = _post_raw(signer, deep)
    assert response.status_code == 422
    error = _error(response)
    assert error["details"]["field"] == "body"
    assert "deep" in error["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_located_422s(signer, literal):  # noqa: F811
    body = json.dumps(batch()).replace('"amount": 10000', '"amount": ' + literal).encode()
    response = _post_raw(signer, body)
    assert response.status_code == 422
    errors = _error(response)["details"]["errors"]
    assert errors[0]["index"] == 0 and errors[0]["field"] == "amount"
    assert literal.lstrip("-") in errors[0]["message"]


def test_duplicate_keys_are_located_422s(signer):  # noqa: F811
    text = json.dumps(batch())
    record_dup = text.replace('"amount": 10000', '"amount": 10000, "amount": 10000').encode()
    response = _post_raw(signer, record_dup)
    assert response.status_code == 422
    errors = _error(response)["details"]["errors"]
    assert {"index": 0, "field": "amount"}.items() <= errors[0].items()
    assert "twice" in errors[0]["message"]
    batch_dup = text.replace('"batch_id": ', '"batch_id": "x", "batch_id": ', 1).encode()
    response = _post_raw(signer, batch_dup)
    assert response.status_code == 422
    errors = _error(response)["details"]["errors"]
    assert {"index": None, "field": "batch_id"}.items() <= errors[0].items()


@pytest.mark.parametrize(
    "paid_at",
    [
        "0001-01-01T00:00:00+09:00",
        "0001-01-01T00:00:00-23:59",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59+09:00",
        "1970-01-01T09:00:00+09:00",
        "2099-01-01T09:00:00+09:00",
        "2019-04-30T23:59:59+09:00",
        "2026-11-28T10:01:00+09:00",  # more than a day after the (pinned) receiving time
    ],
)
def test_paid_at_outside_the_plausible_window_is_a_located_422(signer, counts, paid_at):  # noqa: F811
    response = signer.post_json("/api/v1/settlements", batch("b-1", record(paid_at=paid_at)))
    assert response.status_code == 422, response.get_json()
    (error,) = _error(response)["details"]["errors"]
    assert error["index"] == 0 and error["field"] == "paid_at"
    assert counts()["settlement_records"] == 0


@pytest.mark.parametrize("paid_at", ["2019-05-01T00:00:00+09:00", "2026-11-28T10:00:00+09:00"])
def test_paid_at_at_the_edges_of_the_window_is_accepted(signer, paid_at):  # noqa: F811
    response = signer.post_json("/api/v1/settlements", batch("b-1", record(paid_at=paid_at)))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("transfer_date", "9999-12-31"),
        ("transfer_date", "0001-01-01"),
        ("capture_date", "9999-12-31"),
    ],
)
def test_dates_outside_the_plausible_window_are_located_422s(signer, field, value):  # noqa: F811
    doc = record(kind="confirmed", transfer_date="2026-12-01")
    doc[field] = value
    response = signer.post_json("/api/v1/settlements", batch("b-1", doc))
    assert response.status_code == 422
    (error,) = _error(response)["details"]["errors"]
    assert (error["index"], error["field"]) == (0, field)


# -- strict values


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("record_id", "r-1\n"),
        ("barcode", B1 + "\n"),
        ("barcode", B1[:20] + " " + B1[20:]),
        ("channel_code", "0820\n"),
        ("channel_code", "０８２０"),
        ("channel_code", "٠٨٢٠"),
        ("store_code", "0000000\n"),
        ("store_code", "１２"),
        ("store_code", "٣"),
        ("paid_at", "2026-11-27T09:05:00+09:00\n"),
        ("paid_at", "２０２６-11-27T09:05:00+09:00"),
        ("capture_date", "2026-11-27\n"),
        ("capture_date", "２０２６-11-27"),
    ],
)
def test_look_alike_values_are_located_422s(signer, counts, field, value):  # noqa: F811
    response = signer.post_json("/api/v1/settlements", batch("b-1", record(**{field: value})))
    assert response.status_code == 422, response.get_json()
    errors = _error(response)["details"]["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, field)]
    assert counts()["settlement_records"] == 0


def test_a_batch_id_with_a_trailing_newline_is_a_located_422(signer):  # noqa: F811
    response = signer.post_json("/api/v1/settlements", batch("b-1\n"))
    assert response.status_code == 422
    errors = _error(response)["details"]["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(None, "batch_id")]


# -- ids beyond 64 bits


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/exceptions/{id}"),
        ("POST", "/api/v1/exceptions/{id}/resolve"),
        ("POST", "/api/v1/exceptions/{id}/approve"),
        ("POST", "/api/v1/exceptions/{id}/reject"),
        ("POST", "/api/v1/exceptions/{id}/unmatch"),
        ("POST", "/api/v1/exceptions/{id}/refunded"),
    ],
)
@pytest.mark.parametrize("number", [BEYOND_64_BITS, str(2**63), HUGE])
def test_ids_beyond_64_bits_are_404_on_the_api(client, make_token, method, path, number):
    response = client.open(
        path.format(id=number),
        method=method,
        headers=make_token("finance"),
        json={"note": "n", "reason": "r"},
    )
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


@pytest.mark.parametrize("number", [2**31 - 1, 2**31, 2**63 - 1])
def test_ids_at_the_edge_of_the_column_type_are_ordinary_404s(client, make_token, number):
    # recon_exceptions.id is INTEGER: beyond 2**31 - 1 PostgreSQL refuses the value itself
    response = client.get(f"/api/v1/exceptions/{number}", headers=make_token("finance"))
    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


@pytest.mark.parametrize("cursor", [str(2**31), str(2**63), "1" * 18])
def test_an_exceptions_cursor_beyond_the_column_is_a_422(client, make_token, cursor):
    response = client.get(f"/api/v1/exceptions?cursor={cursor}", headers=make_token("finance"))
    assert response.status_code == 422
    assert "cursor" in json.dumps(_error(response))


@pytest.mark.parametrize("after", [BEYOND_64_BITS, str(2**63), str(2**31), HUGE])
def test_job_runs_after_beyond_64_bits_is_422(client, make_token, after):
    response = client.get(f"/api/v1/jobs/runs?after={after}", headers=make_token("admin"))
    assert response.status_code == 422
    assert "after" in json.dumps(_error(response))


@pytest.mark.parametrize(
    "path",
    [
        "/staff/exceptions/{id}",
        "/staff/print-batches/{id}",
        "/staff/print-batches/{id}/pdf",
        "/staff/print-batches/{id}/manifest",
        "/staff/settlements/{id}",
        "/staff/settlements/{id}/original",
    ],
)
def test_ids_beyond_64_bits_are_404_on_the_staff_pages(app, ctx, path):
    from tests.pages.pagetools import sign_in

    pages = sign_in(app, ctx, "admin" if "print" not in path else "finance")
    for number in (BEYOND_64_BITS, HUGE):
        response = pages.get(path.format(id=number))
        assert response.status_code == 404, (path, response.status_code)


def test_every_integer_route_is_bounded_to_64_bits(app):
    from gateway.converters import IdConverter

    loose = [
        rule.rule
        for rule in app.url_map.iter_rules()
        for converter in rule._converters.values()
        if isinstance(converter, IntegerConverter) and not isinstance(converter, IdConverter)
    ]
    assert loose == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", "１２３４５"),  # full-width digits: \d would take them
        ("code", "1234５"),
        ("consignor_code", "００１２３"),
        ("channels", "٠٠١٠"),  # Arabic-Indic digits
    ],
)
def test_agent_codes_are_ascii_digits(ctx, field, value):
    """(Surrounding white space is trimmed from staff input, so a trailing newline is no threat here.)"""
    from gateway.access import agents
    from gateway.errors import InvalidInput

    fields: dict[str, Any] = {"code": "54321", "name": "見本収納代行", "channels": ("0010",)}
    fields[field] = (value,) if field == "channels" else value
    with pytest.raises(InvalidInput) as raised:
        agents.add_agent(ctx, agents.AgentInput(**fields))
    assert raised.value.field == field


@pytest.mark.parametrize("sha", ["a" * 64 + "\n", "Ａ" * 64, "a" * 63])
def test_an_archive_name_is_a_sha256_matched_whole(ctx, sha):
    from gateway.errors import InvalidInput
    from gateway.intake import archive

    with pytest.raises(InvalidInput):
        archive.archive_path(ctx, sha)


@pytest.mark.parametrize("path", ["/api/v1/claims", "/api/v1/reconciliation/runs", "/api/v1/agents"])
def test_a_staff_body_nested_thousands_deep_is_a_400(client, make_token, path):
    body = b"[" * 100_000 + b"]" * 100_000
    headers = {
        **make_token("admin" if path.endswith("agents") else "finance"),
        "Content-Type": "application/json",
    }
    response = client.post(path, data=body, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"
