"""An index on the ticket's premise: the caller card reads a premise's tickets (its open
ones, however old) in the same statement as the rest, and without it that part scanned the
whole ticket table on every call.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 19:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_ticket_premise_id"), "ticket", ["premise_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_premise_id"), table_name="ticket")
