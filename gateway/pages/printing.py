"""Print batches for the enveloping contractor: create, download, record the mailing date, reprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff_print", __name__, url_prefix="/staff/print-batches")
