"""Slip documents: the A4 PDF, the barcode symbol and the payer-page QR code for a slip.

What goes on paper is built here from the database rows and the configured neutral labels; the legal
basis, the revenue item and anything else about why the money is owed never reach a document. The payer's
name is printed only on the payer's own part (and the envelope window); the store's part and the 領収済通知書
carry no name.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import col

from barcodes import qr
from barcodes import render
from barcodes.exceptions import BarcodeError
from gateway import pii
from gateway.context import Context
from gateway.errors import InvalidInput
from gateway.issuing import slips as slip_service
from gateway.models import Claim
from gateway.models import Slip
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import ContactBlock
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipContentError
from gateway.pdf.model import SlipDocument
from gateway.pdf.slip import render_slip_pdf
from gateway.pdf.wareki import wareki_date


def reason_line(claim: Claim) -> str:
    """The neutral reason printed on slips: the date of the office's notice, nothing more."""
    if claim.decided_on:
        day = claim.decided_on
        try:
            text = wareki_date(day)
        except ValueError:  # before 令和: printed in the Western calendar rather than guessing an era
            text = f"{day.year}年{day.month}月{day.day}日"
        return f"{text}付け通知のとおり"
    return "別途通知のとおり"


def symbol_options(ctx: Context) -> render.SymbolOptions:
    """The barcode's printing rule from the settings (printer resolution, dots per module, bar height).

    Raises:
        InvalidInput: the settings break the rule (``field`` names the setting's option).
    """
    try:
        return render.SymbolOptions(
            printer_dpi=ctx.settings.printer_dpi,
            module_dots=ctx.settings.barcode_module_dots,
            bar_height_mm=ctx.settings.barcode_bar_height_mm,
        )
    except BarcodeError as ex:
        raise InvalidInput(f"barcode printing settings: {ex}", field=ex.field) from None


@functools.lru_cache(maxsize=4)
def _seal(path: str) -> bytes | None:
    if not path:
        default = Path(__file__).resolve().parent.parent / "pdf" / "assets" / "demo_seal.png"
        return default.read_bytes() if default.exists() else None
    return Path(path).read_bytes()


def sender(ctx: Context) -> SenderBlock:
    lines = tuple(line.strip() for line in ctx.settings.sender_address.split("/") if line.strip())
    return SenderBlock(
        sender_label=f"{ctx.settings.issuer_name} {ctx.settings.sender_label}", address_lines=lines
    )


def contact(ctx: Context) -> ContactBlock:
    """The office's neutral contact and counter bank, for slips and the payer pages (checked at load)."""
    s = ctx.settings
    return ContactBlock(
        name=s.contact_name, phone=s.contact_phone, hours=s.contact_hours, counter_bank=s.counter_bank
    )


def instalment_counts(ctx: Context, claim_ids: list[int]) -> dict[int, int]:
    """Instalments per claim (distinct instalment numbers of slips that are not void)."""
    rows = ctx.session.execute(
        sa.select(col(Slip.claim_id), sa.func.count(sa.distinct(col(Slip.instalment))))
        .where(col(Slip.claim_id).in_(claim_ids), col(Slip.status) != "void")
        .group_by(col(Slip.claim_id))
    ).all()
    return {claim_id: count for claim_id, count in rows}


def slip_document(
    ctx: Context, slip: Slip, claim: Claim, *, payer_name: str | None, instalment_count: int | None
) -> SlipDocument:
    s = ctx.settings
    return SlipDocument(
        slip_number=slip.slip_number,
        payment_number=slip.payment_number,
        barcode=slip.barcode,
        amount=slip.amount,
        due_date=slip.due_date,
        barcode_expiry=slip.barcode_expiry,
        fiscal_year=claim.fiscal_year,
        item_label=s.item_label,
        reason_line=reason_line(claim),
        instalment=slip.instalment,
        instalment_count=instalment_count,
        reissue_count=slip.reissue_count,
        payee_label=s.payee_label,
        issuer_name=s.issuer_name,
        issuer_seal_png=_seal(s.seal_image),
        payer_name=payer_name,
        qr_url=slip_service.payer_url(ctx, slip),
        accepted_channels=s.accepted_channels,
        contact=contact(ctx),
    )


def address_block(view: pii.DebtorView) -> AddressBlock | None:
    """The window block, or None without a postal address or when the address cannot be printed."""
    if not view.address or not view.postal_code or view.address == "***":
        return None
    try:
        return AddressBlock(
            postal_code=view.postal_code, address_lines=tuple(view.address.split("\n")), name=view.name or ""
        )
    except SlipContentError:
        return None


def render_slip(ctx: Context, slip_number: str, out: BinaryIO) -> None:
    """The A4 slip PDF for one slip, with the address block when the debtor has an address."""
    slip, claim = slip_service.slip_with_claim(ctx, slip_number)
    view = pii.read_debtors(
        ctx, [claim.debtor_id], purpose="slip.pdf", fields=("name", "postal_code", "address")
    )[claim.debtor_id]
    count = instalment_counts(ctx, [claim.id or 0]).get(claim.id or 0)
    try:
        doc = slip_document(ctx, slip, claim, payer_name=view.name, instalment_count=count)
    except SlipContentError as ex:
        raise InvalidInput(f"slip {slip_number} cannot be printed: {ex}", field=ex.field) from ex
    render_slip_pdf(doc, address=address_block(view), sender=sender(ctx), symbol=symbol_options(ctx), out=out)


def pdf_filename(slip_number: str) -> str:
    """A neutral file name: the opaque slip number only."""
    return f"nofusho-{slip_number}.pdf"


def barcode_svg(ctx: Context, slip_number: str) -> str:
    slip = slip_service.get_slip(ctx, slip_number)
    return render.render_svg(slip.barcode, symbol_options(ctx))


def barcode_png(ctx: Context, slip_number: str) -> bytes:
    slip = slip_service.get_slip(ctx, slip_number)
    return render.render_png(slip.barcode, symbol_options(ctx))


def qr_svg(ctx: Context, slip_number: str) -> str:
    slip = slip_service.get_slip(ctx, slip_number)
    return qr.qr_svg(slip_service.payer_url(ctx, slip))
