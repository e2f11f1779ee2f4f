"""Statistics that keep up with a storm: the tables a storm grows are analyzed soon.

Every foreign-key check is a query PostgreSQL plans once per connection and keeps until the
table's statistics change. At the start of a storm the outage table holds a few dozen rows
in a few pages, so the check "does outage N exist" is planned as a scan of those pages;
minutes later the table holds thousands of outages in hundreds of pages and every affected
premise a batch writes still scans them all. A storm batch of 10,000 reports spent 6.6 s
in its COPY of affected premises that way, 0.3-0.7 s once the table had been analyzed
(bench/RESULTS.md). The report table (its duplicate-of key) is the same.

Autovacuum analyzes a table once 50 rows plus 10% of it changed; these tables are analyzed
after 200 rows plus 2%, so the stale plans last a few autovacuum rounds of a storm, not its
first hour. The rounds themselves come every ``autovacuum_naptime``: docs/deploy.md asks
for 10 s (the default is a minute), as the demo's and the benchmarks' clusters run.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 07:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables a storm grows fastest, which foreign keys of the storm's writes point at or
# whose plans the intake reads on.
TABLES = ("outage", "outage_premise", "report", "etr_change", "work_order")
SETTINGS = "autovacuum_analyze_scale_factor = 0.02, autovacuum_analyze_threshold = 200"


def upgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} SET ({SETTINGS})")


def downgrade() -> None:
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} RESET "
            "(autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)"
        )
