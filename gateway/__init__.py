"""konbini-gateway: payment slips, settlement ingestion and reconciliation for a welfare office.

``create_app`` builds the Flask app. In ``full`` mode it serves the staff pages, the staff and agent API and
the payer page; in ``public`` mode (``GATEWAY_MODE=public``) only the agent API, the payer page and
``/healthz``, without the key that decrypts personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
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
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        GATEWAY_MODE=settings.mode,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_NAME="gateway_session",
        MAX_CONTENT_LENGTH=512 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["gateway"] = runtime
    logging.getLogger("gateway").setLevel(settings.log_level)

    from gateway import api
    from gateway import health
    from gateway import payer
    from gateway import web
    from gateway.services import clients

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
