"""The agent API: signed requests, posts, batches, file uploads, roles, Idempotency-Key, public mode."""

from __future__ import annotations

import copy
import datetime
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway import create_app
from gateway.access import clients as client_service
from gateway.config import load_settings
from gateway.crypto import Keyring
from gateway.models import IdempotencyKey
from gateway.models import SettlementRecord
from gateway.runtime import Runtime
from tests.conftest import DATA_KEY
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import add_agent

# Barcodes of agent 12345 (amounts 10,000 / 25,000 / 5,000) and one of agent 29023 (15,435).
B1 = "91912345001232600000123400100026123100100003"
B2 = "91912345001232600000123500200127013100250003"
B4 = "91912345001232600000123300300026122000050000"
FOREIGN = "91929023252070000010123499900299999900154357"


@dataclass
class Signer:
    """An agent's API client: signs requests with the test clock's time, a second apart (the same body signed
    at the same second would be a replay)."""

    client: Any
    clock: Any
    key_id: str
    secret: str

    def request(self, method: str, path: str, body: bytes = b"", *, ts: int | None = None, **kw: Any) -> Any:
        if ts is None:
            self.clock.advance(seconds=1)
        stamp = int(self.clock().timestamp()) if ts is None else ts
        headers = client_service.signed_headers(
            self.key_id, self.secret, stamp, body, method=method, path=path
        )
        headers.update(kw.pop("headers", {}))
        if method == "GET":
            return self.client.get(path, headers=headers, **kw)
        kw.setdefault("content_type", "application/json")
        return self.client.open(path, method=method, data=body, headers=headers, **kw)

    def post_json(self, path: str, doc: Any, **kw: Any) -> Any:
        return self.request("POST", path, json.dumps(doc).encode(), **kw)


def _signer(ctx, client, clock, agent_code: str | None = "12345") -> Signer:  # type: ignore[no-untyped-def]
    api_client, secret = client_service.create_client(ctx, f"system-{uuid.uuid4().hex[:4]}", agent_code)
    return Signer(client, clock, api_client.key_id, secret)


@pytest.fixture
def signer(ctx, agent, client, clock) -> Signer:  # type: ignore[no-untyped-def]
    return _signer(ctx, client, clock)


