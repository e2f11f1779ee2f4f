"""Generalized outage areas: the union of grid cells holding affected premises.

A public feed must never point at one premise, and a hull or buffer around one premise
still centres on it. Snapping each premise to a square grid (``feed_cell_m`` on the
ground) and publishing the cells says "somewhere in this block" and nothing finer, however
few premises are out. The grid is laid in Web Mercator, its cell widened by 1 / cos(lat)
of the territory's middle so a cell is about ``feed_cell_m`` wide on the ground.
"""

from __future__ import annotations

from geo.layers import COORDINATE_DIGITS
from outages.models import ACTIVE_OUTAGE_STATUSES

ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE_OUTAGE_STATUSES)
# Five decimals (about 1 m) are plenty for cell corners and keep the feed small.
AREA_DIGITS = min(COORDINATE_DIGITS, 5)

# The Mercator cell size for the territory's middle latitude (one InitPlan per query).
_CELL = """(:cell_m / cos(radians(COALESCE(
    (SELECT ST_Y(ST_Centroid(ST_Extent(geom)::geometry)) FROM region), 0))))"""

# premise ids per item -> one multipolygon of cells per item (item_id, area).
_CELLS = f"""
cells AS (
    SELECT m.item_id, ST_SnapToGrid(ST_Transform(p.geom, 3857), {_CELL}) AS c
    FROM members m JOIN premise p ON p.id = m.premise_id
    GROUP BY 1, 2
),
areas AS (
    -- Reduced to the published precision here, so the rounded polygon is still valid.
    SELECT item_id, ST_ReducePrecision(ST_Transform(ST_Union(ST_MakeEnvelope(
            ST_X(c) - {_CELL} / 2, ST_Y(c) - {_CELL} / 2,
            ST_X(c) + {_CELL} / 2, ST_Y(c) + {_CELL} / 2, 3857)), 4326), 1e-5) AS area
    FROM cells GROUP BY item_id
)"""

OUTAGE_MEMBERS = f"""
members AS (
    SELECT op.outage_id AS item_id, op.premise_id
    FROM outage_premise op JOIN outage o ON o.id = op.outage_id
    WHERE o.status IN ({ACTIVE}) AND op.restored_at IS NULL
)"""

PLANNED_MEMBERS = """
members AS (
    SELECT pp.planned_outage_id AS item_id, pp.premise_id
    FROM planned_outage_premise pp JOIN planned_outage po ON po.id = pp.planned_outage_id
    WHERE po.status = 'scheduled' AND po.ends_at > :now AND po.starts_at <= :until
)"""


def with_areas(members: str) -> str:
    """The ``WITH`` clause giving ``areas(item_id, area)`` for the items of ``members``."""
    return f"WITH {members.strip()},{_CELLS}"


# When an outage last changed as the public sees it (``outage.updated_at`` is not kept).
OUTAGE_CHANGED_AT = """GREATEST(o.started_at, o.confirmed_at,
    (SELECT max(e.changed_at) FROM etr_change e WHERE e.outage_id = o.id))"""
# How often a planned outage was changed (the audit log), and when last.
PLANNED_UPDATES = """(SELECT count(*) FROM event e WHERE e.object_type = 'planned_outage'
    AND e.object_id = po.id::text AND e.action = 'planned.updated')"""
PLANNED_CHANGED_AT = """COALESCE((SELECT max(e.occurred_at) FROM event e
    WHERE e.object_type = 'planned_outage' AND e.object_id = po.id::text
    AND e.action = 'planned.updated'), po.created_at)"""
