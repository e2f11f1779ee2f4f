"""What the public outage map shows: generalized outage areas, a per-region summary and the
planned work of the coming week. No personal data, and no way back to one premise.

Areas are grid cells, never premises. Each premise still without power falls in a square
cell about ``CELL_M`` wide on a fixed grid (aligned to the territory, not to the outage), and
an outage's area is the union of its cells. A cell says only "one or more of the premises
in these 250 m is out", so no point, hull vertex or outline can be traced back to a home.
An outage with fewer than ``FEW_CUSTOMERS`` premises out is drawn on cells ``COARSE``
times as wide (750 m), so a single cut-off house is one of hundreds in its cell. Planned
work uses the same rule on the premises it covers. An outage whose premises are not known
yet is drawn as the coarse cell of its device (a public asset, not a customer).

Everything comes from a fixed handful of queries, whatever the number of outages.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from outages.models import ACTIVE_OUTAGE_STATUSES

CELL_M = 250.0
FEW_CUSTOMERS = 10
COARSE = 3
PLANNED_AHEAD_DAYS = 7
METRES_PER_DEGREE = 111_320.0
GEOJSON_DIGITS = 5  # about 1 m: far finer than a cell, and small
_ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE_OUTAGE_STATUSES)


@dataclass(frozen=True)
class Grid:
    """The cell size in degrees at the territory's latitude (square on the ground), and the
    territory's extent (west, south, east, north) for the map's first view."""

    dlon: float
    dlat: float
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class PublicOutageArea:
    """One current outage as the public sees it."""

    outage_id: int
    status: str
    region_code: str | None
    region_name: str | None
    customers_out: int
    cause: str | None
    started_at: dt.datetime
    etr_at: dt.datetime | None
    changed_at: dt.datetime
    area: dict[str, Any] | None  # GeoJSON geometry: the union of its cells


@dataclass(frozen=True)
class RegionSummary:
    """One supply region: customers served and out, outages, the latest change."""

    code: str
    name: str
    customers_served: int
    customers_out: int
    outages: int
    changed_at: dt.datetime | None


@dataclass(frozen=True)
class PublicPlanned:
    """Planned work in the coming week, with its area generalized the same way."""

    planned_outage_id: int
    reason: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    customers_affected: int
    area: dict[str, Any] | None


def territory_grid(*, session: Session) -> Grid:
    """Cells ``CELL_M`` wide at the latitude of the territory's centre."""
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
            "FROM (SELECT ST_Extent(geom) AS e FROM region) x"
        )
    ).one()
    # No territory loaded: an empty map around (0, 0).
    extent = (-0.01, -0.01, 0.01, 0.01) if row[0] is None else tuple(row)
    west, south, east, north = (float(v) for v in extent)
    cos_lat = max(math.cos(math.radians((south + north) / 2)), 0.01)
    return Grid(
        dlon=CELL_M / (METRES_PER_DEGREE * cos_lat),
        dlat=CELL_M / METRES_PER_DEGREE,
        bbox=(west, south, east, north),
    )


# Cells of a set of (key, geom, n) rows: coarse ones for keys with few premises. Runs of
# cells side by side in a row are merged first (gaps and islands), so the union works on
# a few rectangles per row instead of every cell: 3x faster on a storm (bench/RESULTS.md).
_CELLS = f"""
    cells AS (
        SELECT DISTINCT s.key, k.f,
            floor(ST_X(s.geom) / (:dlon * k.f)) AS i, floor(ST_Y(s.geom) / (:dlat * k.f)) AS j
        FROM src s JOIN sized z ON z.key = s.key
        CROSS JOIN LATERAL (SELECT CASE WHEN z.n < {FEW_CUSTOMERS} THEN {COARSE} ELSE 1 END
            AS f) k
    ),
    runs AS (
        SELECT key, f, j, min(i) AS i0, max(i) AS i1 FROM (
            SELECT key, f, j, i, i - row_number() OVER (PARTITION BY key, f, j ORDER BY i) AS run
            FROM cells
        ) c GROUP BY key, f, j, run
    ),
    areas AS (
        SELECT key, ST_AsGeoJSON(ST_Union(ST_MakeEnvelope(
            i0 * :dlon * f, j * :dlat * f, (i1 + 1) * :dlon * f, (j + 1) * :dlat * f, 4326)),
            {GEOJSON_DIGITS}) AS area
        FROM runs GROUP BY key
    )"""

