"""Engine and sessions for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so the web app, the scheduler and a CLI
command can share one file. Bulk paths use the engine's raw driver connection (``executemany`` on SQLite,
``COPY`` on PostgreSQL); everything else goes through SQLModel sessions.
"""

from __future__ import annotations

import contextvars
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from gateway.errors import ConfigError

#: Set by :func:`gateway.context.mutation`: a writing transaction takes SQLite's write lock at BEGIN, so
#: concurrent writers wait (busy timeout) instead of failing on a stale read snapshot.
sqlite_immediate: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_immediate", default=False)


_engines: dict[str, Engine] = {}


def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url`` (one pool per URL)."""
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = _create_engine(url)
    return engine


def _create_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    elif url.startswith("postgresql"):
        kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10)
    else:
        raise ConfigError(f"unsupported database URL {url.split(':')[0]!r} (sqlite or postgresql)")
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so a transaction starts
        # when SQLAlchemy says it does (needed for SAVEPOINT and for consistent reads).
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate.get() else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, forked workers)."""
    while _engines:
        _engines.popitem()[1].dispose()


def new_session(url: str) -> Session:
    """A new session on the process-wide engine for ``url``; ``expire_on_commit`` off for service results."""
    return Session(get_engine(url), expire_on_commit=False)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
