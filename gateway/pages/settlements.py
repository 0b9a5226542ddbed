"""Settlement data: upload, received files and their records, originals, reconciliation, scheduled jobs.

Uploads go through the same service as ``gateway settlements ingest`` (format detected per file); each
file's outcome is shown in Japanese (取込済 / 重複 / 不備), a rejected file with its located error (line,
field, value). Originals come out of the sealed archive, each download logged in the audit trail.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import render_template
from flask import request
from flask import url_for

from gateway import catalogue
from gateway import jobs as job_runs
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.intake import archive
from gateway.intake import ingest
from gateway.money import reconcile as reconcile_service
from gateway.operations import jobdefs
from gateway.pages.base import error_page
from gateway.pages.base import keyset_page
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.pages.printing import actor_name
from gateway.web import ctx

bp = Blueprint("staff_settlements", __name__, url_prefix="/staff")
PAGE = 50
#: the data-kind codes of payment files and the directions of bank files → the record kinds a clerk reads
_KIND_OF_CODE = {
    "01": "preliminary",
    "02": "confirmed",
    "12": "confirmed",
    "22": "confirmed",
    "03": "cancelled",
    "credit": "credit",
    "debit": "debit",
    "cancelled": "cancelled",
}
_KIND_ORDER = ("preliminary", "confirmed", "cancelled", "credit", "debit")


def kinds(counts: dict[str, Any] | None, amounts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Counts and sums per record kind (速報/確報/取消, 入金/出金), codes folded into their kind."""
    folded: dict[str, dict[str, int]] = {}
    for code, number in (counts or {}).items():
        kind = _KIND_OF_CODE.get(str(code), "other")
        entry = folded.setdefault(kind, {"count": 0, "amount": 0})
        entry["count"] += int(number or 0)
        entry["amount"] += int((amounts or {}).get(code) or 0)
    order = {k: i for i, k in enumerate(_KIND_ORDER)}
    return [
        {"kind": k, "label": catalogue.label("record_kind", k), **v}
        for k, v in sorted(folded.items(), key=lambda kv: order.get(kv[0], 99))
    ]


def file_error_text(key: str | None, params: dict[str, Any] | None) -> str:
    """A rejected file's located error in Japanese: 「3行目「金額」: 値が正しくありません(値: 0012000)…」."""
    params = dict(params or {})
    where = catalogue.where(None, params.get("line"), params.get("field"))
    value = params.get("value")
    shown = ""
    if value not in (None, ""):
        text = str(value)
        shown = f"(値: {text[:40]}{'…' if len(text) > 40 else ''})"
    template = catalogue.MESSAGES.get(key or "", catalogue.MESSAGES["file.invalid"])
    if not where and template.startswith("{where}"):
        where = "ファイル"  # no line or field known: the file as a whole
    numbers = {
        k: f"{int(params[k]):,}" if isinstance(params.get(k), int) else "—" for k in ("calculated", "control")
    }
    return template.format(where=where, value=shown, **numbers)


def _result_row(result: ingest.FileResult) -> dict[str, Any]:
    error = None
    if result.rejected:
        if result.exception is not None:
            key, params = ingest.error_key(result.exception)
        else:
            key, params = "file.invalid", dict(result.error or {})
        error = file_error_text(key, params)
    return {
        "file": result.file,
        "status": result.status,
        "records": result.records,
        "new_records": result.new_records,
        "duplicate_records": result.duplicate_records,
        "amount": result.amount,
        "kinds": kinds(result.counts_by_kind, result.amounts_by_kind),
        "error": error,
        "file_id": result.file_id,
        "skipped": sum(int(v.get("records", 0)) for v in result.skipped.values()),
    }


def _fail(ex: GatewayError) -> Any:
    return error_page(ex.status if ex.status < 500 else 400, catalogue.error_text(ex), ctx().actor)


