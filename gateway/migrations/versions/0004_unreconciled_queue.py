"""unreconciled_records: the queue of records reconciliation has not looked at, instead of processed_at

Marking a million records processed rewrote a million wide rows (on PostgreSQL, a new version of each in all
eight indexes); the run now deletes ids from a narrow queue. Records not yet reconciled are carried over.

Revision ID: 0004_unreconciled_queue
Revises: 0003_reconciliation
Create Date: 2026-11-27 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op


revision = "0004_unreconciled_queue"
down_revision = "0003_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unreconciled_records",
        sa.Column("record_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.execute(
        "INSERT INTO unreconciled_records (record_id) "
        "SELECT id FROM settlement_records WHERE processed_at IS NULL"
    )
    with op.batch_alter_table("settlement_records", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_settlement_records_unprocessed",
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )
        batch_op.drop_column("processed_at")


def downgrade() -> None:
    with op.batch_alter_table("settlement_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # Reconciled records get the downgrade's instant; the queued ones stay NULL.
    op.execute(
        "UPDATE settlement_records SET processed_at = CURRENT_TIMESTAMP "
        "WHERE id NOT IN (SELECT record_id FROM unreconciled_records)"
    )
    with op.batch_alter_table("settlement_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_settlement_records_unprocessed",
            ["processed_at"],
            unique=False,
            sqlite_where=sa.text("processed_at IS NULL"),
            postgresql_where=sa.text("processed_at IS NULL"),
        )
    op.drop_table("unreconciled_records")
