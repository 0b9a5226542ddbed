"""Issue 10,000 slips and print a 1,000-page batch through the real services, on a fresh SQLite database.

Run from the repository root::

    .venv/bin/python -m bench.slips [--claims 10000] [--pages 1000] [--per-claim] [--postgres URL]

Prints: claims imported per second (one CSV, all-or-nothing), slips issued per second for all the imported
claims in one ``issue_slips_for_claims`` call (one audited transaction: set-based checks, barcode composition
and strict validation, one executemany), with ``--per-claim`` also the old way for as many other claims (one
``issue_slips`` call, so one transaction, per claim), and the time of ``print_batch`` for the first
``--pages`` slips (debtor decryption, PDF rendering with the embedded font, manifest, batch record). All data
is synthetic. Figures only: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import tempfile
import time
from pathlib import Path

from gateway import migrate
from gateway.config import load_settings
from gateway.context import Actor
from gateway.db import dispose_engines
from gateway.runtime import Runtime

HEADER = (
    "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,postal_code,debtor_address,decided_on\n"
)


def claims_csv(n: int, prefix: str = "B") -> bytes:
    out = io.StringIO()
    out.write(HEADER)
    for i in range(1, n + 1):
        amount = 5_000 + (i % 50) * 1_000
        out.write(
            f"{prefix}-{i:06d},art63,{amount},2026,{prefix}REF{i:07d},見本 {i:06d},999-{i % 10000:04d},"
            f"見本県見本市中央{i % 9 + 1}丁目{i % 30 + 1}番,2026-11-01\n"
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=1_000)
    parser.add_argument(
        "--per-claim", action="store_true", help="also time one issue_slips call per claim (other claims)"
    )
    parser.add_argument("--postgres", help="run against this PostgreSQL URL (a scratch database!)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.postgres or f"sqlite:///{tmp}/bench.sqlite3"
        settings = load_settings(
            environ={},
            overrides={
                "database_url": url,
                "instance_dir": tmp,
                "data_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "secret_key": "bench",
            },
        )
        migrate.upgrade(url)
        runtime = Runtime.load(settings)
        from gateway.issuing import claims as claim_service
        from gateway.issuing import printing
        from gateway.issuing import slips as slip_service

        actor = Actor(kind="cli", name="bench")
        with runtime.context(actor) as ctx:
            raw = claims_csv(args.claims)
            t0 = time.perf_counter()
            imported = claim_service.import_claims(ctx, raw, "bench.csv")
            t_import = time.perf_counter() - t0

            t0, c0 = time.perf_counter(), time.process_time()
            issued = slip_service.issue_slips_for_claims(ctx, imported.claims)
            t_issue, c_issue = time.perf_counter() - t0, time.process_time() - c0
            n_slips = sum(len(slips) for slips in issued.values())

            t_single = c_single = None
            if args.per_claim:
                single = claim_service.import_claims(ctx, claims_csv(args.claims, "C"), "bench-single.csv")
                t0, c0 = time.perf_counter(), time.process_time()
                for number in single.claims:
                    slip_service.issue_slips(ctx, number)
                t_single, c_single = time.perf_counter() - t0, time.process_time() - c0

        with runtime.context(actor) as ctx:
            t0 = time.perf_counter()
            result = printing.print_batch(ctx, Path(tmp) / "out", limit=args.pages)
            t_print = time.perf_counter() - t0

        dispose_engines()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"database                  {url.split(':')[0]}  (load average {os.getloadavg()[0]:.1f})")
        print(
            f"claims imported           {args.claims:>8}  in {t_import:7.2f} s  "
            f"({args.claims / t_import:8.0f}/s)"
        )
        print(
            f"slips issued, one batch   {n_slips:>8}  in {t_issue:7.2f} s  "
            f"({n_slips / t_issue:8.0f}/s, "
            f"{t_issue / n_slips * 1000:.2f} ms each; CPU {c_issue:.2f} s)"
        )
        if t_single is not None and c_single is not None:
            print(
                f"slips issued, per claim   {args.claims:>8}  in {t_single:7.2f} s  "
                f"({args.claims / t_single:8.0f}/s, "
                f"{t_single / args.claims * 1000:.2f} ms each; CPU {c_single:.2f} s)"
            )
        print(
            f"batch printed             {result['pages']:>8} pages, {result['envelopes']} envelopes in "
            f"{t_print:7.2f} s  ({t_print / max(result['pages'], 1) * 1000:.1f} ms/page)"
        )
        print(f"peak RSS                  {rss:8.0f} MB")


if __name__ == "__main__":
    main()