def settled(counts) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Row counts of the settlement tables, without the replay record (every signed request adds one)."""
    return {k: v for k, v in counts().items() if k != "used_signatures"}


def batch(batch_id: str = "agent-2026-11-27-0001", *records: dict[str, Any]) -> dict[str, Any]:
    return {"batch_id": batch_id, "records": list(records) or [record()]}


def record(**changes: Any) -> dict[str, Any]:
    doc = {
        "record_id": "r-1",
        "kind": "preliminary",
        "barcode": B1,
        "amount": 10_000,
        "paid_at": "2026-11-27T09:05:00+09:00",
        "channel_code": "0820",
        "store_code": "0000000",
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def multipart(path: Path, adapter: str | None = None, name: str | None = None) -> tuple[bytes, str]:
    boundary = "gw-test-boundary"
    parts = []
    if adapter:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="adapter"\r\n\r\n{adapter}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name or path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + path.read_bytes()
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# -- signatures


def test_a_signed_post_is_accepted(signer):
    response = signer.post_json("/api/v1/settlements", batch())
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {
        "batch_id": "agent-2026-11-27-0001",
        "records": 1,
        "new_records": 1,
        "duplicate_records": 0,
    }


@pytest.mark.parametrize("offset", [-301, 301])
def test_a_stale_or_future_timestamp_is_401(signer, clock, offset):
    ts = int(clock().timestamp()) + offset
    response = signer.post_json("/api/v1/settlements", batch(), ts=ts)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("offset", [-299, 299])
def test_a_timestamp_within_300_s_is_accepted(signer, clock, offset):
    response = signer.post_json("/api/v1/settlements", batch(), ts=int(clock().timestamp()) + offset)
    assert response.status_code == 201


def test_a_bad_signature_is_401(signer, client):
    body = json.dumps(batch()).encode()
    headers = client_service.signed_headers(
        signer.key_id,
        signer.secret + "x",
        int(signer.clock().timestamp()),
        body,
        method="POST",
        path="/api/v1/settlements",
    )
    response = client.post("/api/v1/settlements", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 401
    # a signature over another body
    headers = client_service.signed_headers(
        signer.key_id,
        signer.secret,
        int(signer.clock().timestamp()),
        b"{}",
        method="POST",
        path="/api/v1/settlements",
    )
    response = client.post("/api/v1/settlements", data=body, headers=headers, content_type="application/json")
    assert response.status_code == 401


def test_a_replayed_signature_is_401(signer, client, counts):
    body = json.dumps(batch()).encode()
    headers = client_service.signed_headers(
        signer.key_id,
        signer.secret,
        int(signer.clock().timestamp()),
        body,
        method="POST",
        path="/api/v1/settlements",
    )
    first = client.post("/api/v1/settlements", data=body, headers=headers, content_type="application/json")
    assert first.status_code == 201
    replay = client.post("/api/v1/settlements", data=body, headers=headers, content_type="application/json")
    assert replay.status_code == 401
    assert counts()["used_signatures"] == 1


def test_expired_signatures_are_forgotten(signer, clock, counts):
    signer.post_json("/api/v1/settlements", batch())
    assert counts()["used_signatures"] == 1
    clock.advance(seconds=601)
    signer.post_json("/api/v1/settlements", batch("b-2", record(record_id="r-2")))
    assert counts()["used_signatures"] == 1


@pytest.mark.parametrize("missing", ["X-Gateway-Timestamp", "X-Gateway-Signature"])
def test_missing_headers_unknown_or_revoked_keys_are_401(ctx, signer, client, missing):
    body = json.dumps(batch()).encode()
    headers = client_service.signed_headers(
        signer.key_id,
        signer.secret,
        int(signer.clock().timestamp()),
        body,
        method="POST",
        path="/api/v1/settlements",
    )
    partial = {k: v for k, v in headers.items() if k != missing}
    assert client.post("/api/v1/settlements", data=body, headers=partial).status_code == 401
    unknown = dict(headers, **{"X-Gateway-Key": "kgc_unknown"})
    assert client.post("/api/v1/settlements", data=body, headers=unknown).status_code == 401
    client_service.revoke_client(ctx, signer.key_id)
    assert signer.post_json("/api/v1/settlements", batch()).status_code == 401


# -- roles


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/agents"),
        ("POST", "/api/v1/agents"),
        ("GET", "/api/v1/claims/C-1"),
        ("POST", "/api/v1/claims"),
    ],
)
def test_agent_clients_get_403_on_staff_endpoints(signer, method, path):
    body = b"" if method == "GET" else b"{}"
    response = signer.request(method, path, body)
    assert response.status_code == 403


def test_staff_cannot_post_settlements(client, make_token):
    response = client.post("/api/v1/settlements", json=batch(), headers=make_token("finance"))
    assert response.status_code == 403


def test_a_client_without_an_agent_cannot_post(ctx, agent, client, clock):
    lone = _signer(ctx, client, clock, agent_code=None)
    assert lone.post_json("/api/v1/settlements", batch()).status_code == 403


# -- posts


def test_batch_is_readable_by_its_client_and_by_finance_not_by_others(ctx, signer, client, clock, make_token):
    signer.post_json(
        "/api/v1/settlements",
        batch(
            "b-1",
            record(),
            record(record_id="r-2", kind="confirmed", barcode=B4, amount=5000, transfer_date="2026-12-04"),
        ),
    )
    own = signer.request("GET", "/api/v1/settlements/b-1")
    assert own.status_code == 200
    doc = own.get_json()
    assert (doc["batch_id"], doc["records"], doc["new_records"], doc["amount"]) == ("b-1", 2, 2, 15_000)
    assert [(i["record_id"], i["kind"], i["state"]) for i in doc["items"]] == [
        ("r-1", "preliminary", "received"),
        ("r-2", "confirmed", "received"),
    ]
    assert doc["items"][1]["transfer_date"] == "2026-12-04"
    assert "name" not in json.dumps(doc)  # an agent client never receives a name
    other = _signer(ctx, client, clock)
    assert other.request("GET", "/api/v1/settlements/b-1").status_code == 404
    assert client.get("/api/v1/settlements/b-1", headers=make_token("finance")).status_code == 200
    assert client.get("/api/v1/settlements/b-1", headers=make_token("accounting")).status_code == 200
    assert client.get("/api/v1/settlements/b-1", headers=make_token("approver")).status_code == 403
    assert client.get("/api/v1/settlements/nope", headers=make_token("finance")).status_code == 404


def test_staff_name_the_client_when_two_used_the_same_batch_id(ctx, signer, client, clock, make_token):
    other = _signer(ctx, client, clock)
    signer.post_json("/api/v1/settlements", batch("same"))
    other.post_json("/api/v1/settlements", batch("same", record(record_id="x-1", barcode=B2, amount=25_000)))
    finance = make_token("finance")
    assert client.get("/api/v1/settlements/same", headers=finance).status_code == 409
    named = client.get(f"/api/v1/settlements/same?key_id={other.key_id}", headers=finance)
    assert named.status_code == 200 and named.get_json()["items"][0]["record_id"] == "x-1"


def test_reposting_a_record_id_with_the_same_content_is_a_duplicate(signer, counts):
    signer.post_json("/api/v1/settlements", batch("b-1"))
    # the same instant written in UTC is the same content
    again = record(paid_at="2026-11-27T00:05:00+00:00", channel_code="820")
    response = signer.post_json("/api/v1/settlements", batch("b-2", again))
    assert response.status_code == 201
    assert response.get_json() == {"batch_id": "b-2", "records": 1, "new_records": 0, "duplicate_records": 1}
    assert counts()["settlement_records"] == 1


def test_reposting_a_record_id_with_other_content_is_409(signer, counts):
    signer.post_json("/api/v1/settlements", batch("b-1"))
    before = settled(counts)
    response = signer.post_json(
        "/api/v1/settlements", batch("b-2", record(paid_at="2026-11-27T09:06:00+09:00"))
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["details"]["record_id"] == "r-1"
    assert settled(counts) == before


def test_a_batch_mixing_stored_and_new_records_stores_only_the_new_ones(ctx, signer, counts):
    signer.post_json("/api/v1/settlements", batch("b-1"))
    fresh = record(record_id="r-9", barcode=B2, amount=25_000)
    response = signer.post_json("/api/v1/settlements", batch("b-2", record(), fresh))
    assert response.status_code == 201
    assert response.get_json() == {"batch_id": "b-2", "records": 2, "new_records": 1, "duplicate_records": 1}
    items = signer.request("GET", "/api/v1/settlements/b-2").get_json()["items"]
    assert [i["record_id"] for i in items] == ["r-9"]
    line = ctx.session.execute(sa.text("SELECT line_no FROM settlement_records WHERE record_id = 'r-9'"))
    assert line.scalar_one() == 2  # its place in the post, not in what was new
    assert counts()["settlement_records"] == 2


def test_a_changed_record_among_new_ones_refuses_the_whole_batch(signer, counts):
    signer.post_json("/api/v1/settlements", batch("b-1"))
    before = settled(counts)
    changed = record(paid_at="2026-11-27T09:06:00+09:00")
    fresh = record(record_id="r-9", barcode=B2, amount=25_000)
    response = signer.post_json("/api/v1/settlements", batch("b-2", fresh, changed))
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["record_id"] == "r-1"
    assert settled(counts) == before


def test_the_same_batch_again_is_a_no_op_but_new_records_under_its_id_conflict(signer, counts):
    assert signer.post_json("/api/v1/settlements", batch("b-1")).status_code == 201
    before = settled(counts)
    again = signer.post_json("/api/v1/settlements", batch("b-1"))
    assert again.status_code == 201 and again.get_json()["new_records"] == 0
    extended = signer.post_json(
        "/api/v1/settlements", batch("b-1", record(), record(record_id="r-9", barcode=B2, amount=25_000))
    )
    assert extended.status_code == 409
    assert settled(counts) == before


def test_a_bad_batch_is_rejected_whole_with_one_error_per_problem(signer, counts):
    records = [
        record(),  # fine
        record(record_id="r-2", amount=9_999),  # amount differs from the barcode
        record(record_id="r-3", kind="refund"),
        record(record_id="r-4", paid_at="2026-11-27T09:05:00"),  # no offset
        record(record_id="r-5", kind="confirmed"),  # no transfer date
        record(record_id="r-6", channel_code="0050"),  # channel not enabled for this agent (spec §4)
        record(record_id="r-7", barcode=FOREIGN, amount=15_435),  # another agent's barcode
        record(record_id="r-8", barcode=B1[:-1] + "4"),  # check digit
        record(record_id="r-1", barcode=B2, amount=25_000),  # record_id twice in the batch
        record(record_id="r-10", surprise=1),
    ]
    before = counts()
    response = signer.post_json("/api/v1/settlements", batch("bad", *records))
    assert response.status_code == 422
    errors = response.get_json()["error"]["details"]["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {
        (1, "amount"),
        (2, "kind"),
        (3, "paid_at"),
        (4, "transfer_date"),
        (5, "channel_code"),
        (6, "barcode"),
        (7, "barcode"),
        (8, "record_id"),
        (9, "surprise"),
    }
    assert all(e["message"] for e in errors)
    assert counts()["settlement_records"] == before["settlement_records"] == 0
    assert counts()["settlement_batches"] == 0


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"batch_id": "x"}', b'{"batch_id": "", "records": []}'],
)
def test_malformed_batches_are_422(signer, body):
    response = signer.request("POST", "/api/v1/settlements", body)
    assert response.status_code == 422


def test_posted_records_are_stored_normalised(ctx, signer):
    signer.post_json(
        "/api/v1/settlements", batch("b-1", record(channel_code="820", paid_at="2026-11-27T00:05:00Z"))
    )
    ctx.session.commit()
    row = ctx.session.execute(sa.select(SettlementRecord)).scalar_one()
    assert (row.channel_code, row.kind_code, row.payment_number, row.reissue_count) == (
        "0820",
        "01",
        "2600000123400100",
        0,
    )
    assert row.paid_at == datetime.datetime(2026, 11, 27, 0, 5, tzinfo=datetime.UTC)
    assert row.paid_date == datetime.date(2026, 11, 27)
    assert row.identity == f"post:{row.client_id}:r-1" and row.file_id is None and row.batch_id is not None


# -- Idempotency-Key


def test_idempotency_same_key_and_body_returns_the_first_response(signer, counts):
    doc = batch("b-1")
    first = signer.post_json("/api/v1/settlements", doc, headers={"Idempotency-Key": "k-1"})
    after_first = counts()
    second = signer.post_json("/api/v1/settlements", doc, headers={"Idempotency-Key": "k-1"})
    assert (
        (second.status_code, second.get_json())
        == (first.status_code, first.get_json())
        == (201, first.get_json())
    )
    assert second.get_json()["new_records"] == 1  # the first response, not a new run's "duplicate"
    assert counts()["settlement_batches"] == after_first["settlement_batches"] == 1


def test_idempotency_same_key_other_body_is_422(signer):
    signer.post_json("/api/v1/settlements", batch("b-1"), headers={"Idempotency-Key": "k-1"})
    other = signer.post_json("/api/v1/settlements", batch("b-2"), headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422


def test_idempotency_key_in_flight_is_409(ctx, signer, clock):
    doc = json.dumps(batch("b-1")).encode()
    import hashlib

    ctx.session.add(
        IdempotencyKey(
            principal=f"client:{signer.key_id}",
            key="k-1",
            method="POST",
            path="/api/v1/settlements",
            body_sha256=hashlib.sha256(b"POST/api/v1/settlements" + doc).hexdigest(),
            state="in_flight",
            created_at=clock(),
        )
    )
    ctx.session.commit()
    response = signer.request("POST", "/api/v1/settlements", doc, headers={"Idempotency-Key": "k-1"})
    assert response.status_code == 409


# -- files


def test_staff_upload_then_duplicate_then_rejected(client, agent, make_token, counts):
    finance = make_token("finance")
    path = ADAPTER_DATA / "fixed120" / "20261128_daily.txt"
    body, content_type = multipart(path)
    first = client.post("/api/v1/settlement-files", data=body, content_type=content_type, headers=finance)
    assert first.status_code == 201, first.get_json()
    doc = first.get_json()
    assert set(doc) == {
        "file", "adapter", "status", "sha256", "records", "new_records", "duplicate_records", "amount",
        "counts_by_kind", "amounts_by_kind", "error",
    }  # fmt: skip
    assert (doc["file"], doc["status"], doc["records"], doc["amount"]) == (
        "20261128_daily.txt",
        "accepted",
        7,
        655_436,
    )
    again = client.post("/api/v1/settlement-files", data=body, content_type=content_type, headers=finance)
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate_file"
    before = counts()
    bad_body, bad_type = multipart(ADAPTER_DATA / "fixed120" / "trailer-sum-off.txt")
    bad = client.post("/api/v1/settlement-files", data=bad_body, content_type=bad_type, headers=finance)
    assert bad.status_code == 422
    payload = bad.get_json()
    assert payload["error"]["details"] == {"line": 9, "field": "amount_01"}
    assert payload["result"]["status"] == "rejected" and payload["result"]["error"]["line"] == 9
    assert counts() == before
    assert not list(Path(client.application.extensions["gateway"].settings.instance_dir, "uploads").iterdir())


def test_upload_with_named_adapter_and_roles(client, agent, make_token):
    path = ADAPTER_DATA / "dsk_csv" / "20261128_daily.csv"
    body, content_type = multipart(path, adapter="dsk_csv")
    response = client.post(
        "/api/v1/settlement-files", data=body, content_type=content_type, headers=make_token("accounting")
    )
    assert response.status_code == 201 and response.get_json()["adapter"] == "dsk_csv"
    denied = client.post(
        "/api/v1/settlement-files", data=body, content_type=content_type, headers=make_token("approver")
    )
    assert denied.status_code == 403
    missing = client.post(
        "/api/v1/settlement-files",
        data=b"",
        content_type="multipart/form-data; boundary=x",
        headers=make_token("finance"),
    )
    assert missing.status_code == 422


def test_an_agent_client_delivers_only_its_own_payment_files(ctx, signer, counts):
    body, content_type = multipart(ADAPTER_DATA / "fixed120" / "20261128_daily.txt")
    own = signer.request("POST", "/api/v1/settlement-files", body, content_type=content_type)
    assert own.status_code == 201, own.get_json()
    add_agent(ctx, "54321", consignor_code="99999")
    before = settled(counts)
    body, content_type = multipart(ADAPTER_DATA / "fixed120" / "foreign-consignor.txt")
    foreign = signer.request("POST", "/api/v1/settlement-files", body, content_type=content_type)
    assert foreign.status_code == 422 and foreign.get_json()["result"]["error"]["field"] == "agent_code"
    body, content_type = multipart(ADAPTER_DATA / "zengin_transfer" / "20261204_transfer.txt")
    bank = signer.request("POST", "/api/v1/settlement-files", body, content_type=content_type)
    assert bank.status_code == 422 and bank.get_json()["result"]["error"]["field"] == "adapter"
    assert settled(counts) == before


# -- agents (staff)


def test_agents_api_for_admin_and_finance(client, make_token):
    payload = {
        "code": "12345",
        "name": "見本収納代行",
        "adapters": ["fixed120"],
        "channels": ["010", "0820"],
        "fee_per_item": 55,
        "tax_rate": "10",
        "fee_valid_from": "2026-04-01",
        "remitter_name": "ﾐﾎﾝｼｭｳﾉｳﾀﾞｲｺｳ",
    }
    created = client.post("/api/v1/agents", json=payload, headers=make_token("finance"))
    assert created.status_code == 201, created.get_json()
    doc = created.get_json()
    assert (doc["channels"], doc["fees"][0]["tax_rate_bp"]) == (["0010", "0820"], 1000)
    listed = client.get("/api/v1/agents", headers=make_token("admin"))
    assert [a["code"] for a in listed.get_json()["items"]] == ["12345"]
    assert client.post("/api/v1/agents", json=payload, headers=make_token("admin")).status_code == 409
    assert client.get("/api/v1/agents", headers=make_token("accounting")).status_code == 403
    bad = client.post("/api/v1/agents", json=dict(payload, code="12"), headers=make_token("finance"))
    assert bad.status_code == 422


# -- public mode


@pytest.fixture
def public_client(overrides, clock):  # type: ignore[no-untyped-def]
    values = {k: v for k, v in overrides.items() if k != "data_key"}
    values.update(mode="public", public_keyring=Keyring.from_data_key(DATA_KEY).export_public())
    runtime = Runtime.load(load_settings(environ={}, overrides=values))
    runtime.clock = clock
    app = create_app(runtime=runtime)
    app.config.update(TESTING=True)
    return app.test_client()


def test_public_mode_serves_the_agent_api_only(ctx, agent, public_client, clock, make_token, counts):
    signer = _signer(ctx, public_client, clock)
    posted = signer.post_json("/api/v1/settlements", batch())
    assert posted.status_code == 201, posted.get_json()
    assert signer.request("GET", "/api/v1/settlements/agent-2026-11-27-0001").status_code == 200
    body, content_type = multipart(ADAPTER_DATA / "dsk_csv" / "20261128_daily.csv")
    uploaded = signer.request("POST", "/api/v1/settlement-files", body, content_type=content_type)
    assert uploaded.status_code == 201, uploaded.get_json()
    assert public_client.get("/api/v1/agents", headers=make_token("finance")).status_code in (401, 404)
    assert public_client.get("/api/v1/agents").status_code == 404
    assert counts()["settlement_records"] == 8


def test_public_mode_archives_posts_it_cannot_read_back(ctx, agent, public_client, clock):
    from gateway.intake import archive
    from gateway.models import SettlementBatch

    signer = _signer(ctx, public_client, clock)
    doc = batch()
    signer.post_json("/api/v1/settlements", doc)
    ctx.session.commit()
    sha = ctx.session.execute(sa.select(SettlementBatch.sha256)).scalar_one()
    assert json.loads(b"".join(archive.read_original(ctx, sha))) == copy.deepcopy(doc)  # the full process can


def test_the_public_process_refuses_bank_files(overrides, clock, agent, counts):
    from gateway.context import Actor
    from gateway.intake import ingest

    values = {k: v for k, v in overrides.items() if k != "data_key"}
    values.update(mode="public", public_keyring=Keyring.from_data_key(DATA_KEY).export_public())
    runtime = Runtime.load(load_settings(environ={}, overrides=values))
    before = counts()
    with runtime.context(Actor(kind="system", name="inbox")) as c:
        result = ingest.ingest_file(c, ADAPTER_DATA / "zengin_transfer" / "20261204_transfer.txt")
    assert result.status == "rejected" and result.error["field"] == "adapter"
    assert counts() == before


def test_batch_states_follow_reconciliation(ctx, signer, client, clock):
    """Before a run the records are received; after it, the state of their payment (or unmatched)."""
    from gateway.issuing import slips as slip_service
    from gateway.money import reconcile
    from tests.helpers import make_claim

    make_claim(ctx, "S-1", amount=12_000)
    (slip,) = slip_service.issue_slips(ctx, "S-1")
    signer.post_json(
        "/api/v1/settlements",
        batch(
            "b-states",
            record(record_id="p-1", barcode=slip.barcode, amount=12_000),
            record(record_id="p-2", kind="confirmed", barcode=B4, amount=5000, transfer_date="2026-12-04"),
        ),
    )
    reconcile.run(ctx)
    doc = signer.request("GET", "/api/v1/settlements/b-states").get_json()
    assert [(i["record_id"], i["state"]) for i in doc["items"]] == [
        ("p-1", "preliminary"),
        ("p-2", "unmatched"),
    ]
