"""Schemathesis against ``/api/v1/openapi.json``: every operation, as a staff role allowed to call it and as a
signed agent client, must answer without a 5xx, with a documented status code, content type and body.

CI-sized: ``KONBINI_SCHEMATHESIS_EXAMPLES`` generated cases per operation and caller (default 25),
derandomized so every run sends the same cases. A long (nightly) mode is the same test with a larger
number, e.g. ``KONBINI_SCHEMATHESIS_EXAMPLES=500``. The cases each operation ran are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance
from werkzeug.routing import Map
from werkzeug.test import EnvironBuilder

from gateway import permissions
from gateway.access import clients as client_service
from gateway.access import users
from gateway.issuing import slips as slip_service
from tests.helpers import make_claim
from tests.ingest.conftest import add_agent

EXAMPLES = int(os.environ.get("KONBINI_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: The staff role each operation is called with: the first of these its endpoint allows.
BATCH = "st-batch-0001"
BATCH_RECORD = {
    "record_id": "st-1",
    "kind": "preliminary",
    "barcode": "91912345001232600000123400100026123100100003",
    "amount": 10_000,
    "paid_at": "2026-11-27T09:05:00+09:00",
    "channel_code": "0820",
    "store_code": "0000000",
}
PREFERENCE = ("finance", "approver", "admin", "accounting", "auditor", "print_vendor")


def _endpoint(url_map: Map, label: str) -> str | None:
    """The Flask endpoint of an OpenAPI operation label (``POST /api/v1/claims/{number}/close``)."""
    method, path = label.split(" ", 1)
    for rule in url_map.iter_rules():
        if (
            method.upper() in (rule.methods or ())
            and re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule) == path
        ):
            return str(rule.endpoint)
    return None


def _body(kwargs: dict[str, Any]) -> tuple[bytes, str | None]:
    """The exact bytes (and content type) werkzeug would send for schemathesis' transport arguments."""
    fields = {k: kwargs[k] for k in ("json", "data", "content_type") if k in kwargs}
    if "files" in kwargs:
        data = dict(fields.get("data") or {})
        data.update(kwargs["files"])
        fields["data"] = data
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() == "content-type"}
    builder = EnvironBuilder(method=kwargs["method"], headers=headers, **fields)
    try:
        environ = builder.get_environ()
        return environ["wsgi.input"].read(), environ.get("CONTENT_TYPE")
    finally:
        builder.close()


