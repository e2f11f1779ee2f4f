"""The drivable road network: the `road_node` and `road_edge` rows, the graph the grid follows."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from shapely.geometry import Point

from scenarios.demo_city.spatial import WGS84, metric_xy

# Urban default limits where OSM carries no numeric maxspeed (Helsinki centre is 30-40 km/h).
_SPEED_BY_HIGHWAY_KMH = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 50.0,
    "secondary": 40.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 20.0,
    "service": 20.0,
}

_DEFAULT_SPEED_KMH = 30.0
_ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
_ONEWAY_REVERSED = "-1"


@dataclass(frozen=True)
class Roads:
    """The road network with node positions in both CRSs and the undirected line graph."""

    node_ids: np.ndarray
    lonlat: np.ndarray
    xy_m: np.ndarray
    routable: np.ndarray  # in the largest strongly connected component: crews can get back
    graph: nx.Graph
    row_of: dict[int, int]


def road_tables(
    nodes: pd.DataFrame, roads: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Road nodes and edges as pyrosm splits them: one edge per pair of consecutive nodes.

    Edges point along the way; a way tagged ``oneway=-1`` is reversed so that ``oneway``
    always means "only from ``from_node_id`` to ``to_node_id``".
    """
    roads = roads.sort_values(["id", "u", "v"], kind="mergesort").reset_index(drop=True)
    oneway_tag = roads["oneway"].astype("string").str.lower()
    reversed_ = (oneway_tag == _ONEWAY_REVERSED).fillna(False).to_numpy(dtype=bool)
    from_ids = np.where(reversed_, roads["v"], roads["u"]).astype(np.int64)
    to_ids = np.where(reversed_, roads["u"], roads["v"]).astype(np.int64)
    geoms = [g.reverse() if flip else g for g, flip in zip(roads.geometry, reversed_, strict=True)]
    edges = gpd.GeoDataFrame(
        {
            "id": np.arange(1, len(roads) + 1, dtype=np.int64),
            "from_node_id": from_ids,
            "to_node_id": to_ids,
            "length_m": roads["length"].astype(float).to_numpy(),
            "oneway": (oneway_tag.isin(_ONEWAY_FORWARD) | (oneway_tag == _ONEWAY_REVERSED))
            .fillna(False)
            .to_numpy(dtype=bool),
            "speed_kmh": _speeds_kmh(roads),
            "highway": roads["highway"].astype(object).where(roads["highway"].notna(), None),
            "name": roads["name"].astype(object).where(roads["name"].notna(), None),
            "osm_id": roads["id"].astype(np.int64).to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    ).rename_geometry("geom")
    used = np.unique(np.concatenate([from_ids, to_ids]))
    node_rows = nodes.set_index("id").loc[used]
    road_nodes = gpd.GeoDataFrame(
        {"id": used},
        geometry=gpd.points_from_xy(node_rows["lon"], node_rows["lat"]),
        crs=WGS84,
    ).rename_geometry("geom")
    return road_nodes, edges


def _speeds_kmh(roads: pd.DataFrame) -> np.ndarray:
    """Numeric ``maxspeed`` where tagged, else an urban default for the highway class."""
    tagged = pd.to_numeric(roads["maxspeed"], errors="coerce")
    base_class = roads["highway"].astype("string").str.removesuffix("_link")
    default = base_class.map(_SPEED_BY_HIGHWAY_KMH).astype(float).fillna(_DEFAULT_SPEED_KMH)
    return tagged.fillna(default).to_numpy(dtype=float)


def road_network(road_nodes: gpd.GeoDataFrame, road_edges: gpd.GeoDataFrame) -> Roads:
    node_ids = road_nodes["id"].to_numpy(dtype=np.int64)
    lonlat = np.column_stack([road_nodes.geom.x, road_nodes.geom.y])
    graph = nx.Graph()
    graph.add_nodes_from(node_ids.tolist())
    directed = nx.DiGraph()
    for u, v, length_m, oneway in zip(
        road_edges.from_node_id.tolist(),
        road_edges.to_node_id.tolist(),
        road_edges.length_m.tolist(),
        road_edges.oneway.tolist(),
        strict=True,
    ):
        # Cables ignore one-way rules; keep the shorter of parallel edges.
        if not graph.has_edge(u, v) or graph[u][v]["length_m"] > length_m:
            graph.add_edge(u, v, length_m=length_m)
        directed.add_edge(u, v)
        if not oneway:
            directed.add_edge(v, u)
    strong = max(nx.strongly_connected_components(directed), key=len)
    return Roads(
        node_ids=node_ids,
        lonlat=lonlat,
        xy_m=metric_xy(lonlat),
        routable=np.isin(node_ids, sorted(strong)),
        graph=graph,
        row_of={int(n): i for i, n in enumerate(node_ids)},
    )


def nearest_node(roads: Roads, xy_m: np.ndarray, *, routable_only: bool) -> int:
    rows = np.flatnonzero(roads.routable) if routable_only else np.arange(len(roads.node_ids))
    distance_m = np.hypot(*(roads.xy_m[rows] - xy_m).T)
    return int(roads.node_ids[rows[np.argmin(distance_m)]])


def node_point(roads: Roads, node: int) -> Point:
    return Point(roads.lonlat[roads.row_of[node]])
