"""Batch printing for the outside enveloping contractor.

The ministry's notice allows the enclosing and mailing of batch-issued slips to be outsourced. A batch is
one PDF (envelopes in postal-code order, one per debtor, the address and a neutral sender placed for a
window envelope) and a manifest CSV holding only what the mailer needs: sequence, postal code, address,
name and page count. Slips of debtors without a postal address are skipped and listed for staff (by slip
and claim number only). Each batch is recorded — which slip went in which envelope, when, by whom — so it
can be printed again and its mailing date recorded.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col
from sqlmodel import select

from gateway import pii
from gateway.context import Context
from gateway.context import mutation
from gateway.errors import InvalidInput
from gateway.errors import NotFound
from gateway.issuing import documents
from gateway.models import Claim
from gateway.models import PrintBatch
from gateway.models import PrintBatchItem
from gateway.models import Slip
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import SlipContentError
from gateway.pdf.slip import render_batch_pdf

MANIFEST_COLUMNS = ("sequence", "postal_code", "address", "name", "pages")
_CHUNK = 500


@dataclass(frozen=True)
class PlannedEnvelope:
    seq: int
    debtor_id: int
    postal_code: str
    address: str
    name: str
    slip_ids: tuple[int, ...]


@dataclass(frozen=True)
class Selection:
    """Which live, never-printed slips a batch takes: issued on one date, due in a window (inclusive), of
    some claims (by number); ``None`` leaves a criterion out."""

    issued_on: datetime.date | None = None
    due_from: datetime.date | None = None
    due_to: datetime.date | None = None
    claim_numbers: tuple[str, ...] | None = None


def _candidate_query(ctx: Context, selection: Selection) -> Any:
    # NOT EXISTS, not NOT IN: PostgreSQL runs a NOT IN subquery that outgrows work_mem once per row.
    printed = sa.exists().where(
        col(PrintBatchItem.slip_id) == col(Slip.id), col(PrintBatchItem.skipped_reason).is_(None)
    )
    query: Any = (
        sa.select(col(Slip.id), col(Claim.debtor_id))
        .join(Claim, col(Claim.id) == Slip.claim_id)
        .where(
            col(Slip.status) == "issued",
            col(Slip.barcode_expiry) >= ctx.today(),
            ~printed,
        )
    )
    if selection.issued_on is not None:
        query = query.where(col(Slip.issued_on) == selection.issued_on)
    if selection.due_from is not None:
        query = query.where(col(Slip.due_date) >= selection.due_from)
    if selection.due_to is not None:
        query = query.where(col(Slip.due_date) <= selection.due_to)
    if selection.claim_numbers is not None:
        query = query.where(col(Claim.number).in_(list(selection.claim_numbers)))
    return query


def _candidates(ctx: Context, selection: Selection) -> list[tuple[int, int]]:
    """(slip id, debtor id) of live, unexpired slips never printed in a batch."""
    query = _candidate_query(ctx, selection).order_by(col(Slip.id))
    return [(int(a), int(b)) for a, b in ctx.session.execute(query).all()]


def _debtor_views(ctx: Context, debtor_ids: list[int]) -> dict[int, pii.DebtorView]:
    views: dict[int, pii.DebtorView] = {}
    for start in range(0, len(debtor_ids), _CHUNK):
        views.update(
            pii.read_debtors(
                ctx,
                debtor_ids[start : start + _CHUNK],
                purpose="print_batch",
                fields=("name", "postal_code", "address"),
            )
        )
    return views


def _unprintable(view: pii.DebtorView) -> str | None:
    """Why a debtor's envelope cannot be printed, or None.

    No postal address; or a name or address the slip may not carry (a restricted word, too many lines):
    staff see these under ``skipped`` and decide, the batch itself goes on.
    """
    if not view.postal_code or not view.address:
        return "no_address"
    try:
        AddressBlock(
            postal_code=view.postal_code, address_lines=tuple(view.address.split("\n")), name=view.name or ""
        )
    except SlipContentError:
        return "address_not_printable"
    return None


def _plan(
    ctx: Context, pairs: list[tuple[int, int]]
) -> tuple[list[PlannedEnvelope], list[tuple[int, int, str]]]:
    by_debtor: dict[int, list[int]] = defaultdict(list)
    for slip_id, debtor_id in pairs:
        by_debtor[debtor_id].append(slip_id)
    views = _debtor_views(ctx, sorted(by_debtor))
    envelopes: list[tuple[str, int, pii.DebtorView, tuple[int, ...]]] = []
    skipped: list[tuple[int, int, str]] = []
    for debtor_id, slip_ids in by_debtor.items():
        view = views[debtor_id]
        reason = _unprintable(view)
        if reason:
            skipped.extend((slip_id, debtor_id, reason) for slip_id in slip_ids)
            continue
        assert view.postal_code is not None  # _unprintable returned no reason
        envelopes.append((view.postal_code, debtor_id, view, tuple(sorted(slip_ids))))
    envelopes.sort(key=lambda e: (e[0].replace("-", ""), e[1]))
    planned = [
        PlannedEnvelope(i, debtor_id, postal, view.address or "", view.name or "", slip_ids)
        for i, (postal, debtor_id, view, slip_ids) in enumerate(envelopes, start=1)
    ]
    return planned, skipped


def _envelopes(ctx: Context, planned: list[PlannedEnvelope]) -> Iterator[Envelope]:
    """Build PDF envelopes chunk by chunk, so a large batch never sits in memory as documents."""
    sender = documents.sender(ctx)
    for start in range(0, len(planned), _CHUNK):
        chunk = planned[start : start + _CHUNK]
        slip_ids = [sid for env in chunk for sid in env.slip_ids]
        slips = {s.id: s for s in ctx.session.exec(select(Slip).where(Slip.id.in_(slip_ids)))}  # type: ignore[union-attr]
        claim_ids = sorted({s.claim_id for s in slips.values()})
        claims = {c.id: c for c in ctx.session.exec(select(Claim).where(Claim.id.in_(claim_ids)))}  # type: ignore[union-attr]
        counts = documents.instalment_counts(ctx, claim_ids)
        for env in chunk:
            docs = tuple(
                documents.slip_document(
                    ctx,
                    slips[sid],
                    claims[slips[sid].claim_id],
                    payer_name=env.name,
                    instalment_count=counts.get(slips[sid].claim_id),
                )
                for sid in env.slip_ids
            )
            address = AddressBlock(
                postal_code=env.postal_code, address_lines=tuple(env.address.split("\n")), name=env.name
            )
            yield Envelope(address=address, sender=sender, slips=docs)
        ctx.session.expunge_all()


def _write(ctx: Context, batch_id: int, planned: list[PlannedEnvelope], out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / f"print-batch-{batch_id}.pdf"
    manifest_path = out_dir / f"print-batch-{batch_id}-manifest.csv"
    tmp_pdf = pdf_path.with_suffix(".pdf.part")
    with tmp_pdf.open("wb") as fh:
        stats = render_batch_pdf(_envelopes(ctx, planned), out=fh, symbol=documents.symbol_options(ctx))
    tmp_manifest = manifest_path.with_suffix(".csv.part")
    # UTF-8 with BOM: opens correctly in Excel and keeps every character of a name (cp932 would not).
    with tmp_manifest.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(MANIFEST_COLUMNS)
        for env in planned:
            writer.writerow(
                (env.seq, env.postal_code, env.address.replace("\n", " "), env.name, len(env.slip_ids))
            )
    # Names and addresses: readable by the gateway's own user only.
    os.chmod(tmp_pdf, 0o600)
    os.chmod(tmp_manifest, 0o600)
    os.replace(tmp_pdf, pdf_path)
    os.replace(tmp_manifest, manifest_path)
    return {
        "pdf": str(pdf_path),
        "manifest": str(manifest_path),
        "pages": stats.pages,
        "envelopes": stats.envelopes,
        "pdf_sha256": hashlib.sha256(pdf_path.read_bytes()).hexdigest(),
        "manifest_sha256": hashlib.sha256(manifest_path.read_bytes()).hexdigest(),
    }


def _skipped_json(ctx: Context, skipped: list[tuple[int, int, str]]) -> list[dict[str, str]]:
    if not skipped:
        return []
    reasons = {slip_id: reason for slip_id, _, reason in skipped}
    rows = ctx.session.execute(
        sa.select(col(Slip.id), col(Slip.payment_number), col(Slip.reissue_count), col(Claim.number))
        .join(Claim, col(Claim.id) == Slip.claim_id)
        .where(col(Slip.id).in_(list(reasons)))
        .order_by(col(Slip.id))
    ).all()
    return [{"slip_number": f"{p}-{r}", "claim_number": n, "reason": reasons[i]} for i, p, r, n in rows]


@mutation("slips.print_batch")
def print_batch(
    ctx: Context,
    out_dir: Path,
    *,
    issued_on: datetime.date | None = None,
    limit: int | None = None,
    due_from: datetime.date | None = None,
    due_to: datetime.date | None = None,
    claim_numbers: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Print every live slip not yet printed (optionally only those issued on one date, due in a window,
    of some claims; at most ``limit`` envelopes) as one batch.

    With nothing to print, no batch is recorded and no file is written; slips without an address are still
    listed under ``skipped`` so staff can complete them.
    """
    selection = Selection(issued_on, due_from, due_to, claim_numbers)
    planned, skipped = _plan(ctx, _candidates(ctx, selection))
    if limit is not None:
        planned = planned[:limit]  # the rest waits for the next batch, in postal-code order
    if not planned:
        ctx.record("print_batch.empty", None, None, skipped=len(skipped))
        return {
            "batch_id": None,
            "pdf": None,
            "manifest": None,
            "pages": 0,
            "envelopes": 0,
            "pdf_sha256": None,
            "manifest_sha256": None,
            "skipped": _skipped_json(ctx, skipped),
        }
    batch = PrintBatch(created_at=ctx.now(), created_by=ctx.actor.label, issued_on=issued_on)
    ctx.session.add(batch)
    ctx.session.flush()
    assert batch.id is not None
    for env in planned:
        for page, slip_id in enumerate(env.slip_ids, start=1):
            ctx.session.add(
                PrintBatchItem(
                    batch_id=batch.id,
                    slip_id=slip_id,
                    debtor_id=env.debtor_id,
                    envelope_seq=env.seq,
                    page_seq=page,
                )
            )
    for slip_id, debtor_id, reason in skipped:
        ctx.session.add(
            PrintBatchItem(batch_id=batch.id, slip_id=slip_id, debtor_id=debtor_id, skipped_reason=reason)
        )
    ctx.session.flush()
    skipped_docs = _skipped_json(ctx, skipped)
    files = _write(ctx, batch.id, planned, out_dir)
    batch = ctx.session.get(PrintBatch, batch.id) or batch
    batch.envelopes, batch.pages, batch.skipped = files["envelopes"], files["pages"], len(skipped)
    batch.pdf_sha256, batch.manifest_sha256 = files["pdf_sha256"], files["manifest_sha256"]
    ctx.session.add(batch)
    ctx.record(
        "print_batch.create",
        "print_batch",
        batch.id,
        envelopes=batch.envelopes,
        pages=batch.pages,
        skipped=batch.skipped,
        issued_on=issued_on.isoformat() if issued_on else None,
        due_from=due_from.isoformat() if due_from else None,
        due_to=due_to.isoformat() if due_to else None,
        claims=len(claim_numbers) if claim_numbers is not None else None,
    )
    return {"batch_id": batch.id, **files, "skipped": skipped_docs}


