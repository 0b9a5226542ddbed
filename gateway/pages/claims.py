"""Claims: search and list, one claim with its slips and payments, create, import (with a preview), adjust and
close (with a confirmation).

The list never decrypts names for roles that may not see them, and a name search goes through the blind
index (``gateway.pii.find_debtors_by_name``), logged as a read of personal data.
"""

from __future__ import annotations

import base64
import datetime
import time
from typing import Any

from flask import Blueprint
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from gateway import catalogue
from gateway import pii
from gateway.context import Actor
from gateway.errors import GatewayError
from gateway.errors import InvalidInput
from gateway.issuing import claims as claim_service
from gateway.issuing import overview
from gateway.issuing import slips as slip_service
from gateway.models.claims import CLAIM_STATUSES
from gateway.models.claims import CLOSED_STATUSES
from gateway.models.claims import LEGAL_BASES
from gateway.pages.base import error_page
from gateway.pages.base import form_date
from gateway.pages.base import form_int
from gateway.pages.base import form_text
from gateway.pages.base import no_store
from gateway.pages.base import page
from gateway.web import ctx

bp = Blueprint("staff_claims", __name__, url_prefix="/staff/claims")
PAGE = 50
#: How long an uploaded claims file waits for its 「取り込む」 (seconds).
UPLOAD_TTL = 24 * 3600


def problem_text(ex: GatewayError) -> str:
    """One Japanese line for a clerk's error, located by row and column where known:
    「3行目「金額」: 数字で入力してください(入力値: abc)」."""
    if ex.key and ex.key.split(".")[0] in ("claim", "import") and ex.key in catalogue.MESSAGES:
        # A header problem names its column in the message; its location is the line alone.
        header = ex.key.endswith("_column") or ex.key.endswith("_columns")
        located = catalogue.where(None, ex.line, None if header else ex.field)
        text = catalogue.message(ex.key, **ex.params)
        return f"{located}: {text}" if located else text
    return catalogue.error_text(ex)


