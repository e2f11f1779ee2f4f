"""Premise coordinates held in memory and the outage hulls drawn from them (the batch
path's areas): the same hull PostGIS draws from ``premise.geom``."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from outages.intake.premise_points import PremisePoints, _inside_octagons, hull_wkbs

ORIGIN = np.array([24.9, 60.1])


def _cursor(session: Session) -> psycopg.Cursor[Any]:
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    return connection.cursor()


def _premises(session: Session, n: int) -> list[tuple[int, float, float]]:
    rows = session.execute(
        text("SELECT id, ST_X(geom), ST_Y(geom) FROM premise ORDER BY id LIMIT :n"), {"n": n}
    )
    return [(int(i), float(x), float(y)) for i, x, y in rows]


def test_lookup_reads_what_is_not_held_and_refuses_unknown_premises(db_session: Session) -> None:
    rows = _premises(db_session, 30)
    points = PremisePoints()
    points.add(rows[:10])
    points.add(rows[5:12])  # overlapping chunks: each premise once
    cursor = _cursor(db_session)
    wanted = np.array([r[0] for r in reversed(rows)], dtype=np.int64)
    got = points.lookup(wanted, cursor)  # 18 of the 30 read from the database
    assert got.tolist() == [[x, y] for _, x, y in reversed(rows)]
    with pytest.raises(LookupError, match="premise the territory does not have"):
        points.lookup(np.array([rows[0][0], 10**9], dtype=np.int64), cursor)
    empty = PremisePoints()
    assert empty.lookup(np.array([rows[3][0]]), cursor).tolist() == [[rows[3][1], rows[3][2]]]


def test_a_copy_shares_what_is_held_but_not_what_is_added_later(db_session: Session) -> None:
    rows = _premises(db_session, 4)
    writer = PremisePoints()
    writer.add(rows[:2])
    route = writer.copy()
    # Marked coordinates, so what each holder answers shows where it came from.
    writer.add([(pid, -1.0, -1.0) for pid, _, _ in rows[2:]])
    route.add([(rows[0][0], 0.0, 0.0)])  # a premise held already keeps its coordinates
    cursor = _cursor(db_session)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    assert writer.lookup(ids, cursor).tolist()[2:] == [[-1.0, -1.0]] * 2
    seen_by_route = route.lookup(ids, cursor).tolist()
    assert seen_by_route == [[x, y] for _, x, y in rows], "the writer's later adds stay its own"


@pytest.mark.parametrize(
    "shape",
    ["uniform", "grid", "circle", "duplicates", "collinear", "near-collinear", "ties", "tiny"],
)
def test_the_octagon_cut_drops_inner_points_and_never_a_hull_corner(shape: str) -> None:
    rng = np.random.default_rng(7)
    groups = []
    for size in rng.integers(1, 400, size=120):
        if shape == "uniform":
            xy = rng.random((size, 2)) * 0.02 + ORIGIN
        elif shape == "grid":
            xy = np.round(rng.random((size, 2)) * 0.02, 3) + ORIGIN
        elif shape == "circle":
            angle = rng.random(size) * 2 * np.pi
            xy = np.c_[np.cos(angle), np.sin(angle)] * 0.01 + ORIGIN
        elif shape == "duplicates":
            xy = np.repeat(rng.random((max(size // 50, 1), 2)), 50, axis=0)[:size]
        elif shape == "collinear":
            t = rng.random(size)
            xy = np.c_[24.9 + t * 0.01, 60.1 + t * 0.02]
        elif shape == "near-collinear":
            t = rng.random(size)
            xy = np.c_[24.9 + t * 0.01, 60.1 + t * 0.01 + rng.random(size) * 1e-13]
        elif shape == "ties":  # squares: several extreme directions hit one point, or two
            xy = rng.integers(0, 3, size=(size, 2)).astype(float)
        else:
            xy = rng.random((size, 2)) * 1e-9 + ORIGIN
        groups.append(xy)
    xy = np.concatenate(groups)
    sizes = np.array([len(g) for g in groups])
    members = np.repeat(np.arange(len(groups)), sizes)
    inside = _inside_octagons(xy, members, np.cumsum(sizes) - sizes)
    cut = shapely.convex_hull(shapely.multipoints(xy[~inside], indices=members[~inside]))
    whole = shapely.convex_hull(shapely.multipoints(xy, indices=members))
    assert len(cut) == len(groups)
    for ours, theirs in zip(shapely.normalize(cut), shapely.normalize(whole), strict=True):
        assert ours.equals_exact(theirs, 0.0)
    if shape in ("uniform", "grid"):
        assert inside.mean() > 0.5, "most points are inside their octagon"
    if shape == "circle":
        assert inside.mean() < 0.01, "on a circle every point is a corner of the hull"


def test_hulls_are_the_ones_postgis_draws(db_session: Session) -> None:
    rows = _premises(db_session, 60)
    groups = [[r[0] for r in rows[:1]], [r[0] for r in rows[1:3]], [r[0] for r in rows[3:60]]]
    wkbs = hull_wkbs(groups, PremisePoints(), _cursor(db_session))
    for group, wkb in zip(groups, wkbs, strict=True):
        postgis = db_session.execute(
            text(
                "SELECT ST_AsBinary(ST_ConvexHull(ST_Collect(geom))) FROM premise "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": group},
        ).scalar_one()
        ours, theirs = shapely.from_wkb(wkb), shapely.from_wkb(bytes(postgis))
        assert ours.geom_type == theirs.geom_type
        assert ours.normalize().equals_exact(theirs.normalize(), 1e-12)
    assert [shapely.from_wkb(w).geom_type for w in wkbs] == ["Point", "LineString", "Polygon"]
