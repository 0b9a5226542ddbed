"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL, and the
history goes down and up again."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from gateway import migrate
from gateway.db import get_engine
from gateway.models import metadata


def test_models_and_migrations_agree(db_url):
    with get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_head_is_the_reconciliation_revision():
    assert migrate.head_revision() == "0003_reconciliation"


def test_downgrade_to_foundation_and_up_again(db_url):
    from alembic import command

    cfg = migrate.alembic_config()
    with get_engine(db_url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_foundation")
    assert migrate.current_revision(db_url) == "0001_foundation"
    with get_engine(db_url).connect() as conn:
        assert "payments" not in sa.inspect(conn).get_table_names()
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == "0003_reconciliation"
