"""Shared fixtures: a migrated database per test (SQLite file copy, or a truncated PostgreSQL database),
settings that never read the developer's environment, a pinned clock, the Flask app and clients.

PostgreSQL: set ``GATEWAY_TEST_DATABASE_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
The suite then creates its own database per xdist worker from that server, runs every database test on it,
and drops it at the end. Without the variable the same tests run on SQLite and tests marked ``postgres``
skip.
"""

from __future__ import annotations

import base64
import datetime
import os
import shutil
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from gateway import create_app
from gateway import migrate
from gateway.config import load_settings
from gateway.context import Actor
from gateway.context import Context
from gateway.db import dispose_engines
from gateway.runtime import Runtime

DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
SECRET_KEY = "test-secret-key"
PG_URL = os.environ.get("GATEWAY_TEST_DATABASE_URL", "")
JST = datetime.timezone(datetime.timedelta(hours=9))
#: The pinned "now" of every test that uses the ``clock`` fixture: a Friday office day, 10:00 in Japan.
NOW = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=JST)
DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set GATEWAY_TEST_DATABASE_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class Clock:
    """A settable clock for Context/Runtime."""

    def __init__(self, now: datetime.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now.astimezone(datetime.UTC)

    def set(self, value: datetime.datetime | str) -> None:
        self.now = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=JST)

    def advance(self, **delta: float) -> None:
        self.now += datetime.timedelta(**delta)


