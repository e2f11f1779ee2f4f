"""Calls (one row per contact, from the CTI or an agent), storm mode's switch history, the
``cti`` service role, and digit-only phone indexes for caller recognition.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-02 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"  # re-chained after 0011 (fa-privacy) in d2-desk
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "'admin', 'dispatcher', 'agent', 'crew', 'supervisor'"
ROLES_AFTER = "'admin', 'dispatcher', 'agent', 'crew', 'supervisor', 'cti'"
DIGITS = "regexp_replace({}, '[^0-9]', '', 'g')"
PHONE_INDEXES = (
    ("ix_premise_phone_digits", "premise", "phone"),
    ("ix_report_phone_digits", "report", "caller_phone"),
    ("ix_ticket_phone_digits", "ticket", "caller_phone"),
)


def upgrade() -> None:
    op.drop_constraint("user_role", "user_account", type_="check")
    op.create_check_constraint("user_role", "user_account", f"role IN ({ROLES_AFTER})")
    op.create_table(
        "call",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("caller_number", sa.String(length=20), nullable=True),
        sa.Column("caller_account", sa.String(length=32), nullable=True),
        sa.Column("premise_id", sa.Integer(), sa.ForeignKey("premise.id"), nullable=True),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrapped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_wait_s", sa.Integer(), nullable=True),
        sa.Column("answered_by", sa.String(length=8), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("disposition", sa.String(length=24), nullable=True),
        sa.Column("report_id", sa.BigInteger(), sa.ForeignKey("report.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("outage_id", sa.Integer(), sa.ForeignKey("outage.id"), nullable=True),
        sa.Column(
            "planned_outage_id", sa.Integer(), sa.ForeignKey("planned_outage.id"), nullable=True
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('phone', 'web', 'app', 'sms', 'walk_in')", name="call_channel"
        ),
        sa.CheckConstraint(
            "status IN ('ringing', 'answered', 'ended', 'wrapped', 'abandoned')",
            name="call_status",
        ),
        sa.CheckConstraint(
            "disposition IS NULL OR disposition IN ('fault_report', 'outage_answered', "
            "'ticket', 'kb_answered', 'abandoned')",
            name="call_disposition",
        ),
        sa.CheckConstraint(
            "answered_by IS NULL OR answered_by IN ('agent', 'ivr')", name="call_answered_by"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index("ix_call_caller_started", "call", ["caller_number", "started_at"])
    op.create_index("ix_call_region_started", "call", ["region_id", "started_at"])
    op.create_index("ix_call_premise_started", "call", ["premise_id", "started_at"])
    op.create_index("ix_call_started", "call", ["started_at"])
    op.create_table(
        "storm_mode_switch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), sa.ForeignKey("region.id"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_storm_mode_switch_at", "storm_mode_switch", ["at"])
    for name, table, column in PHONE_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({DIGITS.format(column)})")


def downgrade() -> None:
    for name, _, _ in PHONE_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.drop_table("storm_mode_switch")
    op.drop_table("call")
    op.execute("DELETE FROM user_account WHERE role = 'cti'")
    op.drop_constraint("user_role", "user_account", type_="check")
    op.create_check_constraint("user_role", "user_account", f"role IN ({ROLES_BEFORE})")
