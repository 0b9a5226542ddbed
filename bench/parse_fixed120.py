"""Benchmark: parse a 1,000,000-record ``fixed120`` file and report records/s and peak memory.

Usage (from the repository root)::

    .venv/bin/python bench/parse_fixed120.py [--records 1000000] [--keep DIR]

The file is written with ``adapters.fixed120.write`` into a temporary directory (about 122 MB for a million
records), then parsed in a fresh child process so that its peak RSS (``resource.getrusage``) measures the
parse alone: a streaming parse keeps it flat, whatever the file size. The consumer does what the ingest
service does per record: reads the fields it stores and sums the amounts.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import fixed120
from barcodes import cvs

JST = ZoneInfo("Asia/Tokyo")
CHANNELS = ("0010", "0020", "0030", "0050", "0080", "0820", "0780", "0800")
POOL = 50_000
"""Distinct barcodes generated (composing a check digit costs ~10 µs; a million would dominate the setup)."""


class Row(NamedTuple):
    """A light ``PaymentRecordLike`` for the writer."""

    kind_code: str
    barcode: str
    paid_at: datetime.datetime
    channel_code: str
    store_code: str
    transfer_date: datetime.date | None
    accounting_date: datetime.date | None
    capture_date: datetime.date | None


def rows(count: int) -> Iterator[Row]:
    """Synthetic records: three kinds, eight channels, payments spread over 30 days by the minute."""
    start = datetime.datetime(2026, 11, 1, 8, 0, tzinfo=JST)
    barcodes = [
        cvs.compose(
            issuer_prefix="912345",
            consignor_code="00123",
            payment_number=cvs.compose_payment_number(2026, 1 + i, 1 + i % 12),
            reissue_count=i % 3,
            expiry=datetime.date(2027, 1 + i % 12, 1 + i % 28),
            amount=1 + (i * 7919) % 300_000,
        )
        for i in range(POOL)
    ]
    minutes = 30 * 24 * 60
    times = [start + datetime.timedelta(minutes=m) for m in range(minutes)]  # built once, reused
    stores = [f"{(i * 7919) % 10_000_000:07d}" for i in range(20_000)]  # 20,000 stores
    captured = [(start + datetime.timedelta(days=d + 1)).date() for d in range(31)]  # the next day
    confirmed = [(start + datetime.timedelta(days=d + 9)).date() for d in range(31)]  # 9 days later
    for i in range(count):
        minute = (i * 37) % minutes
        kind = "02" if i % 3 == 1 else ("03" if i % 97 == 0 else "01")
        transfer = confirmed[minute // 1440] if kind == "02" else None
        channel = CHANNELS[i % len(CHANNELS)]
        yield Row(
            kind,
            barcodes[i % POOL],
            times[minute],
            channel,
            "0000000" if channel >= "0780" else stores[i % len(stores)],
            transfer,
            transfer,
            captured[minute // 1440],
        )


def parse_only(path: Path) -> None:
    """Child process: time the parse, print one line of results."""
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    adapter = fixed120.Adapter()
    count = total = 0
    began, began_cpu = time.perf_counter(), time.process_time()
    for record in adapter.parse(path):
        count += 1
        total += record.amount
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"parsed {count:,} records ({total:,} yen) in {elapsed:.2f} s ({cpu:.2f} s CPU): "
        f"{count / elapsed:,.0f} records/s; peak RSS {peak_kb / 1024:.1f} MiB "
        f"(after imports {baseline_kb / 1024:.1f} MiB); load average {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the file into this directory and keep it")
    parser.add_argument(
        "--repeat", type=int, default=3, help="parse this many times, each in a fresh process"
    )
    parser.add_argument("--parse", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.parse:
        parse_only(args.parse)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"bench-{args.records}.txt"
        began = time.perf_counter()
        with open(path, "wb", buffering=1 << 20) as out:
            totals = fixed120.write(
                out,
                created_on=datetime.date(2026, 12, 1),
                agent_code="12345",
                consignor_code="00123",
                consignor_name="ﾍﾞﾝﾁﾏｰｸ",
                records=rows(args.records),
            )
        elapsed = time.perf_counter() - began
        size = os.path.getsize(path)
        print(
            f"wrote {sum(totals.counts.values()):,} records ({size / 1e6:.1f} MB) in {elapsed:.2f} s "
            f"(includes generating {POOL:,} barcodes)"
        )
        for _ in range(args.repeat):
            subprocess.run([sys.executable, __file__, "--parse", str(path)], check=True)


if __name__ == "__main__":
    main()
