"""Dispatch: work orders, completion reports (95598 closing loop), the dispatch version.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:41:53.349720
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name="dispatch_state_single_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    # The single row the planner's plans are versioned against.
    op.execute("INSERT INTO dispatch_state (id, version) VALUES (1, 0)")
    op.create_geospatial_table(
        "work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.BigInteger(), nullable=True),
        sa.Column("urgency_score", sa.Float(), nullable=False),
        sa.Column("urgency_breakdown", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column("required_skills", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("repair_s", sa.Integer(), nullable=False),
        sa.Column("first_report_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onsite_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("restore_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("route_seq", sa.Integer(), nullable=True),
        sa.Column("eta_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_site_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("appointment_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
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
            "(kind = 'outage' AND outage_id IS NOT NULL) "
            "OR (kind <> 'outage' AND report_id IS NOT NULL)",
            name="work_order_source",
        ),
        sa.CheckConstraint("kind IN ('outage', 'hazard', 'fault')", name="work_order_kind"),
        sa.CheckConstraint(
            "status IN ('new', 'planned', 'dispatched', 'en_route', 'on_site', 'restored', "
            "'closed', 'cancelled')",
            name="work_order_status",
        ),
        sa.CheckConstraint(
            "appointment_start_at IS NULL OR appointment_end_at > appointment_start_at",
            name="work_order_appointment",
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 4", name="work_order_priority"),
        sa.ForeignKeyConstraint(
            ["crew_id"],
            ["crew.id"],
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_work_order_geom",
        "work_order",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index("ix_work_order_crew_status", "work_order", ["crew_id", "status"], unique=False)
    op.create_index(
        "ix_work_order_status_urgency", "work_order", ["status", "urgency_score"], unique=False
    )
    op.create_index(
        "ux_work_order_outage",
        "work_order",
        ["outage_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'outage' AND status <> 'cancelled'"),
    )
    op.create_index(
        "ux_work_order_report",
        "work_order",
        ["report_id"],
        unique=True,
        postgresql_where=sa.text("report_id IS NOT NULL AND status <> 'cancelled'"),
    )
    op.create_table(
        "completion_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("cause_found", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("device_code", sa.String(length=64), nullable=True),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("filed_by", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_ok", sa.Boolean(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("return_call_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("return_call_by", sa.Text(), nullable=True),
        sa.Column("customer_reached", sa.Boolean(), nullable=True),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("return_call_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order_id"),
    )


def downgrade() -> None:
    op.drop_table("completion_report")
    op.drop_index(
        "ux_work_order_report",
        table_name="work_order",
        postgresql_where=sa.text("report_id IS NOT NULL AND status <> 'cancelled'"),
    )
    op.drop_index(
        "ux_work_order_outage",
        table_name="work_order",
        postgresql_where=sa.text("kind = 'outage' AND status <> 'cancelled'"),
    )
    op.drop_index("ix_work_order_status_urgency", table_name="work_order")
    op.drop_index("ix_work_order_crew_status", table_name="work_order")
    op.drop_geospatial_index(
        "idx_work_order_geom", table_name="work_order", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("work_order")
    op.drop_table("dispatch_state")
