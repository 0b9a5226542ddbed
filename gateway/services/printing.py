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
from gateway.errors import NotFound
from gateway.models import Claim
from gateway.models import PrintBatch
from gateway.models import PrintBatchItem
from gateway.models import Slip
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import SlipContentError
from gateway.pdf.slip import render_batch_pdf
from gateway.services import documents

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


def _candidates(ctx: Context, issued_on: datetime.date | None) -> list[tuple[int, int]]:
    """(slip id, debtor id) of live, unexpired slips never printed in a batch."""
    # NOT EXISTS, not NOT IN: PostgreSQL runs a NOT IN subquery that outgrows work_mem once per row.
    printed = sa.exists().where(
        col(PrintBatchItem.slip_id) == col(Slip.id), col(PrintBatchItem.skipped_reason).is_(None)
    )
    query = (
        sa.select(col(Slip.id), col(Claim.debtor_id))
        .join(Claim, col(Claim.id) == Slip.claim_id)
        .where(
            col(Slip.status) == "issued",
            col(Slip.barcode_expiry) >= ctx.today(),
            ~printed,
        )
        .order_by(col(Slip.id))
    )
    if issued_on is not None:
        query = query.where(col(Slip.issued_on) == issued_on)
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
    ctx: Context, out_dir: Path, *, issued_on: datetime.date | None = None, limit: int | None = None
) -> dict[str, Any]:
    """Print every live slip not yet printed (optionally only those issued on one date, at most ``limit``
    envelopes) as one batch.

    With nothing to print, no batch is recorded and no file is written; slips without an address are still
    listed under ``skipped`` so staff can complete them.
    """
    planned, skipped = _plan(ctx, _candidates(ctx, issued_on))
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
    batch = ctx.session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFound(f"print batch {batch_id} not found", field="batch_id")
    batch.mailed_on = mailed_on
    ctx.session.add(batch)
    ctx.record("print_batch.mailed", "print_batch", batch_id, mailed_on=mailed_on.isoformat())
    return {"batch_id": batch_id, "mailed_on": mailed_on.isoformat()}
