"""``settlements fetch`` against a local HTTPS server (never the internet): listing, download, checks,
retries, timeouts, credentials, bookkeeping, the CLI and the job."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from gateway import jobs
from gateway.cli import main
from gateway.config import Settings
from gateway.context import Context
from gateway.errors import ConfigError
from gateway.intake import fetch
from gateway.models import SettlementFile
from gateway.runtime import Runtime
from tests.jobs.conftest import FakeIngest
from tests.jobs.conftest import run_rows
from tests.jobs.https_server import CertFiles
from tests.jobs.https_server import Reply
from tests.jobs.https_server import Server
from tests.jobs.https_server import serving

TOKEN = "t0ken-for-tests"
ENV = {"AGENT_TOKEN": TOKEN, "AGENT_USER": "office", "AGENT_PASSWORD": "pa55"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(*entries: dict[str, Any]) -> Reply:
    return Reply(200, json.dumps(list(entries)).encode(), {"Content-Type": "application/json"})


def entry(name: str, data: bytes, *, url: str | None = None, checks: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": name, "url": url or f"/files/{name}"}
    if checks:
        doc.update(sha256=sha(data), size=len(data))
    return doc


def source_config(server: Server, certs: CertFiles, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "agent-a",
        "url": f"{server.base}/list",
        "agent": "12345",
        "auth": {"type": "bearer", "token_env": "AGENT_TOKEN"},
        "verify": str(certs.ca_pem),
        "retries": 2,
        "backoff_factor": 0,
        "timeout": {"connect": 2, "read": 2},
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def sources(*configs: dict[str, Any]) -> list[fetch.Source]:
    return fetch.parse_sources({"sources": list(configs)}, base_dir=Path("/"))


def run(ctx: Context, *configs: dict[str, Any], **options: Any) -> dict[str, Any]:
    return fetch.fetch_all(ctx, sources(*configs), environ=ENV, **options)


def fetched_rows(ctx: Context) -> list[dict[str, Any]]:
    ctx.session.commit()
    table = fetch.FETCHED
    return [dict(r) for r in ctx.session.execute(sa.select(table).order_by(table.c.id)).mappings()]


def test_new_files_are_listed_downloaded_ingested_and_recorded(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest, settings: Settings
) -> None:
    a, b = b"file a\r\n", b"file b\r\n"
    server.route("/list", listing(entry("a.txt", a), entry("b.csv", b, checks=False)))
    server.route("/files/a.txt", Reply(200, a))
    server.route("/files/b.csv", Reply(200, b))
    result = run(ctx, source_config(server, certs))
    (src,) = result["sources"]
    assert (src["name"], src["listed"], src["new"], src["error"], src["failed"]) == (
        "agent-a",
        2,
        2,
        None,
        [],
    )
    assert [(d["file"], d["status"]) for d in src["files"]] == [("a.txt", "accepted"), ("b.csv", "accepted")]
    assert [c["data"] for c in fake_ingest.calls] == [a, b]
    call = fake_ingest.calls[0]
    assert (call["source"], call["original_name"], call["agent_code"], call["adapter"]) == (
        "fetch",
        "a.txt",
        "12345",
        None,
    )
    # Downloaded into the instance folder, and removed once ingested (the archive keeps the original).
    assert call["path"].parent == Path(settings.instance_dir) / "fetch"
    assert not call["path"].exists()
    rows = fetched_rows(ctx)
    assert [(r["source"], r["name"], r["sha256"], r["size"], r["status"]) for r in rows] == [
        ("agent-a", "a.txt", sha(a), len(a), "accepted"),
        ("agent-a", "b.csv", sha(b), len(b), "accepted"),
    ]
    assert rows[0]["fetched_at"] == ctx.now()


def test_the_bearer_token_goes_to_every_request_of_the_source(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing(entry("a.txt", b"x")))
    server.route("/files/a.txt", Reply(200, b"x"))
    run(ctx, source_config(server, certs))
    assert [r.headers.get("authorization") for r in server.requests] == [f"Bearer {TOKEN}"] * 2
    assert server.requests[0].headers["accept"] == "application/json"
    assert server.requests[0].headers["user-agent"] == fetch.USER_AGENT


def test_basic_auth_reads_both_variables(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing())
    auth = {"type": "basic", "username_env": "AGENT_USER", "password_env": "AGENT_PASSWORD"}
    run(ctx, source_config(server, certs, auth=auth))
    expected = "Basic " + base64.b64encode(b"office:pa55").decode()
    assert server.requests[0].headers["authorization"] == expected


def test_credentials_are_not_sent_to_another_origin(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    with serving(certs) as storage:
        storage.route("/signed/a.txt?sig=abc", Reply(200, b"from storage"))
        server.route(
            "/list", listing(entry("a.txt", b"from storage", url=f"{storage.base}/signed/a.txt?sig=abc"))
        )
        result = run(ctx, source_config(server, certs))
        assert result["sources"][0]["files"][0]["status"] == "accepted"
        assert storage.requests[0].headers.get("authorization") is None
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_second_fetch_fetches_nothing_new(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing(entry("a.txt", b"A"), entry("b.txt", b"B", checks=False)))
    server.route("/files/a.txt", Reply(200, b"A"))
    server.route("/files/b.txt", Reply(200, b"B"))
    run(ctx, source_config(server, certs))
    before = server.paths()
    result = run(ctx, source_config(server, certs))
    (src,) = result["sources"]
    assert (src["listed"], src["new"], src["files"]) == (2, 0, [])
    assert server.paths()[len(before) :] == ["/list"]
    assert len(fake_ingest.calls) == 2


def test_content_the_gateway_already_has_is_not_downloaded(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    data = b"dropped into the inbox earlier"
    ctx.session.add(
        SettlementFile(
            sha256=sha(data),
            file_name="x.txt",
            adapter="fixed120",
            kind="payment",
            source="inbox",
            size=len(data),
            received_date=ctx.today(),
            actor="cli:tester",
        )
    )
    ctx.session.commit()
    server.route("/list", listing(entry("again.txt", data)))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert (src["listed"], src["new"]) == (1, 0)
    assert server.paths() == ["/list"]


def test_a_replaced_file_is_fetched_again_and_its_record_updated(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing(entry("day.txt", b"v1")))
    server.route("/files/day.txt", Reply(200, b"v1"))
    run(ctx, source_config(server, certs))
    server.route("/list", listing(entry("day.txt", b"v2")))
    server.route("/files/day.txt", Reply(200, b"v2"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert src["new"] == 1
    (row,) = fetched_rows(ctx)
    assert (row["name"], row["sha256"]) == ("day.txt", sha(b"v2"))


def test_a_rejected_file_is_recorded_and_fetched_again_only_on_request(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing(entry("bad.txt", b"BAD data")))
    server.route("/files/bad.txt", Reply(200, b"BAD data"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert src["files"][0]["status"] == "rejected"
    assert src["files"][0]["error"] == {"line": 2, "field": "amount", "message": "not a number"}
    assert [r["status"] for r in fetched_rows(ctx)] == ["rejected"]
    assert run(ctx, source_config(server, certs))["sources"][0]["new"] == 0
    again = run(ctx, source_config(server, certs), retry_rejected=True)["sources"][0]
    assert again["new"] == 1
    assert len(fake_ingest.calls) == 2


def test_a_listed_sha256_that_does_not_match_refuses_the_file(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest, settings: Settings
) -> None:
    server.route(
        "/list",
        listing({"name": "a.txt", "url": "/files/a.txt", "sha256": sha(b"what was announced")}),
    )
    server.route("/files/a.txt", Reply(200, b"something else"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert src["error"] is None
    assert src["files"] == []
    assert [f["name"] for f in src["failed"]] == ["a.txt"]
    assert "SHA-256" in src["failed"][0]["error"]
    assert fake_ingest.calls == []
    assert fetched_rows(ctx) == []
    assert list((Path(settings.instance_dir) / "fetch").iterdir()) == []
    # Not recorded: the next run tries again (the upload may have been unfinished).
    server.route("/files/a.txt", Reply(200, b"what was announced"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert [d["status"] for d in src["files"]] == ["accepted"]


def test_a_size_that_does_not_match_refuses_the_file(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing({"name": "a.txt", "url": "/files/a.txt", "size": 99}))
    server.route("/files/a.txt", Reply(200, b"short"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert [f["name"] for f in src["failed"]] == ["a.txt"]
    assert fake_ingest.calls == []


def test_a_file_larger_than_max_bytes_is_refused(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing(entry("big.txt", b"x" * 200_000, checks=False)))
    server.route("/files/big.txt", Reply(200, b"x" * 200_000))
    (src,) = run(ctx, source_config(server, certs, max_bytes=100_000))["sources"]
    assert "max_bytes" in src["failed"][0]["error"]
    assert fake_ingest.calls == []


def test_503_is_retried_with_backoff(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", Reply(503), listing(entry("a.txt", b"A")))
    server.route("/files/a.txt", Reply(502), Reply(429, headers={"Retry-After": "0"}), Reply(200, b"A"))
    (src,) = run(ctx, source_config(server, certs, retries=3))["sources"]
    assert src["error"] is None
    assert [d["status"] for d in src["files"]] == ["accepted"]
    assert server.paths() == ["/list", "/list", "/files/a.txt", "/files/a.txt", "/files/a.txt"]


def test_retries_give_up_and_the_source_reports_the_status(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", Reply(503))
    (src,) = run(ctx, source_config(server, certs, retries=2))["sources"]
    assert "HTTP 503" in src["error"]
    assert server.paths() == ["/list"] * 3


def test_401_is_not_retried_and_hints_at_the_credentials(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", Reply(401))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert "HTTP 401" in src["error"]
    assert "credentials" in src["error"]
    assert server.paths() == ["/list"]


def test_a_timeout_fails_that_source_and_the_others_go_on(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    with serving(certs) as slow:
        slow.route("/list", Reply(200, b"[]", delay=5))
        server.route("/list", listing(entry("a.txt", b"A")))
        server.route("/files/a.txt", Reply(200, b"A"))
        configs = [
            source_config(slow, certs, name="slow", retries=0, timeout={"connect": 2, "read": 0.5}),
            source_config(server, certs, name="fast"),
        ]
        result = run(ctx, *configs)
    slow_result, fast_result = result["sources"]
    assert "timed out" in slow_result["error"]
    assert (fast_result["error"], [d["status"] for d in fast_result["files"]]) == (None, ["accepted"])


def test_a_server_that_cannot_be_reached_is_a_source_error(
    ctx: Context, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    with serving(certs) as gone:
        config = source_config(gone, certs, retries=1)
    (src,) = run(ctx, config)["sources"]
    assert src["error"].startswith("connection failed")


def test_an_untrusted_certificate_is_refused(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route("/list", listing())
    config = source_config(server, certs, verify=None, retries=0)
    (src,) = run(ctx, config)["sources"]
    assert src["error"].startswith("TLS error")
    assert server.paths() == []


def test_a_missing_credential_variable_is_named_and_nothing_is_sent(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    config = source_config(server, certs, auth={"type": "bearer", "token_env": "NOT_SET_ANYWHERE"})
    (src,) = run(ctx, config)["sources"]
    assert "NOT_SET_ANYWHERE" in src["error"]
    assert server.paths() == []


def test_plain_http_file_urls_and_redirects_are_refused(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest
) -> None:
    server.route(
        "/list",
        listing(
            {"name": "plain.txt", "url": "http://127.0.0.1:9/plain.txt"},
            {"name": "moved.txt", "url": "/files/moved.txt"},
        ),
    )
    server.route("/files/moved.txt", Reply(302, headers={"Location": "http://127.0.0.1:9/moved.txt"}))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    failed = {f["name"]: f["error"] for f in src["failed"]}
    assert "https" in failed["plain.txt"]
    assert "plain http is refused" in failed["moved.txt"]
    assert fake_ingest.calls == []


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "../etc/passwd", "url": "/x"},
        {"name": "a/b.txt", "url": "/x"},
        {"name": "ok.txt"},
        {"name": "ok.txt", "url": "/x", "sha256": "abc"},
        {"name": "ok.txt", "url": "/x", "size": -1},
        "just a string",
    ],
)
def test_bad_listing_entries_are_reported_and_skipped(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest, bad: Any
) -> None:
    server.route("/list", listing(bad, entry("good.txt", b"G")))
    server.route("/files/good.txt", Reply(200, b"G"))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert len(src["failed"]) == 1
    assert [d["file"] for d in src["files"]] == ["good.txt"]


@pytest.mark.parametrize("body", [b"not json", b'{"files": []}'])
def test_a_listing_that_is_not_a_json_array_is_a_source_error(
    ctx: Context, server: Server, certs: CertFiles, fake_ingest: FakeIngest, body: bytes
) -> None:
    server.route("/list", Reply(200, body))
    (src,) = run(ctx, source_config(server, certs))["sources"]
    assert src["error"].startswith("listing https://127.0.0.1:")


# -- configuration


def config_error(doc: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        fetch.parse_sources(doc, base_dir=Path("/etc/gateway"))
    return info.value


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"name": "a", "url": "http://agent.example/list"}, "url"),
        ({"name": "a", "url": "https://user:pw@agent.example/list"}, "url"),
        (
            {"name": "a", "url": "https://agent.example/list", "auth": {"type": "bearer", "token": "s3cret"}},
            "auth.token",
        ),
        (
            {"name": "a", "url": "https://agent.example/list", "auth": {"type": "basic", "password": "pw"}},
            "auth.password",
        ),
        ({"name": "a", "url": "https://agent.example/list", "auth": {"type": "digest"}}, "auth"),
        ({"name": "a", "url": "https://agent.example/list", "verify": False}, "verify"),
        ({"name": "a", "url": "https://agent.example/list", "tokn_env": "X"}, "tokn_env"),
        ({"name": "a b", "url": "https://agent.example/list"}, "name"),
        ({"name": "a", "url": "https://agent.example/list", "retries": 99}, "retries"),
        ({"name": "a", "url": "https://agent.example/list", "timeout": {"read": 0}}, "timeout.read"),
    ],
)
def test_invalid_sources_are_config_errors_naming_the_key(source: dict[str, Any], field: str) -> None:
    assert config_error({"sources": [source]}).field == field


def test_source_names_must_be_unique() -> None:
    one = {"name": "a", "url": "https://agent.example/list"}
    assert "unique" in config_error({"sources": [one, one]}).message


def test_the_sources_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-")
    path = tmp_path / "sources.json"
    path.write_text(json.dumps([{"name": "a", "url": "https://agent.example/list", "verify": "ca.pem"}]))
    (src,) = fetch.load_sources(path)
    assert src.verify == str(tmp_path / "ca.pem")
    assert (src.timeout, src.retries) == ((10.0, 60.0), 5)
    path.write_text("{")
    with pytest.raises(ConfigError):
        fetch.load_sources(path)
    with pytest.raises(ConfigError):
        fetch.load_sources(tmp_path / "missing.json")


def test_without_configured_sources_there_is_nothing_to_do(ctx: Context) -> None:
    assert fetch.fetch_all(ctx) == {"sources": []}


# -- command line and job


@pytest.fixture
def configured(overrides: dict[str, Any], server: Server, certs: CertFiles, tmp_path: Path) -> Path:
    """GATEWAY_FETCH_SOURCES for this test's runtime and CLI (requested before them)."""
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"sources": [source_config(server, certs)]}))
    overrides["fetch_sources"] = str(path)
    return path


