"""Print batches for the enveloping contractor: create, download, record the mailing date, reprint.

Batch files live in ``<instance_dir>/print-batches`` (owner-only); every download is logged in the audit
trail (``printing.open_download``). The print contractor (``print_vendor``) sees batches only, and only for
``GATEWAY_PRINT_BATCH_DAYS`` days after their creation; it never sees a claim or a name outside the PDF.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from gateway import catalogue
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.issuing import printing
from gateway.pages import formats
from gateway.pages.base import action
from gateway.pages.base import error_page
from gateway.pages.base import form_date
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import ctx

bp = Blueprint("staff_print", __name__, url_prefix="/staff/print-batches")
PAGE = 30
_SPLIT = re.compile(r"[\s,、,]+")


def actor_name(label: str | None) -> str:
    """An actor label as a clerk reads it: the user's name; the scheduler and the command line by role."""
    if not label:
        return "—"
    kind, _, name = label.partition(":")
    if kind == "user":
        return name
    if kind == "system":
        return "自動処理"
    if kind == "cli":
        return "管理コマンド"
    return "外部システム"


def _fail(ex: GatewayError) -> Any:
    return error_page(ex.status if ex.status < 500 else 400, catalogue.error_text(ex), ctx().actor)


def _selection(args: Any) -> printing.Selection:
    """The batch's selection from the form: a due window and/or claim numbers (one is required)."""
    due_from = form_date(args, "due_from", required=False)
    due_to = form_date(args, "due_to", required=False)
    typed = [n for n in _SPLIT.split(args.get("claims", "")) if n]
    numbers = tuple(dict.fromkeys([*typed, *args.getlist("claim")]))
    if due_from is None and due_to is None and not numbers:
        raise InvalidInput("choose a due window or claims", field="due_from", key="print_batch.no_selection")
    if due_from and due_to and due_from > due_to:
        raise InvalidInput("due_from after due_to", field="due_from", key="print_batch.bad_window")
    return printing.Selection(due_from=due_from, due_to=due_to, claim_numbers=numbers or None)


