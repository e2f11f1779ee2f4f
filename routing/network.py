"""Travel times on a road network: a directed graph, snapping, matrices and leg geometry.

numpy and scipy only, so routing/ stays light. The graph is contracted before searching: nodes
that only carry a road's shape (one way in, one way out) are folded into the edge they lie on,
which shrinks an OpenStreetMap city graph several times and makes a 1,000 x 1,000 matrix a
matter of a second on one core. Points are snapped to the nearest node of the largest strongly
connected component (a node outside it could be entered but not left, or the reverse); a
point too far from that component gets straight-line times, flagged, never silently wrong.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from routing.hierarchy import Hierarchy, build_hierarchy, many_to_many
from routing.problem import EARTH_RADIUS_M, haversine_matrix_m
from routing.query_graph import query_graph

ROAD_CLASS_SPEED_KMH: dict[str, float] = {
    "motorway": 90.0,
    "motorway_link": 50.0,
    "trunk": 70.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 45.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 15.0,
}
"""Typical urban driving speeds by OSM highway class, used when no maxspeed is known."""

DEFAULT_SPEED_KMH = 30.0
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road graph, contracted to junctions, with a spatial index for snapping.

    ``chain_*`` arrays describe contracted edges: ``chain_nodes[k]`` is the original node
    sequence of edge k and ``chain_offset_s[k]`` the travel time from its first node to each of
    them. Build it with ``build_network``.
    """

    lon: FloatArray
    lat: FloatArray
    in_component: npt.NDArray[np.bool_]
    kept_index: IntArray
    chain_from: IntArray
    chain_to: IntArray
    chain_travel_s: FloatArray
    chain_nodes: list[IntArray]
    chain_offset_s: list[FloatArray]
    node_chains: dict[int, list[tuple[int, int]]]
    component_tree: cKDTree = field(repr=False)
    component_nodes: IntArray = field(repr=False)
    all_tree: cKDTree = field(repr=False)

    @property
    def n_junctions(self) -> int:
        """Nodes left after contraction (the size of the graph Dijkstra searches)."""
        return int((self.kept_index >= 0).sum())

    @functools.cached_property
    def hierarchy(self) -> Hierarchy:
        """Contraction hierarchy of the junction graph, built on first use and kept.

        About a second for a city; every matrix after that reuses it (dispatch keeps one
        network per process). A race between two threads only builds it twice.
        """
        return build_hierarchy(
            self.n_junctions,
            self.kept_index[self.chain_from].tolist(),
            self.kept_index[self.chain_to].tolist(),
            self.chain_travel_s.tolist(),
        )


@dataclass(frozen=True, eq=False)
class TravelMatrix:
    """Travel times between points, with how each point was tied to the road network.

    Parameters
    ----------
    travel_s
        Square matrix, integer seconds, row = from.
    node
        Road node each point was snapped to, -1 when it uses the straight-line fallback.
    snap_distance_m
        Straight distance from the point to that node (to the nearest road node when off).
    straight_line
        True for points whose times are straight-line estimates; every leg to or from them
        is an estimate.
    issues
        Point index -> what was wrong (too far from the roads, or on a piece of road not
        connected to the rest).
    """

    travel_s: IntArray
    node: IntArray
    snap_distance_m: FloatArray
    straight_line: npt.NDArray[np.bool_]
    issues: dict[int, str]


def edge_speeds_kmh(
    n_edges: int,
    *,
    speed_kmh: Sequence[float] | FloatArray | None = None,
    road_class: Sequence[str | None] | None = None,
    maxspeed_kmh: Sequence[float] | FloatArray | None = None,
) -> FloatArray:
    """Speed of each edge: explicit speed, else posted maxspeed, else by road class.

    Missing values are NaN (speeds) or None (classes) and fall through to the next source.
    """
    speeds = np.full(n_edges, np.nan)
    for source in (speed_kmh, maxspeed_kmh):
        if source is not None:
            values = np.asarray(source, dtype=float)
            speeds = np.where(np.isnan(speeds) & (values > 0), values, speeds)
    if road_class is not None:
        by_class = np.array(
            [ROAD_CLASS_SPEED_KMH.get(c or "", np.nan) for c in road_class], dtype=float
        )
        speeds = np.where(np.isnan(speeds), by_class, speeds)
    return np.where(np.isnan(speeds), DEFAULT_SPEED_KMH, speeds)


