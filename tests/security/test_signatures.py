"""Signature version 2 covers method and target as well as timestamp and body; version 1 stays accepted until
``GATEWAY_SIGNATURE_V1_UNTIL``; the worked example in docs/settlements.md is what the code computes."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.access import clients as client_service
from tests.ingest.conftest import agent  # noqa: F401  (fixture)
from tests.ingest.conftest import counts  # noqa: F401  (fixture)
from tests.ingest.test_api import batch
from tests.ingest.test_api import signer  # noqa: F401  (fixture)

DOC = Path(__file__).parents[2] / "docs" / "settlements.md"


def _send(signer: Any, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:  # noqa: F811
    return signer.client.open(
        path, method=method, data=body, headers=headers, content_type="application/json"
    )


def _now(signer: Any) -> int:  # noqa: F811
    return int(signer.clock().timestamp())


def test_the_worked_example_in_the_docs_is_what_the_code_signs():
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Signature version 2 (2026-12)", 1)[1].split("###", 1)[0]
    block = re.search(r"Worked example.*?```\n(.*?)```", section, re.S)
    assert block is not None
    values = dict(line.split(None, 1) for line in block.group(1).splitlines())
    body = values["body"].encode()
    signed = client_service.canonical(values["method"], values["target"], values["timestamp"], body)
    assert values["signed"].replace("\\n", "\n").encode() == signed
    expected = client_service.sign(
        values["secret"], values["method"], values["target"], values["timestamp"], body
    )
    assert values["header"] == f"X-Gateway-Signature: v2={expected}"
    # and independently of the code: HMAC-SHA256 over exactly those bytes
    assert expected == hmac.new(values["secret"].encode(), signed, hashlib.sha256).hexdigest()


def test_two_requests_with_the_same_body_in_the_same_second_do_not_collide(signer):  # noqa: F811
    stamp = _now(signer)
    answers = []
    for path in ("/api/v1/settlements/b-1", "/api/v1/settlements/b-2", "/api/v1/settlements/b-1?key_id=x"):
        headers = client_service.signed_headers(
            signer.key_id, signer.secret, stamp, b"", method="GET", path=path
        )
        answers.append(signer.client.get(path, headers=headers).status_code)
    assert answers == [404, 404, 404]  # not found, not a replay (401)


def test_a_signature_does_not_move_to_another_path_method_or_query(signer, counts):  # noqa: F811
    body = json.dumps(batch()).encode()
    stamp = _now(signer)
    for method, signed_path, sent_path in [
        ("POST", "/api/v1/settlement-files", "/api/v1/settlements"),
        ("PUT", "/api/v1/settlements", "/api/v1/settlements"),
        ("POST", "/api/v1/settlements?a=1", "/api/v1/settlements?a=2"),
        ("POST", "/api/v1/settlements?a=1", "/api/v1/settlements"),
    ]:
        headers = client_service.signed_headers(
            signer.key_id, signer.secret, stamp, body, method=method, path=signed_path
        )
        response = _send(signer, "POST", sent_path, body, headers)
        assert response.status_code == 401, (method, signed_path, sent_path)
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert counts()["settlement_records"] == 0


def test_a_v2_signature_is_accepted_once(signer):  # noqa: F811
    body = json.dumps(batch()).encode()
    headers = client_service.signed_headers(
        signer.key_id, signer.secret, _now(signer), body, method="POST", path="/api/v1/settlements"
    )
    assert headers["X-Gateway-Signature"].startswith("v2=")
    assert _send(signer, "POST", "/api/v1/settlements", body, headers).status_code == 201
    assert _send(signer, "POST", "/api/v1/settlements", body, headers).status_code == 401


@pytest.mark.parametrize("prefix", ["", "v1="])
def test_version_1_is_still_accepted_by_default(signer, prefix):  # noqa: F811
    body = json.dumps(batch()).encode()
    stamp = _now(signer)
    headers = {
        "X-Gateway-Key": signer.key_id,
        "X-Gateway-Timestamp": str(stamp),
        "X-Gateway-Signature": prefix + client_service.sign_v1(signer.secret, stamp, body),
    }
    assert _send(signer, "POST", "/api/v1/settlements", body, headers).status_code == 201


@pytest.fixture(params=[("2026-11-26", 401), ("2026-11-27", 201)])
def v1_until(request: pytest.FixtureRequest, overrides: dict[str, Any]) -> int:
    overrides["signature_v1_until"] = request.param[0]
    return request.param[1]  # type: ignore[no-any-return]


def test_version_1_ends_after_the_configured_day(v1_until, signer):  # noqa: F811
    body = json.dumps(batch()).encode()
    stamp = _now(signer)  # the test clock: 2026-11-27 in Japan
    headers = {
        "X-Gateway-Key": signer.key_id,
        "X-Gateway-Timestamp": str(stamp),
        "X-Gateway-Signature": client_service.sign_v1(signer.secret, stamp, body),
    }
    response = _send(signer, "POST", "/api/v1/settlements", body, headers)
    assert response.status_code == v1_until
    if v1_until == 401:
        assert "v2" in response.get_json()["error"]["message"]
    # version 2 is accepted either way
    signer.clock.advance(seconds=1)
    headers = client_service.signed_headers(
        signer.key_id, signer.secret, _now(signer), body, method="POST", path="/api/v1/settlements"
    )
    assert _send(signer, "POST", "/api/v1/settlements", body, headers).status_code in (200, 201)


@pytest.mark.parametrize("value", ["v3=" + "0" * 64, "v2=" + "0" * 63, "v2=" + "g" * 64, "v2=", "sha256=abc"])
def test_an_unknown_version_or_malformed_signature_is_401(signer, value):  # noqa: F811
    headers = {
        "X-Gateway-Key": signer.key_id,
        "X-Gateway-Timestamp": str(_now(signer)),
        "X-Gateway-Signature": value,
    }
    response = _send(signer, "POST", "/api/v1/settlements", b"{}", headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