@mutation("slips.print_batch_reprint")
def reprint_batch(ctx: Context, batch_id: int, out_dir: Path) -> dict[str, Any]:
    """Print a recorded batch again, envelope for envelope; slips no longer live are left out and listed."""
    batch = ctx.session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFound(f"print batch {batch_id} not found", field="batch_id")
    items = ctx.session.exec(
        select(PrintBatchItem)
        .where(PrintBatchItem.batch_id == batch_id, PrintBatchItem.skipped_reason.is_(None))  # type: ignore[union-attr]
        .order_by(PrintBatchItem.envelope_seq, PrintBatchItem.page_seq)  # type: ignore[arg-type]
    ).all()
    status: dict[int, str] = dict(
        ctx.session.execute(
            sa.select(col(Slip.id), col(Slip.status)).where(col(Slip.id).in_([i.slip_id for i in items]))
        ).all()
    )
    live = [i for i in items if status.get(i.slip_id) == "issued"]
    gone = [i for i in items if status.get(i.slip_id) != "issued"]
    views = _debtor_views(ctx, sorted({i.debtor_id for i in live}))
    grouped: dict[int, list[PrintBatchItem]] = defaultdict(list)
    for item in live:
        grouped[item.envelope_seq or 0].append(item)
    planned = []
    for seq in sorted(grouped):
        first = grouped[seq][0]
        view = views[first.debtor_id]
        planned.append(
            PlannedEnvelope(
                seq,
                first.debtor_id,
                view.postal_code or "",
                view.address or "",
                view.name or "",
                tuple(i.slip_id for i in grouped[seq]),
            )
        )
    files = _write(ctx, batch_id, planned, out_dir)
    batch.reprints += 1
    ctx.session.add(batch)
    ctx.record("print_batch.reprint", "print_batch", batch_id, pages=files["pages"], left_out=len(gone))
    left_out = _skipped_json(ctx, [(i.slip_id, i.debtor_id, "no_longer_live") for i in gone])
    return {"batch_id": batch_id, **files, "skipped": left_out}