@pytest.fixture
def world(app, ctx, clock) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Bearer tokens for every staff role, an agent (12345) and a signing API client of it."""
    tokens = {}
    for role in permissions.ROLES:
        name = f"st-{role}-{uuid.uuid4().hex[:4]}"
        users.create_user(ctx, name, role)
        tokens[role] = users.issue_token(ctx, name)
    add_agent(ctx)
    api_client, secret = client_service.create_client(ctx, "schemathesis", "12345")
    make_claim(ctx, "T-0001")
    slip = slip_service.issue_slips(ctx, "T-0001")[0]
    ctx.session.commit()
    body = json.dumps({"batch_id": BATCH, "records": [BATCH_RECORD]}).encode()
    headers = client_service.signed_headers(
        api_client.key_id, secret, int(clock().timestamp()), body, method="POST", path="/api/v1/settlements"
    )
    posted = app.test_client().post(
        "/api/v1/settlements", data=body, headers=headers, content_type="application/json"
    )
    assert posted.status_code == 201, posted.get_json()
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, headers={"Authorization": f"Bearer {tokens['finance']}"}
    )
    return {
        "tokens": tokens,
        "key_id": api_client.key_id,
        "secret": secret,
        "schema": schema,
        # Path parameters of resources that exist, so the 2xx answers are checked too.
        "known": {"number": "T-0001", "slip_number": slip.slip_number, "batch_id": BATCH},
    }


def _cases(
    operation: Any,
    send: Callable[[Any], Any],
    counts: dict[str, int],
    examples: int = EXAMPLES,
    path_parameters: dict[str, Any] | None = None,
) -> Callable[[], None]:
    label = operation.label

    @settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(path_parameters=path_parameters))
    def one(case: Any) -> None:
        counts[label] += 1
        send(case)

    return one


def _run(
    schema: Any, send: Callable[[Any], Any], wanted: Callable[[str], bool], known: dict[str, str]
) -> dict[str, Any]:
    """Every operation ``wanted`` accepts, EXAMPLES cases each, then (when ``known`` has all its path
    parameters) up to 10 more on an existing resource; failures are collected, not raised."""
    counts: dict[str, int] = {}
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        if not wanted(label):
            continue
        counts[label] = 0
        names = re.findall(r"{(\w+)}", label)
        runs = [_cases(operation, send, counts)]
        if names and all(n in known for n in names):
            pinned = {n: known[n] for n in names}
            runs.append(_cases(operation, send, counts, min(EXAMPLES, 10), pinned))
        for one in runs:
            try:
                one()
            except (Exception, BaseExceptionGroup) as error:  # collected and reported per operation below
                failures[label] = (failures.get(label, "") + "\n" + _describe(error)).strip()
    return {"counts": counts, "failures": failures}


def _open(client: Any, kwargs: dict[str, Any], headers: dict[str, str], body: bytes) -> Any:
    """Send one case; an exception escaping the app (a 500 outside testing) names the request."""
    try:
        return client.open(
            kwargs["path"],
            method=kwargs["method"],
            query_string=kwargs.get("query_string"),
            headers=headers,
            data=body,
        )
    except Exception as error:
        query = kwargs.get("query_string") or ""
        raise AssertionError(
            f"{kwargs['method']} {kwargs['path']} {query} body={body[:300]!r} raised {error!r}"
        ) from error


def _describe(error: BaseException) -> str:
    """The failed checks of one operation, with the response and the request to reproduce it."""
    text = str(error)
    for sub in getattr(error, "exceptions", ()):
        text += "\n" + str(sub)
    return text[:4000]


def _report(kind: str, outcome: dict[str, Any]) -> None:
    total = sum(outcome["counts"].values())
    print(f"\nschemathesis ({kind}): {len(outcome['counts'])} operations, {total} cases")
    for label, n in sorted(outcome["counts"].items()):
        print(f"  {n:5d}  {label}{'  FAILED' if label in outcome['failures'] else ''}")
    assert outcome["counts"], f"no operation was run as {kind}"
    failed = "\n\n".join(f"{label}\n{text}" for label, text in outcome["failures"].items())
    assert not outcome["failures"], f"{len(outcome['failures'])} operations failed as {kind}:\n{failed}"


def test_every_operation_as_an_allowed_staff_role(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()

    def role_for(label: str) -> str | None:
        endpoint = _endpoint(app.url_map, label)
        allowed = permissions.allowed(endpoint)
        return next((r for r in PREFERENCE if r in allowed), None)

    def send(case: Any) -> None:
        role = role_for(case.operation.label)
        headers = {"Authorization": f"Bearer {world['tokens'][role]}", "Accept": "application/json"}
        kwargs = case.as_transport_kwargs(headers=headers)
        body, content_type = _body(kwargs)
        if content_type:
            kwargs["headers"]["Content-Type"] = content_type
        response = _open(client, kwargs, kwargs["headers"], body)
        case.validate_response(response, checks=CHECKS)

    _report("staff", _run(world["schema"], send, lambda label: role_for(label) is not None, world["known"]))


def test_agent_operations_as_a_signed_client(app, world, clock) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()

    def agent_may(label: str) -> bool:
        endpoint = _endpoint(app.url_map, label)
        return permissions.AGENT in permissions.allowed(endpoint)

    def send(case: Any) -> None:
        kwargs = case.as_transport_kwargs(headers={"Accept": "application/json"})
        body, content_type = _body(kwargs)
        clock.advance(seconds=1)  # a fresh timestamp each time: a repeated signature is a replay
        query = kwargs.get("query_string")
        kwargs["query_string"] = urlencode(query, doseq=True) if isinstance(query, dict) else (query or "")
        target = unquote(kwargs["path"]) + (f"?{kwargs['query_string']}" if kwargs["query_string"] else "")
        headers = dict(kwargs["headers"])
        stamp = int(clock().timestamp())
        headers.update(
            client_service.signed_headers(
                world["key_id"], world["secret"], stamp, body, method=kwargs["method"], path=target
            )
        )
        if content_type:
            headers["Content-Type"] = content_type
        response = _open(client, kwargs, headers, body)
        case.validate_response(response, checks=CHECKS)

    _report("agent client", _run(world["schema"], send, agent_may, world["known"]))
