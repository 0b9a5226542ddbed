"""Personal data at rest: after a whole day with distinctive synthetic debtors — claims import, slip issue,
print batch, ingest and reconciliation, the staff pages (name search, claim page) and the API — no file the
gateway wrote holds a debtor value in clear, in UTF-8, cp932 (Shift_JIS), UTF-16-LE or UTF-16-BE, and no
log line does either.

Searched: every file under the test's folder that the gateway wrote — the SQLite database and its -wal and
-shm files (read while the connections are open), the archive, the instance folder (keys, session files),
the inbox — and the captured log records. Not searched, on purpose:

* the print-batch output (PDF and manifest): a printed letter carries the debtor's name and address by
  design — it is what the enveloping contractor mails (it is written owner-only; tests/test_print_batch.py);
* the test's own inputs (the claims CSV the welfare system delivers, the settlement file).

On PostgreSQL the same day is checked in a dump of the test database (``pg_dump`` when installed, else every
table copied out with ``COPY … TO STDOUT``), besides the files.
"""

from __future__ import annotations

import datetime
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.intake import inbox
from gateway.issuing import claims as claim_service
from gateway.issuing import printing
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.helpers import fixed120_record
from tests.helpers import write_fixed120
from tests.ingest.conftest import add_agent
from tests.pages import pagetools

JST = datetime.timezone(datetime.timedelta(hours=9))
HEADER = (
    "number,legal_basis,amount,fiscal_year,debtor_ref,debtor_name,debtor_kana,postal_code,debtor_address,"
    "decided_on,assessment_number,assessment_date,revenue_item\n"
)
DEBTORS = (
    (
        "R08-70001",
        "DREF-7Q3Z9K",
        "試験 漢字太郎",
        "シケン カンジタロウ",
        "999-8642",
        "見本県見本市1-2-3 試験荘101",
    ),
    (
        "R08-70002",
        "DREF-X8W4M2",
        "見本 寿限無子",
        "ミホン ジュゲムコ",
        "999-8643",
        "見本県見本町大字見本9876番地",
    ),
)
#: What must never be found in clear: every value, and the distinctive parts a store might split out.
SECRETS = sorted(
    {v for d in DEBTORS for v in d[1:]}
    | {"漢字太郎", "カンジタロウ", "ｶﾝｼﾞﾀﾛｳ", "ｼｹﾝ ｶﾝｼﾞﾀﾛｳ", "かんじたろう", "寿限無子", "ジュゲムコ", "ｼﾞｭｹﾞﾑｺ"}
    | {"試験荘101", "見本町大字見本9876番地", "9998642", "9998643", "7Q3Z9K", "X8W4M2"}
)
ENCODINGS = ("utf-8", "cp932", "utf-16-le", "utf-16-be")


def _needles() -> list[tuple[str, str, bytes]]:
    found = []
    for value in SECRETS:
        for encoding in ENCODINGS:
            try:
                found.append((value, encoding, value.encode(encoding)))
            except UnicodeEncodeError:
                continue
    return found


NEEDLES = _needles()


def _hits(data: bytes) -> list[tuple[str, str]]:
    return [(value, encoding) for value, encoding, needle in NEEDLES if needle in data]