def invoke(cli_env: dict[str, str], configured: Path, *args: str) -> Any:
    env = {**cli_env, **ENV, "GATEWAY_FETCH_SOURCES": str(configured)}
    return CliRunner().invoke(main, ["settlements", "fetch", *args], env=env, catch_exceptions=False)


def test_cli_fetch_prints_one_json_document(
    configured: Path, cli_env: dict[str, str], server: Server, fake_ingest: FakeIngest
) -> None:
    import gateway.cli.fetch  # noqa: F401  (until gateway/cli/commands.py imports it)

    server.route("/list", listing(entry("a.txt", b"A")))
    server.route("/files/a.txt", Reply(200, b"A"))
    result = invoke(cli_env, configured, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(s["name"], s["new"], [f["status"] for f in s["files"]]) for s in doc["sources"]] == [
        ("agent-a", 1, ["accepted"])
    ]
    again = invoke(cli_env, configured, "--json")
    assert json.loads(again.stdout)["sources"][0]["new"] == 0


def test_cli_fetch_exits_65_with_the_located_error_when_a_file_is_rejected(
    configured: Path, cli_env: dict[str, str], server: Server, fake_ingest: FakeIngest
) -> None:
    import gateway.cli.fetch  # noqa: F401

    server.route("/list", listing(entry("bad.txt", b"BAD")))
    server.route("/files/bad.txt", Reply(200, b"BAD"))
    result = invoke(cli_env, configured, "--json")
    assert result.exit_code == 65
    assert "bad.txt:2: field amount: not a number" in result.stderr
    assert json.loads(result.stdout)["sources"][0]["files"][0]["status"] == "rejected"


