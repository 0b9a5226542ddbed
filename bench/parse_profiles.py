"""Benchmark: the profile-compiled parsers beside the former hand-tuned ``fixed120``, in records/s.

Usage (from the repository root)::

    .venv/bin/python bench/parse_profiles.py [--records 100000] [--repeat 3]

Writes one ``fixed120`` file (``adapters.fixed120.write``) and one ``mizuho120`` file (the profile writer)
with the same synthetic records as ``bench/parse_fixed120.py``, then parses each in a fresh child process,
``--repeat`` times, and prints one line per parser:

* ``fixed120-handtuned`` — the hand-tuned parser ``adapters/fixed120.py`` had before profiles (kept as
  ``bench/fixed120_handtuned.py`` for this comparison);
* ``fixed120-profile`` — ``adapters.fixed120.Adapter``, now the parser compiled from ``fixed120.toml``;
* ``mizuho120-profile`` — the registered ``mizuho120`` adapter (compiled from ``mizuho120.toml``).

The consumer does what the ingest service does per record: reads the amount and sums it. The best of the
repeats is reported (the machine is shared; the worst runs measure the neighbours).
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters import BUILTIN_PROFILES
from adapters import fixed120
from adapters import profiles
from adapters.base import Adapter
from bench import fixed120_handtuned
from bench.parse_fixed120 import rows

PARSERS = ("fixed120-handtuned", "fixed120-profile", "mizuho120-profile")


def _adapter(which: str) -> Adapter:
    if which == "fixed120-handtuned":
        return fixed120_handtuned.Adapter()
    return BUILTIN_PROFILES[which.removesuffix("-profile")]()


def parse_only(which: str, path: Path) -> None:
    """Child process: time one parse, print ``records wall-seconds cpu-seconds``."""
    adapter = _adapter(which)
    count = total = 0
    began, began_cpu = time.perf_counter(), time.process_time()
    for record in adapter.parse(path):
        count += 1
        total += record.amount  # type: ignore[union-attr]
    print(count, time.perf_counter() - began, time.process_time() - began_cpu, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parse", nargs=2, metavar=("PARSER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse:
        parse_only(args.parse[0], Path(args.parse[1]))
        return
    header = {
        "created_on": datetime.date(2026, 12, 1),
        "agent_code": "12345",
        "consignor_code": "00123",
        "consignor_name": "ﾍﾞﾝﾁﾏｰｸ",
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = {"fixed120": Path(tmp) / "fixed120.txt", "mizuho120": Path(tmp) / "mizuho120.txt"}
        with open(files["fixed120"], "wb", buffering=1 << 20) as out:
            fixed120.write(out, records=rows(args.records), **header)  # type: ignore[arg-type]
        with open(files["mizuho120"], "wb", buffering=1 << 20) as out:
            profiles.write(BUILTIN_PROFILES["mizuho120"].profile, out, records=rows(args.records), **header)  # type: ignore[arg-type]
        print(
            f"{args.records:,} records per file; best of {args.repeat} runs, each in a fresh process; "
            "records/s of CPU time (fair on a busy machine) and of wall time"
        )
        results: dict[str, float] = {}
        for which in PARSERS:
            path = files[which.split("-")[0]]
            best_cpu = best_wall = 0.0
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--parse", which, str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.split()
                count, wall, cpu = int(out[0]), float(out[1]), float(out[2])
                assert count == args.records, (which, count)
                best_cpu, best_wall = max(best_cpu, count / cpu), max(best_wall, count / wall)
            results[which] = best_cpu
            ratio = best_cpu / results["fixed120-handtuned"]
            print(
                f"{which:<20} {best_cpu:>10,.0f} records/s CPU ({ratio:.2f}× the hand-tuned), "
                f"{best_wall:>10,.0f} records/s wall"
            )
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
