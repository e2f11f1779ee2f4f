"""Storm decisions: make-safe tasks on work orders, pinned route positions, crew position source.

Every hazard report that has a work order today becomes that order's first make-safe task, so
orders made before the upgrade read the same as new ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "work_order_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('open', 'made_safe', 'moved')", name="work_order_task_status"
        ),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_order.id"]),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"]),
        sa.ForeignKeyConstraint(["premise_id"], ["premise.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_work_order_task_geom",
        "work_order_task",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ux_work_order_task_report",
        "work_order_task",
        ["report_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'moved'"),
    )
    op.create_index(
        "ix_work_order_task_order", "work_order_task", ["work_order_id", "status"], unique=False
    )
    op.add_column(
        "work_order",
        sa.Column("pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.alter_column("work_order", "pinned", server_default=None)
    op.add_column("crew", sa.Column("position_source", sa.String(length=8), nullable=True))
    op.execute("UPDATE crew SET position_source = 'gps' WHERE geom IS NOT NULL")
    op.execute(
        "INSERT INTO work_order_task (work_order_id, report_id, premise_id, category, note, "
        "status, reported_at, created_at, geom) "
        "SELECT w.id, r.id, r.premise_id, r.category, "
        "COALESCE(r.description, r.category || ' at ' || COALESCE(r.address_text, 'the point')), "
        "CASE WHEN w.status IN ('restored', 'closed') THEN 'made_safe' ELSE 'open' END, "
        "r.received_at, w.created_at, COALESCE(r.geom, w.geom) "
        "FROM work_order w JOIN report r ON r.id = w.report_id WHERE w.kind = 'hazard'"
    )


def downgrade() -> None:
    op.drop_column("crew", "position_source")
    op.drop_column("work_order", "pinned")
    op.drop_index("ix_work_order_task_order", table_name="work_order_task")
    op.drop_index("ux_work_order_task_report", table_name="work_order_task")
    op.drop_geospatial_index(
        "idx_work_order_task_geom",
        table_name="work_order_task",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("work_order_task")
