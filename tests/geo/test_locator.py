"""Locator: single points in PostGIS and the in-memory bulk path agree everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, OutsideTerritory
from geo.locator import NOT_FOUND, BulkLocator, locate
from geo.models import Feeder


def _feeders(db_session: Session) -> list[tuple[int, shapely.Geometry]]:
    return [
        (f.id, to_shape(f.geom)) for f in db_session.scalars(select(Feeder).order_by(Feeder.id))
    ]


def test_point_inside_each_feeder(db_session: Session) -> None:
    for feeder_id, area in _feeders(db_session):
        inside = area.representative_point()
        where = locate(session=db_session, lon=inside.x, lat=inside.y)
        assert where.feeder.id == feeder_id
        assert where.nearest_premise is not None
        assert where.nearest_premise.distance_m >= 0


def _shared_boundary_points(feeders: list[tuple[int, shapely.Geometry]]) -> list[shapely.Point]:
    """Vertices and edge midpoints on boundaries that two feeders share."""
    points: list[shapely.Point] = []
    for i, (_, a) in enumerate(feeders):
        for _, b in feeders[i + 1 :]:
            shared = shapely.intersection(a.boundary, b.boundary)
            coords = shapely.get_coordinates(shared)
            points += [shapely.Point(c) for c in coords[:20]]
            for line in getattr(shared, "geoms", [shared]):
                if isinstance(line, shapely.LineString) and line.length > 0:
                    points.append(line.interpolate(0.5, normalized=True))
    return points


def test_shared_boundary_same_answer_as_bulk_path(db_session: Session) -> None:
    feeders = _feeders(db_session)
    points = _shared_boundary_points(feeders)
    assert len(points) > 10, "feeders share no boundary: the territory is not tiled"
    bulk = BulkLocator.from_session(db_session)
    lon = np.array([p.x for p in points])
    lat = np.array([p.y for p in points])
    _, bulk_feeders = bulk.locate_many(lon, lat)
    single = [locate(session=db_session, lon=p.x, lat=p.y).feeder.id for p in points]
    assert list(bulk_feeders) == single


def test_bulk_path_equals_postgis_on_random_points(db_session: Session) -> None:
    feeders = _feeders(db_session)
    minx, miny, maxx, maxy = shapely.union_all([g for _, g in feeders]).bounds
    rng = np.random.default_rng(7)
    lon = rng.uniform(minx - 0.002, maxx + 0.002, 300)
    lat = rng.uniform(miny - 0.002, maxy + 0.002, 300)
    regions, feeder_ids = BulkLocator.from_session(db_session).locate_many(lon, lat)
    outside = 0
    for x, y, region_id, feeder_id in zip(lon, lat, regions, feeder_ids, strict=True):
        try:
            where = locate(session=db_session, lon=float(x), lat=float(y))
        except OutsideTerritory:
            outside += 1
            assert feeder_id == NOT_FOUND or region_id == NOT_FOUND
            continue
        assert (where.region.id, where.feeder.id) == (region_id, feeder_id)
    assert 0 < outside < 300


def test_outside_territory(db_session: Session) -> None:
    with pytest.raises(OutsideTerritory, match="outside"):
        locate(session=db_session, lon=0.0, lat=0.0)


@pytest.mark.parametrize(
    ("lon", "lat"), [(24.9, 91.0), (181.0, 60.0), (math.nan, 60.0), (24.9, math.inf)]
)
def test_invalid_coordinates(db_session: Session, lon: float, lat: float) -> None:
    with pytest.raises(InvalidInput, match="not a valid coordinate"):
        locate(session=db_session, lon=lon, lat=lat)
