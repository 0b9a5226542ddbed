"""konbini-gateway: payment slips, settlement ingestion and reconciliation for a welfare office.

``create_app`` builds the Flask app. In ``full`` mode it serves the staff pages, the staff and agent API and
the payer page; in ``public`` mode (``GATEWAY_MODE=public``) only the agent API, the payer page and
``/healthz``, without the key that decrypts personal data.

The factory lives in :mod:`gateway.app` and is imported on first use of ``gateway.create_app``: importing
the package (as every ``gateway`` command does) then costs no Flask, so the command line starts at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from gateway.app import UPLOAD_ENDPOINTS as UPLOAD_ENDPOINTS
    from gateway.app import create_app as create_app

#: Names served from :mod:`gateway.app` on first access.
_FROM_APP = frozenset({"create_app", "UPLOAD_ENDPOINTS"})


def __getattr__(name: str) -> Any:
    """``gateway.create_app`` (and ``UPLOAD_ENDPOINTS``) without importing Flask before they are used."""
    if name in _FROM_APP:
        return getattr(importlib.import_module("gateway.app"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