@bp.get("")
@page()
def index(actor: Actor) -> Any:
    """Batches newest first: created when and by whom, slips, envelopes, mailing date, reprints."""
    c = ctx()
    number = max(request.args.get("page", 1, type=int) or 1, 1)
    batches, total = printing.list_batches(c, offset=(number - 1) * PAGE, limit=PAGE)
    counts = printing.slip_counts(c, [b.id for b in batches if b.id is not None])
    rows = [
        {
            "batch": b,
            "slips": counts.get(b.id or 0, 0),
            "by": actor_name(b.created_by),
            "expires": (b.created_at + datetime.timedelta(days=c.settings.print_batch_days)),
        }
        for b in batches
    ]
    return no_store(
        render_template(
            "staff/print_batches.html",
            rows=rows,
            total=total,
            page=number,
            pages=max((total + PAGE - 1) // PAGE, 1),
            vendor=actor.role == "print_vendor",
            days=c.settings.print_batch_days,
        )
    )


@bp.get("/new")
@page()
def new(actor: Actor) -> Any:
    """The form; with ``confirm=1`` the confirmation of what will be printed (nothing is created yet)."""
    args = request.args
    preview = None
    error = None
    if args.get("confirm"):
        try:
            selection = _selection(args)
            preview = printing.preview_batch(ctx(), selection)
        except GatewayError as ex:
            error = catalogue.error_text(ex)
    return no_store(
        render_template(
            "staff/print_new.html",
            form=args,
            preview=preview,
            error=error,
            claims="\n".join(
                dict.fromkeys(
                    [*(n for n in _SPLIT.split(args.get("claims", "")) if n), *args.getlist("claim")]
                )
            ),
        )
    )


@bp.post("/create")
@page()
def create(actor: Actor) -> WerkzeugResponse:
    """Create the batch confirmed on the previous page and open it."""
    c = ctx()
    form = request.form
    again = url_for(
        "staff_print.new",
        due_from=form.get("due_from", ""),
        due_to=form.get("due_to", ""),
        claims=form.get("claims", ""),
    )
    try:
        selection = _selection(form)
        result = printing.print_batch(
            c,
            printing.batch_folder(c),
            due_from=selection.due_from,
            due_to=selection.due_to,
            claim_numbers=selection.claim_numbers,
        )
    except GatewayError as ex:
        flash(catalogue.error_text(ex), "error")
        return redirect(again)
    if result["batch_id"] is None:
        skipped = len(result["skipped"])
        extra = f"住所のない納付書 {skipped:,}件は印刷できません。" if skipped else ""
        flash(f"条件に合う印刷前の納付書はありませんでした。印刷バッチは作成していません。{extra}", "error")
        return redirect(again)
    flash(
        f"印刷バッチ {result['batch_id']} を作成しました(封筒 {result['envelopes']:,}通、"
        f"{result['pages']:,}ページ)。PDFと発送リストをダウンロードしてください。",
        "ok",
    )
    return redirect(url_for("staff_print.show", batch_id=result["batch_id"]))


@bp.get("/<id32:batch_id>")
@page()
def show(actor: Actor, batch_id: int) -> Any:
    c = ctx()
    try:
        batch = printing.get_batch(c, batch_id)
    except GatewayError as ex:
        return _fail(ex)
    vendor = actor.role == "print_vendor"
    files = {kind: printing.batch_file(c, batch_id, kind).exists() for kind in printing.FILE_KINDS}
    return no_store(
        render_template(
            "staff/print_batch.html",
            batch=batch,
            by=actor_name(batch.created_by),
            slips=printing.slip_counts(c, [batch_id]).get(batch_id, 0),
            skipped=[] if vendor else printing.batch_skipped(c, batch_id),
            files=files,
            vendor=vendor,
            today=c.today().isoformat(),
            expires=batch.created_at + datetime.timedelta(days=c.settings.print_batch_days),
        )
    )


def _download(batch_id: int, kind: str) -> Any:
    c = ctx()
    try:
        path = printing.open_download(c, batch_id, kind)
    except GatewayError as ex:
        return _fail(ex)
    name = path.name
    mimetype = "application/pdf" if kind == "pdf" else "text/csv"
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<id32:batch_id>/pdf")
@page()
def pdf(actor: Actor, batch_id: int) -> Any:
    return _download(batch_id, "pdf")


@bp.get("/<id32:batch_id>/manifest")
@page()
def manifest(actor: Actor, batch_id: int) -> Any:
    return _download(batch_id, "manifest")


@bp.post("/<id32:batch_id>/mailed")
@page()
def mailed(actor: Actor, batch_id: int) -> WerkzeugResponse:
    def do() -> str:
        day = form_date(request.form, "mailed_on")
        assert day is not None
        if day > ctx().today():
            raise InvalidInput(
                "mailed_on is in the future", field="mailed_on", key="print_batch.mailed_future"
            )
        printing.record_mailing(ctx(), batch_id, day)
        return f"発送日を{formats.wareki(day)}と記録しました。"

    return action(do, url_for("staff_print.show", batch_id=batch_id))


@bp.post("/<id32:batch_id>/reprint")
@page()
def reprint(actor: Actor, batch_id: int) -> WerkzeugResponse:
    def do() -> str:
        c = ctx()
        printing.get_batch(c, batch_id)
        result = printing.reprint_batch(c, batch_id, printing.batch_folder(c))
        gone = len(result["skipped"])
        extra = f"納付済・無効などで有効でなくなった納付書 {gone}件は除きました。" if gone else ""
        return f"印刷バッチ {batch_id} のPDFと発送リストを作り直しました({result['pages']:,}ページ)。{extra}"

    return action(do, url_for("staff_print.show", batch_id=batch_id))
