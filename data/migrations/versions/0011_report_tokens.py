"""Report tracking tokens: the public tracks a report by a random token, not its number.

Existing reports get a token from ``gen_random_uuid()`` (built into PostgreSQL 13+, from
the server's strong random source), and their stored answers (replayed on a retried
idempotency key) get it too, so a replay answers the same token.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("report", sa.Column("token", sa.String(length=32), nullable=True))
    op.execute("UPDATE report SET token = left(replace(gen_random_uuid()::text, '-', ''), 32)")
    op.execute(
        "UPDATE report SET answer = answer || jsonb_build_object('token', token) "
        "WHERE answer <> '{}'::jsonb"
    )
    op.alter_column("report", "token", nullable=False)
    op.create_unique_constraint("report_token_key", "report", ["token"])


def downgrade() -> None:
    op.drop_constraint("report_token_key", "report", type_="unique")
    op.drop_column("report", "token")
