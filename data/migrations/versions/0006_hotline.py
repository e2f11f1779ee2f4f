"""The hotline: departments and the ticket routing table, tickets, the knowledge base.

Also the supervisor role and each user's (optional) department, ``department_member``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:03:34.542403
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "'admin', 'dispatcher', 'agent', 'crew'"
ROLES_AFTER = "'admin', 'dispatcher', 'agent', 'crew', 'supervisor'"

TYPES_CHECK = (
    "ticket_type IN ('consultation', 'complaint', 'report', 'suggestion', 'service_request')"
)
CLASS_CHECK = (
    "(ticket_type = 'complaint' AND ticket_class IN ('service', 'business', "
    "'outage_restoration', 'power_quality', 'grid_construction')) OR "
    "(ticket_type = 'report' AND ticket_class IN ('misconduct', 'power_theft')) OR "
    "(ticket_type NOT IN ('complaint', 'report') AND ticket_class IS NULL)"
)
STATUS_CHECK = (
    "status IN ('review', 'with_department', 'waiting_customer', 'replied', 'answered', 'closed')"
)
SATISFACTION_CHECK = (
    "satisfaction IS NULL OR satisfaction IN "
    "('very_satisfied', 'satisfied', 'neutral', 'dissatisfied', 'unreachable')"
)
KIND_CHECK = (
    "kind IN ('reply', 'answer', 'return_visit', 'review', 'pause', 'reopen', 'note', 'route')"
)


def upgrade() -> None:
    op.create_table(
        "kb_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("head_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["head_user_id"],
            ["user_account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=96), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("audience IN ('public', 'internal')", name="kb_article_audience"),
        sa.CheckConstraint("language IN ('zh', 'en')", name="kb_article_language"),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_category.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug", "language", name="kb_article_slug_language"),
    )
    op.create_table(
        "kb_article_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("search_tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("title_tsv", postgresql.TSVECTOR(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'retired')", name="kb_article_version_status"
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_article.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("article_id", "number", name="kb_article_version_number"),
    )
    op.create_index(
        "ix_kb_article_version_published",
        "kb_article_version",
        ["article_id"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_index(
        "ix_kb_article_version_trgm",
        "kb_article_version",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_kb_article_version_title_tsv",
        "kb_article_version",
        ["title_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_kb_article_version_tsv",
        "kb_article_version",
        ["search_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "kb_term",
        sa.Column("term", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("term"),
    )
    op.create_index(
        "ix_kb_term_trgm",
        "kb_term",
        ["term"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={"term": "gist_trgm_ops"},
    )
    op.create_table(
        "ticket_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("ticket_class", sa.String(length=32), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            TYPES_CHECK,
            name="ticket_route_type",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "ticket_type",
            "ticket_class",
            "region_id",
            name="ticket_route_once",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_type", sa.String(length=24), nullable=False),
        sa.Column("ticket_class", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("caller_name", sa.Text(), nullable=True),
        sa.Column("caller_phone", sa.String(length=32), nullable=True),
        sa.Column("caller_account", sa.String(length=32), nullable=True),
        sa.Column("premise_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("accused_department_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("filed_by", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            CLASS_CHECK,
            name="ticket_class_fits_type",
        ),
        sa.CheckConstraint(
            "channel IN ('phone', 'web', 'app', 'sms', 'walk_in')", name="ticket_channel"
        ),
        sa.CheckConstraint(
            SATISFACTION_CHECK,
            name="ticket_satisfaction",
        ),
        sa.CheckConstraint(
            STATUS_CHECK,
            name="ticket_status",
        ),
        sa.CheckConstraint(
            TYPES_CHECK,
            name="ticket_type",
        ),
        sa.ForeignKeyConstraint(
            ["accused_department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
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
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(op.f("ix_ticket_caller_phone"), "ticket", ["caller_phone"], unique=False)
    op.create_index(
        "ix_ticket_department_status", "ticket", ["department_id", "status"], unique=False
    )
    op.create_index(op.f("ix_ticket_status"), "ticket", ["status"], unique=False)
    op.create_table(
        "ticket_article",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_article.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("ticket_id", "article_id"),
    )
    op.create_index(
        op.f("ix_ticket_article_article_id"), "ticket_article", ["article_id"], unique=False
    )
    op.create_table(
        "ticket_message",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            KIND_CHECK,
            name="ticket_message_kind",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_ticket_message_ticket_id"), "ticket_message", ["ticket_id"], unique=False
    )
    op.create_table(
        "department_member",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index(
        op.f("ix_department_member_department_id"),
        "department_member",
        ["department_id"],
        unique=False,
    )
    op.drop_constraint("user_role", "user_account", type_="check")
    op.create_check_constraint("user_role", "user_account", f"role IN ({ROLES_AFTER})")


def downgrade() -> None:
    op.execute("UPDATE user_account SET active = false, role = 'agent' WHERE role = 'supervisor'")
    op.drop_constraint("user_role", "user_account", type_="check")
    op.create_check_constraint("user_role", "user_account", f"role IN ({ROLES_BEFORE})")
    op.drop_index(op.f("ix_department_member_department_id"), table_name="department_member")
    op.drop_table("department_member")
    op.drop_index(op.f("ix_ticket_message_ticket_id"), table_name="ticket_message")
    op.drop_table("ticket_message")
    op.drop_index(op.f("ix_ticket_article_article_id"), table_name="ticket_article")
    op.drop_table("ticket_article")
    op.drop_index(op.f("ix_ticket_status"), table_name="ticket")
    op.drop_index("ix_ticket_department_status", table_name="ticket")
    op.drop_index(op.f("ix_ticket_caller_phone"), table_name="ticket")
    op.drop_table("ticket")
    op.drop_table("ticket_route")
    op.drop_index("ix_kb_term_trgm", table_name="kb_term")
    op.drop_table("kb_term")
    op.drop_index(
        "ix_kb_article_version_title_tsv",
        table_name="kb_article_version",
        postgresql_using="gin",
    )
    op.drop_index(
        "ix_kb_article_version_tsv", table_name="kb_article_version", postgresql_using="gin"
    )
    op.drop_index(
        "ix_kb_article_version_trgm",
        table_name="kb_article_version",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index(
        "ix_kb_article_version_published",
        table_name="kb_article_version",
        postgresql_where=sa.text("status = 'published'"),
    )
    op.drop_table("kb_article_version")
    op.drop_table("kb_article")
    op.drop_table("department")
    op.drop_table("kb_category")
