"""Scheduled-job runs: what ran when, with which outcome and counts (``GET /api/v1/jobs/runs``)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import fields
from marshmallow import validate

from gateway.converters import MAX_ID32
from gateway.jobs import OUTCOMES
from gateway.jobs import RUNS
from gateway.web import ctx
from gateway.web import require

bp = Blueprint("jobs", __name__, url_prefix="/api/v1/jobs", description="Scheduled jobs and their runs")


class RunQuery(ma.Schema):
    job = fields.String(validate=validate.Length(1, 32), metadata={"description": "only runs of this job"})
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    after = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID32),
        metadata={"description": "the previous page's `next`: runs older than this id"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class Run(ma.Schema):
    id = fields.Integer()
    job = fields.String()
    fire_time = fields.DateTime(metadata={"description": "the schedule slot (UTC)"})
    host = fields.String(metadata={"description": "host:pid of the process that ran it"})
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    outcome = fields.String(metadata={"enum": list(OUTCOMES)})
    counts = fields.Dict()
    error = fields.String(allow_none=True)


class RunList(ma.Schema):
    items = fields.List(fields.Nested(Run))
    next = fields.Integer(allow_none=True, metadata={"description": "pass as `after` for the next page"})


@bp.get("/runs")
@require()
@bp.arguments(RunQuery, location="query")
@bp.response(200, RunList)
def runs(query: dict[str, Any]) -> dict[str, Any]:
    """Job runs, newest first (keyset pagination on the id with ``after``)."""
    stmt = sa.select(RUNS).order_by(RUNS.c.id.desc()).limit(query["limit"] + 1)
    if query.get("job"):
        stmt = stmt.where(RUNS.c.job == query["job"])
    if query.get("outcome"):
        stmt = stmt.where(RUNS.c.outcome == query["outcome"])
    if query.get("after"):
        stmt = stmt.where(RUNS.c.id < query["after"])
    rows = [dict(r) for r in ctx().session.execute(stmt).mappings()]
    items = rows[: query["limit"]]
    return {"items": items, "next": items[-1]["id"] if len(rows) > query["limit"] else None}