def test_cli_fetch_exits_1_when_a_source_fails(
    configured: Path, cli_env: dict[str, str], server: Server, fake_ingest: FakeIngest
) -> None:
    import gateway.cli.fetch  # noqa: F401

    server.route("/list", Reply(500))
    result = invoke(cli_env, configured, "--json")
    assert result.exit_code == 1
    assert "HTTP 500" in json.loads(result.stdout)["sources"][0]["error"]
    assert "source agent-a" in result.stderr


def test_cli_fetch_refuses_an_unknown_source_name(
    configured: Path, cli_env: dict[str, str], server: Server, fake_ingest: FakeIngest
) -> None:
    import gateway.cli.fetch  # noqa: F401

    result = invoke(cli_env, configured, "--source", "nope")
    assert result.exit_code == 2
    assert "nope" in result.stderr
    assert server.paths() == []


def test_the_fetch_job_records_counts_and_fails_on_a_broken_source(
    configured: Path,
    runtime: Runtime,
    server: Server,
    fake_ingest: FakeIngest,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    server.route("/list", listing(entry("a.txt", b"A"), entry("bad.txt", b"BAD")))
    server.route("/files/a.txt", Reply(200, b"A"))
    server.route("/files/bad.txt", Reply(200, b"BAD"))
    slot = jobs.scheduled_time(jobs.trigger_for("0 * * * *"), runtime.clock())
    counts = jobs.run_job(runtime, "fetch", slot)
    assert counts == {
        "sources": 1,
        "sources_failed": 0,
        "listed": 2,
        "new": 2,
        "accepted": 1,
        "duplicates": 0,
        "rejected": 1,
        "failed": 0,
    }
    server.route("/list", Reply(503))
    assert jobs.run_job(runtime, "fetch", slot.replace(hour=slot.hour + 1)) is None
    rows = run_rows(db_url, "fetch")
    assert [r["outcome"] for r in rows] == ["ok", "failed"]
    assert rows[1]["counts"]["sources_failed"] == 1
    assert "agent-a" in rows[1]["error"]
