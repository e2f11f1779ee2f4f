"""Premise coordinates in memory, and the outage areas a batch draws from them.

A batch redraws the area of every outage whose premises changed: the 25 m buffer of the
convex hull of its premises still dark. Drawn in SQL from ``premise.geom`` it looked up
every premise of those outages by key, in no useful order: a batch of 10,000 storm reports
meets 33,000-92,000 such premises, 0.2-0.4 s of the batch (``bench.batch_phases``),
growing as the storm's outages grow. The coordinates come in with the premises a batch
store loads below each transformer (the group writer holds them all), so the hulls are
drawn here with shapely's vectorized GEOS, the same convex hull PostGIS computes, and only
the 25 m buffer on the geography, a few hundred small polygons, is left to PostGIS.

The arrays are never changed in place: ``copy`` shares them with another thread's store,
and what a store adds later goes to chunks of its own, merged on its next lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
import shapely

from outages.intake.pg_text import int_array

_Chunk = tuple[np.ndarray, np.ndarray]


class PremisePoints:
    """Longitude and latitude by premise id, for the premises loaded so far.

    What is held is one tuple (sorted ids, their coordinates, chunks added since), replaced
    whole, never changed: another thread's ``copy`` reads it in one step.
    """

    def __init__(self) -> None:
        self._held: tuple[np.ndarray, np.ndarray, tuple[_Chunk, ...]] = (
            np.empty(0, dtype=np.int64),
            np.empty((0, 2), dtype=np.float64),
            (),
        )

    def copy(self) -> PremisePoints:
        """Another holder sharing what this one holds, for another thread's store."""
        other = PremisePoints()
        other._held = self._held
        return other

    def add(self, rows: Sequence[tuple[int, float, float]]) -> None:
        """Premises as (id, lon, lat); one already held keeps its coordinates."""
        if rows:
            table = np.asarray(rows, dtype=np.float64)
            ids, xy, chunks = self._held
            self._held = (ids, xy, (*chunks, (table[:, 0].astype(np.int64), table[:, 1:])))

    def _merged(self) -> tuple[np.ndarray, np.ndarray]:
        ids, xy, chunks = self._held
        if chunks:
            ids, first = np.unique(
                np.concatenate([ids, *(c[0] for c in chunks)]), return_index=True
            )
            xy = np.concatenate([xy, *(c[1] for c in chunks)])[first]
            self._held = (ids, xy, ())
        return ids, xy

    def lookup(self, pids: np.ndarray, cursor: psycopg.Cursor[Any]) -> np.ndarray:
        """The (lon, lat) of each premise id; ones not held yet are read in one query."""
        ids, xy = self._merged()
        at = np.minimum(np.searchsorted(ids, pids), max(ids.size - 1, 0))
        if ids.size and (ids[at] == pids).all():
            return xy[at]
        missing = np.unique(pids if not ids.size else pids[ids[at] != pids])
        cursor.execute(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM premise WHERE id = ANY(%s)",
            [int_array(int(p) for p in missing)],
        )
        self.add(cursor.fetchall())
        ids, xy = self._merged()
        at = np.minimum(np.searchsorted(ids, pids), ids.size - 1)
        if not ids.size or (ids[at] != pids).any():
            msg = "an outage names a premise the territory does not have"
            raise LookupError(msg)
        return xy[at]


def hull_wkbs(
    groups: Sequence[Sequence[int]], points: PremisePoints, cursor: psycopg.Cursor[Any]
) -> list[bytes]:
    """The convex hull of each group of premises (none empty), as WKB: a point or a line
    for one or two premises in a row, as ``ST_ConvexHull`` gives them."""
    sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
    pids = np.fromiter((p for g in groups for p in g), dtype=np.int64, count=int(sizes.sum()))
    coordinates = points.lookup(pids, cursor)
    members = np.repeat(np.arange(len(groups)), sizes)
    keep = ~_inside_octagons(coordinates, members, np.cumsum(sizes) - sizes)
    collected = shapely.multipoints(coordinates[keep], indices=members[keep])
    return list(shapely.to_wkb(shapely.convex_hull(collected)))


# Counterclockwise by angle: the points furthest in these directions are, in this order,
# corners of the group's hull going counterclockwise.
_DIRECTIONS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
# A point this close to an octagon's side (in degrees squared) is kept: rounding must not
# drop a corner of the hull.
_MARGIN = 1e-12


def _inside_octagons(xy: np.ndarray, members: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Which points lie strictly inside the octagon of their group's extreme points, so
    cannot be corners of its hull (Akl-Toussaint). GEOS builds a geometry per point it is
    given, about 0.6 us each: a storm batch's 90,000 premises were 60-170 ms of it, and
    all but a few per outage are inside."""
    corners = []
    for dx, dy in _DIRECTIONS:
        reach = xy[:, 0] * dx + xy[:, 1] * dy
        furthest = reach == np.maximum.reduceat(reach, starts)[members]
        hits = np.flatnonzero(furthest)
        first = hits[np.r_[True, members[hits][1:] != members[hits][:-1]]]
        corners.append(xy[first][members])
    inside = np.ones(len(xy), dtype=bool)
    sided = np.zeros(len(xy), dtype=bool)  # a group of one point (or one place) has none
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        side = b - a
        cross = side[:, 0] * (xy[:, 1] - a[:, 1]) - side[:, 1] * (xy[:, 0] - a[:, 0])
        flat = (side == 0).all(axis=1)  # two corners the same point: no side here
        inside &= flat | (cross > _MARGIN)
        sided |= ~flat
    return inside & sided