def build_network(
    from_node: Sequence[int] | IntArray,
    to_node: Sequence[int] | IntArray,
    length_m: Sequence[float] | FloatArray,
    oneway: Sequence[bool] | npt.NDArray[np.bool_],
    lon: Sequence[float] | FloatArray,
    lat: Sequence[float] | FloatArray,
    *,
    speed_kmh: Sequence[float] | FloatArray | None = None,
    road_class: Sequence[str | None] | None = None,
    maxspeed_kmh: Sequence[float] | FloatArray | None = None,
) -> RoadNetwork:
    """Build the routable network from road edges and node coordinates.

    Parameters
    ----------
    from_node, to_node
        Node indices of each road edge (into ``lon``/``lat``); one-way edges run from -> to.
    length_m
        Length of each edge.
    oneway
        True where the edge may only be driven from -> to.
    lon, lat
        Node coordinates (WGS84 degrees).
    speed_kmh, road_class, maxspeed_kmh
        Where the speed of each edge comes from; see ``edge_speeds_kmh``.
    """
    source = np.asarray(from_node, dtype=np.int64)
    target = np.asarray(to_node, dtype=np.int64)
    length = np.asarray(length_m, dtype=float)
    one_way = np.asarray(oneway, dtype=bool)
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    n_edges, n_nodes = len(source), len(lon_a)
    for name, values in (("to_node", target), ("length_m", length), ("oneway", one_way)):
        if len(values) != n_edges:
            msg = f"{name} has {len(values)} values for {n_edges} edges; give one per edge"
            raise ValueError(msg)
    if len(lat_a) != n_nodes:
        msg = f"lat has {len(lat_a)} values for {n_nodes} lon values"
        raise ValueError(msg)
    if n_edges and (
        min(source.min(), target.min()) < 0 or max(source.max(), target.max()) >= n_nodes
    ):
        msg = f"edge node ids must lie in 0..{n_nodes - 1} (one per lon/lat pair)"
        raise ValueError(msg)
    if n_edges and length.min() < 0:
        msg = f"length_m={length.min()} is negative"
        raise ValueError(msg)
    speeds = edge_speeds_kmh(
        n_edges, speed_kmh=speed_kmh, road_class=road_class, maxspeed_kmh=maxspeed_kmh
    )
    travel = length / (speeds / 3.6)
    both = ~one_way
    tails = np.concatenate([source, target[both]])
    heads = np.concatenate([target, source[both]])
    weights = np.concatenate([travel, travel[both]])
    tails, heads, weights = _cheapest_parallel_edge(tails, heads, weights)
    graph = csr_matrix((weights, (tails, heads)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=True, connection="strong")
    has_edge = np.zeros(n_nodes, dtype=bool)
    has_edge[tails] = True
    largest = np.bincount(labels[has_edge]).argmax() if has_edge.any() else -1
    in_component = labels == largest
    keep = in_component[tails] & in_component[heads]
    x_m, y_m = _project(lon_a, lat_a)
    contracted = _contract(n_nodes, tails[keep], heads[keep], weights[keep])
    component_nodes = np.flatnonzero(in_component)
    return RoadNetwork(
        lon=lon_a,
        lat=lat_a,
        in_component=in_component,
        component_tree=cKDTree(np.column_stack([x_m[component_nodes], y_m[component_nodes]])),
        component_nodes=component_nodes,
        all_tree=cKDTree(np.column_stack([x_m, y_m])),
        **contracted,
    )


def roads_from_geojson(
    collection: Mapping[str, Any], *, highways: frozenset[str] | None = None
) -> RoadNetwork:
    """Build a network from a GeoJSON FeatureCollection of OSM ways (LineStrings).

    Uses the ``highway``, ``oneway`` and ``maxspeed`` properties; ``highways`` limits which
    classes are kept (default: the drivable classes of ``ROAD_CLASS_SPEED_KMH``). Nodes are
    shared where coordinates coincide, as in an OSM export.
    """
    wanted = frozenset(ROAD_CLASS_SPEED_KMH) if highways is None else highways
    node_ids: dict[tuple[float, float], int] = {}
    tails, heads, oneway, classes, maxspeeds = [], [], [], [], []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        properties = feature.get("properties") or {}
        if geometry.get("type") != "LineString" or properties.get("highway") not in wanted:
            continue
        ids = [node_ids.setdefault((c[0], c[1]), len(node_ids)) for c in geometry["coordinates"]]
        one_way = properties.get("oneway") in ("yes", "true", "1")
        reverse = properties.get("oneway") == "-1"
        if reverse:
            ids.reverse()
        maxspeed = _parse_maxspeed(properties.get("maxspeed"))
        for a, b in itertools.pairwise(ids):
            tails.append(a)
            heads.append(b)
            oneway.append(one_way or reverse)
            classes.append(properties.get("highway"))
            maxspeeds.append(maxspeed)
    coordinates = np.array(list(node_ids), dtype=float).reshape(-1, 2)
    lon, lat = coordinates[:, 0], coordinates[:, 1]
    x_m, y_m = _project(lon, lat)
    tail_a, head_a = np.array(tails, dtype=np.int64), np.array(heads, dtype=np.int64)
    length = np.hypot(x_m[tail_a] - x_m[head_a], y_m[tail_a] - y_m[head_a])
    return build_network(
        tail_a, head_a, length, oneway, lon, lat, road_class=classes, maxspeed_kmh=maxspeeds
    )


def _parse_maxspeed(value: object) -> float:
    """OSM maxspeed ("50", "30 mph") in km/h, NaN when absent or not a number."""
    if not isinstance(value, str | int | float):
        return math.nan
    text = str(value).strip().lower()
    factor = 1.609344 if text.endswith("mph") else 1.0
    try:
        return float(text.removesuffix("mph").strip()) * factor
    except ValueError:
        return math.nan


def _project(
    lon: FloatArray, lat: FloatArray, reference_lat: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """Equirectangular metres around ``reference_lat`` (default: the points' mean latitude).

    Accurate to well under 1% at city scale, which is all snapping needs, and it keeps pyproj
    out of routing/.
    """
    if reference_lat is None:
        reference_lat = float(np.mean(lat)) if len(lat) else 0.0
    cos_lat = math.cos(math.radians(reference_lat))
    return np.radians(lon) * EARTH_RADIUS_M * cos_lat, np.radians(lat) * EARTH_RADIUS_M


def _cheapest_parallel_edge(
    tails: IntArray, heads: IntArray, weights: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Drop self-loops and keep the fastest of parallel edges (csr_matrix would add them)."""
    proper = tails != heads
    tails, heads, weights = tails[proper], heads[proper], weights[proper]
    order = np.lexsort((weights, heads, tails))
    tails, heads, weights = tails[order], heads[order], weights[order]
    first = np.ones(len(tails), dtype=bool)
    first[1:] = (tails[1:] != tails[:-1]) | (heads[1:] != heads[:-1])
    return tails[first], heads[first], weights[first]


def _contract(
    n_nodes: int, tails: IntArray, heads: IntArray, weights: FloatArray
) -> dict[str, Any]:
    """Fold shape nodes into chains between junctions.

    A node is a shape node when it has one way in and one way out (one-way road) or the same
    two neighbours in and out (two-way road). Every other node with edges is a junction.
    """
    out_edges: list[list[tuple[int, float]]] = [[] for _ in range(n_nodes)]
    in_nodes: list[set[int]] = [set() for _ in range(n_nodes)]
    for t, h, w in zip(tails.tolist(), heads.tolist(), weights.tolist(), strict=True):
        out_edges[t].append((h, w))
        in_nodes[h].add(t)
    has_edge = np.zeros(n_nodes, dtype=bool)
    has_edge[tails] = True
    has_edge[heads] = True

    def is_shape(node: int) -> bool:
        outs = {h for h, _ in out_edges[node]}
        if len(outs) == 1 and len(in_nodes[node]) == 1:
            return outs != in_nodes[node]
        return len(outs) == 2 and outs == in_nodes[node]

    shape = np.array([has_edge[n] and is_shape(n) for n in range(n_nodes)], dtype=bool)
    chain_from: list[int] = []
    chain_to: list[int] = []
    chain_travel: list[float] = []
    chain_nodes: list[IntArray] = []
    chain_offset: list[FloatArray] = []
    node_chains: dict[int, list[tuple[int, int]]] = {}
    visited_shape = np.zeros(n_nodes, dtype=bool)

    def walk(start: int) -> None:
        for first, weight in out_edges[start]:
            path, offsets = [start], [0.0]
            previous, node, total = start, first, weight
            while shape[node] and node != start:
                visited_shape[node] = True
                path.append(node)
                offsets.append(total)
                following = [(h, w) for h, w in out_edges[node] if h != previous]
                previous, (node, step) = node, following[0]
                total += step
            path.append(node)
            offsets.append(total)
            k = len(chain_from)
            chain_from.append(start)
            chain_to.append(node)
            chain_travel.append(total)
            chain_nodes.append(np.array(path, dtype=np.int64))
            chain_offset.append(np.array(offsets))
            for position, interior in enumerate(path[1:-1], start=1):
                node_chains.setdefault(interior, []).append((k, position))

    for node in np.flatnonzero(has_edge & ~shape).tolist():
        walk(node)
    # Rings made only of shape nodes (a roundabout with no junction recorded) need one node
    # promoted to a junction to be reachable at all.
    for node in np.flatnonzero(shape & ~visited_shape).tolist():
        if not visited_shape[node]:
            shape[node] = False
            walk(node)
    kept = has_edge & ~shape
    kept_index = np.full(n_nodes, -1, dtype=np.int64)
    kept_index[kept] = np.arange(int(kept.sum()))
    return {
        "kept_index": kept_index,
        "chain_from": np.array(chain_from, dtype=np.int64),
        "chain_to": np.array(chain_to, dtype=np.int64),
        "chain_travel_s": np.array(chain_travel, dtype=float),
        "chain_nodes": chain_nodes,
        "chain_offset_s": chain_offset,
        "node_chains": node_chains,
    }


def snap(
    network: RoadNetwork,
    lon: Sequence[float] | FloatArray,
    lat: Sequence[float] | FloatArray,
    *,
    max_snap_m: float = 500.0,
) -> tuple[IntArray, FloatArray, dict[int, str]]:
    """Nearest node of the routable component for each point.

    Returns the node per point (-1 when the point is off the network), the snap distance and
    the issues by point index. A point is off the network when the routable component is more
    than ``max_snap_m`` away; the issue says whether it lies by a disconnected piece of road.
    """
    reference_lat = float(np.mean(network.lat)) if len(network.lat) else 0.0
    x_m, y_m = _project(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), reference_lat)
    points = np.column_stack([x_m, y_m])
    distance, position = network.component_tree.query(points)
    nodes = network.component_nodes[position].astype(np.int64)
    issues: dict[int, str] = {}
    far = np.flatnonzero(distance > max_snap_m)
    if len(far):
        near_distance, near_node = network.all_tree.query(points[far])
        for i, d_any, node_any in zip(far.tolist(), near_distance, near_node, strict=True):
            if d_any <= max_snap_m and not network.in_component[node_any]:
                issues[i] = (
                    f"on a road piece not connected to the rest of the network "
                    f"(connected roads are {distance[i]:.0f} m away); straight-line times used"
                )
            else:
                issues[i] = (
                    f"{distance[i]:.0f} m from the nearest connected road "
                    f"(limit {max_snap_m:.0f} m); straight-line times used"
                )
        nodes[far] = -1
    return nodes, distance, issues


def travel_time_matrix(
    network: RoadNetwork,
    lon: Sequence[float] | FloatArray,
    lat: Sequence[float] | FloatArray,
    *,
    max_snap_m: float = 500.0,
    fallback_speed_mps: float = 8.0,
    detour_factor: float = 1.3,
    method: Literal["hierarchy", "dijkstra"] = "hierarchy",
) -> TravelMatrix:
    """Travel times between all points, by road where possible.

    Each point is snapped to the routable network; the walk from the point to its node is
    added at ``fallback_speed_mps``. Points off the network get great-circle distance times
    ``detour_factor`` at ``fallback_speed_mps`` for every leg, and are flagged.

    ``method`` chooses the search: the network's contraction hierarchy (default; about 3x
    faster on a city once the hierarchy is built) or one scipy Dijkstra per point on the
    pruned query graph (the baseline). Both give the same travel times.
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    nodes, snap_m, issues = snap(network, lon_a, lat_a, max_snap_m=max_snap_m)
    straight = nodes < 0
    travel = haversine_matrix_m(lon_a, lat_a) * detour_factor / fallback_speed_mps
    routed = np.flatnonzero(~straight)
    if len(routed):
        unique, inverse = np.unique(nodes[routed], return_inverse=True)
        if method == "hierarchy":
            rows = _hierarchy_rows(network, unique.tolist())
        else:
            query = query_graph(network, unique.tolist())
            vertices = np.array([query.vertex_of_node[int(v)] for v in unique])
            rows = dijkstra(query.graph, directed=True, indices=vertices)[:, vertices]
        access = snap_m[routed] / fallback_speed_mps
        road = rows[np.ix_(inverse, inverse)] + access[:, None] + access[None, :]
        travel[np.ix_(routed, routed)] = road
    np.fill_diagonal(travel, 0.0)
    return TravelMatrix(
        travel_s=np.rint(travel).astype(np.int64),
        node=nodes,
        snap_distance_m=snap_m,
        straight_line=straight,
        issues=issues,
    )


def _hierarchy_rows(network: RoadNetwork, nodes: list[int]) -> FloatArray:
    """Road times between distinct network nodes, through the contraction hierarchy.

    A node inside a chain (a bend of a road) leaves by the chain's head and arrives from its
    tail, for each chain through it (two for a two-way road); two nodes on one chain may
    also follow it directly.
    """
    kept = network.kept_index
    leave: list[list[tuple[int, float]]] = []
    arrive: list[list[tuple[int, float]]] = []
    on_chain: dict[int, list[tuple[int, float]]] = {}
    for i, node in enumerate(nodes):
        if kept[node] >= 0:
            leave.append([(int(kept[node]), 0.0)])
            arrive.append([(int(kept[node]), 0.0)])
            continue
        leave.append([])
        arrive.append([])
        for k, position in network.node_chains[node]:
            offset = float(network.chain_offset_s[k][position])
            leave[i].append((int(kept[network.chain_to[k]]), network.chain_travel_s[k] - offset))
            arrive[i].append((int(kept[network.chain_from[k]]), offset))
            on_chain.setdefault(k, []).append((i, offset))
    rows = many_to_many(network.hierarchy, leave, arrive)
    for stops in on_chain.values():
        for (a, offset_a), (b, offset_b) in itertools.permutations(stops, 2):
            if offset_a <= offset_b:
                rows[a, b] = min(rows[a, b], offset_b - offset_a)
    np.fill_diagonal(rows, 0.0)
    return rows


def leg_geometry(
    network: RoadNetwork,
    lon: Sequence[float] | FloatArray,
    lat: Sequence[float] | FloatArray,
    legs: Sequence[tuple[int, int]],
    *,
    max_snap_m: float = 500.0,
) -> list[list[tuple[float, float]]]:
    """Lon/lat polyline of each leg (from point index, to point index), for the map.

    A leg touching a point off the network is a straight line between the two points.
    """
    lon_a, lat_a = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    nodes, _, _ = snap(network, lon_a, lat_a, max_snap_m=max_snap_m)
    routed = sorted({int(nodes[i]) for leg in legs for i in leg if nodes[i] >= 0})
    query = query_graph(network, routed)
    sources = sorted(
        {query.vertex_of_node[int(nodes[a])] for a, b in legs if nodes[a] >= 0 and nodes[b] >= 0}
    )
    predecessors: dict[int, IntArray] = {}
    if sources:
        _, pred = dijkstra(query.graph, directed=True, indices=sources, return_predecessors=True)
        predecessors = dict(zip(sources, pred, strict=True))
    geometries: list[list[tuple[float, float]]] = []
    for a, b in legs:
        ends = [(float(lon_a[a]), float(lat_a[a])), (float(lon_a[b]), float(lat_a[b]))]
        if nodes[a] < 0 or nodes[b] < 0:
            geometries.append(ends)
            continue
        source = query.vertex_of_node[int(nodes[a])]
        vertex = query.vertex_of_node[int(nodes[b])]
        pred = predecessors[source]
        pieces: list[IntArray] = []
        while vertex != source and pred[vertex] >= 0:
            pieces.append(query.edge_nodes[(int(pred[vertex]), vertex)])
            vertex = int(pred[vertex])
        if vertex != source:
            geometries.append(ends)
            continue
        path = [int(nodes[a])]
        for piece in reversed(pieces):
            path.extend(piece[1:].tolist())
        line = [(float(network.lon[p]), float(network.lat[p])) for p in path]
        geometries.append([ends[0], *line, ends[1]])
    return geometries
