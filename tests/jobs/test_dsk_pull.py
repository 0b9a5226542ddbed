"""The DSK pull (``"kind": "dsk_pull"``): a form POST per Japan day to a local HTTPS stand-in for DSK's
収納データPOST方式取得, with the real ingest (and reconciliation), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapters import dsk_csv
from gateway.access import agents as agent_service
from gateway.cli import main
from gateway.config import Settings
from gateway.context import Context
from gateway.errors import ConfigError
from gateway.intake import fetch
from gateway.issuing import slips as slip_service
from gateway.money import reconcile
from tests.helpers import make_claim
from tests.jobs.dsk_server import DskServer
from tests.jobs.dsk_server import dsk_serving
from tests.jobs.https_server import CertFiles
from tests.jobs.https_server import Reply

DATA = Path(__file__).parents[1] / "data" / "fetch" / "dsk_pull"
ADAPTER_DATA = Path(__file__).parents[1] / "data" / "adapters" / "dsk_csv"
ENV = {"DSK_USER_ID": "office-0001", "DSK_PASSWORD": "pa55-w0rd", "DSK_TOKEN": "t0ken"}
FORM_AUTH = {"type": "form", "user_id_env": "DSK_USER_ID", "password_env": "DSK_PASSWORD"}
JST = datetime.timezone(datetime.timedelta(hours=9))
HEADER_ONLY = (DATA / "20261124.csv").read_bytes()


@pytest.fixture
def dsk(certs: CertFiles) -> Iterator[DskServer]:
    with dsk_serving(certs) as server:
        yield server


def add_dsk_agent(ctx: Context, **options: str) -> None:
    agent_service.add_agent(
        ctx,
        agent_service.AgentInput(
            code="12345",
            name="見本収納代行",
            adapters=("dsk_csv",),
            channels=("0010", "0020", "0820"),
            adapter_options={"dsk_csv": dict(options)} if options else None,
        ),
    )
    ctx.session.commit()


def config(dsk: DskServer, certs: CertFiles, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "dsk",
        "kind": "dsk_pull",
        "url": dsk.url,
        "agent": "12345",
        "auth": FORM_AUTH,
        "verify": str(certs.ca_pem),
        "days_back": 3,
        "retries": 2,
        "backoff_factor": 0,
        "timeout": {"connect": 2, "read": 2},
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def run(ctx: Context, *configs: dict[str, Any], **options: Any) -> dict[str, Any]:
    sources = fetch.parse_sources({"sources": list(configs)}, base_dir=Path("/"))
    return fetch.fetch_all(ctx, sources, environ=ENV, **options)


def serve_golden(dsk: DskServer) -> None:
    for path in sorted(DATA.glob("*.csv")):
        dsk.day(path.stem, Reply(200, path.read_bytes(), {"Content-Type": "text/csv; charset=Shift_JIS"}))


def fetched(ctx: Context) -> list[tuple[str, str, str]]:
    ctx.session.commit()
    table = fetch.FETCHED
    rows = ctx.session.execute(sa.select(table.c.name, table.c.status, table.c.sha256).order_by(table.c.name))
    return [(name, status, sha) for name, status, sha in rows]


def count(ctx: Context, table: str) -> int:
    ctx.session.commit()
    return int(ctx.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_golden_days_are_pulled_ingested_and_remembered(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx, record_type_81="skip")
    serve_golden(dsk)
    expected = json.loads((DATA / "expected.json").read_text(encoding="utf-8"))
    (src,) = run(ctx, config(dsk, certs))["sources"]
    for doc in src["files"]:
        stem = doc["file"].removeprefix("dsk-").removesuffix(".csv")
        assert doc.pop("sha256") == sha((DATA / f"{stem}.csv").read_bytes())
    assert src == expected["source"]
    rows = fetched(ctx)
    assert [[name, status] for name, status, _ in rows] == expected["fetched_files"]
    assert rows[0][2] == sha(HEADER_ONLY)
    assert count(ctx, "settlement_records") == expected["settlement_records"]
    assert count(ctx, "settlement_files") == 2
    assert dsk.asked() == ["20261124", "20261125", "20261126"]


def test_each_request_is_a_form_post_of_one_day_with_the_credentials(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    dsk.default = Reply(200, HEADER_ONLY)
    run(ctx, config(dsk, certs, days_back=1))
    (request,) = dsk.requests
    assert (request.method, request.path) == ("POST", "/CVS001_055/CVS055_4203.php")
    assert request.form == {
        "USER_ID": "office-0001",
        "PW": "pa55-w0rd",
        "FROM_DATE": "20261126",
        "TO_DATE": "20261127",  # the public client requires FROM_DATE < TO_DATE
    }
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"] == fetch.USER_AGENT
    assert "authorization" not in request.headers


def test_range_end_same_day(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    add_dsk_agent(ctx)
    dsk.default = Reply(200, HEADER_ONLY)
    run(ctx, config(dsk, certs, days_back=1, range_end="same_day"))
    assert (dsk.requests[0].form["FROM_DATE"], dsk.requests[0].form["TO_DATE"]) == ("20261126", "20261126")


def test_a_bearer_token_goes_in_the_authorization_header(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    dsk.default = Reply(200, HEADER_ONLY)
    run(ctx, config(dsk, certs, days_back=1, auth={"type": "bearer", "token_env": "DSK_TOKEN"}))
    (request,) = dsk.requests
    assert request.headers["authorization"] == "Bearer t0ken"
    assert set(request.form) == {"FROM_DATE", "TO_DATE"}


def test_a_rerun_fetches_nothing_new(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    add_dsk_agent(ctx, record_type_81="skip")
    serve_golden(dsk)
    run(ctx, config(dsk, certs))
    files_before, rows_before = count(ctx, "settlement_files"), fetched(ctx)
    dsk.requests.clear()
    (src,) = run(ctx, config(dsk, certs))["sources"]
    # Only the latest repull_days (default 2) are asked again; the same answers change nothing.
    assert dsk.asked() == ["20261125", "20261126"]
    assert (src["new"], src["files"], src["unchanged"], src["empty"]) == (
        2,
        [],
        ["dsk-20261125.csv", "dsk-20261126.csv"],
        [],
    )
    assert count(ctx, "settlement_files") == files_before
    assert fetched(ctx) == rows_before
    dsk.requests.clear()
    (src,) = run(ctx, config(dsk, certs, repull_days=0))["sources"]
    assert (dsk.asked(), src["new"]) == ([], 0)


def test_a_later_answer_with_more_records_is_ingested_known_records_as_duplicates(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx, record_type_81="skip")
    serve_golden(dsk)
    run(ctx, config(dsk, certs))
    later = (
        (DATA / "20261125.csv").read_bytes()
        + (DATA / "20261126.csv").read_bytes().split(b"\r\n")[4]
        + b"\r\n"
    )
    dsk.day("20261125", Reply(200, later))
    (src,) = run(ctx, config(dsk, certs))["sources"]
    (doc,) = src["files"]
    assert (doc["file"], doc["status"], doc["records"], doc["new_records"], doc["duplicate_records"]) == (
        "dsk-20261125.csv",
        "accepted",
        3,
        0,
        3,
    )
    assert count(ctx, "settlement_records") == 4
    assert ("dsk-20261125.csv", "accepted", sha(later)) in fetched(ctx)


def test_a_5xx_answer_is_retried(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    add_dsk_agent(ctx)
    dsk.day("20261126", Reply(503), Reply(502), Reply(200, (DATA / "20261125.csv").read_bytes()))
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    assert (src["error"], src["failed"]) == (None, [])
    assert [d["status"] for d in src["files"]] == ["accepted"]
    assert dsk.asked() == ["20261126"] * 3


def test_retries_give_up_and_the_day_is_asked_again_next_time(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    dsk.day("20261126", Reply(503))
    (src,) = run(ctx, config(dsk, certs, days_back=1, retries=1))["sources"]
    (failure,) = src["failed"]
    assert failure["name"] == "dsk-20261126.csv"
    assert "503" in failure["error"]
    assert fetched(ctx) == []
    dsk.day("20261126", Reply(200, HEADER_ONLY))
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    assert src["empty"] == ["dsk-20261126.csv"]


def test_a_timeout_fails_the_source_and_the_others_go_on(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    dsk.day("20261125", Reply(200, HEADER_ONLY, delay=5))
    dsk.default = Reply(200, HEADER_ONLY)
    slow = config(dsk, certs, days_back=2, retries=0, timeout={"connect": 2, "read": 0.3})
    other = config(dsk, certs, name="dsk-b", days_back=1)
    first, second = run(ctx, slow, other)["sources"]
    assert first["error"] is not None and "timed out" in first["error"]
    assert first["files"] == first["empty"] == []
    assert (second["error"], second["empty"]) == (None, ["dsk-20261126.csv"])
    assert [name for name, _, _ in fetched(ctx)] == ["dsk-20261126.csv"]  # source dsk-b only


def test_a_dsk_error_answer_is_a_failed_day_naming_the_message(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    answer = (
        "error:\r\nシステム連携収納データダウンロード(CVS055_4203)にエラーが発生しました。\r\n"
        "日時：2026/11/27 10:00:00\r\n"
        "エラー状況：ユーザID・パスワード・リモートアドレスの相違により認証に失敗しました。"
    ).encode("cp932")
    add_dsk_agent(ctx)
    dsk.default = Reply(200, answer)
    (src,) = run(ctx, config(dsk, certs, days_back=2))["sources"]
    assert [f["name"] for f in src["failed"]] == ["dsk-20261125.csv", "dsk-20261126.csv"]
    assert "認証に失敗しました" in src["failed"][0]["error"]
    assert "pa55-w0rd" not in json.dumps(src, ensure_ascii=False)
    assert (fetched(ctx), count(ctx, "settlement_files")) == ([], 0)


def test_an_empty_answer_is_a_failed_day(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    add_dsk_agent(ctx)
    dsk.default = Reply(200, b"")
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    assert [f["name"] for f in src["failed"]] == ["dsk-20261126.csv"]
    assert fetched(ctx) == []


def test_a_redirect_is_not_followed(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    """The form may carry the credentials: a 307 must not carry them on to another place."""
    add_dsk_agent(ctx)
    dsk.default = Reply(307, b"", {"Location": "https://127.0.0.1:1/elsewhere"})
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    assert "307" in src["failed"][0]["error"]
    assert len(dsk.requests) == 1


def test_a_bad_csv_is_rejected_with_a_located_error_and_nothing_stored(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    bad = (ADAPTER_DATA / "bad-check-digit.csv").read_bytes()
    expected = json.loads((ADAPTER_DATA / "bad-check-digit.csv.error.json").read_text())
    dsk.day("20261126", Reply(200, bad))
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    (doc,) = src["files"]
    assert doc["status"] == "rejected"
    assert (doc["error"]["line"], doc["error"]["field"]) == (expected["line_no"], expected["field"])
    assert "dsk-20261126.csv" in doc["error"]["message"]
    assert (count(ctx, "settlement_files"), count(ctx, "settlement_records")) == (0, 0)
    assert [(n, s) for n, s, _ in fetched(ctx)] == [("dsk-20261126.csv", "rejected")]
    # Not asked again at every run (it would only be rejected again) …
    dsk.requests.clear()
    run(ctx, config(dsk, certs, days_back=1))
    assert dsk.asked() == []
    # … but on request, once the cause is fixed.
    dsk.day("20261126", Reply(200, (DATA / "20261125.csv").read_bytes()))
    (src,) = run(ctx, config(dsk, certs, days_back=1), retry_rejected=True)["sources"]
    assert [d["status"] for d in src["files"]] == ["accepted"]


def test_a_type_81_day_is_rejected_by_default_and_accepted_with_skip(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    dsk.day("20261126", Reply(200, (DATA / "20261126.csv").read_bytes()))
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    (doc,) = src["files"]
    assert (doc["status"], doc["error"]["line"], doc["error"]["field"]) == ("rejected", 4, "kind")
    assert count(ctx, "settlement_records") == 0
    agent_service.set_adapter_options(ctx, "12345", {"dsk_csv": {"record_type_81": "skip"}})
    ctx.session.commit()
    (src,) = run(ctx, config(dsk, certs, days_back=1), retry_rejected=True)["sources"]
    (doc,) = src["files"]
    assert (doc["status"], doc["records"], doc["skipped"]) == (
        "accepted",
        3,
        {"81": {"records": 1, "lines": [4]}},
    )


def test_pulled_payments_reconcile_against_the_slip(ctx: Context, dsk: DskServer, certs: CertFiles) -> None:
    add_dsk_agent(ctx)
    make_claim(ctx, amount=12_000)
    (slip,) = slip_service.issue_slips(
        ctx, "T-0001", slip_service.Plan(first_due_date=datetime.date(2026, 12, 15))
    )
    ctx.session.commit()
    paid = datetime.datetime(2026, 11, 26, 14, 32, tzinfo=JST)
    row = _record(slip.barcode, paid)
    out = io.BytesIO()
    dsk_csv.write(out, [row])
    dsk.day("20261126", Reply(200, out.getvalue()))
    (src,) = run(ctx, config(dsk, certs, days_back=1))["sources"]
    assert [(d["status"], d["new_records"]) for d in src["files"]] == [("accepted", 1)]
    assert reconcile.run(ctx, datetime.date(2026, 11, 27)).matched == 1


def _record(barcode: str, paid: datetime.datetime) -> Any:
    return types.SimpleNamespace(
        kind_code="01",
        barcode=barcode,
        paid_at=paid,
        channel_code="0020",
        store_code="110002",
        transfer_date=None,
        capture_date=paid.date(),
    )


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"agent": None}, "agent"),
        ({"adapter": "fixed120"}, "adapter"),
        ({"days_back": 0}, "days_back"),
        ({"days_back": 63}, "days_back"),
        ({"days_back": True}, "days_back"),
        ({"repull_days": 4}, "repull_days"),
        ({"range_end": "inclusive"}, "range_end"),
        ({"kind": "dsk"}, "kind"),
        ({"url": "http://ec-web.example/CVS055_4203.php"}, "url"),
        ({"auth": {"type": "form", "user_id_env": "DSK_USER_ID", "password": "x"}}, "auth.password"),
    ],
)
def test_invalid_dsk_sources_are_config_errors_naming_the_key(
    changes: dict[str, Any], key: str, certs: CertFiles
) -> None:
    doc = {
        "name": "dsk",
        "kind": "dsk_pull",
        "url": "https://ec-web.example/CVS001_055/CVS055_4203.php",
        "agent": "12345",
        "auth": FORM_AUTH,
        "days_back": 3,
    }
    doc.update(changes)
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(ConfigError) as raised:
        fetch.parse_sources([doc], base_dir=Path("/"))
    assert raised.value.field == key


@pytest.mark.parametrize(
    "changes",
    [{"days_back": 3}, {"range_end": "same_day"}, {"auth": FORM_AUTH}],
)
def test_dsk_keys_are_refused_on_a_listing_source(changes: dict[str, Any]) -> None:
    doc = {"name": "list", "url": "https://files.example/list", **changes}
    with pytest.raises(ConfigError):
        fetch.parse_sources([doc], base_dir=Path("/"))


def test_defaults_of_a_dsk_source() -> None:
    (source,) = fetch.parse_sources(
        [{"name": "dsk", "kind": "dsk_pull", "url": "https://ec-web.example/x.php", "agent": "12345"}],
        base_dir=Path("/"),
    )
    assert (source.days_back, source.repull_days, source.range_end, source.adapter) == (
        7,
        2,
        "next_day",
        "dsk_csv",
    )
    assert fetch.dsk_days(source, datetime.date(2026, 11, 27))[0] == datetime.date(2026, 11, 20)
    assert fetch.dsk_days(source, datetime.date(2026, 11, 27))[-1] == datetime.date(2026, 11, 26)


def test_cli_fetch_of_a_dsk_source_exits_65_on_a_rejected_day(
    ctx: Context,
    dsk: DskServer,
    certs: CertFiles,
    tmp_path: Path,
    cli_env: dict[str, str],
    settings: Settings,
) -> None:
    import gateway.cli.fetch  # noqa: F401  (registers the command, as in tests/jobs/test_fetch.py)

    add_dsk_agent(ctx)
    # The command runs on the real clock: every day answers the type-81 file (refused by default).
    dsk.default = Reply(200, (DATA / "20261126.csv").read_bytes())
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps({"sources": [config(dsk, certs, days_back=1)]}))
    result = CliRunner().invoke(
        main,
        ["settlements", "fetch", "--json"],
        env={**cli_env, **ENV, "GATEWAY_FETCH_SOURCES": str(sources)},
        catch_exceptions=False,
    )
    assert result.exit_code == 65, result.output
    (src,) = json.loads(result.stdout)["sources"]
    (doc,) = src["files"]
    assert (doc["status"], doc["error"]["line"], doc["error"]["field"]) == ("rejected", 4, "kind")
    assert doc["file"].startswith("dsk-") and doc["file"] in result.stderr


def test_a_missing_credential_variable_fails_the_source_before_anything_is_sent(
    ctx: Context, dsk: DskServer, certs: CertFiles
) -> None:
    add_dsk_agent(ctx)
    auth = {"type": "form", "user_id_env": "DSK_USER_ID", "password_env": "DSK_NOT_SET"}
    (src,) = run(ctx, config(dsk, certs, auth=auth))["sources"]
    assert src["error"] is not None and "DSK_NOT_SET" in src["error"]
    assert dsk.requests == []
