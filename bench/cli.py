"""Start-up time and peak memory of the ``gateway`` command line (issue 10, "Speed that a person feels").

Run from the repository root::

    .venv/bin/python -m bench.cli [--runs 9] [--warmup 1]

Sets up its own SQLite instance in a temporary folder (``gateway db upgrade``, then one synthetic claim with
``gateway claims create``), then starts each command ``--runs`` times in a fresh process (in rounds: one run
of each command per round), from that folder and without the caller's ``GATEWAY_*`` variables, and prints
the median, min and max of the wall time from start to exit and of the peak resident memory, with the goal
beside each:

- ``gateway --help``: goal median ≤ 0.3 s;
- ``gateway claims show C-1 --json``: goal median ≤ 0.6 s.

For reference it also times the interpreter alone and the imports no database command can avoid (SQLModel
and the gateway's models). It first compiles the project's modules (``compileall``), as installing a wheel
does; ``--no-bytecode`` skips that, so that with ``PYTHONDONTWRITEBYTECODE`` set (as in the development
sandbox) an editable install compiles them again at every start. The note under the table says which.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mib: float


def gateway_argv() -> list[str]:
    """The installed console script beside this interpreter, else the same entry point through ``-c``."""
    script = Path(sys.executable).with_name("gateway")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from gateway.cli import run; run()"]


def run_once(argv: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Start ``argv`` once: wall seconds to its exit, and its own peak resident memory (``wait4``)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.chdir(cwd)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
    finally:
        os.close(devnull)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}")
    return Run(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def measure(
    commands: list[list[str]], env: dict[str, str], cwd: Path, runs: int, warmup: int
) -> list[list[Run]]:
    """Each command ``runs`` times, in rounds (one run of each per round) so a drift of the machine's speed
    touches every command alike; ``warmup`` rounds first, not counted."""
    for _ in range(warmup):
        for argv in commands:
            run_once(argv, env, cwd)
    results: list[list[Run]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, runs_of in zip(commands, results, strict=True):
            runs_of.append(run_once(argv, env, cwd))
    return results


def row(label: str, results: list[Run], goal: float | None) -> str:
    times = [r.seconds for r in results]
    peaks = [r.peak_mib for r in results]
    median = statistics.median(times)
    verdict = "" if goal is None else f"goal ≤ {goal:.1f} s: {'met' if median <= goal else 'NOT met'}"
    return (
        f"{label:<36} {median:7.3f} {min(times):7.3f} {max(times):7.3f}   "
        f"{statistics.median(peaks):6.1f} {min(peaks):6.1f} {max(peaks):6.1f}   {verdict}"
    ).rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="counted runs of each command (default 9)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs first (default 1)")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="do not compile the project's modules first (with PYTHONDONTWRITEBYTECODE set, every start then "
        "compiles them again, as an editable install in this sandbox does)",
    )
    args = parser.parse_args()
    if not args.no_bytecode:
        # What installing a wheel (or any run without PYTHONDONTWRITEBYTECODE) leaves behind: the .pyc files.
        root = Path(__file__).resolve().parent.parent
        packages = [str(root / name) for name in ("gateway", "adapters", "barcodes", "reconciliation")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)

    gateway = gateway_argv()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(
            GATEWAY_INSTANCE_DIR=str(tmp / "instance"),
            GATEWAY_DATABASE_URL=f"sqlite:///{tmp / 'instance' / 'gateway.sqlite3'}",
            GATEWAY_SCHEDULER="0",
        )
        claim = ["--number", "C-1", "--legal-basis", "art63", "--amount", "12000", "--fiscal-year", "2026"]
        debtor = ["--debtor-ref", "D-1", "--debtor-name", "見本 一郎", "--postal-code", "999-0001"]
        address = ["--debtor-address", "見本県見本市1-1", "--decided-on", "2026-11-01"]
        setup = [["db", "upgrade"], ["claims", "create", *claim, *debtor, *address]]
        for command in setup:
            subprocess.run(gateway + command, env=env, cwd=tmp, check=True, capture_output=True)

        python = [sys.executable, "-c"]
        cases: list[tuple[str, list[str], float | None]] = [
            ("gateway --help", [*gateway, "--help"], 0.3),
            ("gateway claims show C-1 --json", [*gateway, "claims", "show", "C-1", "--json"], 0.6),
            ("(python -c pass)", [*python, "pass"], None),
            ("(python -c 'import sqlmodel')", [*python, "import sqlmodel"], None),
            ("(python -c 'import gateway.models')", [*python, "import gateway.models"], None),
        ]
        print(f"{args.runs} runs each after {args.warmup} warm-up; wall seconds from start to exit, peak RSS")
        print(f"{'command':<36} {'median':>7} {'min':>7} {'max':>7}   {'MiB':>6} {'min':>6} {'max':>6}")
        results = measure([argv for _, argv, _ in cases], env, tmp, args.runs, args.warmup)
        for (label, _, goal), runs_of in zip(cases, results, strict=True):
            print(row(label, runs_of, goal))
        if not args.no_bytecode:
            print(
                "note: the project's modules were compiled first (compileall), as an installed wheel has them"
            )
        elif env.get("PYTHONDONTWRITEBYTECODE"):
            print("note: PYTHONDONTWRITEBYTECODE is set: modules without a .pyc are compiled at every start")
        else:
            print("note: bytecode is cached as usual (the warm-up run writes what is missing)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
