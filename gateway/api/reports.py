"""Reports over HTTP: the daily report (``GET /api/v1/reports/daily/{date}``) and the arrears list.

Both are for finance, accounting and auditor staff. The daily report carries no personal data; the arrears
list shows the debtor's reference and name as the caller's role may see them (``pii.read_debtors``, logged)
and is sent with ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask_smorest import Blueprint
from marshmallow import fields
from marshmallow import validate

from gateway.reporting import reports
from gateway.web import ctx
from gateway.web import require

bp = Blueprint(
    "reports", __name__, url_prefix="/api/v1/reports", description="The daily report and the arrears list"
)


class DailyQuery(ma.Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(reports.FORMATS))
    encoding = fields.String(
        load_default="utf-8",
        validate=validate.OneOf(reports.ENCODINGS),
        metadata={"description": "CSV only: utf-8 (with BOM) or cp932 for Excel"},
    )


class ArrearsQuery(ma.Schema):
    as_of = fields.String(
        load_default=None, metadata={"description": "YYYY-MM-DD (Japan date); default today"}
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    encoding = fields.String(load_default="utf-8", validate=validate.OneOf(reports.ENCODINGS))


_CONTENT = {
    "application/json": {"schema": {"type": "object"}},
    "text/csv": {"schema": {"type": "string"}},
}
_MIMETYPES = {"utf-8": "text/csv; charset=utf-8", "cp932": "text/csv; charset=Windows-31J"}


def _csv(body: bytes, encoding: str, filename: str, *, private: bool = False) -> Response:
    response = Response(body, mimetype=_MIMETYPES[encoding])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/daily/<day>")
@require()
@bp.arguments(DailyQuery, location="query")
@bp.doc(
    responses={
        200: {
            "description": "the report: JSON (default), CSV or the standalone HTML page",
            "content": {**_CONTENT, "text/html": {"schema": {"type": "string"}}},
        },
        422: {"description": "not a date YYYY-MM-DD"},
    }
)
def daily(query: dict[str, Any], day: str) -> Response:
    """The daily report of one received date (the Japan date the gateway received the data)."""
    c = ctx()
    date = reports.parse_day(day)
    doc = reports.daily(c, date)
    fmt = query["format"]
    if fmt == "csv":
        body = reports.daily_csv(doc, query["encoding"])
        return _csv(body, query["encoding"], f"daily-report-{date.isoformat()}.csv")
    if fmt == "html":
        return Response(reports.render_daily_html(c, doc), mimetype="text/html")
    return Response(reports.json_bytes(doc), mimetype="application/json")


@bp.get("/arrears")
@require()
@bp.arguments(ArrearsQuery, location="query")
@bp.doc(responses={200: {"description": "the arrears list", "content": _CONTENT}})
def arrears_list(query: dict[str, Any]) -> Response:
    """Claims past their due date and unpaid (preliminary payments counted) for the office's own follow-up;
    the gateway itself never contacts a debtor."""
    c = ctx()
    as_of = reports.parse_day(query["as_of"], "as_of") if query.get("as_of") else c.today()
    doc = reports.arrears_json(c, as_of)
    c.commit()  # writes the pii.view audit event
    if query["format"] == "csv":
        body = b"".join(reports.arrears_csv_chunks(doc, query["encoding"]))
        return _csv(body, query["encoding"], f"arrears-{as_of.isoformat()}.csv", private=True)
    response = Response(reports.json_bytes(doc), mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
