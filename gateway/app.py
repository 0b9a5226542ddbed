"""The Flask app factory: :func:`create_app` (importable as ``gateway.create_app``).

In ``full`` mode the app serves the staff pages, the staff and agent API and the payer page; in ``public``
mode (``GATEWAY_MODE=public``) only the agent API, the payer page and ``/healthz``, without the key that
decrypts personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException

from gateway.config import load_settings
from gateway.errors import GatewayError
from gateway.runtime import Runtime


def create_app(test_config: Mapping[str, Any] | None = None, *, runtime: Runtime | None = None) -> Flask:
    """Build the app from ``GATEWAY_*`` settings (``test_config`` overrides them)."""
    if runtime is None:
        runtime = Runtime.load(load_settings(overrides=test_config))
    settings = runtime.settings
    # Named after the package (as before this module was split off): the app's name, logger and root path.
    app = Flask("gateway", instance_path=str(settings.instance_path.resolve()))
    from gateway.converters import CONVERTERS

    app.url_map.converters.update(CONVERTERS)  # <id32:…>, <id64:…>: before any route is added
    app.config.update(
        SECRET_KEY=settings.secret_key,
        GATEWAY_MODE=settings.mode,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="gateway_session",
        # The largest body of all; each request gets its own limit in _limit_body.
        MAX_CONTENT_LENGTH=max(settings.max_upload_bytes, settings.max_post_bytes),
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["gateway"] = runtime
    # First of all before_request hooks: nothing may read the body before its limit is set.
    app.before_request(_limit_body)
    logging.getLogger("gateway").setLevel(settings.log_level)

    from gateway import api
    from gateway import health
    from gateway import payer
    from gateway import web
    from gateway.access import clients

    app.extensions["gateway_client_auth"] = clients.authenticate
    web.init_app(app)
    api.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(payer.bp)
    if settings.mode == "full":
        from gateway import pages

        pages.register(app)
    _register_error_handlers(app)
    return app


#: Endpoints that take a file upload (multipart) and get ``GATEWAY_MAX_UPLOAD_BYTES``; every other request
#: (JSON posts, forms) gets ``GATEWAY_MAX_POST_BYTES``.
UPLOAD_ENDPOINTS = frozenset(
    {"settlements.upload_file", "staff_settlements.upload", "staff_claims.import_preview"}
)


def _limit_body() -> None:
    """413 before a byte of an oversized body is read, verified or archived.

    A declared ``Content-Length`` over the limit is refused at once (and Werkzeug reads no further than the
    declared length); a body without one (chunked) is read through :class:`_CappedStream`, which raises 413
    at the first byte past the limit.
    """
    from werkzeug.exceptions import RequestEntityTooLarge

    settings: Any = current_app.extensions["gateway"].settings
    upload = request.endpoint in UPLOAD_ENDPOINTS
    limit = settings.max_upload_bytes if upload else settings.max_post_bytes
    what = "file upload" if upload else "request body"
    message = f"the {what} is larger than {limit} bytes"
    if request.content_length is not None:
        if request.content_length > limit:
            raise RequestEntityTooLarge(message)
        request.max_content_length = limit
        return
    # No Content-Length (chunked): Werkzeug's limited stream silently cuts such a body at the limit, so the
    # server would see a truncated body; read through a cap that refuses the byte after the limit instead.
    request.max_content_length = limit + 1
    request.environ["wsgi.input"] = _CappedStream(request.environ["wsgi.input"], limit, message)


class _CappedStream:
    """A WSGI input stream that raises 413 as soon as more than ``limit`` bytes have been read from it."""

    def __init__(self, stream: Any, limit: int, message: str) -> None:
        self._stream = stream
        self._left = limit
        self._message = message

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self._left -= len(data)
        if self._left < 0:
            from werkzeug.exceptions import RequestEntityTooLarge

            raise RequestEntityTooLarge(self._message)
        return data

    def readline(self, size: int = -1) -> bytes:
        data: bytes = self._stream.readline(size)
        self._left -= len(data)
        if self._left < 0:
            from werkzeug.exceptions import RequestEntityTooLarge

            raise RequestEntityTooLarge(self._message)
        return data


def _register_error_handlers(app: Flask) -> None:
    from barcodes.exceptions import BarcodeError
    from gateway.web import error_payload
    from gateway.web import wants_json

    def handle(ex: GatewayError) -> Any:
        if wants_json():
            return error_payload(ex)
        from gateway import catalogue
        from gateway.pages.base import error_page

        return error_page(ex.status, catalogue.error_text(ex))

    # flask-smorest answers HTTP errors as JSON; staff pages get a Japanese page with the navigation.
    api_handler = app.error_handler_spec[None][None].get(HTTPException)

    def handle_http(ex: HTTPException) -> Any:
        if wants_json() or request.path.startswith("/p/") or app.config["GATEWAY_MODE"] != "full":
            return api_handler(ex) if api_handler is not None else ex
        from gateway.pages import html_error

        return html_error(ex)

    def handle_barcode(ex: BarcodeError) -> Any:
        from gateway.errors import InvalidInput

        return handle(InvalidInput(str(ex), field=ex.field))

    app.register_error_handler(GatewayError, handle)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(BarcodeError, handle_barcode)
