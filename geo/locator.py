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
        """Id of the lowest-id polygon covering each point, ``NOT_FOUND`` (-1) where none."""
        n = len(lon)
        best = np.full(n, len(self.ids), dtype=np.int64)
        if n == 0 or len(self.ids) == 0:
            return np.full(n, NOT_FOUND, dtype=np.int64)
        point_idx, poly_idx = self.tree.query(shapely.points(lon, lat))
        order = np.argsort(poly_idx, kind="stable")
        point_idx, poly_idx = point_idx[order], poly_idx[order]
        starts = np.flatnonzero(np.r_[True, poly_idx[1:] != poly_idx[:-1]])
        ends = np.r_[starts[1:], len(poly_idx)]
        for start, end in zip(starts, ends, strict=True):
            j = poly_idx[start]
            pts = point_idx[start:end]
            # intersects_xy on a prepared polygon is "covers" for points: interior or boundary.
            inside = pts[shapely.intersects_xy(self.polygons[j], lon[pts], lat[pts])]
            np.minimum.at(best, inside, j)
        found = best < len(self.ids)
        out = np.full(n, NOT_FOUND, dtype=np.int64)
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