def _day(ctx, app, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """The whole day; returns the print-batch folder (excluded from the search)."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    rows = [
        f"{n},art63,12000,2026,{ref},{name},{kana},{postal},{address},2026-10-01,2026-{i:04d},2026-10-01,返還金\n"
        for i, (n, ref, name, kana, postal, address) in enumerate(DEBTORS, 1)
    ]
    raw = (HEADER + "".join(rows)).encode("utf-8")
    (inputs / "claims.csv").write_bytes(raw)
    imported = claim_service.import_claims(ctx, raw, "claims.csv")
    assert imported.created == len(DEBTORS), imported
    slips = [
        slip_service.issue_slips(ctx, n, slip_service.Plan(first_due_date=datetime.date(2026, 12, 15)))[0]
        for n, *_ in DEBTORS
    ]
    printed = tmp_path / "print-out"
    printing.print_batch(ctx, printed)

    add_agent(ctx, adapters=("fixed120",))
    paid = datetime.datetime(2026, 11, 26, 14, 32, tzinfo=JST)
    records = [fixed120_record("01", s.barcode, paid) for s in slips]
    settlement = write_fixed120(inputs / "agent.dat", records, created_on=datetime.date(2026, 11, 27))
    # through the inbox, as the scheduler does: it logs what it takes in, so the log search below reads the
    # gateway's own log lines
    inbox_dir = Path(ctx.settings.inbox_dir)
    inbox_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settlement, inbox_dir / settlement.name)
    (inbox_dir / f"{settlement.name}{inbox.MARKER_SUFFIX}").touch()
    assert inbox.scan(ctx)["ingested"] == 1
    assert reconcile.run(ctx).matched == len(DEBTORS)

    # staff pages: the name search (kanji, kana, half-width kana), the debtor reference, the claim page
    finance = pagetools.sign_in(app, ctx, "finance", "pii-finance")
    for query in ("試験 漢字太郎", "シケン カンジタロウ", "ｼｹﾝ ｶﾝｼﾞﾀﾛｳ", "DREF-7Q3Z9K", "寿限無子"):
        page = finance.get("/staff/claims", query_string={"q": query})
        assert page.status_code == 200
    shown = finance.get("/staff/claims/R08-70001").get_data(as_text=True)
    assert "漢字太郎" in shown  # finance sees the name: the search is about what is kept, not what is shown
    # the API
    from gateway.access import users

    users.create_user(ctx, "pii-api", "finance")
    headers = {"Authorization": f"Bearer {users.issue_token(ctx, 'pii-api')}"}
    client = app.test_client()
    doc = client.get("/api/v1/claims/R08-70002", headers=headers)
    assert doc.status_code == 200 and doc.json["debtor"]["name"] == "見本 寿限無子"
    assert client.get("/api/v1/claims", query_string={"q": "寿限無子"}, headers=headers).status_code == 200
    ctx.session.commit()
    return printed


def _written_files(tmp_path: Path, excluded: tuple[Path, ...]) -> list[Path]:
    return sorted(
        p for p in tmp_path.rglob("*") if p.is_file() and not any(p.is_relative_to(e) for e in excluded)
    )


def test_no_debtor_value_is_stored_or_logged_in_clear(
    ctx, app, settings, db_url, is_postgres, tmp_path, caplog
):
    # The gateway's logger has its own level (GATEWAY_LOG_LEVEL): capture everything the day logs.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="gateway")
    printed = _day(ctx, app, tmp_path)
    # the excluded output holds the names, by design — which also shows the search finds what is there
    assert any(_hits(p.read_bytes()) for p in printed.rglob("*") if p.is_file())

    files = _written_files(tmp_path, (printed, tmp_path / "inputs"))
    names = {p.name for p in files}
    if not is_postgres:
        assert "gateway.sqlite3" in names
        assert "gateway.sqlite3-wal" in names  # read while the connections are open: the WAL is searched
    assert any(p.is_relative_to(Path(settings.archive_dir)) for p in files)
    found = {str(p.relative_to(tmp_path)): hits for p in files if (hits := _hits(p.read_bytes()))}
    assert found == {}

    logged = "\n".join(r.getMessage() + repr(r.args) + repr(vars(r)) for r in caplog.records)
    # the day did log through the gateway's loggers (the inbox), so the search below reads real log lines
    assert any(r.name.startswith("gateway") for r in caplog.records)
    assert [value for value in SECRETS if value in logged] == []

    if is_postgres:
        dump = _pg_dump(db_url)
        assert "debtors" in dump.decode("utf-8", "replace")  # the dump holds the tables
        assert _hits(dump) == []


def _pg_dump(db_url: str) -> bytes:
    """The test database as text: ``pg_dump`` when installed, else every table through ``COPY``."""
    url = sa.engine.make_url(db_url)
    binary = shutil.which("pg_dump")
    if binary is not None:
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run([binary, "--no-owner", plain], capture_output=True, check=False, timeout=120)
        if done.returncode == 0:  # a client older than the server refuses: fall back to COPY
            return done.stdout
    engine = sa.create_engine(db_url)
    out = bytearray()
    try:
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            assert driver is not None
            tables = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            for table in list(tables):
                out += f"-- {table}\n".encode()
                with driver.cursor() as cur, cur.copy(f'COPY "{table}" TO STDOUT') as copy:
                    for block in copy:
                        out += bytes(block)
    finally:
        engine.dispose()
    return bytes(out)


@pytest.mark.parametrize("value", ["試験 漢字太郎", "ｼｹﾝ ｶﾝｼﾞﾀﾛｳ"])
def test_the_search_finds_each_encoding_of_a_value(value):
    """The detector itself: a value written in any of the four encodings is found."""
    for encoding in ENCODINGS:
        assert (value, encoding) in _hits(b"\x00junk" + value.encode(encoding) + b"junk\xff")
