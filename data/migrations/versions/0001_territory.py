"""Territory: regions, the grid, premises, streets, roads, crews, users and the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:48:45.019497
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = """
CREATE FUNCTION event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event
    FOR EACH ROW EXECUTE FUNCTION event_append_only();
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "event",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_event_object", "event", ["object_type", "object_id"], unique=False)
    op.execute(APPEND_ONLY)
    op.create_geospatial_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region_class", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("region_class IN ('urban', 'rural', 'remote')", name="region_class"),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_region_geom",
        "region",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "road_node",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_road_node_geom",
        "road_node",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_table(
        "street",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_norm", sa.Text(), nullable=False),
        sa.Column("premise_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name_norm"),
    )
    op.create_index(
        "ix_street_name_trgm",
        "street",
        ["name_norm"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"name_norm": "gist_trgm_ops"},
    )
    op.create_geospatial_table(
        "substation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_substation_geom",
        "substation",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "crew",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("skills", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("shift_start", sa.Time(), nullable=False),
        sa.Column("shift_end", sa.Time(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "depot_geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
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
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_crew_depot_geom",
        "crew",
        ["depot_geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_index(
        "idx_crew_geom", "crew", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
    )
    op.create_geospatial_table(
        "feeder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("substation_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("voltage_kv", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.ForeignKeyConstraint(
            ["substation_id"],
            ["substation.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_feeder_geom",
        "feeder",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_geospatial_table(
        "road_edge",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("from_node_id", sa.BigInteger(), nullable=False),
        sa.Column("to_node_id", sa.BigInteger(), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("oneway", sa.Boolean(), nullable=False),
        sa.Column("speed_kph", sa.Float(), nullable=False),
        sa.Column("highway", sa.String(length=32), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("osm_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["from_node_id"],
            ["road_node.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_node_id"],
            ["road_node.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_road_edge_geom",
        "road_edge",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_road_edge_from_node_id"), "road_edge", ["from_node_id"], unique=False)
    op.create_index(op.f("ix_road_edge_to_node_id"), "road_edge", ["to_node_id"], unique=False)
    op.create_geospatial_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("feeder_id", sa.Integer(), nullable=False),
        sa.Column("upstream_id", sa.Integer(), nullable=True),
        sa.Column("normally_open", sa.Boolean(), nullable=False),
        sa.Column("rated_kva", sa.Float(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('breaker', 'recloser', 'fuse', 'switch', 'transformer')", name="device_kind"
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["upstream_id"],
            ["device.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_geospatial_index(
        "idx_device_geom",
        "device",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_device_feeder_id"), "device", ["feeder_id"], unique=False)
    op.create_index(op.f("ix_device_upstream_id"), "device", ["upstream_id"], unique=False)
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("crew_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('admin', 'dispatcher', 'agent', 'crew')", name="user_role"),
        sa.ForeignKeyConstraint(
            ["crew_id"],
            ["crew.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_geospatial_table(
        "premise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_norm", sa.Text(), nullable=False),
        sa.Column("street_norm", sa.Text(), nullable=False),
        sa.Column("house_norm", sa.String(length=32), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("feeder_id", sa.Integer(), nullable=True),
        sa.Column("transformer_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("critical", sa.String(length=16), nullable=True),
        sa.Column("customer_name", sa.Text(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "critical IS NULL OR "
            "critical IN ('hospital', 'life_support', 'water', 'emergency', 'school')",
            name="critical",
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.ForeignKeyConstraint(
            ["transformer_id"],
            ["device.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account"),
    )
    op.create_geospatial_index(
        "idx_premise_geom",
        "premise",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_premise_address_norm"), "premise", ["address_norm"], unique=False)
    op.create_index(op.f("ix_premise_feeder_id"), "premise", ["feeder_id"], unique=False)
    op.create_index(op.f("ix_premise_phone"), "premise", ["phone"], unique=False)
    op.create_index(op.f("ix_premise_region_id"), "premise", ["region_id"], unique=False)
    op.create_index(
        "ix_premise_street_house", "premise", ["street_norm", "house_norm"], unique=False
    )
    op.create_index(op.f("ix_premise_transformer_id"), "premise", ["transformer_id"], unique=False)
    op.create_geospatial_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feeder_id", sa.Integer(), nullable=False),
        sa.Column("from_device_id", sa.Integer(), nullable=True),
        sa.Column("to_device_id", sa.Integer(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["feeder_id"],
            ["feeder.id"],
        ),
        sa.ForeignKeyConstraint(
            ["from_device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["to_device_id"],
            ["device.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_geospatial_index(
        "idx_segment_geom",
        "segment",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_segment_feeder_id"), "segment", ["feeder_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_segment_feeder_id"), table_name="segment")
    op.drop_geospatial_index(
        "idx_segment_geom", table_name="segment", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("segment")
    op.drop_index(op.f("ix_premise_transformer_id"), table_name="premise")
    op.drop_index("ix_premise_street_house", table_name="premise")
    op.drop_index(op.f("ix_premise_region_id"), table_name="premise")
    op.drop_index(op.f("ix_premise_phone"), table_name="premise")
    op.drop_index(op.f("ix_premise_feeder_id"), table_name="premise")
    op.drop_index(op.f("ix_premise_address_norm"), table_name="premise")
    op.drop_geospatial_index(
        "idx_premise_geom", table_name="premise", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("premise")
    op.drop_table("user_account")
    op.drop_index(op.f("ix_device_upstream_id"), table_name="device")
    op.drop_index(op.f("ix_device_feeder_id"), table_name="device")
    op.drop_geospatial_index(
        "idx_device_geom", table_name="device", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("device")
    op.drop_index(op.f("ix_road_edge_to_node_id"), table_name="road_edge")
    op.drop_index(op.f("ix_road_edge_from_node_id"), table_name="road_edge")
    op.drop_geospatial_index(
        "idx_road_edge_geom", table_name="road_edge", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("road_edge")
    op.drop_geospatial_index(
        "idx_feeder_geom", table_name="feeder", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("feeder")
    op.drop_geospatial_index(
        "idx_crew_geom", table_name="crew", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_index(
        "idx_crew_depot_geom", table_name="crew", postgresql_using="gist", column_name="depot_geom"
    )
    op.drop_geospatial_table("crew")
    op.drop_geospatial_index(
        "idx_substation_geom", table_name="substation", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("substation")
    op.drop_index(
        "ix_street_name_trgm",
        table_name="street",
        postgresql_using="gist",
        postgresql_ops={"name_norm": "gist_trgm_ops"},
    )
    op.drop_table("street")
    op.drop_geospatial_index(
        "idx_road_node_geom", table_name="road_node", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("road_node")
    op.drop_geospatial_index(
        "idx_region_geom", table_name="region", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("region")
    op.execute("DROP TRIGGER event_append_only ON event")
    op.execute("DROP FUNCTION event_append_only()")
    op.drop_index("ix_event_object", table_name="event")
    op.drop_table("event")
