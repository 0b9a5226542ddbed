"""HTTP API for claims and slips: roles, error shape, idempotency, renderings, OpenAPI."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from tests.helpers import PRIVACY_WORDS

CLAIM = {
    "number": "A-0001",
    "legal_basis": "art63",
    "amount": 12_000,
    "fiscal_year": 2026,
    "debtor_ref": "D-API-1",
    "debtor_name": "見本 次郎",
    "debtor_address": "見本県見本市3-3",
    "postal_code": "999-0003",
    "decided_on": "2026-11-01",
}


@pytest.fixture
def finance(make_token):
    return make_token("finance")


def test_nothing_is_served_anonymously(client):
    for method, path in [
        ("get", "/api/v1/claims/A-0001"),
        ("post", "/api/v1/claims"),
        ("get", "/api/v1/claims"),
        ("get", "/api/v1/slips/2600000000100100-0/slip.pdf"),
    ]:
        response = getattr(client, method)(path, json={})
        assert response.status_code == 401, path
        assert response.json["error"]["code"] == "unauthorized"


def test_healthz_is_public(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_bad_token_is_401(client):
    response = client.get("/api/v1/claims", headers={"Authorization": "Bearer kgw_nope"})
    assert response.status_code == 401


def test_create_show_and_issue(client, finance):
    response = client.post("/api/v1/claims", json=CLAIM, headers=finance)
    assert response.status_code == 201, response.json
    assert response.json["number"] == "A-0001"
    assert response.json["balance"] == 12_000
    response = client.post(
        "/api/v1/claims/A-0001/slips", json={"first_due_date": "2026-12-15"}, headers=finance
    )
    assert response.status_code == 201, response.json
    (slip,) = response.json["slips"]
    assert (slip["slip_number"], slip["amount"], slip["due_date"]) == (
        "2600000000100100-0",
        12_000,
        "2026-12-15",
    )
    shown = client.get("/api/v1/claims/A-0001", headers=finance).json
    assert shown["slips"][0]["status"] == "issued"
    assert shown["debtor"]["name"] == "見本 次郎"


@pytest.mark.parametrize("role", ["accounting", "auditor", "approver", "admin", "print_vendor"])
def test_only_finance_records_claims(client, make_token, role):
    response = client.post("/api/v1/claims", json=CLAIM, headers=make_token(role))
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_accounting_reads_claims_without_names(client, finance, make_token):
    client.post("/api/v1/claims", json=CLAIM, headers=finance)
    doc = client.get("/api/v1/claims/A-0001", headers=make_token("accounting")).json
    assert doc["debtor"]["name"] == "***"
    assert doc["debtor"]["address"] == "***"
    assert client.get("/api/v1/claims/A-0001", headers=make_token("admin")).status_code == 403


def test_validation_errors_have_the_error_shape(client, finance):
    response = client.post("/api/v1/claims", json={**CLAIM, "amount": "12000"}, headers=finance)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_input"
    assert "amount" in response.json["error"]["details"]["json"]
    response = client.post("/api/v1/claims", json={**CLAIM, "surprise": 1}, headers=finance)
    assert response.status_code == 422


def test_domain_errors_name_the_field(client, finance):
    client.post("/api/v1/claims", json={**CLAIM, "amount": 700_000}, headers=finance)
    response = client.post("/api/v1/claims/A-0001/slips", json={}, headers=finance)
    assert response.status_code == 422
    assert response.json["error"]["details"]["smallest_k"] == 3
    response = client.post("/api/v1/claims/A-0001/slips", json={"same_due_date": True}, headers=finance)
    assert response.status_code == 201 and len(response.json["slips"]) == 3
    response = client.post("/api/v1/claims/A-0001/slips", json={}, headers=finance)
    assert response.status_code == 409
    assert len(response.json["error"]["details"]["live_slips"]) == 3
    assert client.get("/api/v1/claims/NOPE", headers=finance).status_code == 404


def test_reissue_void_and_renderings(client, finance):
    client.post("/api/v1/claims", json=CLAIM, headers=finance)
    client.post("/api/v1/claims/A-0001/slips", json={}, headers=finance)
    response = client.post("/api/v1/slips/2600000000100100-0/reissue", json={}, headers=finance)
    assert response.status_code == 201
    assert response.json["slip_number"] == "2600000000100100-1"
    pdf = client.get("/api/v1/slips/2600000000100100-1/slip.pdf", headers=finance)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "nofusho-2600000000100100-1.pdf" in pdf.headers["Content-Disposition"]
    svg = client.get("/api/v1/slips/2600000000100100-1/barcode.svg", headers=finance)
    assert svg.status_code == 200 and b"<svg" in svg.data
    qr = client.get("/api/v1/slips/2600000000100100-1/qr.svg", headers=finance)
    assert qr.status_code == 200 and b"<svg" in qr.data
    voided = client.post(
        "/api/v1/slips/2600000000100100-1/void", json={"reason": "sent twice"}, headers=finance
    )
    assert voided.status_code == 200 and voided.json["status"] == "void"
    assert client.get("/api/v1/slips/2600000000100100-0", headers=finance).json["status"] == "superseded"


def test_the_pdf_text_carries_no_privacy_word(client, finance):
    import pypdfium2 as pdfium

    client.post("/api/v1/claims", json={**CLAIM, "legal_basis": "art78"}, headers=finance)
    client.post("/api/v1/claims/A-0001/slips", json={}, headers=finance)
    data = client.get("/api/v1/slips/2600000000100100-0/slip.pdf", headers=finance).data
    doc = pdfium.PdfDocument(io.BytesIO(data))
    text = "".join(page.get_textpage().get_text_range() for page in doc)
    meta = " ".join(str(v) for v in doc.get_metadata_dict().values())
    for word in PRIVACY_WORDS:
        assert word not in text and word not in meta
    assert "art78" not in text and "返還金" not in text
    assert "12,000" in text


def test_idempotency_key_replays_refuses_other_bodies(client, finance, ctx):
    headers = {**finance, "Idempotency-Key": "create-A-0001"}
    first = client.post("/api/v1/claims", json=CLAIM, headers=headers)
    second = client.post("/api/v1/claims", json=CLAIM, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    other = client.post("/api/v1/claims", json={**CLAIM, "amount": 1}, headers=headers)
    assert other.status_code == 422
    count = ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar_one()
    assert count == 1


def test_idempotency_key_in_flight_is_409(client, finance, ctx):
    import hashlib
    import json

    body = json.dumps(CLAIM).encode()
    digest = hashlib.sha256(b"POST" + b"/api/v1/claims" + body).hexdigest()
    ctx.session.execute(
        sa.text(
            "INSERT INTO idempotency_keys (principal, key, method, path, body_sha256, state, created_at) "
            "VALUES (:p, 'k1', 'POST', '/api/v1/claims', :h, 'in_flight', CURRENT_TIMESTAMP)"
        ),
        {"p": "user:" + _user_name(ctx), "h": digest},
    )
    ctx.session.commit()
    headers = {**finance, "Idempotency-Key": "k1", "Content-Type": "application/json"}
    response = client.post("/api/v1/claims", data=body, headers=headers)
    assert response.status_code == 409
    assert ctx.session.execute(sa.text("SELECT count(*) FROM claims")).scalar_one() == 0


def _user_name(ctx) -> str:  # type: ignore[no-untyped-def]
    return ctx.session.execute(sa.text("SELECT name FROM users ORDER BY id DESC LIMIT 1")).scalar_one()


def test_openapi_document_lists_the_endpoints(client, finance):
    assert client.get("/api/v1/openapi.json").status_code == 401  # nothing anonymous but /healthz and /p/
    response = client.get("/api/v1/openapi.json", headers=finance)
    assert response.status_code == 200
    paths = response.json["paths"]
    for path in (
        "/api/v1/claims",
        "/api/v1/claims/{number}",
        "/api/v1/claims/{number}/slips",
        "/api/v1/slips/{slip_number}/reissue",
        "/api/v1/slips/{slip_number}/void",
        "/api/v1/slips/{slip_number}/slip.pdf",
    ):
        assert path in paths, path


def test_session_login_needs_csrf_for_changes(client, ctx):
    from gateway.access import users

    users.create_user(ctx, "web-fin", "finance", "correct horse battery")
    page = client.get("/login")
    assert page.status_code == 200
    bad = client.post("/login", data={"name": "web-fin", "password": "correct horse battery"})
    assert bad.status_code == 400  # no CSRF token
    token = _csrf(page.data)
    wrong = client.post("/login", data={"name": "web-fin", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    ok = client.post(
        "/login", data={"name": "web-fin", "password": "correct horse battery", "csrf_token": token}
    )
    assert ok.status_code == 302
    assert client.get("/api/v1/claims").status_code == 200  # the session works for reads
    assert client.post("/api/v1/claims", json=CLAIM).status_code == 400  # but changes need the CSRF header
    assert (
        client.post("/api/v1/claims", json=CLAIM, headers={"X-CSRFToken": token}).status_code == 400
    )  # rotated
    fresh = _csrf(client.get("/staff/claims").data)
    response = client.post("/api/v1/claims", json=CLAIM, headers={"X-CSRFToken": fresh})
    assert response.status_code == 201


def _csrf(html: bytes) -> str:
    import re

    match = re.search(rb'name="csrf[_-]token" (?:value|content)="([^"]+)"', html)
    assert match
    return match.group(1).decode()