@mutation("slips.print_batch_mailed")
def record_mailing(ctx: Context, batch_id: int, mailed_on: datetime.date) -> dict[str, Any]:
    """Record the date the batch was handed to the post (the print contractor: unexpired batches only)."""
    batch = get_batch(ctx, batch_id)
    batch.mailed_on = mailed_on
    ctx.session.add(batch)
    ctx.record("print_batch.mailed", "print_batch", batch_id, mailed_on=mailed_on.isoformat())
    return {"batch_id": batch_id, "mailed_on": mailed_on.isoformat()}


# -- the staff pages: the server-side batch folder, lists, previews and audited downloads

FILE_KINDS = ("pdf", "manifest")


def batch_folder(ctx: Context) -> Path:
    """Where the staff pages keep batch files: ``<instance_dir>/print-batches`` (owner-only)."""
    folder = Path(ctx.settings.instance_dir) / "print-batches"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    return folder


def batch_file(ctx: Context, batch_id: int, kind: str) -> Path:
    """The path of a batch's PDF or manifest in :func:`batch_folder` (it may not exist)."""
    name = f"print-batch-{batch_id}.pdf" if kind == "pdf" else f"print-batch-{batch_id}-manifest.csv"
    return batch_folder(ctx) / name


def _is_vendor(ctx: Context) -> bool:
    return ctx.actor.kind == "user" and ctx.actor.role == "print_vendor"


