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


def test_head_is_the_agent_adapter_options_revision():
    assert migrate.head_revision() == migrate.HEAD_REVISION == "0007_agent_adapter_options"


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
    assert migrate.current_revision(db_url) == "0007_agent_adapter_options"


def test_queue_of_unreconciled_records_survives_down_and_up(ctx, db_url):
    """0004 replaced ``processed_at`` by the queue: going down marks exactly the reconciled records
    processed, coming back up queues exactly the others again."""
    from alembic import command

    from gateway.intake import ingest
    from tests.ingest.conftest import INGEST_DATA
    from tests.ingest.conftest import add_agent

    add_agent(ctx)
    result = ingest.ingest_file(ctx, INGEST_DATA / "overlap-a.txt")
    ids = sorted(ctx.session.execute(sa.text("SELECT record_id FROM unreconciled_records")).scalars())
    assert len(ids) == result.new_records == 5
    reconciled, waiting = ids[:2], ids[2:]
    ctx.session.execute(
        sa.text("DELETE FROM unreconciled_records WHERE record_id IN (:a, :b)"),
        {"a": reconciled[0], "b": reconciled[1]},
    )
    ctx.session.commit()
    ctx.session.close()

    cfg = migrate.alembic_config()
    with get_engine(db_url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003_reconciliation")
    with get_engine(db_url).connect() as conn:
        unprocessed = conn.execute(sa.text("SELECT id FROM settlement_records WHERE processed_at IS NULL"))
        assert sorted(unprocessed.scalars()) == waiting
    migrate.upgrade(db_url)
    with get_engine(db_url).connect() as conn:
        queued = conn.execute(sa.text("SELECT record_id FROM unreconciled_records ORDER BY 1"))
        assert list(queued.scalars()) == waiting