_OUTAGES_SQL = f"""
    WITH active AS (
        SELECT o.* FROM outage o WHERE o.status IN ({_ACTIVE})
    ),
    src AS (
        SELECT op.outage_id AS key, p.geom FROM outage_premise op
        JOIN active a ON a.id = op.outage_id JOIN premise p ON p.id = op.premise_id
        WHERE op.restored_at IS NULL
        UNION ALL
        SELECT a.id, d.geom FROM active a JOIN device d ON d.id = a.device_id
        WHERE NOT EXISTS (SELECT 1 FROM outage_premise op WHERE op.outage_id = a.id
            AND op.restored_at IS NULL)
    ),
    sized AS (
        SELECT op.outage_id AS key, count(*) AS n FROM outage_premise op
        JOIN active a ON a.id = op.outage_id WHERE op.restored_at IS NULL GROUP BY 1
        UNION ALL
        SELECT a.id, 0 FROM active a WHERE NOT EXISTS (SELECT 1 FROM outage_premise op
            WHERE op.outage_id = a.id AND op.restored_at IS NULL)
    ),
    {_CELLS}
    SELECT a.id, a.status, r.code AS region_code, r.name AS region_name,
        z.n AS customers_out, a.cause, a.started_at, a.etr_at,
        GREATEST(a.started_at, a.confirmed_at,
            (SELECT max(e.changed_at) FROM etr_change e WHERE e.outage_id = a.id),
            (SELECT max(op.restored_at) FROM outage_premise op WHERE op.outage_id = a.id))
            AS changed_at,
        ar.area
    FROM active a JOIN sized z ON z.key = a.id LEFT JOIN areas ar ON ar.key = a.id
    LEFT JOIN region r ON r.id = a.region_id
    ORDER BY z.n DESC, a.id
"""


def current_outage_areas(*, session: Session, grid: Grid) -> list[PublicOutageArea]:
    """Every active outage, largest first, with its generalized area."""
    rows = session.execute(text(_OUTAGES_SQL), {"dlon": grid.dlon, "dlat": grid.dlat})
    return [
        PublicOutageArea(
            outage_id=r.id,
            status=r.status,
            region_code=r.region_code,
            region_name=r.region_name,
            customers_out=int(r.customers_out),
            cause=r.cause,
            started_at=r.started_at,
            etr_at=r.etr_at,
            changed_at=r.changed_at,
            area=json.loads(r.area) if r.area else None,
        )
        for r in rows
    ]


_REGIONS_SQL = f"""
    WITH served AS (
        SELECT region_id, count(*) AS n FROM premise GROUP BY region_id
    ),
    dark AS (
        SELECT p.region_id, count(DISTINCT op.premise_id) AS n FROM outage_premise op
        JOIN outage o ON o.id = op.outage_id AND o.status IN ({_ACTIVE})
        JOIN premise p ON p.id = op.premise_id WHERE op.restored_at IS NULL GROUP BY 1
    ),
    touched AS (
        SELECT o.region_id, count(*) FILTER (WHERE o.status IN ({_ACTIVE})) AS outages,
            max(GREATEST(o.started_at, o.confirmed_at, o.restored_at)) AS changed_at
        FROM outage o
        WHERE o.status IN ({_ACTIVE}) OR o.restored_at >= :since
        GROUP BY 1
    )
    SELECT r.code, r.name, s.n AS served, coalesce(d.n, 0) AS dark,
        coalesce(t.outages, 0) AS outages, t.changed_at
    FROM region r JOIN served s ON s.region_id = r.id
    LEFT JOIN dark d ON d.region_id = r.id LEFT JOIN touched t ON t.region_id = r.id
    ORDER BY r.code
"""


def region_summaries(
    *, session: Session, now: dt.datetime, recent: dt.timedelta
) -> list[RegionSummary]:
    """Regions that serve customers; ``changed_at`` counts restorations within ``recent``."""
    rows = session.execute(text(_REGIONS_SQL), {"since": now - recent})
    return [
        RegionSummary(
            code=r.code,
            name=r.name,
            customers_served=int(r.served),
            customers_out=int(r.dark),
            outages=int(r.outages),
            changed_at=r.changed_at,
        )
        for r in rows
    ]


_PLANNED_SQL = f"""
    WITH soon AS (
        SELECT t.* FROM planned_outage t WHERE t.status = 'scheduled'
            AND t.ends_at > :now AND t.starts_at <= :until
    ),
    src AS (
        SELECT pp.planned_outage_id AS key, p.geom FROM planned_outage_premise pp
        JOIN soon s ON s.id = pp.planned_outage_id JOIN premise p ON p.id = pp.premise_id
    ),
    sized AS (SELECT key, count(*) AS n FROM src GROUP BY key),
    {_CELLS}
    SELECT s.id, s.reason, s.starts_at, s.ends_at, s.customers_affected, ar.area
    FROM soon s LEFT JOIN areas ar ON ar.key = s.id
    ORDER BY s.starts_at, s.id
"""


def planned_soon(*, session: Session, grid: Grid, now: dt.datetime) -> list[PublicPlanned]:
    """Scheduled work not over yet that starts within ``PLANNED_AHEAD_DAYS``, soonest first."""
    params = {
        "now": now,
        "until": now + dt.timedelta(days=PLANNED_AHEAD_DAYS),
        "dlon": grid.dlon,
        "dlat": grid.dlat,
    }
    return [
        PublicPlanned(
            planned_outage_id=r.id,
            reason=r.reason,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            customers_affected=int(r.customers_affected),
            area=json.loads(r.area) if r.area else None,
        )
        for r in session.execute(text(_PLANNED_SQL), params)
    ]