def vendor_cutoff(ctx: Context) -> datetime.datetime:
    """Batches created before this instant are expired for the print contractor."""
    return ctx.now() - datetime.timedelta(days=ctx.settings.print_batch_days)


def expired_for(ctx: Context, batch: PrintBatch) -> bool:
    """Whether ``batch`` is past ``GATEWAY_PRINT_BATCH_DAYS`` for the acting print contractor (never for
    staff)."""
    if not _is_vendor(ctx):
        return False
    created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(tzinfo=datetime.UTC)
    return created < vendor_cutoff(ctx)


def list_batches(ctx: Context, *, offset: int = 0, limit: int = 50) -> tuple[list[PrintBatch], int]:
    """Batches newest first, one page, and their total; the print contractor sees unexpired ones only."""
    where = []
    if _is_vendor(ctx):
        where.append(col(PrintBatch.created_at) >= vendor_cutoff(ctx))
    total = int(
        ctx.session.execute(sa.select(sa.func.count()).select_from(PrintBatch).where(*where)).scalar_one()
    )
    rows = ctx.session.exec(
        select(PrintBatch).where(*where).order_by(col(PrintBatch.id).desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total


def get_batch(ctx: Context, batch_id: int) -> PrintBatch:
    """One batch; the print contractor gets NotFound for an expired one (with a message saying so)."""
    batch = ctx.session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFound(
            f"print batch {batch_id} not found", field="batch_id", key="print_batch.not_found", params={}
        )
    if expired_for(ctx, batch):
        raise NotFound(
            f"print batch {batch_id} has expired for the print contractor",
            field="batch_id",
            key="print_batch.expired",
            params={"days": ctx.settings.print_batch_days},
        )
    return batch


def batch_skipped(ctx: Context, batch_id: int, limit: int = 200) -> list[dict[str, str]]:
    """Slips the batch left out (no address …), by slip and claim number only (staff only)."""
    rows = ctx.session.execute(
        sa.select(
            col(PrintBatchItem.slip_id), col(PrintBatchItem.debtor_id), col(PrintBatchItem.skipped_reason)
        )
        .where(col(PrintBatchItem.batch_id) == batch_id, col(PrintBatchItem.skipped_reason).is_not(None))
        .order_by(col(PrintBatchItem.slip_id))
        .limit(limit)
    ).all()
    return _skipped_json(ctx, [(int(a), int(b), str(c)) for a, b, c in rows])


def preview_batch(ctx: Context, selection: Selection) -> dict[str, Any]:
    """What a batch with ``selection`` would print, without reading a name: slips, debtors (at most one
    envelope each), total amount, first and last due date; unknown claim numbers are refused.

    Raises:
        InvalidInput: a claim number that does not exist (key ``print_batch.unknown_claims``).
    """
    if selection.claim_numbers is not None:
        known = set(
            ctx.session.execute(
                sa.select(col(Claim.number)).where(col(Claim.number).in_(list(selection.claim_numbers)))
            ).scalars()
        )
        missing = [n for n in selection.claim_numbers if n not in known]
        if missing:
            raise InvalidInput(
                f"claims not found: {', '.join(missing)}",
                field="claim_number",
                key="print_batch.unknown_claims",
                params={"numbers": "、".join(missing[:10]) + ("…" if len(missing) > 10 else "")},
            )
    base = _candidate_query(ctx, selection).add_columns(col(Slip.amount), col(Slip.due_date)).subquery()
    row = ctx.session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.distinct(base.c.debtor_id)),
            sa.func.coalesce(sa.func.sum(base.c.amount), 0),
            sa.func.min(base.c.due_date),
            sa.func.max(base.c.due_date),
        )
    ).one()
    return {
        "slips": int(row[0]),
        "debtors": int(row[1]),
        "amount": int(row[2]),
        "first_due": row[3],
        "last_due": row[4],
    }