@bp.get("/settlements")
@page()
def index(actor: Actor) -> Any:
    """Received files newest first (keyset pages both ways), recent rejected files, upload and reconcile."""
    c = ctx()
    after = request.args.get("after", type=int)
    before = request.args.get("before", type=int)
    found, newer, older = keyset_page(
        ingest.list_files(c, after=after, before=before, limit=PAGE + 1), PAGE, after=after, before=before
    )
    rows: list[dict[str, Any]] = [
        {
            "f": f,
            "agent": name,
            "kinds": kinds(f.counts_by_kind, f.amounts_by_kind),
            "by": actor_name(f.actor),
        }
        for f, name in found
    ]
    rejections = [
        {
            **r,
            "text": file_error_text(
                r["error"].get("key") or "file.invalid", r["error"].get("params") or r["error"]
            ),
            "by": actor_name(r["actor"]),
        }
        for r in ingest.recent_rejections(c, limit=10)
    ]
    return no_store(
        render_template(
            "staff/settlement_files.html",
            rows=rows,
            total=ingest.count_files(c),
            newer=url_for("staff_settlements.index", before=rows[0]["f"].id) if rows and newer else None,
            older=url_for("staff_settlements.index", after=rows[-1]["f"].id) if rows and older else None,
            rejections=rejections,
        )
    )


@bp.post("/settlements/upload")
@page()
def upload(actor: Actor) -> Any:
    """Ingest each uploaded file as ``gateway settlements ingest`` does and show every file's outcome."""
    c = ctx()
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    if not uploads:
        return no_store(
            render_template(
                "staff/settlement_upload.html",
                results=[],
                error=catalogue.MESSAGES["settlement.no_files"],
            )
        )
    folder = Path(c.settings.instance_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    results = []
    for item in uploads:
        fd, name = tempfile.mkstemp(prefix="upload-", dir=folder)
        os.close(fd)
        try:
            item.save(name)
            result = ingest.ingest_file(c, Path(name), source="api", original_name=item.filename or "upload")
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
        results.append(_result_row(result))
    return no_store(render_template("staff/settlement_upload.html", results=results, error=None))


@bp.get("/settlements/<id32:file_id>")
@page()
def show(actor: Actor, file_id: int) -> Any:
    """One received file and its records (keyset pages both ways, in file order)."""
    c = ctx()
    try:
        file, agent = ingest.get_file(c, file_id)
    except GatewayError as ex:
        return _fail(ex)
    after = request.args.get("after", type=int)
    before = request.args.get("before", type=int)
    records, earlier, later = keyset_page(
        ingest.file_records(c, file, after=after, before=before, limit=PAGE + 1),
        PAGE,
        after=after,
        before=before,
    )
    link = "staff_settlements.show"
    return no_store(
        render_template(
            "staff/settlement_file.html",
            f=file,
            agent=agent,
            by=actor_name(file.actor),
            kinds=kinds(file.counts_by_kind, file.amounts_by_kind),
            records=records,
            earlier=url_for(link, file_id=file_id, before=records[0]["id"]) if records and earlier else None,
            later=url_for(link, file_id=file_id, after=records[-1]["id"]) if records and later else None,
        )
    )


@bp.get("/settlements/<id32:file_id>/original")
@page()
def original(actor: Actor, file_id: int) -> Any:
    """The archived original, byte for byte (the download is logged)."""
    c = ctx()
    try:
        file, _ = ingest.get_file(c, file_id)
        chunks = archive.open_original(c, file.sha256, file_id=file.id, name=file.file_name)
    except GatewayError as ex:
        return _fail(ex)
    response = Response(chunks, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"original-{file_id}\"; filename*=UTF-8''{quote(file.file_name)}"
    )
    response.headers["Content-Length"] = str(file.size)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reconcile")
@page()
def reconcile(actor: Actor) -> Any:
    """Run reconciliation now and show what this run changed."""
    result = reconcile_service.run(ctx())
    by_kind = [
        {"kind": k, "label": catalogue.label("exception_kind", k), "count": n}
        for k, n in sorted(result.by_kind.items())
        if n
    ]
    return no_store(render_template("staff/settlement_reconcile.html", r=result, by_kind=by_kind))


@bp.get("/jobs")
@page()
def jobs(actor: Actor) -> Any:
    """Each scheduled job with its last run and its last failed run (the error text only for admin)."""
    c = ctx()
    rows = []
    for name in jobdefs.names():
        last, failed = job_runs.latest_runs(c.session, name)
        rows.append({"name": name, "label": catalogue.label("job", name), "last": last, "failed": failed})
    return render_template(
        "staff/jobs.html",
        rows=rows,
        is_admin=actor.role == "admin",
        failed_text=catalogue.MESSAGES["job.failed"],
    )
