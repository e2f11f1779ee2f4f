"""Restoration steps of outages without premise records (the generated history, imports),
and the index the daily report reads fault orders by.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outage_step",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.Text(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("kva", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("customers >= 0", name="outage_step_customers"),
        sa.CheckConstraint("restored_at >= started_at", name="outage_step_order"),
        sa.ForeignKeyConstraint(["outage_id"], ["outage.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outage_step_outage", "outage_step", ["outage_id"])
    op.create_index("ix_work_order_first_report", "work_order", ["first_report_at"])
    op.create_index("ix_outage_started", "outage", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_outage_started", table_name="outage")
    op.drop_index("ix_work_order_first_report", table_name="work_order")
    op.drop_index("ix_outage_step_outage", table_name="outage_step")
    op.drop_table("outage_step")