def _arg_int(name: str) -> int | None:
    value = (request.args.get(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 6 else None


def _arg_date(name: str) -> datetime.date | None:
    try:
        return form_date(request.args, name, required=False)
    except InvalidInput as ex:
        flash(catalogue.error_text(ex), "error")
        return None


@bp.get("")
@page()
def index(actor: Actor) -> Any:
    """The claims list: one search box, filters, paging both ways with the total."""
    c = ctx()
    status = request.args.get("status") or None
    query = claim_service.ClaimQuery(
        q=(request.args.get("q") or "").strip()[:100],
        status=status if status in CLAIM_STATUSES else None,
        fiscal_year=_arg_int("fiscal_year"),
        due_from=_arg_date("due_from"),
        due_to=_arg_date("due_to"),
    )
    result = claim_service.search_claims(
        c,
        query,
        limit=PAGE,
        after=request.args.get("after") or None,
        before=request.args.get("before") or None,
    )
    show_names = pii.may_see(c, "name")
    fields = ("ref", "name", "kana") if show_names else ("ref",)
    debtors = pii.read_debtors(
        c, [claim.debtor_id for claim, _ in result.rows], purpose="claims.list", fields=fields
    )
    c.commit()
    params = {
        k: v
        for k, v in {
            "q": query.q,
            "status": query.status,
            "fiscal_year": query.fiscal_year,
            "due_from": query.due_from.isoformat() if query.due_from else None,
            "due_to": query.due_to.isoformat() if query.due_to else None,
        }.items()
        if v
    }
    years = list(range(c.today().year + 1, c.today().year - 6, -1))
    return no_store(
        render_template(
            "staff/claims.html",
            result=result,
            query=query,
            params=params,
            debtors=debtors,
            show_names=show_names,
            statuses=CLAIM_STATUSES,
            years=years,
            last=result.first + len(result.rows) - 1,
        )
    )


@bp.get("/<number>")
@page()
def show(actor: Actor, number: str) -> Any:
    """One claim: amounts, debtor (as the role may see it), slips with issue and mailing dates, payments."""
    c = ctx()
    try:
        doc = overview.show_claim(c, number)
    except GatewayError as ex:
        return error_page(ex.status, catalogue.error_text(ex), actor)
    claim = claim_service.get_claim(c, number)
    slips = slip_service_rows(c, claim.id or 0)
    mailed = slip_service.mailing_dates(c, [s.id for s in slips if s.id is not None])
    preview = None
    if claim.status not in CLOSED_STATUSES:
        preview = slip_service.preview_issue(c, number, None)
    c.commit()
    return no_store(
        render_template(
            "staff/claim.html",
            claim=doc,
            mailed={s.slip_number: mailed.get(s.id or 0) for s in slips},
            preview=preview,
            closed=claim.status in CLOSED_STATUSES,
            today=c.today().isoformat(),
        )
    )


def slip_service_rows(c: Any, claim_id: int) -> list[Any]:
    from sqlmodel import col
    from sqlmodel import select

    from gateway.models import Slip

    return list(c.session.exec(select(Slip).where(Slip.claim_id == claim_id).order_by(col(Slip.id))).all())


# -- create


def _claim_from_form(form: Any) -> claim_service.ClaimInput:
    legal_basis = form_text(form, "legal_basis")
    if legal_basis not in LEGAL_BASES:
        raise InvalidInput(
            "choose a legal basis", field="legal_basis", key="form.choose", params={"field": "legal_basis"}
        )
    return claim_service.ClaimInput(
        number=form_text(form, "number"),
        legal_basis=legal_basis,
        amount=form_int(form, "amount") or 0,
        fiscal_year=form_int(form, "fiscal_year") or 0,
        debtor_ref=form_text(form, "debtor_ref"),
        debtor_name=form_text(form, "debtor_name"),
        debtor_kana=form_text(form, "debtor_kana", required=False) or None,
        postal_code=form_text(form, "postal_code", required=False) or None,
        debtor_address=form_text(form, "debtor_address", required=False) or None,
        decided_on=form_date(form, "decided_on", required=False),
        assessment_number=form_text(form, "assessment_number", required=False) or None,
        assessment_date=form_date(form, "assessment_date", required=False),
        revenue_item=form_text(form, "revenue_item", required=False) or None,
    )


def _new_form(values: dict[str, str], errors: list[str], status: int = 200) -> Any:
    c = ctx()
    html = render_template(
        "staff/claim_new.html",
        values=values,
        errors=errors,
        legal_bases=LEGAL_BASES,
        default_year=_fiscal_year(c.today()),
    )
    return no_store(html), status


def _fiscal_year(day: datetime.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


@bp.get("/new")
@page()
def new(actor: Actor) -> Any:
    """The form to record a claim the office decided."""
    return _new_form({}, [])


@bp.post("/new")
@page()
def create(actor: Actor) -> Any:
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    try:
        data = _claim_from_form(request.form)
        claim = claim_service.create_claim(ctx(), data)
    except GatewayError as ex:
        return _new_form(values, [problem_text(ex)], 422)
    flash(f"債権 {claim.number} を登録しました。", "ok")
    return redirect(url_for("staff_claims.show", number=claim.number))


# -- CSV import: choose a file → preview (every error, or the totals) → 取り込む (exactly that file)


def _upload_dir() -> Any:
    path = ctx().settings.instance_path / "claims-uploads"
    path.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in path.glob("*.bin"):  # uploads nobody committed are not kept
        if now - old.stat().st_mtime > UPLOAD_TTL:
            old.unlink(missing_ok=True)
    return path


def _keep_upload(raw: bytes, sha256: str, name: str) -> None:
    """Keep the previewed file, encrypted with the data key, until it is committed (it holds names)."""
    sealed = ctx().keys.encrypt_field(base64.b64encode(raw).decode(), f"claims.upload.{sha256}") or ""
    (_upload_dir() / f"{sha256}.bin").write_text(f"{name}\n{sealed}", encoding="utf-8")


def _load_upload(sha256: str) -> tuple[str, bytes] | None:
    if len(sha256) != 64 or not all(ch in "0123456789abcdef" for ch in sha256):
        return None
    path = _upload_dir() / f"{sha256}.bin"
    if not path.exists():
        return None
    name, _, sealed = path.read_text(encoding="utf-8").partition("\n")
    raw = base64.b64decode(ctx().keys.decrypt_field(sealed, f"claims.upload.{sha256}") or "")
    if claim_service.file_sha256(raw) != sha256:
        return None
    return name, raw


def _drop_upload(sha256: str) -> None:
    (_upload_dir() / f"{sha256}.bin").unlink(missing_ok=True)


@bp.get("/import")
@page()
def import_form(actor: Actor) -> Any:
    """Choose the claims CSV."""
    return no_store(render_template("staff/claim_import.html", columns=claim_service.IMPORT_COLUMNS))


def _already_text(c: Any, sha256: str) -> str | None:
    event = claim_service.imported_before(c, sha256)
    if event is None:
        return None
    from gateway.pages.formats import jst

    who = (
        event.actor_name
        if event.actor_kind == "user"
        else "管理コマンド"
        if event.actor_kind == "cli"
        else "自動処理"
    )
    return catalogue.message("import.already", at=jst(event.at), who=who)


@bp.post("/import")
@page()
def import_preview(actor: Actor) -> Any:
    """Check the file without importing: every error by row and column, or what would be imported."""
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else b""
    if upload is None or not upload.filename or not raw:
        flash(catalogue.message("import.no_file"), "error")
        return redirect(url_for("staff_claims.import_form"))
    c = ctx()
    preview = claim_service.preview_import(c, raw, upload.filename)
    already = _already_text(c, preview.sha256)
    if preview.ok and not already and preview.new:
        _keep_upload(raw, preview.sha256, preview.file)
    return no_store(
        render_template(
            "staff/claim_import_preview.html",
            preview=preview,
            already=already,
            problems=[(e.line, problem_text(e)) for e in preview.errors],
        )
    )


@bp.post("/import/commit")
@page()
def import_commit(actor: Actor) -> Any:
    """Import exactly the previewed file (found by its SHA-256; a second commit says it was imported)."""
    c = ctx()
    sha256 = (request.form.get("sha256") or "").strip()
    already = _already_text(c, sha256)
    if already:
        flash(already, "error")
        return redirect(url_for("staff_claims.import_form"))
    kept = _load_upload(sha256)
    if kept is None:
        flash(catalogue.message("import.expired"), "error")
        return redirect(url_for("staff_claims.import_form"))
    name, raw = kept
    try:
        result = claim_service.import_claims(c, raw, name)
    except GatewayError as ex:
        flash(problem_text(ex), "error")
        return redirect(url_for("staff_claims.import_form"))
    _drop_upload(sha256)
    flash(
        f"「{name}」を取り込みました。新規 {result.created:,}件、登録済みと同じ {result.unchanged:,}件。"
        + ("納付書は「納付書を一括発行する」からまとめて発行できます。" if result.created else ""),
        "ok",
    )
    return redirect(url_for("staff_claims.index"))


# -- adjust and close (decisions taken elsewhere, recorded here)


def _claim_or_error(actor: Actor, number: str) -> Any:
    c = ctx()
    try:
        doc = overview.show_claim(c, number, with_debtor=False)
    except GatewayError as ex:
        return None, error_page(ex.status, catalogue.error_text(ex), actor)
    return doc, None


@bp.get("/<number>/adjust")
@page()
def adjust_form(actor: Actor, number: str) -> Any:
    """A changed assessment (変更・減額調定): the new amount, the reason and the decision date."""
    doc, failed = _claim_or_error(actor, number)
    if failed:
        return failed
    return no_store(render_template("staff/claim_adjust.html", claim=doc, values={}, errors=[]))


@bp.post("/<number>/adjust")
@page()
def adjust(actor: Actor, number: str) -> Any:
    c = ctx()
    form = request.form
    try:
        amount = form_int(form, "amount")
        reason = form_text(form, "reason")
        decided_on = form_date(form, "decided_on", required=False)
        claim_service.adjust_claim(c, number, amount or 0, reason, decided_on)
    except GatewayError as ex:
        doc, failed = _claim_or_error(actor, number)
        if failed:
            return failed
        html = render_template("staff/claim_adjust.html", claim=doc, values=form, errors=[problem_text(ex)])
        return no_store(html), 422
    flash(f"調定額を {amount:,}円 に変更しました。", "ok")
    return redirect(url_for("staff_claims.show", number=number))


@bp.get("/<number>/close")
@page()
def close_form(actor: Actor, number: str) -> Any:
    """Record a write-off, extinction or cancellation decided elsewhere (a confirmation page follows)."""
    doc, failed = _claim_or_error(actor, number)
    if failed:
        return failed
    return no_store(
        render_template(
            "staff/claim_close.html", claim=doc, values={}, errors=[], statuses=CLOSED_STATUSES, confirm=False
        )
    )


@bp.post("/<number>/close")
@page()
def close(actor: Actor, number: str) -> Any:
    """First post: check and show the confirmation; second post (``confirmed``): record the decision."""
    c = ctx()
    form = request.form
    doc, failed = _claim_or_error(actor, number)
    if failed:
        return failed
    try:
        status = form.get("status") or ""
        if status not in CLOSED_STATUSES:
            raise InvalidInput(
                "choose a status", field="status", key="form.choose", params={"field": "status"}
            )
        decided_on = form_date(form, "decided_on")
        reason = form_text(form, "reason")
        assert decided_on is not None
        if form.get("confirmed") != "1":
            html = render_template(
                "staff/claim_close.html",
                claim=doc,
                values=form,
                errors=[],
                statuses=CLOSED_STATUSES,
                confirm=True,
                decided_on=decided_on,
            )
            return no_store(html)
        claim_service.close_claim(c, number, status, decided_on, reason)
    except GatewayError as ex:
        html = render_template(
            "staff/claim_close.html",
            claim=doc,
            values=form,
            errors=[problem_text(ex)],
            statuses=CLOSED_STATUSES,
            confirm=False,
        )
        return no_store(html), 422
    flash(f"債権 {number} の「{catalogue.label('claim_status', status)}」を記録しました。", "ok")
    return redirect(url_for("staff_claims.show", number=number))
