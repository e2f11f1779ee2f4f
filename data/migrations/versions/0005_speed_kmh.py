"""Road speeds in km/h under their proper unit name: road_edge.speed_kph -> speed_kmh.

The values were km/h all along; only the column name changes (DESIGN.md section 8 puts the
unit in the name, and "kph" is not a unit symbol).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("road_edge", "speed_kph", new_column_name="speed_kmh")


def downgrade() -> None:
    op.alter_column("road_edge", "speed_kmh", new_column_name="speed_kph")
