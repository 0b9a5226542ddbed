"""Measure slip-PDF rendering speed: a batch of N synthetic slips (default 1,000 pages) in ms per page.

Run from the repository root: ``.venv/bin/python -m bench.pdf_batch [--pages 1000] [-o bench/out/batch.pdf]``.
The first page's font registration is included; the batch is rendered once to warm up the font first when
``--warm`` is given. All names and addresses are synthetic.
"""

from __future__ import annotations

import argparse
import datetime
import io
import time
from collections.abc import Iterator
from pathlib import Path

from barcodes import cvs
from gateway.pdf.model import AddressBlock
from gateway.pdf.model import ContactBlock
from gateway.pdf.model import Envelope
from gateway.pdf.model import SenderBlock
from gateway.pdf.model import SlipDocument
from gateway.pdf.slip import render_batch_pdf

SEAL = Path(__file__).resolve().parent.parent / "gateway" / "pdf" / "assets" / "demo_seal.png"
CONTACT = ContactBlock(
    name="見本市 会計課 収納係",
    phone="000-0000-0000",
    hours="平日 8時30分〜17時15分",
    counter_bank="指定金融機関(見本銀行)の窓口",
)
CHANNELS = ("セブン-イレブン", "ローソン", "ファミリーマート", "ミニストップ", "PayPay", "au PAY", "d払い")


def envelopes(pages: int, slips_per_envelope: int = 2) -> Iterator[Envelope]:
    """Synthetic envelopes with ``slips_per_envelope`` instalment slips each, ``pages`` slips in all."""
    seal = SEAL.read_bytes()
    sender = SenderBlock(sender_label="みほん市 会計管理者", address_lines=("〒100-0000 みほん市本町1-1",))
    serial = 0
    made = 0
    while made < pages:
        serial += 1
        slips = []
        for instalment in range(1, min(slips_per_envelope, pages - made) + 1):
            amount = 10_000 + serial % 7 * 1_000
            due = datetime.date(2026, 11, 30) + datetime.timedelta(days=31 * (instalment - 1))
            expiry = due + datetime.timedelta(days=30)
            number = cvs.compose_payment_number(2026, serial, instalment)
            slips.append(
                SlipDocument(
                    slip_number=f"{number}-0",
                    payment_number=number,
                    barcode=cvs.compose(
                        issuer_prefix="912345",
                        consignor_code="00123",
                        payment_number=number,
                        reissue_count=0,
                        expiry=expiry,
                        amount=amount,
                    ),
                    amount=amount,
                    due_date=due,
                    barcode_expiry=expiry,
                    fiscal_year=2026,
                    issuer_name="みほん市",
                    reason_line="令和8年11月1日付け通知のとおり",
                    qr_url=f"https://pay.example.jp/p/tok{serial:010d}{instalment:03d}abcdefgh",
                    accepted_channels=CHANNELS,
                    contact=CONTACT,
                    instalment=instalment,
                    instalment_count=slips_per_envelope,
                    issuer_seal_png=seal,
                    payer_name=f"見本 太郎{serial}",
                )
            )
        made += len(slips)
        yield Envelope(
            address=AddressBlock(
                postal_code="100-0001",
                address_lines=(f"東京都みほん市見本町1丁目{serial}番地",),
                name=f"見本 太郎{serial}",
            ),
            sender=sender,
            slips=tuple(slips),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("-o", "--output", type=Path, default=None, help="also write the PDF here")
    parser.add_argument("--warm", action="store_true", help="register the font before timing")
    args = parser.parse_args()
    if args.warm:
        render_batch_pdf(envelopes(1), out=io.BytesIO())
    out = io.BytesIO()
    start = time.perf_counter()
    stats = render_batch_pdf(envelopes(args.pages), out=out)
    elapsed = time.perf_counter() - start
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_bytes(out.getvalue())
    print(
        f"{stats.pages} pages, {stats.envelopes} envelopes in {elapsed:.2f} s: "
        f"{elapsed * 1000 / stats.pages:.1f} ms/page, {len(out.getvalue()) / stats.pages / 1024:.1f} KiB/page"
    )


if __name__ == "__main__":
    main()
