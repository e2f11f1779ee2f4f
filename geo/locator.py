"""Point -> region and feeder, one at a time in PostGIS or many at once in memory.

Both paths decide with GEOS's robust predicates, and a point on a shared boundary goes to
the lowest id, so the bulk path answers exactly as the database does. (PostGIS's own
``ST_Covers`` short-cut for points uses plain floating-point side tests, which can
disagree with GEOS for points on an edge; ``ST_Relate`` goes through GEOS.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, OutsideTerritory
from geo.models import Feeder, Region
from geo.schemas import Location, NamedRef, NearestPremise

# DE-9IM: nothing of the point lies in the polygon's exterior, i.e. polygon covers point.
COVERS = "******FF*"
NOT_FOUND = -1

_CONTAINING = """
SELECT id, code, name FROM {table}
WHERE geom && ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)
  AND ST_Relate(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '{covers}')
ORDER BY id LIMIT 1
"""
_NEAREST_PREMISE = """
SELECT id, address,
       ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS d
FROM premise ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1
"""


def check_coordinates(lon: float, lat: float) -> None:
    """Refuse NaN, infinities and out-of-range values with a message naming the bad one."""
    for name, value, bound in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if not math.isfinite(value) or abs(value) > bound:
            msg = f"{name}={value} is not a valid coordinate: it must lie within +-{bound:g}"
            raise InvalidInput(msg)


def _containing(session: Session, table: str, lon: float, lat: float) -> NamedRef | None:
    row = session.execute(
        text(_CONTAINING.format(table=table, covers=COVERS)), {"lon": lon, "lat": lat}
    ).first()
    return NamedRef(id=row.id, code=row.code, name=row.name) if row else None


def locate(*, session: Session, lon: float, lat: float) -> Location:
    """The region and feeder whose areas cover the point, and the nearest premise."""
    check_coordinates(lon, lat)
    region = _containing(session, "region", lon, lat)
    feeder = _containing(session, "feeder", lon, lat)
    if region is None or feeder is None:
        msg = f"point ({lon}, {lat}) is outside the utility's service territory"
        raise OutsideTerritory(msg)
    nearest = session.execute(text(_NEAREST_PREMISE), {"lon": lon, "lat": lat}).first()
    return Location(
        lon=lon,
        lat=lat,
        region=region,
        feeder=feeder,
        nearest_premise=NearestPremise(
            premise_id=nearest.id, address=nearest.address, distance_m=round(nearest.d, 1)
        )
        if nearest
        else None,
    )


@dataclass(frozen=True)
class PolygonIndex:
    """An STRtree over polygons sorted by id, answering "which id covers this point"."""

    ids: npt.NDArray[np.int64]
    polygons: npt.NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def build(cls, ids: list[int], polygons: list[shapely.Geometry]) -> PolygonIndex:
        order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
        sorted_ids = np.asarray(ids, dtype=np.int64)[order]
        sorted_polys = np.asarray(polygons, dtype=object)[order]
        shapely.prepare(sorted_polys)
        return cls(ids=sorted_ids, polygons=sorted_polys, tree=shapely.STRtree(sorted_polys))

    def lookup(
        self, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """Id of the lowest-id polygon covering each point, ``NOT_FOUND`` (-1) where none.

        Candidates come from the STRtree for small batches. For large ones they come from a
        uniform grid over the polygons' bounding boxes, binned with numpy arithmetic: that
        skips building a shapely Point per point and the tree walk, which cost more than
        the point-in-polygon tests at a million points. The grid only narrows candidates
        (a point's cell lists every polygon whose box contains it, since float arithmetic
        is monotonic); the answer is always decided by GEOS. Candidates are tried in
        ascending polygon order, one round per rank, and a point leaves at its first hit,
        which is therefore the lowest id; most points need one or two tests.
        """
        n = len(lon)
        out = np.full(n, NOT_FOUND, dtype=np.int64)
        if n == 0 or len(self.ids) == 0:
            return out
        # Below this batch size the grid costs more to build than it saves.
        if n < 10 * len(self.ids):
            point_idx, poly_idx = self.tree.query(shapely.points(lon, lat))
            order = np.lexsort((poly_idx, point_idx))
            candidates = poly_idx[order]
            counts = np.bincount(point_idx, minlength=n)
            starts = np.cumsum(counts) - counts
        else:
            bounds = shapely.bounds(self.polygons)
            usable = np.isfinite(bounds).all(axis=1)  # empty polygons have NaN bounds
            if not usable.any():
                return out
            x0, y0 = bounds[usable, :2].min(axis=0)
            x1, y1 = bounds[usable, 2:].max(axis=0)
            # Cells about the size of a small polygon, so few boxes overlap each cell, but
            # no more than ~4 per point, so the grid never costs more than the points.
            cell_w, cell_h = np.quantile(bounds[usable, 2:] - bounds[usable, :2], 0.25, axis=0)
            nx = max(1, int((x1 - x0) / cell_w)) if cell_w > 0 else 1
            ny = max(1, int((y1 - y0) / cell_h)) if cell_h > 0 else 1
            shrink = min(1.0, math.sqrt(4 * n / (nx * ny)))
            nx, ny = max(1, int(nx * shrink)), max(1, int(ny * shrink))
            dx, dy = (x1 - x0) / nx, (y1 - y0) / ny

            def cell_x(x: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
                return np.clip(((x - x0) / dx).astype(np.int64), 0, nx - 1)

            def cell_y(y: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
                return np.clip(((y - y0) / dy).astype(np.int64), 0, ny - 1)

            box = np.where(usable[:, None], bounds, [x0, y0, x0, y0])
            ix0, ix1 = cell_x(box[:, 0]), cell_x(box[:, 2])
            iy0, iy1 = cell_y(box[:, 1]), cell_y(box[:, 3])
            width = ix1 - ix0 + 1
            spans = np.where(usable, width * (iy1 - iy0 + 1), 0)
            # One (cell, polygon) entry per cell a polygon's box spans, sorted by cell.
            poly = np.repeat(np.arange(len(bounds)), spans)
            k = np.arange(len(poly)) - np.repeat(np.cumsum(spans) - spans, spans)
            cell = (iy0[poly] + k // width[poly]) * nx + ix0[poly] + k % width[poly]
            order = np.lexsort((poly, cell))
            candidates = poly[order]
            cell_start = np.searchsorted(cell[order], np.arange(nx * ny + 1))
            inside_grid = (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
            px = cell_x(np.where(inside_grid, lon, x0))  # NaN and inf would not cast
            point_cell = cell_y(np.where(inside_grid, lat, y0)) * nx + px
            starts = cell_start[point_cell]
            counts = np.where(inside_grid, cell_start[point_cell + 1] - starts, 0)
        best = np.full(n, -1, dtype=np.int64)
        active = np.flatnonzero(counts > 0)
        rank = 0
        while len(active):
            j = candidates[starts[active] + rank]
            # intersects_xy on a prepared polygon is "covers" for points: interior or boundary.
            hit = shapely.intersects_xy(self.polygons[j], lon[active], lat[active])
            best[active[hit]] = j[hit]
            rank += 1
            active = active[~hit & (counts[active] > rank)]
        found = best >= 0
        out[found] = self.ids[best[found]]
        return out


@dataclass(frozen=True)
class BulkLocator:
    """In-memory region and feeder lookup for storm batches, built from the database."""

    regions: PolygonIndex
    feeders: PolygonIndex

    @classmethod
    def from_session(cls, session: Session) -> BulkLocator:
        def index(model: type[Region] | type[Feeder]) -> PolygonIndex:
            rows = session.execute(select(model.id, model.geom)).all()
            return PolygonIndex.build([r.id for r in rows], [to_shape(r.geom) for r in rows])

        return cls(regions=index(Region), feeders=index(Feeder))

    def locate_many(
        self, lon: npt.ArrayLike, lat: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Region ids and feeder ids for many points (``NOT_FOUND`` outside the territory)."""
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        return self.regions.lookup(lon_arr, lat_arr), self.feeders.lookup(lon_arr, lat_arr)
