"""Feeders and regions as areas: which transformer sites each feeder serves, and where.

Sites are grouped into feeders by bearing, feeder service areas are Voronoi cells of the
premises dissolved by feeder, and regions are unions of whole feeders; together they tile
the territory exactly.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from scenarios.demo_city.params import FEEDER_COUNT, code_of_feeder
from scenarios.demo_city.spatial import (
    bearing_rad,
    centroid,
    compass,
    multipolygon,
    wgs84_frame,
    wgs84_geom,
)

TERRITORY_BUFFER_M = 150.0
FEEDER_VOLTAGE_KV = 10.0  # Helsinki's city-centre distribution runs at 10 kV


def sector_feeders(site_xy: np.ndarray, site_premises: np.ndarray) -> np.ndarray:
    """Group transformer sites into feeders by bearing from the centre of the load.

    Sectors start at the widest angular gap between sites and hold about equal numbers of
    premises, so each feeder serves one compact wedge of town and a similar load. Wedges
    around the load centre rather than the substation (which sits off-centre) stay wide
    enough for every feeder's service area to be one piece. Returns each site's feeder.
    """
    centre = (site_xy * site_premises[:, None]).sum(axis=0) / site_premises.sum()
    angle = np.arctan2(site_xy[:, 1] - centre[1], site_xy[:, 0] - centre[0])
    order = np.argsort(angle, kind="stable")
    gaps = np.diff(np.append(angle[order], angle[order[0]] + 2 * math.pi))
    order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    load = site_premises[order].astype(float)
    midpoint = np.cumsum(load) - load / 2
    feeder = np.empty(len(site_xy), dtype=np.int64)
    feeder[order] = np.minimum(midpoint * FEEDER_COUNT // load.sum(), FEEDER_COUNT - 1)
    if np.bincount(feeder, minlength=FEEDER_COUNT).min() < 2:
        msg = f"{len(site_xy)} transformer sites are too few for {FEEDER_COUNT} feeders"
        raise ValueError(msg)
    return feeder


def feeder_bearings(
    site_xy: np.ndarray, site_feeder: np.ndarray, site_premises: np.ndarray, sub_xy: np.ndarray
) -> np.ndarray:
    """Bearing (radians) from the substation to each feeder's load centre: where it heads."""
    bearings = []
    for f in range(FEEDER_COUNT):
        mine = site_feeder == f
        weight = site_premises[mine, None] + 1  # +1: a site without premises still counts
        centre = (site_xy[mine] * weight).sum(axis=0) / weight.sum()
        bearings.append(bearing_rad(centre, sub_xy))
    return np.array(bearings)


def territory_polygon(premise_xy: np.ndarray, node_xy: np.ndarray) -> Polygon:
    """The served territory: the hull of premises and roads, with a margin around it."""
    hull = shapely.MultiPoint(np.vstack([premise_xy, node_xy])).convex_hull
    return hull.buffer(TERRITORY_BUFFER_M)


def service_areas(
    premise_xy: np.ndarray, premise_feeder: np.ndarray, territory_m: Polygon
) -> list[MultiPolygon]:
    """Feeder service areas: Voronoi cells of the premises, dissolved by feeder.

    Cells are built on distinct locations (several addresses can share a point; they
    share a transformer too) and clipped to the territory, so the areas tile it exactly.
    """
    unique_xy, first = np.unique(premise_xy, axis=0, return_index=True)
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(unique_xy), extend_to=territory_m, ordered=True
    )
    clipped = shapely.intersection(shapely.get_parts(cells), territory_m)
    cell_feeder = premise_feeder[first]
    return [multipolygon(shapely.union_all(clipped[cell_feeder == f])) for f in range(FEEDER_COUNT)]


def region_frame(
    regions_m: list[Any], sub_xy: np.ndarray, premises: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Regions named by their bearing from the substation.

    The region with the fewest premises is classed rural: central Helsinki has no rural
    land, but the demo should show both sets of service-level clocks.
    """
    counts = premises["region_id"].value_counts()
    rural = min(range(1, len(regions_m) + 1), key=lambda r: (counts.get(r, 0), r))
    rows = [
        {
            "id": r,
            "code": f"HEL-R{r}",
            "name": f"Helsinki centre {compass(bearing_rad(centroid(geom), sub_xy))}",
            "region_class": "rural" if r == rural else "urban",
            "parent_id": None,
            "geom": wgs84_geom(multipolygon(geom)),
        }
        for r, geom in enumerate(regions_m, start=1)
    ]
    return wgs84_frame(rows).astype({"parent_id": "Int64"})


def feeder_frame(
    areas_m: list[MultiPolygon], feeder_angles: np.ndarray, region_of_feeder: np.ndarray
) -> gpd.GeoDataFrame:
    rows = [
        {
            "id": f + 1,
            "code": code_of_feeder(f + 1),
            "name": f"Feeder {f + 1} ({compass(angle)})",
            "substation_id": 1,
            "region_id": int(region_of_feeder[f]) + 1,
            "voltage_kv": FEEDER_VOLTAGE_KV,
            "geom": wgs84_geom(area),
        }
        for f, (area, angle) in enumerate(zip(areas_m, feeder_angles, strict=True))
    ]
    return wgs84_frame(rows)
