"""Schema migrations (Alembic) and the data-key fingerprint check.

``gateway db upgrade`` creates or migrates the schema of ``GATEWAY_DATABASE_URL``. The same migration files
serve SQLite and PostgreSQL (batch mode on SQLite). After upgrading, the database remembers the fingerprint
of the data key it was first used with; every later start compares it and refuses a different key, so
personal data is never written under two keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gateway.db import get_engine
from gateway.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions that migrate: every process checks the schema at start
# (check_schema), and that check reads alembic_version directly, so starting a command costs no Alembic.

MIGRATIONS = Path(__file__).parent / "migrations"
FINGERPRINT_KEY = "data_key_fingerprint"
HEAD_REVISION = "0007_agent_adapter_options"
"""The newest revision in ``migrations/versions``, the one the code needs (a test compares it with
Alembic's own head: update it with each new migration)."""


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def stored_revision(url: str) -> str | None:
    """The revision recorded in ``alembic_version`` (None without one), read with one query.

    More than one row (several heads) comes back joined with commas, so it never equals a single revision.
    """
    with get_engine(url).connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        rows = list(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(sorted(rows)) or None


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate ``url`` to ``revision``; return (before, after)."""
    from alembic import command

    before = current_revision(url)
    cfg = alembic_config()
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(url)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration against ``url`` (developers only)."""
    from alembic import command

    cfg = alembic_config()
    with get_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)


def check_schema(url: str) -> None:
    """Refuse to run on a database that is not at the code's schema revision (:data:`HEAD_REVISION`)."""
    current, head = stored_revision(url), HEAD_REVISION
    if current != head:
        raise ConfigError(
            f"database schema is at {current or 'nothing'}, the code needs {head}: run `gateway db upgrade`"
        )


def check_fingerprint(url: str, fingerprint: str) -> None:
    """Store the data-key fingerprint on first use; refuse a different key afterwards."""
    meta = sa.table("meta", sa.column("key", sa.String), sa.column("value", sa.String))
    with get_engine(url).begin() as conn:
        stored = conn.execute(sa.select(meta.c.value).where(meta.c.key == FINGERPRINT_KEY)).scalar()
        if stored is None:
            conn.execute(sa.insert(meta).values(key=FINGERPRINT_KEY, value=fingerprint))
        elif stored != fingerprint:
            raise ConfigError(
                "GATEWAY_DATA_KEY does not match the key this database was created with "
                f"(fingerprint {stored[:8]}…, given {fingerprint[:8]}…); refusing to start"
            )
