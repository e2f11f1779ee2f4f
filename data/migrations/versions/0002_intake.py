"""Intake: reports, outages and their premises, ETR history, planned outages, outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 17:04:58.231684
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_geospatial_table(
        "planned_outage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feeder_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("device_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("customers_affected", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'cancelled', 'completed')", name="planned_status"
        ),
        sa.CheckConstraint("ends_at > starts_at", name="planned_window"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_planned_outage_geom",
        "planned_outage",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "outage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("feeder_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("hazard", sa.Boolean(), nullable=False),
        sa.Column("customers_affected", sa.Integer(), nullable=False),
        sa.Column("critical_affected", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etr_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("explanation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('suspected', 'confirmed', 'restored', 'closed', 'merged')",
            name="outage_status",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["outage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_outage_geom",
        "outage",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        "ix_outage_active_feeder",
        "outage",
        ["feeder_id"],
        unique=False,
        postgresql_where=sa.text("status IN ('suspected', 'confirmed')"),
    )
    op.create_table(
        "etr_change",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_etr_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etr_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outage.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_etr_change_outage_id"), "etr_change", ["outage_id"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premise.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_key", "premise_id", name="notification_once"),
    )
    op.create_index(op.f("ix_notification_status"), "notification", ["status"], unique=False)
    op.create_table(
        "outage_premise",
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premise.id"],
        ),
        sa.PrimaryKeyConstraint("outage_id", "premise_id"),
    )
    op.create_index("ix_outage_premise_premise", "outage_premise", ["premise_id"], unique=False)
    op.create_table(
        "planned_outage_premise",
        sa.Column("planned_outage_id", sa.Integer(), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["planned_outage_id"], ["planned_outage.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premise.id"],
        ),
        sa.PrimaryKeyConstraint("planned_outage_id", "premise_id"),
    )
    op.create_index(
        "ix_planned_outage_premise_premise", "planned_outage_premise", ["premise_id"], unique=False
    )
    op.create_geospatial_table(
        "report",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("hazard", sa.Boolean(), nullable=False),
        sa.Column("address_text", sa.Text(), nullable=True),
        sa.Column("caller_phone", sa.String(length=32), nullable=True),
        sa.Column("caller_account", sa.String(length=32), nullable=True),
        sa.Column("located_by", sa.String(length=16), nullable=False),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=True),
        sa.Column("planned_outage_id", sa.Integer(), nullable=True),
        sa.Column("duplicate_of_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("filed_by", sa.Text(), nullable=True),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
            nullable=True,
        ),
        sa.CheckConstraint(
            "category IN ('no_power', 'partial_power', 'flicker', 'wire_down', "
            "'pole_damage', 'fire_smoke', 'other')",
            name="report_category",
        ),
        sa.CheckConstraint(
            "channel IN ('web', 'phone', 'app', 'open311', 'sms')", name="report_channel"
        ),
        sa.CheckConstraint(
            "classification IN ('planned', 'known', 'duplicate', 'new', 'unlocated')",
            name="report_classification",
        ),
        sa.CheckConstraint(
            "located_by IN ('address', 'point', 'account', 'phone', 'unlocated')",
            name="report_located_by",
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["report.id"],
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
            ["planned_outage_id"],
            ["planned_outage.id"],
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"],
            ["premise.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    op.create_geospatial_index(
        "idx_report_geom",
        "report",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_report_feeder_id"), "report", ["feeder_id"], unique=False)
    op.create_index(op.f("ix_report_outage_id"), "report", ["outage_id"], unique=False)
    op.create_index(
        "ix_report_phone_received", "report", ["caller_phone", "received_at"], unique=False
    )
    op.create_index(
        "ix_report_premise_received", "report", ["premise_id", "received_at"], unique=False
    )
    op.create_index(op.f("ix_report_received_at"), "report", ["received_at"], unique=False)
    op.create_index(
        "ix_report_unlocated",
        "report",
        ["id"],
        unique=False,
        postgresql_where=sa.text("located_by = 'unlocated'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_report_unlocated",
        table_name="report",
        postgresql_where=sa.text("located_by = 'unlocated'"),
    )
    op.drop_index(op.f("ix_report_received_at"), table_name="report")
    op.drop_index("ix_report_premise_received", table_name="report")
    op.drop_index("ix_report_phone_received", table_name="report")
    op.drop_index(op.f("ix_report_outage_id"), table_name="report")
    op.drop_index(op.f("ix_report_feeder_id"), table_name="report")
    op.drop_geospatial_index(
        "idx_report_geom", table_name="report", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("report")
    op.drop_index("ix_planned_outage_premise_premise", table_name="planned_outage_premise")
    op.drop_table("planned_outage_premise")
    op.drop_index("ix_outage_premise_premise", table_name="outage_premise")
    op.drop_table("outage_premise")
    op.drop_index(op.f("ix_notification_status"), table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_etr_change_outage_id"), table_name="etr_change")
    op.drop_table("etr_change")
    op.drop_index(
        "ix_outage_active_feeder",
        table_name="outage",
        postgresql_where=sa.text("status IN ('suspected', 'confirmed')"),
    )
    op.drop_geospatial_index(
        "idx_outage_geom", table_name="outage", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("outage")
    op.drop_geospatial_index(
        "idx_planned_outage_geom",
        table_name="planned_outage",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("planned_outage")
