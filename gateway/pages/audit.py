"""The audit log with filters, and the hash-chain check."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff_audit", __name__, url_prefix="/staff/audit")
