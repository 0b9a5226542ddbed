"""The HTTP API of the queue, manual payments and reconciliation runs: roles, shapes, four-eyes, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from gateway.casework import exceptions as svc
from gateway.context import Actor
from tests.exceptions.conftest import World

Headers = dict[str, str]
SPEC_KEYS = {"id", "kind", "status", "slip_number", "claim_number", "amount", "record_ids", "detail"}


@pytest.fixture
def tokens(make_token: Callable[..., Headers]) -> dict[str, Headers]:
    return {
        role: make_token(role, f"{role}-web")
        for role in ("finance", "approver", "accounting", "auditor", "admin", "print_vendor")
    }


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


def test_reading_the_queue_needs_a_reader_role(
    client: Any, tokens: dict[str, Headers], world: World, unknown: int
) -> None:
    _error(client.get("/api/v1/exceptions"), 401)
    _error(client.get(f"/api/v1/exceptions/{unknown}"), 401)
    for role in ("admin", "print_vendor"):
        _error(client.get("/api/v1/exceptions", headers=tokens[role]), 403)
    for role in ("finance", "approver", "accounting", "auditor"):
        response = client.get("/api/v1/exceptions?status=open&kind=unknown_slip", headers=tokens[role])
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"items", "next"}
        (item,) = body["items"]
        assert set(item) >= SPEC_KEYS
        assert (item["id"], item["kind"], item["status"], item["amount"]) == (
            unknown,
            "unknown_slip",
            "open",
            12_000,
        )
        assert (item["slip_number"], item["claim_number"]) == (None, None)
        assert item["detail"]["payment_number"] == "2600099999900100"
    detail = client.get(f"/api/v1/exceptions/{unknown}", headers=tokens["auditor"]).get_json()
    assert [a["action"] for a in detail["actions"]] == ["opened"]
    assert detail["records"][0]["amount"] == 12_000
    _error(client.get("/api/v1/exceptions/999999", headers=tokens["auditor"]), 404)


def test_cursor_pagination_and_query_validation(
    client: Any, tokens: dict[str, Headers], world: World
) -> None:
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(
        *[world.rec("02", world.barcode(serial=800_000 + i), transfer="2026-11-20") for i in range(3)]
    )
    world.bank("2026-11-20", 36_000)
    world.reconcile()
    auth = tokens["finance"]
    seen, cursor = [], None
    while True:
        url = "/api/v1/exceptions?kind=unknown_slip&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=auth).get_json()
        seen.extend(i["id"] for i in body["items"])
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in world.exceptions("unknown_slip")]
    for query in ("kind=surprise", "status=closed", "limit=0", "cursor=abc"):
        _error(client.get(f"/api/v1/exceptions?{query}", headers=auth), 422)


def test_resolve_approve_unmatch_over_http(
    client: Any, tokens: dict[str, Headers], world: World, unknown: int
) -> None:
    url = f"/api/v1/exceptions/{unknown}"
    body = {"resolution": "matched_to_claim", "claim_number": "C1", "note": "payer phoned"}
    for role in ("approver", "accounting", "auditor"):
        _error(client.post(url + "/resolve", json=body, headers=tokens[role]), 403)
    _error(client.post(url + "/resolve", json={"resolution": "no_action"}, headers=tokens["finance"]), 422)
    _error(client.post(url + "/resolve", json={**body, "resolution": "x"}, headers=tokens["finance"]), 422)

    response = client.post(url + "/resolve", json=body, headers=tokens["finance"])
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = response.get_json()
    assert (doc["status"], doc["proposed_by"], doc["resolution_claim_number"]) == (
        "pending_approval",
        "user:finance-web",
        "C1",
    )
    world.tick()
    _error(client.post(url + "/approve", json={}, headers=tokens["finance"]), 403)
    _error(client.post(url + "/approve", json={}, headers=tokens["auditor"]), 403)
    response = client.post(url + "/approve", json={"note": "receipt seen"}, headers=tokens["approver"])
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = response.get_json()
    assert (doc["status"], doc["resolved_by"]) == ("resolved", "user:approver-web")
    assert world.claim_doc("C1")["status"] == "paid"
    _error(client.post(url + "/approve", json={}, headers=tokens["approver"]), 409)

    world.tick()
    _error(client.post(url + "/unmatch", json={"reason": "x"}, headers=tokens["approver"]), 403)
    _error(client.post(url + "/unmatch", json={}, headers=tokens["finance"]), 422)
    response = client.post(url + "/unmatch", json={"reason": "wrong payer"}, headers=tokens["finance"])
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["status"] == "open"
    assert [a["action"] for a in doc["actions"]] == ["opened", "proposed", "approved", "unmatched"]
    assert world.claim_doc("C1")["status"] == "open"


def test_four_eyes_refusal_is_a_clear_403(
    client: Any, tokens: dict[str, Headers], world: World, unknown: int
) -> None:
    # The operator "approver-web" proposes on the command line, then tries to approve on the web.
    svc.resolve(
        world.as_(Actor(kind="cli", name="approver-web")),
        unknown,
        "matched_to_claim",
        note="x",
        claim_number="C1",
    )
    world.tick()
    error = _error(
        client.post(f"/api/v1/exceptions/{unknown}/approve", json={}, headers=tokens["approver"]), 403
    )
    assert error["code"] == "four_eyes"
    error = _error(
        client.post(f"/api/v1/exceptions/{unknown}/reject", json={"note": "no"}, headers=tokens["approver"]),
        403,
    )
    assert world.exc(unknown)["status"] == "pending_approval"


def test_reject_over_http(client: Any, tokens: dict[str, Headers], world: World, unknown: int) -> None:
    url = f"/api/v1/exceptions/{unknown}"
    client.post(
        url + "/resolve",
        json={"resolution": "matched_to_claim", "claim_number": "C1", "note": "x"},
        headers=tokens["finance"],
    )
    world.tick()
    _error(client.post(url + "/reject", json={}, headers=tokens["approver"]), 422)
    response = client.post(url + "/reject", json={"note": "not C1"}, headers=tokens["approver"])
    assert response.status_code == 200
    assert response.get_json()["status"] == "open"


def test_refund_over_http(client: Any, tokens: dict[str, Headers], world: World, paid_twice: dict) -> None:  # type: ignore[type-arg]
    url = f"/api/v1/exceptions/{paid_twice['overpayment']}"
    body = {
        "resolution": "refund_due",
        "note": "decision 2026-88",
        "refund": {"decided_on": "2026-11-26", "amount": 12_000, "fiscal_year": 2026},
    }
    response = client.post(url + "/resolve", json=body, headers=tokens["finance"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["refund"]["status"] == "refund_due"
    world.tick()
    _error(client.post(url + "/refunded", json={"refunded_on": "2026-11-27"}, headers=tokens["auditor"]), 403)
    _error(client.post(url + "/refunded", json={"refunded_on": "27.11.2026"}, headers=tokens["finance"]), 422)
    response = client.post(url + "/refunded", json={"refunded_on": "2026-11-27"}, headers=tokens["finance"])
    assert response.status_code == 200
    assert response.get_json()["refund"] == {
        "id": response.get_json()["refund"]["id"],
        "amount": 12_000,
        "decided_on": "2026-11-26",
        "fiscal_year": 2026,
        "status": "refunded",
        "refunded_on": "2026-11-27",
    }
    assert world.claim_doc("C1")["refund_due_amount"] == 0
    # Too much for what is left: a conflict, with the figure that would fit.
    error = _error(
        client.post(
            f"/api/v1/exceptions/{paid_twice['duplicate']}/resolve",
            json={"resolution": "refund_due", "note": "x"},
            headers=tokens["finance"],
        ),
        409,
    )
    assert error["details"]["available"] == 0


def test_a_repeated_request_with_an_idempotency_key_resolves_once(
    client: Any, tokens: dict[str, Headers], world: World, unknown: int
) -> None:
    headers = {**tokens["finance"], "Idempotency-Key": "resolve-1"}
    body = {"resolution": "no_action", "note": "agent test record"}
    first = client.post(f"/api/v1/exceptions/{unknown}/resolve", json=body, headers=headers)
    world.tick()
    again = client.post(f"/api/v1/exceptions/{unknown}/resolve", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert [a["action"] for a in world.exc(unknown)["actions"]] == ["opened", "resolved"]


# -- manual payments and runs --------------------------------------------------------------------------------


def test_record_a_manual_payment_over_http(client: Any, tokens: dict[str, Headers], world: World) -> None:
    world.claim("C1")
    slip = world.slip("C1")
    world.at("2026-11-27")
    body = {
        "slip_number": slip.slip_number,
        "amount": 12_000,
        "paid_on": "2026-11-26",
        "channel": "window",
        "reason": "counter receipt 0042",
    }
    for role in ("approver", "accounting", "auditor"):
        _error(client.post("/api/v1/payments", json=body, headers=tokens[role]), 403)
    _error(
        client.post("/api/v1/payments", json={**body, "channel": "konbini"}, headers=tokens["finance"]), 422
    )
    _error(client.post("/api/v1/payments", json={**body, "amount": 1.5}, headers=tokens["finance"]), 422)
    _error(
        client.post(
            "/api/v1/payments", json={**body, "slip_number": "2699999999999900-0"}, headers=tokens["finance"]
        ),
        404,
    )
    response = client.post("/api/v1/payments", json=body, headers=tokens["finance"])
    assert response.status_code == 201, response.get_data(as_text=True)
    doc = response.get_json()
    assert {
        "id",
        "slip_number",
        "amount",
        "state",
        "paid_at",
        "late",
        "channel_code",
        "received_at",
        "receipt_date",
        "fiscal_year",
    } <= set(doc)
    assert (doc["state"], doc["amount"], doc["receipt_date"], doc["claim_status"], doc["exceptions"]) == (
        "confirmed",
        12_000,
        "2026-11-26",
        "paid",
        [],
    )
    world.tick()
    response = client.post("/api/v1/payments", json={**body, "reason": "second"}, headers=tokens["finance"])
    assert [e["kind"] for e in response.get_json()["exceptions"]] == ["duplicate_payment"]


def test_reconciliation_runs_over_http(client: Any, tokens: dict[str, Headers], world: World) -> None:
    world.claim("C1")
    world.at("2026-11-21")
    world.ingest(world.rec("02", world.barcode(), transfer="2026-11-20"))
    world.at("2026-11-27")
    for role in ("approver", "auditor"):
        _error(client.post("/api/v1/reconciliation/runs", headers=tokens[role]), 403)
    _error(client.post("/api/v1/reconciliation/runs", json={"as_of": "soon"}, headers=tokens["finance"]), 422)
    response = client.post("/api/v1/reconciliation/runs", headers=tokens["accounting"])
    assert response.status_code == 200, response.get_data(as_text=True)
    doc = response.get_json()
    assert {"matched", "confirmed", "cancelled", "exceptions_opened", "by_kind"} <= set(doc)
    assert doc["by_kind"] == {"remittance_mismatch": 1, "unknown_slip": 1}
    world.tick()
    response = client.post(
        "/api/v1/reconciliation/runs", json={"as_of": "2026-11-27"}, headers=tokens["finance"]
    )
    assert response.status_code == 200
    assert (response.get_json()["exceptions_opened"], response.get_json()["as_of"]) == (0, "2026-11-27")


def test_the_endpoints_are_in_the_openapi_document(client: Any, make_token: Any) -> None:
    paths = client.get("/api/v1/openapi.json", headers=make_token("auditor")).get_json()["paths"]
    for path in (
        "/api/v1/exceptions",
        "/api/v1/exceptions/{exception_id}",
        "/api/v1/exceptions/{exception_id}/resolve",
        "/api/v1/exceptions/{exception_id}/approve",
        "/api/v1/exceptions/{exception_id}/reject",
        "/api/v1/exceptions/{exception_id}/unmatch",
        "/api/v1/exceptions/{exception_id}/refunded",
        "/api/v1/payments",
        "/api/v1/reconciliation/runs",
    ):
        assert path in paths, path
