"""Status change notices: statement triggers on what a customer's status answer reads.

Each API worker answers ``GET /api/v1/status?account=`` from memory
(``dispatch.status_memory``): the premises by account, the active outages with their
orders' crew stage, recent restorations and scheduled planned work. These triggers NOTIFY
``status_changed`` with the table's name whenever one of those changes, so a worker reloads
what changed (the premises only when ``premise`` changed: that reload is the slow one).

Statement level, so an import of 200,000 premises or an outage opened over 3,000 premises
sends one notice, not thousands (and PostgreSQL folds identical notices of one transaction
into one). Updates notify only when a column the answer reads is in the statement's SET
list: the dispatch cycle rewrites orders' ETAs and urgency often, which no customer sees.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Table -> the columns whose update changes an answer (None: any update).
TABLES: dict[str, tuple[str, ...] | None] = {
    "premise": ("account", "address", "geom"),
    "outage": ("status", "etr_at", "cause", "customers_affected"),
    "outage_premise": None,
    "work_order": ("status", "crew_id", "kind", "outage_id"),
    "planned_outage": None,
    "planned_outage_premise": None,
}


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION notify_status_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('status_changed', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table, columns in TABLES.items():
        update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
        op.execute(
            f"CREATE TRIGGER {table}_status_changed AFTER INSERT OR {update} OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION notify_status_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_status_changed ON {table}")
    op.execute("DROP FUNCTION notify_status_changed()")
