"""The demo city as a whole: the frames of every table, built in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from scenarios.demo_city.areas import (
    feeder_bearings,
    feeder_frame,
    region_frame,
    sector_feeders,
    service_areas,
    territory_polygon,
)
from scenarios.demo_city.crews import crew_frame, user_rows
from scenarios.demo_city.grid import build_grid, transformer_sites, transformers_at_sites
from scenarios.demo_city.osm import OSM_ATTRIBUTION, read_osm, substation_frame
from scenarios.demo_city.params import FEEDER_COUNT
from scenarios.demo_city.premises import premise_frame
from scenarios.demo_city.roads import nearest_node, road_network, road_tables
from scenarios.demo_city.spatial import metric_xy, wgs84_frame, wgs84_geom

GRID_LABEL = "Synthetic demo grid: not a real utility network"
REGION_COUNT = 3


@dataclass(frozen=True, eq=False)
class DemoCity:
    """The demo territory as frames whose columns match ``geo.models`` (geometry in ``geom``).

    Ids are 1..n except road nodes, which keep their OSM node ids. Compare two cities frame
    by frame (``geopandas.testing``): frames have no single truth value, so the dataclass
    does not define ``==``.

    Attributes
    ----------
    territory
        One row: code, name, geom (Polygon). No table holds it; regions and feeder areas
        tile it exactly.
    regions
        ``Region`` columns: id, code, name, region_class, parent_id (NULL), geom.
    substations
        ``Substation`` columns: the real one, OSM way 644615094, at its outline's centroid.
    feeders
        ``Feeder`` columns; geom is the service area (MultiPolygon of one part).
    devices
        ``Device`` columns; ``upstream_id`` (nullable Int64) makes one tree per feeder,
        rooted at its breaker, and every upstream id is lower than its child's.
    segments
        ``Segment`` columns: one per device below a breaker, from its upstream device.
    premises
        ``Premise`` columns, one per OSM address with a street name.
    road_nodes, road_edges
        ``RoadNode`` and ``RoadEdge`` columns: the drivable OSM network as pyrosm splits it.
    crews
        ``Crew`` columns without the live position ``geom``; the geometry is ``depot_geom``.
    users
        Dicts of id, username, role, password (plain: the loader hashes it), crew_id.
    attribution, grid_label
        Texts to show wherever the data is shown.
    """

    territory: gpd.GeoDataFrame
    regions: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    feeders: gpd.GeoDataFrame
    devices: gpd.GeoDataFrame
    segments: gpd.GeoDataFrame
    premises: gpd.GeoDataFrame
    road_nodes: gpd.GeoDataFrame
    road_edges: gpd.GeoDataFrame
    crews: gpd.GeoDataFrame
    users: list[dict[str, Any]]
    attribution: str = OSM_ATTRIBUTION
    grid_label: str = GRID_LABEL


def build_demo_city() -> DemoCity:
    """Build the demo city from the bundled OSM extract; the same city on every run."""
    extract = read_osm()
    road_nodes, road_edges = road_tables(extract.nodes, extract.roads)
    roads = road_network(road_nodes, road_edges)
    premises = premise_frame(extract.addresses)
    premise_xy = metric_xy(np.column_stack([premises.geom.x, premises.geom.y]))
    substation = substation_frame(extract.substation)
    sub_xy = metric_xy(np.array([[substation.geom.iloc[0].x, substation.geom.iloc[0].y]]))[0]
    root = nearest_node(roads, sub_xy, routable_only=True)

    sites = transformer_sites(premise_xy, roads, exclude=root)
    site_xy = roads.xy_m[[roads.row_of[n] for n in sites]]
    premise_site = cKDTree(site_xy).query(premise_xy)[1]
    # Premises at one address (the shops and flats of one building) share one service drop:
    # were they split across transformers, a report by address could land on either grid.
    by_address = pd.Series(premise_site, index=premises.index).groupby(premises["address_norm"])
    premise_site = by_address.transform(lambda sites: sites.mode().min()).to_numpy()
    premise_counts = np.bincount(premise_site, minlength=len(sites))
    site_feeder = sector_feeders(site_xy, premise_counts)
    feeder_angles = feeder_bearings(site_xy, site_feeder, premise_counts, sub_xy)

    territory_m = territory_polygon(premise_xy, roads.xy_m)
    areas_m = service_areas(premise_xy, site_feeder[premise_site], territory_m)
    region_of_feeder = np.arange(FEEDER_COUNT) * REGION_COUNT // FEEDER_COUNT
    regions_m = [
        shapely.union_all([areas_m[f] for f in np.flatnonzero(region_of_feeder == r)])
        for r in range(REGION_COUNT)
    ]
    premise_feeder = site_feeder[premise_site]

    grid = build_grid(roads, root, sub_xy, sites, site_feeder, feeder_angles, premise_counts)
    transformer_ids = transformers_at_sites(grid, sites)
    premises = premises.assign(
        feeder_id=premise_feeder + 1,
        transformer_id=transformer_ids[premise_site],
        region_id=region_of_feeder[premise_feeder] + 1,
    )
    regions = region_frame(regions_m, sub_xy, premises)
    crews = crew_frame(roads, regions_m, root)
    return DemoCity(
        territory=wgs84_frame(
            [
                {
                    "code": "HEL",
                    "name": "Helsinki centre (demo territory)",
                    "geom": wgs84_geom(territory_m),
                }
            ]
        ),
        regions=regions,
        substations=substation,
        feeders=feeder_frame(areas_m, feeder_angles, region_of_feeder),
        devices=wgs84_frame(grid.devices).astype({"upstream_id": "Int64"}),
        segments=wgs84_frame(grid.segments),
        premises=premises,
        road_nodes=road_nodes,
        road_edges=road_edges,
        crews=crews,
        users=user_rows(crews),
    )