# -- database per test


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this worker, migrated once; dropped at the end."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"gw_test_{_worker()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    dispose_engines()
    for engine, _ in _PG_RESET.values():
        engine.dispose()
    _PG_RESET.clear()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that every test copies."""
    path = tmp_path_factory.mktemp("template") / "gateway.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    from gateway.crypto import Keyring

    migrate.check_fingerprint(url, Keyring.from_data_key(DATA_KEY).fingerprint)
    dispose_engines()
    return path


_PG_RESET: dict[str, tuple[sa.Engine, str]] = {}


def _truncate_pg(url: str) -> None:
    """Empty every table and restart the id sequences (so claim serials start at 1 in each test).

    DELETE in foreign-key order plus setval is much cheaper than TRUNCATE … RESTART IDENTITY on small tables.
    """
    if url not in _PG_RESET:
        engine = sa.create_engine(url)
        from gateway.models import metadata

        keep = {"alembic_version", "meta"}
        tables = [t.name for t in reversed(metadata.sorted_tables) if t.name not in keep]
        with engine.connect() as conn:
            sequences = (
                conn.execute(sa.text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
                .scalars()
                .all()
            )
        statements = [f"DELETE FROM {t}" for t in tables]
        statements += [f"SELECT setval('{seq}', 1, false)" for seq in sequences]
        statements.append("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 0, '" + "0" * 64 + "')")
        _PG_RESET[url] = (engine, "; ".join(statements))
    engine, script = _PG_RESET[url]
    with engine.begin() as conn:
        conn.exec_driver_sql(script)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if PG_URL:
        url: str = request.getfixturevalue("pg_database")
        _truncate_pg(url)
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "gateway.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def is_postgres(db_url: str) -> bool:
    return db_url.startswith("postgresql")


# -- settings, runtime, contexts


@pytest.fixture
def overrides(tmp_path: Path, db_url: str) -> dict[str, Any]:
    """Settings overrides for this test; tests may add keys before the runtime is built."""
    return {
        "database_url": db_url,
        "secret_key": SECRET_KEY,
        "data_key": DATA_KEY,
        "instance_dir": str(tmp_path / "instance"),
        "inbox_dir": str(tmp_path / "inbox"),
        "archive_dir": str(tmp_path / "archive"),
        "scheduler": False,
    }


@pytest.fixture
def settings(overrides: dict[str, Any]):  # type: ignore[no-untyped-def]
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(settings, clock: Clock) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    rt = Runtime.load(settings)
    rt.clock = clock
    yield rt
    dispose_engines()


OPERATOR = Actor(kind="cli", name="tester")


@pytest.fixture
def ctx(runtime: Runtime) -> Iterator[Context]:
    """A service context acting as the command-line operator."""
    with runtime.context(OPERATOR) as c:
        yield c


@pytest.fixture
def ctx_as(runtime: Runtime) -> Iterator[Callable[[Actor], Context]]:
    """Contexts for other actors: ``ctx_as(Actor(kind="user", name="f", role="finance"))``."""
    stack: list[Any] = []

    def make(actor: Actor) -> Context:
        cm = runtime.context(actor)
        stack.append(cm)
        return cm.__enter__()

    yield make
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


# -- web


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    application = create_app(runtime=runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def make_token(ctx: Context) -> Callable[[str], dict[str, str]]:
    """Create a staff user with ``role`` and return the Authorization header of a fresh token."""
    from gateway.access import users

    def make(role: str, name: str | None = None) -> dict[str, str]:
        name = name or f"{role}-{uuid.uuid4().hex[:6]}"
        users.create_user(ctx, name, role)
        return {"Authorization": f"Bearer {users.issue_token(ctx, name)}"}

    return make


@pytest.fixture
def cli_env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Environment for invoking the CLI against this test's database."""
    return {
        "GATEWAY_DATABASE_URL": settings.database_url,
        "GATEWAY_DATA_KEY": DATA_KEY,
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "GATEWAY_INSTANCE_DIR": settings.instance_dir,
        "GATEWAY_INBOX_DIR": settings.inbox_dir,
        "GATEWAY_ARCHIVE_DIR": settings.archive_dir,
        "GATEWAY_SCHEDULER": "0",
    }


# -- browser --------------------------------------------------------------------------------------------


@pytest.fixture
def live_server(app):  # type: ignore[no-untyped-def]
    """The app served on a free localhost port in a thread; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


#: What a fresh Debian machine needs for the browser tests (``make test`` installs it when run as root).
BROWSER_INSTALL = (
    "install chromium: apt-get install chromium fonts-ipaexfont-gothic (or run `make test` as root)"
)
_CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def _japanese_font_missing() -> bool:
    """Whether fontconfig knows no Japanese font (pages would render as boxes in every screenshot)."""
    import subprocess

    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    listed = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True, check=False)
    return not listed.stdout.strip()


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Any]:
    """THE Playwright driver of this process: one ``sync_playwright()`` started once per process.

    Playwright's sync API marks its event loop as running between calls, so a second ``sync_playwright()``
    in the same process fails ("Sync API inside the asyncio loop"). Every browser test therefore goes
    through this fixture (via ``chromium``); never start Playwright in a test module.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as ex:  # a dev dependency: its absence is a broken install, not a reason to skip
        pytest.fail(
            f"Playwright is not installed ({ex}): run `make test` (pip install -e '.[dev]')", pytrace=False
        )
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def chromium(playwright_session: Any) -> Iterator[Any]:
    """The one headless Chromium of this process (Debian's /usr/bin/chromium) — use ``chromium.new_context()``
    or ``chromium.new_page()`` and close what you open.

    Browser tests fail, never skip, when the browser or a Japanese font is missing: a test that skips in CI
    is a test that does not exist. Each xdist worker has its own process, hence its own browser.
    """
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(f"no Chromium on PATH: {BROWSER_INSTALL}", pytrace=False)
    if _japanese_font_missing():
        pytest.fail(f"no Japanese font (fc-list :lang=ja is empty): {BROWSER_INSTALL}", pytrace=False)
    try:
        browser = playwright_session.chromium.launch(executable_path=executable, args=list(_CHROMIUM_ARGS))
    except Exception as ex:  # launching is the only way to know the browser works
        pytest.fail(
            f"headless Chromium ({executable}) does not start: {ex}\n{BROWSER_INSTALL}", pytrace=False
        )
    try:
        yield browser
    finally:
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A browser test never skips: whatever skips it (a missing browser, an ``importorskip``, a ``skip``
    written in the test) turns into a failure saying what to install. Deselect with ``-m "not browser"``."""
    report = yield
    if (
        report.skipped
        and item.get_closest_marker("browser") is not None
        and item.get_closest_marker("postgres") is None  # those skip without a server, by design
        and not hasattr(report, "wasxfail")
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a browser test may not skip ({reason}): {BROWSER_INSTALL}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """Nor may a browser test module (``*_browser.py``, ``tests/browser/``) skip as a whole
    (``pytest.importorskip("playwright…")`` at its top)."""
    report = yield
    browser_module = collector.path.stem.endswith("_browser") or collector.path.parent.name == "browser"
    if report.skipped and isinstance(collector, pytest.Module) and browser_module:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"a browser test module may not skip ({reason}): {BROWSER_INSTALL}"
    return report
