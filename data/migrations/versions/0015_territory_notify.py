"""Territory change notices: statement triggers on region and premise NOTIFY the workers.

Each API worker keeps the accounts' regions and the region polygons in memory for its
admission quotas (``web.region_index``); these triggers tell it when to reload. Statement
level, so an import of 200,000 premises sends one notice, not 200,000 (and PostgreSQL
folds identical notices of one transaction into one).

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("region", "premise")


def upgrade() -> None:
    op.execute(
        "CREATE FUNCTION notify_territory_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('territory_changed', TG_TABLE_NAME); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_territory_changed AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION notify_territory_changed()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_territory_changed ON {table}")
    op.execute("DROP FUNCTION notify_territory_changed()")
