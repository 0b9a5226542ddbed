"""The HTTP API under ``/api/v1`` (flask-smorest; OpenAPI at ``/api/v1/openapi.json``).

Errors are ``{"error": {"code", "message", "details"}}``. Each endpoint declares its roles with
:func:`gateway.web.require`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask import Response
from flask import render_template
from flask_smorest import Api
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from gateway.api.schemas import Error
from gateway.web import wants_json

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
}


class _Parser(FlaskParser):
    """webargs' parser, except that a body nested too deeply for Python's JSON decoder is the invalid JSON it
    is (400 with the error shape), not a crash."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("the body is nested too deeply", "(nested)", 0) from None


# Before any blueprint of this package declares its arguments: the decorators take the parser then.
Blueprint.ARGUMENTS_PARSER = _Parser()


class GatewayApi(Api):
    """flask-smorest with the gateway's error shape (JSON for the API, a page for people), documented as
    such: the default and per-status error responses of the OpenAPI document use :class:`schemas.Error`."""

    ERROR_SCHEMA = Error

    def handle_http_exception(self, error: HTTPException) -> Any:
        code = error.code or 500
        headers = dict(error.get_headers()) if hasattr(error, "get_headers") else {}
        headers.pop("Content-Type", None)
        data = getattr(error, "data", None) or {}
        details = data.get("errors") or data.get("messages") or {}
        headers.update(data.get("headers") or {})
        message = data.get("message") or error.description or error.name
        if code == 422 and details:
            message = "the request body or query does not match the schema"
        if not wants_json():
            return Response(render_template("error.html", code=code, message=message), code, headers)
        body = {"error": {"code": _CODES.get(code, "error"), "message": message, "details": details}}
        return Response(json.dumps(body, ensure_ascii=False), code, headers, mimetype="application/json")


def init_app(app: Flask) -> GatewayApi:
    app.config.update(
        API_TITLE="konbini-gateway",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = GatewayApi(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer"},
                    "agentSignature": {"type": "apiKey", "in": "header", "name": "X-Gateway-Signature"},
                }
            }
        },
    )
    _protect_openapi(app)
    from gateway.api import claims
    from gateway.api import exceptions
    from gateway.api import jobs
    from gateway.api import payments
    from gateway.api import reconciliation
    from gateway.api import reports
    from gateway.api import settlements
    from gateway.api import slips

    full = app.config["GATEWAY_MODE"] == "full"
    # The agent API (signed clients) is served by both processes.
    api.register_blueprint(settlements.bp)
    if full:
        api.register_blueprint(claims.bp)
        api.register_blueprint(slips.bp)
        api.register_blueprint(settlements.agents_bp)
        api.register_blueprint(reports.bp)
        api.register_blueprint(exceptions.bp)
        api.register_blueprint(payments.bp)
        api.register_blueprint(reconciliation.bp)
        api.register_blueprint(jobs.bp)
    return api


def _protect_openapi(app: Flask) -> None:
    """The OpenAPI document is for staff and signed agent clients too: nothing but ``/healthz`` and the payer
    page is served anonymously."""
    from gateway.errors import Unauthorized
    from gateway.web import current_actor

    @app.before_request
    def _openapi_needs_a_caller() -> None:
        from flask import request

        if request.path == "/api/v1/openapi.json" and current_actor() is None:
            raise Unauthorized("sign in, send a bearer token or sign the request to read the API description")
