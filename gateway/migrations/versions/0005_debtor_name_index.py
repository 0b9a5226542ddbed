"""debtor_name_index: a keyed blind index of debtors' names for the staff search; slips.due_date and
payments.received_date indexed for the staff pages

The index holds HMACs under a key derived from GATEWAY_DATA_KEY, which a migration does not have: the rows of
existing debtors are built by ``gateway claims reindex-names`` (or on the first name search), not here.

Revision ID: 0005_debtor_name_index
Revises: 0004_unreconciled_queue
Create Date: 2026-12-03 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_debtor_name_index"
down_revision = "0004_unreconciled_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debtor_name_index",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("hmac", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("debtor_id", "kind", name="uq_debtor_name_index_kind"),
    )
    with op.batch_alter_table("debtor_name_index", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_debtor_name_index_debtor_id"), ["debtor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_debtor_name_index_hmac"), ["hmac"], unique=False)
    with op.batch_alter_table("slips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slips_due_date"), ["due_date"], unique=False)
    op.create_index("ix_payments_received_date", "payments", ["received_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payments_received_date", table_name="payments")
    with op.batch_alter_table("slips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slips_due_date"))
    with op.batch_alter_table("debtor_name_index", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_debtor_name_index_hmac"))
        batch_op.drop_index(batch_op.f("ix_debtor_name_index_debtor_id"))
    op.drop_table("debtor_name_index")
