"""Roster plans: a week's forecast, agents required and rostered per half hour, and what
simulating the week said of it, per region (``stormdesk roster plan``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEK_HALF_HOURS = 336
HALF_HOUR_ARRAYS = (
    "calls_forecast",
    "calls_lo",
    "calls_hi",
    "required_agents",
    "required_agents_no_ivr",
    "rostered_agents",
)


def upgrade() -> None:
    floats = postgresql.ARRAY(sa.Float())
    ints = postgresql.ARRAY(sa.Integer())
    op.create_table(
        "roster_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forecast_model", sa.String(length=32), nullable=False),
        sa.Column("forecast_origin", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls_forecast", floats, nullable=False),
        sa.Column("calls_lo", floats, nullable=False),
        sa.Column("calls_hi", floats, nullable=False),
        sa.Column("ivr_share", sa.Float(), nullable=False),
        sa.Column("required_agents", ints, nullable=False),
        sa.Column("required_agents_no_ivr", ints, nullable=False),
        sa.Column("rostered_agents", ints, nullable=False),
        sa.Column("shifts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("agent_hours", sa.Float(), nullable=False),
        sa.Column("usual_agent_hours", sa.Float(), nullable=False),
        sa.Column("roster_method", sa.String(length=16), nullable=False),
        sa.Column("solver_status", sa.String(length=16), nullable=False),
        sa.Column("aht_s", sa.Float(), nullable=False),
        sa.Column("patience_s", sa.Float(), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=False),
        sa.Column("service_level_low", sa.Float(), nullable=False),
        sa.Column("service_level_high", sa.Float(), nullable=False),
        sa.Column("abandon_rate", sa.Float(), nullable=False),
        sa.Column("abandon_low", sa.Float(), nullable=False),
        sa.Column("abandon_high", sa.Float(), nullable=False),
        sa.Column("replications", sa.Integer(), nullable=False),
        sa.Column("simulated_days", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Text(), nullable=False),
        *(
            sa.CheckConstraint(
                f"cardinality({name}) = {WEEK_HALF_HOURS}", name=f"roster_plan_{name}_week"
            )
            for name in HALF_HOUR_ARRAYS
        ),
        sa.CheckConstraint("ivr_share >= 0 AND ivr_share <= 1", name="roster_plan_ivr_share"),
        sa.CheckConstraint("roster_method IN ('service', 'usual')", name="roster_plan_method"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_roster_plan_region_week", "roster_plan", ["region_id", "week_start", "created_at"]
    )
    op.create_index("ix_roster_plan_starts", "roster_plan", ["starts_at"])


def downgrade() -> None:
    op.drop_index("ix_roster_plan_starts", table_name="roster_plan")
    op.drop_index("ix_roster_plan_region_week", table_name="roster_plan")
    op.drop_table("roster_plan")
