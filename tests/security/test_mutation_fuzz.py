"""Mutation fuzzing of every adapter's golden input through the ingest service (``ingest.ingest_file``).

Each mutant — a flipped byte, a deleted / duplicated / swapped line, a truncation, inserted non-ASCII, NUL
or CR bytes, a changed digit, a re-encoding — is either accepted cleanly (its figures add up to what the
database gained) or rejected with a typed, located error (``SettlementFileError`` naming a line or a field);
any other exception fails the test with the seed that reproduces it. A rejected mutant stores nothing: no
settlement file, record, batch, bank record or queue row — only its original in the archive (by design
every delivered file is archived before it is read, docs/settlements.md) and the audit event.

One database per adapter; invariants are checked between mutants instead of resetting.
``KONBINI_FUZZ_MUTANTS=N`` sets the number of mutants per adapter (default 1,000: the CI size); the seeds
are ``<adapter>-<i>``, so a failure names the mutant to replay.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters.errors import AmbiguousFileFormat
from adapters.errors import SettlementFileError
from adapters.errors import UnknownFileFormat
from gateway.intake import ingest
from tests.ingest.conftest import ADAPTER_DATA
from tests.ingest.conftest import SETTLEMENT_TABLES
from tests.ingest.conftest import add_agent

MUTANTS = int(os.environ.get("KONBINI_FUZZ_MUTANTS", "1000"))
GOLDEN = {
    "fixed120": ADAPTER_DATA / "fixed120" / "20261128_daily.txt",
    "dsk_csv": ADAPTER_DATA / "dsk_csv" / "20261128_daily.csv",
    "zengin_transfer": ADAPTER_DATA / "zengin_transfer" / "20261204_transfer.txt",
    "zengin_statement": ADAPTER_DATA / "zengin_statement" / "20261204_statement.txt",
    "bank_counter": ADAPTER_DATA / "bank_counter" / "20261204_counter.csv",
    "mizuho120": ADAPTER_DATA / "mizuho120" / "20261128_daily.txt",
}
ODD_BYTES = (
    b"\x00",
    b"\r",
    b"\n",
    b"\r\n",
    b"\xff",
    b"\x81",
    "全".encode(),
    "ｱ".encode("cp932"),
    b",",
    b'"',
    b" ",
)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def _flip(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1 :]


def _delete_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def _duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines.insert(rng.randrange(len(lines) + 1), lines[i])
    return b"".join(lines)


def _swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _insert(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(ODD_BYTES) + data[i:]


def _replace(rng: random.Random, data: bytes) -> bytes:
    odd = rng.choice(ODD_BYTES)
    i = rng.randrange(len(data))
    return data[:i] + odd + data[i + len(odd) :]


def _digit(rng: random.Random, data: bytes) -> bytes:
    positions = [i for i, b in enumerate(data) if 0x30 <= b <= 0x39]
    if not positions:
        return _flip(rng, data)
    i = rng.choice(positions)
    return data[:i] + str((data[i] - 0x30 + rng.randrange(1, 10)) % 10).encode() + data[i + 1 :]


def _encoding(rng: random.Random, data: bytes) -> bytes:
    for source in ("cp932", "utf-8-sig", "utf-8"):
        try:
            text = data.decode(source)
            break
        except UnicodeDecodeError:
            continue
    else:
        return data[::-1]
    target = rng.choice(("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "euc_jp", "cp932", "iso2022_jp"))
    return text.encode(target, errors="replace")


def _line_ending(rng: random.Random, data: bytes) -> bytes:
    if b"\r\n" in data:
        return data.replace(b"\r\n", rng.choice((b"\n", b"\r", b"\n\r", b"")))
    return data.replace(b"\n", rng.choice((b"\r\n", b"\r", b"")))


MUTATIONS: tuple[Callable[[random.Random, bytes], bytes], ...] = (
    _flip,
    _delete_line,
    _duplicate_line,
    _swap_lines,
    _truncate,
    _insert,
    _replace,
    _digit,
    _digit,  # amounts and counts are the likeliest to slip through: twice the weight
    _encoding,
    _line_ending,
)


def mutant(golden: bytes, seed: str) -> bytes:
    """One to three mutations of ``golden``, chosen by ``seed``."""
    rng = random.Random(seed)
    data = golden
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not data:
            break
        data = rng.choice(MUTATIONS)(rng, data)
    return data


def _archive_files(root: Path, sha: str | None = None) -> set[str]:
    """The archive's files — all of them, or (cheaper, between mutants) those of ``sha``'s folder."""
    where = root / sha[:2] if sha else root
    return {str(p.relative_to(root)) for p in where.rglob("*") if p.is_file()} if where.exists() else set()


def _counts(ctx) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ctx.session.commit()
    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in SETTLEMENT_TABLES)
    return {name: int(n) for name, n in ctx.session.execute(sa.text(sql)).all()}


@pytest.mark.parametrize("adapter", sorted(GOLDEN))
def test_every_mutant_is_accepted_cleanly_or_rejected_located_storing_nothing(
    ctx, settings, tmp_path, monkeypatch, adapter
):
    # Durability is the crash tests' subject, not this one's: without fsync a mutant costs half as much.
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    add_agent(ctx)  # 12345 / consignor 00123, configured for fixed120 and dsk_csv (the golden files' agent)
    golden = GOLDEN[adapter].read_bytes()
    archive_root = Path(settings.archive_dir)
    work = tmp_path / "mutant"
    outcomes: dict[str, int] = {"accepted": 0, "duplicate_file": 0, "rejected": 0}
    before, delivered = _counts(ctx), set()
    for i in range(MUTANTS):
        seed = f"{adapter}-{i}"
        data = mutant(golden, seed)
        work.write_bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        archived = _archive_files(archive_root, sha)
        try:
            result = ingest.ingest_file(ctx, work, original_name=f"{seed}.dat")
        except Exception as ex:  # the finding: an untyped failure
            raise AssertionError(f"mutant {seed} raised {type(ex).__name__}: {ex}") from ex
        outcomes[result.status] += 1
        after = _counts(ctx)
        # every delivered file is archived, once, under its own hash (and nothing else appears beside it)
        assert _archive_files(archive_root, sha) == archived | {f"{sha[:2]}/{sha}.kga"}, seed
        delivered.add(f"{sha[:2]}/{sha}.kga")
        if result.status == "rejected":
            assert isinstance(result.exception, SettlementFileError), seed
            assert result.error is not None, seed
            # located: a line or a field — or, when no adapter (or more than one) claims the file, the whole
            # file, which is what the typed UnknownFileFormat / AmbiguousFileFormat say
            whole_file = isinstance(result.exception, UnknownFileFormat | AmbiguousFileFormat)
            located = result.error["line"] is not None or result.error["field"] is not None
            assert located or whole_file, (seed, type(result.exception).__name__, result.error)
            assert after == before, (seed, result.error)
        elif result.status == "duplicate_file":
            assert after == before, seed
        else:
            assert result.status == "accepted", seed
            assert after["settlement_files"] == before["settlement_files"] + 1, seed
            payment_formats = ("fixed120", "dsk_csv", "bank_counter", "mizuho120")
            table = "settlement_records" if result.adapter in payment_formats else "bank_records"
            assert after[table] == before[table] + result.new_records, seed
            assert result.new_records + result.duplicate_records == result.records, seed
        before = after
    assert _archive_files(archive_root) == delivered  # no temporary or stray file anywhere
    assert sum(outcomes.values()) == MUTANTS
    assert outcomes["rejected"] > MUTANTS // 2, outcomes  # the mutants do reach the checks
    print(f"{adapter}: {MUTANTS} mutants {outcomes}")


def test_a_row_that_is_not_csv_in_the_head_of_a_dsk_file_is_located(ctx, tmp_path):
    """Found by the fuzzer (mutant ``dsk_csv-157``): a broken quote in the first data row, read while
    identifying the agent, was rejected without a line."""
    add_agent(ctx)
    lines = GOLDEN["dsk_csv"].read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b",", b',"', 1)
    path = tmp_path / "broken-quote.csv"
    path.write_bytes(b"".join(lines))

    result = ingest.ingest_file(ctx, path)

    assert result.status == "rejected"
    assert result.error is not None and result.error["line"] == 2, result.error
    assert "is not valid CSV" in result.error["message"]
