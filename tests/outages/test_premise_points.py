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

from outages.intake.premise_points import PremisePoints, hull_wkbs


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
    writer.add(rows[2:])
    route.add([(rows[0][0], 0.0, 0.0)])  # a premise held already keeps its coordinates
    cursor = _cursor(db_session)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    assert writer.lookup(ids, cursor).tolist() == [[x, y] for _, x, y in rows]
    assert route.lookup(ids[:1], cursor).tolist() == [[rows[0][1], rows[0][2]]]


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