@mutation("print_batch.download")
def open_download(ctx: Context, batch_id: int, kind: str) -> Path:
    """Log a download of a batch's PDF or manifest in the audit trail and return the file to send.

    Raises:
        NotFound: no such batch, expired for the print contractor, or its file is not in the batch folder
            (created elsewhere with ``gateway slips print-batch -o DIR``: reprint it from the page).
    """
    if kind not in FILE_KINDS:
        raise NotFound(f"no {kind} for a print batch", field="kind")
    batch = get_batch(ctx, batch_id)
    path = batch_file(ctx, batch_id, kind)
    if not path.exists():
        raise NotFound(
            f"the {kind} of print batch {batch_id} is not in the batch folder; reprint it",
            field="batch_id",
            key="print_batch.file_missing",
            params={},
        )
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    ctx.record("print_batch.download", "print_batch", batch.id, file=kind, sha256=digest.hexdigest())
    return path


def slip_counts(ctx: Context, batch_ids: list[int]) -> dict[int, int]:
    """Printed slips per batch (skipped ones not counted)."""
    if not batch_ids:
        return {}
    rows = ctx.session.execute(
        sa.select(col(PrintBatchItem.batch_id), sa.func.count())
        .where(col(PrintBatchItem.batch_id).in_(batch_ids), col(PrintBatchItem.skipped_reason).is_(None))
        .group_by(col(PrintBatchItem.batch_id))
    ).all()
    return {int(b): int(n) for b, n in rows}
