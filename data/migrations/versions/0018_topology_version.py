"""The territory's topology version: a token that changes whenever devices, premises or
feeders change.

The intake's group writer keeps feeder trees and the premises on their transformers in
memory across groups (``outages.intake.topology_cache``), since loading them was a quarter
of a storm group's time. It reads this token at the start of every group and drops what it
holds when the token differs. The token is a random UUID, not a counter, so two databases
copied from one template and changed differently never share a token for different
contents; it is written in the changing statement's own transaction, so a group never sees
the new token before the new rows. Statement triggers: an import of 200,000 premises
writes it once per statement, and nothing on the report path writes these tables.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 22:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("device", "premise", "feeder")


def upgrade() -> None:
    op.execute(
        "CREATE TABLE topology_version (one boolean PRIMARY KEY DEFAULT true "
        "CONSTRAINT topology_version_one_check CHECK (one), "
        "token uuid NOT NULL DEFAULT gen_random_uuid())"
    )
    op.execute("INSERT INTO topology_version DEFAULT VALUES")
    op.execute(
        "CREATE FUNCTION bump_topology_version() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE topology_version SET token = gen_random_uuid(); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_topology_version AFTER INSERT OR UPDATE OR DELETE "
            f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
            "EXECUTE FUNCTION bump_topology_version()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_topology_version ON {table}")
    op.execute("DROP FUNCTION bump_topology_version()")
    op.execute("DROP TABLE topology_version")
