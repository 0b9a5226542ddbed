"""Settlement data: upload, received files and their records, originals, reconciliation, scheduled jobs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff_settlements", __name__, url_prefix="/staff")
