"""The OpenAPI document describes what the API really sends (issue 9): errors are
``{"error": {"code", "message", "details"}}`` (not flask-smorest's ``{code, status, message, errors}``), and
no array holds ``null`` items (the probe got ``record_ids: [null]``)."""

from __future__ import annotations

import datetime
from typing import Any

from adapters import agent_post
from gateway.models import ReconException

ERROR_KEYS = {"code", "message", "details"}


def _spec(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json", headers=headers)
    assert response.status_code == 200
    spec: dict[str, Any] = response.get_json()
    return spec


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        *_, kind, name = schema["$ref"].split("/")
        schema = spec["components"][kind][name]
    return schema


def _error_schema(spec: dict[str, Any]) -> dict[str, Any]:
    response = _resolve(spec, spec["components"]["responses"]["DEFAULT_ERROR"])
    return _resolve(spec, response["content"]["application/json"]["schema"])


def _check(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$") -> None:
    """A small JSON Schema check (object/array/string/integer/required/additionalProperties/nullable)."""
    schema = _resolve(spec, schema)
    branches = [_resolve(spec, branch) for branch in schema.get("anyOf", [])]
    if value is None:
        assert schema.get("nullable") or any(b.get("nullable") for b in branches), f"{where} is null"
        return
    if branches:
        failures = []
        for branch in branches:
            try:
                _check(spec, branch, value, where)
                return
            except AssertionError as ex:
                failures.append(str(ex))
        raise AssertionError(f"{where} matches no branch: {failures}")
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), where
        for key in schema.get("required", []):
            assert key in value, f"{where}.{key} is missing"
        properties = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(properties), f"{where}: {set(value) - set(properties)} not documented"
        for key, item in value.items():
            if key in properties:
                _check(spec, properties[key], item, f"{where}.{key}")
    elif kind == "array":
        assert isinstance(value, list), where
        for n, item in enumerate(value):
            _check(spec, schema.get("items", {}), item, f"{where}[{n}]")
    elif kind == "string":
        assert isinstance(value, str), where
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), where


def test_the_documented_error_is_the_error_the_api_sends(client, make_token):
    spec = _spec(client, make_token("finance"))
    error = _error_schema(spec)
    assert error["type"] == "object" and set(error["properties"]) == {"error"}
    assert error.get("required") == ["error"]
    inner = _resolve(spec, error["properties"]["error"])
    assert set(inner["properties"]) == ERROR_KEYS and set(inner["required"]) == ERROR_KEYS
    assert inner["properties"]["code"]["type"] == "string"
    # Every operation's default and 422 answers point at it.
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            default = operation["responses"].get("default")
            assert default is not None, (method, path)
            assert _resolve(spec, default) == _resolve(spec, spec["components"]["responses"]["DEFAULT_ERROR"])


def test_no_array_item_is_nullable(client, make_token):
    spec = _spec(client, make_token("finance"))
    nullable: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            items = node.get("items")
            if isinstance(items, dict) and _resolve(spec, items).get("nullable"):
                nullable.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                walk(value, f"{where}[{n}]")

    walk(spec, "#")
    assert nullable == []


def test_real_error_responses_match_the_documented_schema(client, make_token):
    finance = make_token("finance")
    spec = _spec(client, finance)
    error = _error_schema(spec)
    answers = {
        401: client.get("/api/v1/claims"),
        403: client.get("/api/v1/claims", headers=make_token("print_vendor")),
        404: client.get("/api/v1/claims/NO-SUCH", headers=finance),
        422: client.post("/api/v1/claims", json={"number": ""}, headers=finance),
        413: client.post("/api/v1/claims", data=b" " * (5 * 1024 * 1024), content_type="application/json",
                         headers=finance),
        405: client.delete("/api/v1/claims", headers=finance),
    }  # fmt: skip
    for status, response in answers.items():
        assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
        doc = response.get_json()
        _check(spec, error, doc, f"{status}")
        assert set(doc["error"]) == ERROR_KEYS and doc["error"]["code"], status


def test_exception_record_ids_never_hold_null(ctx, client, make_token):
    """A confirmation of a payment recorded by hand (no preliminary record) names one record, not
    ``[null, 7]``."""
    ctx.session.add(
        ReconException(
            key="confirmation_differs:pay:1:rec:7",
            kind="confirmation_differs",
            amount=1000,
            record_ids=[None, 7],  # type: ignore[list-item]  (what reconciliation stored)
            opened_date=datetime.date(2026, 11, 27),
        )
    )
    ctx.session.commit()
    finance = make_token("finance")
    spec = _spec(client, finance)
    listing = client.get("/api/v1/exceptions", headers=finance)
    assert listing.status_code == 200
    items = listing.get_json()["items"]
    assert [item["record_ids"] for item in items] == [[7]]
    item_schema = spec["components"]["schemas"]["ExceptionItem"]
    _check(spec, item_schema, items[0], "items[0]")
    shown = client.get(f"/api/v1/exceptions/{items[0]['id']}", headers=finance)
    assert shown.status_code == 200 and shown.get_json()["record_ids"] == [7]


def test_the_documented_record_fields_are_the_ones_a_post_accepts(client: Any, make_token: Any) -> None:
    spec = _spec(client, make_token("finance"))
    body = spec["paths"]["/api/v1/settlements"]["post"]["requestBody"]["content"]["application/json"]
    record = body["schema"]["properties"]["records"]["items"]
    assert record["required"] == list(agent_post.REQUIRED_FIELDS)
    assert set(record["properties"]) == set(agent_post.REQUIRED_FIELDS + agent_post.OPTIONAL_FIELDS)
