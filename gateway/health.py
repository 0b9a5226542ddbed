"""``GET /healthz``: the process answers and the database is reachable."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint

from gateway.db import get_engine
from gateway.web import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    try:
        with get_engine(runtime().settings.database_url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return {"status": "ok" if status == 200 else "degraded", "database": database}, status
