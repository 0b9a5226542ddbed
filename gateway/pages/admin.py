"""Administration: users, API clients and collection agents."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff_admin", __name__, url_prefix="/staff/admin")
