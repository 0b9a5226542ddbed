"""agent_adapter_options: agents.adapter_options, per-agent options of the adapters reading its files (e.g.
how DSK record type 81 is treated: ``{"dsk_csv": {"record_type_81": "skip"}}``); fetched_files.status may
be ``empty`` (a DSK pull day for which the agent had no data: remembered, nothing ingested)

Existing agents get NULL: every adapter keeps its default (a DSK type-81 row is refused, as before).

Revision ID: 0007_agent_adapter_options
Revises: 0006_staff_sessions
Create Date: 2026-12-03 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_agent_adapter_options"
down_revision = "0006_staff_sessions"
branch_labels = None
depends_on = None

_OLD_STATUSES = ("accepted", "duplicate_file", "rejected")
_NEW_STATUSES = ("accepted", "duplicate_file", "rejected", "empty")
_CHECK = "ck_fetched_files_status"


def _fetched_files(statuses: tuple[str, ...]) -> sa.Table:
    """``fetched_files`` as it stands (for SQLite's copy-and-rename, which cannot alter a CHECK)."""
    return sa.Table(
        "fetched_files",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(f"status IN {statuses!r}", name=_CHECK),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "name", name="uq_fetched_files_source_name"),
        sa.Index("ix_fetched_files_sha256", "sha256"),
    )


def _set_statuses(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("fetched_files", copy_from=_fetched_files(old), recreate="always") as batch:
            batch.drop_constraint(_CHECK, type_="check")
            batch.create_check_constraint(_CHECK, sa.text(f"status IN {new!r}"))
    else:
        op.drop_constraint(_CHECK, "fetched_files", type_="check")
        op.create_check_constraint(_CHECK, "fetched_files", f"status IN {new!r}")


# agents: plain ALTER TABLE on both databases (SQLite >= 3.35 drops a column in place): batch mode would
# rebuild ``agents``, which the settlement files and fees reference, and SQLite's foreign keys refuse that.


def upgrade() -> None:
    op.add_column("agents", sa.Column("adapter_options", sa.JSON(), nullable=True))
    _set_statuses(_OLD_STATUSES, _NEW_STATUSES)


def downgrade() -> None:
    op.execute("DELETE FROM fetched_files WHERE status = 'empty'")  # such days are simply pulled again
    _set_statuses(_NEW_STATUSES, _OLD_STATUSES)
    op.execute("ALTER TABLE agents DROP COLUMN adapter_options")
