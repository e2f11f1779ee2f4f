"""The synthetic electric grid: transformer sites, and device trees grown along the roads.

Transformer sites are clusters of premises snapped to road nodes; each feeder grows from
the real substation along shortest road paths to its transformers, with a breaker, a
recloser, fuses on laterals and switches at junctions; two normally-open switches tie
feeder pairs into rings.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from scipy.cluster.vq import kmeans2
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from scenarios.demo_city.params import FEEDER_COUNT, SEED, code_of_feeder
from scenarios.demo_city.roads import Roads, node_point
from scenarios.demo_city.spatial import metric_geom, wgs84_point

TRANSFORMER_SITE_COUNT = 40
BREAKER_OFFSET_M = 8.0
KVA_PER_PREMISE = 15.0
TRANSFORMER_SIZES_KVA = (100.0, 160.0, 200.0, 315.0, 500.0, 630.0, 800.0, 1000.0, 1250.0)
TIE_FEEDER_PAIRS = ((0, 1), (3, 4))  # feeder indexes in bearing order
_DEVICE_PREFIX = {
    "breaker": "CB",
    "recloser": "R",
    "fuse": "FU",
    "switch": "SW",
    "transformer": "T",
}


@dataclass
class Grid:
    """Devices and segments as rows, with the road node under each device."""

    devices: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    node_of: dict[int, int] = field(default_factory=dict)

    def add_device(self, node: int, **columns: Any) -> int:
        device_id = len(self.devices) + 1
        self.devices.append({"id": device_id, **columns})
        self.node_of[device_id] = node
        return device_id

    def add_segment(self, feeder_id: int, from_id: int, to_id: int, line: LineString) -> None:
        self.segments.append(
            {
                "id": len(self.segments) + 1,
                "feeder_id": feeder_id,
                "from_device_id": from_id,
                "to_device_id": to_id,
                "length_m": float(metric_geom(line).length),
                "geom": line,
            }
        )


def transformer_sites(premise_xy: np.ndarray, roads: Roads, *, exclude: int) -> list[int]:
    """Road nodes for transformers: k-means centres of the premises, snapped to the roads.

    A centre whose nearest node is taken moves to the next nearest, so the count is exact.
    """
    centres, _ = kmeans2(
        premise_xy, TRANSFORMER_SITE_COUNT, minit="++", seed=np.random.default_rng(SEED)
    )
    centres = centres[np.lexsort((centres[:, 1], centres[:, 0]))]
    rows = np.flatnonzero(roads.routable)
    tree = cKDTree(roads.xy_m[rows])
    taken = {exclude}
    sites = []
    for centre in centres:
        _, nearest = tree.query(centre, k=len(taken) + 1)
        node = next(
            int(roads.node_ids[rows[j]]) for j in nearest if roads.node_ids[rows[j]] not in taken
        )
        taken.add(node)
        sites.append(node)
    return sites


def build_grid(
    roads: Roads,
    root: int,
    sub_xy: np.ndarray,
    sites: list[int],
    site_feeder: np.ndarray,
    feeder_angles: np.ndarray,
    premise_counts: np.ndarray,
) -> Grid:
    """Grow every feeder from the substation along shortest road paths to its transformers.

    One Dijkstra run from the substation node gives paths that agree with each other, so
    the union of a feeder's paths is a tree.
    """
    _, paths = nx.single_source_dijkstra(roads.graph, root, weight="length_m")
    kva = {s: _rated_kva(int(n)) for s, n in zip(sites, premise_counts, strict=True)}
    grid = Grid()
    for f in range(FEEDER_COUNT):
        members = [s for s, sf in zip(sites, site_feeder, strict=True) if sf == f]
        direction = np.array([math.cos(feeder_angles[f]), math.sin(feeder_angles[f])])
        breaker = wgs84_point(sub_xy + BREAKER_OFFSET_M * direction)
        _feeder_devices(grid, roads, f + 1, members, kva, paths, breaker)
    for feeder_a, feeder_b in TIE_FEEDER_PAIRS:
        _tie_switch(grid, roads, feeder_a + 1, feeder_b + 1)
    return grid


def _rated_kva(premise_count: int) -> float:
    need_kva = premise_count * KVA_PER_PREMISE
    sizes = TRANSFORMER_SIZES_KVA
    return next((size for size in sizes if size >= need_kva), sizes[-1])


def _feeder_devices(
    grid: Grid,
    roads: Roads,
    feeder_id: int,
    transformers: list[int],
    kva: dict[int, float],
    paths: dict[int, list[int]],
    breaker: Point,
) -> None:
    """Place one feeder's devices on its road tree and link them into the device tree.

    Every device's upstream is its nearest ancestor device, and the segment between them
    follows the road; the breaker stands just outside the substation, off the road.
    """
    parent: dict[int, int] = {}
    for t in transformers:
        parent.update({b: a for a, b in itertools.pairwise(paths[t])})
    root = paths[transformers[0]][0]
    kinds = _device_kinds(root, parent, set(transformers), paths)
    feeder_code = code_of_feeder(feeder_id)
    counters = dict.fromkeys(_DEVICE_PREFIX, 0)
    id_of: dict[int, int] = {}
    # Shallow first, so every upstream device exists (and has a lower id) before its children.
    for node in sorted(kinds, key=lambda n: (len(paths[n]), n)):
        kind = kinds[node]
        counters[kind] += 1
        upstream = _upstream_device(node, parent, kinds)
        id_of[node] = grid.add_device(
            node,
            code=f"{feeder_code}-{_DEVICE_PREFIX[kind]}{counters[kind]:02d}",
            kind=kind,
            feeder_id=feeder_id,
            upstream_id=None if upstream is None else id_of[upstream],
            normally_open=False,
            rated_kva=kva[node] if kind == "transformer" else None,
            geom=breaker if kind == "breaker" else node_point(roads, node),
        )
        if upstream is not None:
            coords = [roads.lonlat[roads.row_of[n]] for n in _tree_path(upstream, node, parent)]
            if upstream == root:
                coords.insert(0, np.array(breaker.coords[0]))
            grid.add_segment(feeder_id, id_of[upstream], id_of[node], LineString(coords))


def _device_kinds(
    root: int, parent: dict[int, int], transformers: set[int], paths: dict[int, list[int]]
) -> dict[int, str]:
    """Which road nodes of a feeder tree carry which device.

    A breaker at the root and transformers at their sites; one recloser on the main line
    where about half the transformers lie downstream; a fuse at the head of every lateral
    (each branch but the heaviest at a junction); a switch at every other junction, so
    segments between devices never share road.
    """
    children: dict[int, list[int]] = {}
    for child, up in parent.items():
        children.setdefault(up, []).append(child)
    below = dict.fromkeys([root, *parent], 0)
    for node in sorted(below, key=lambda n: -len(paths[n])):
        below[node] += node in transformers
        if node in parent:
            below[parent[node]] += below[node]
    kinds = {root: "breaker"} | dict.fromkeys(sorted(transformers), "transformer")
    recloser = _recloser_node(root, children, below, transformers)
    if recloser is not None:
        kinds[recloser] = "recloser"
    junctions = sorted(n for n, c in children.items() if len(c) >= 2)
    for junction in junctions:
        _main, *laterals = sorted(children[junction], key=lambda c: (-below[c], c))
        for lateral in laterals:
            kinds.setdefault(lateral, "fuse")
    for junction in junctions:
        kinds.setdefault(junction, "switch")
    return kinds


def _recloser_node(
    root: int, children: dict[int, list[int]], below: dict[int, int], transformers: set[int]
) -> int | None:
    """The main-line node with closest to half the feeder's transformers downstream.

    The main line follows the heaviest child from the root; among equally good nodes the
    one nearest the substation wins, so the recloser guards the longest stretch.
    """
    total = below[root]
    main_line = []
    node = root
    while children.get(node):
        node = min(children[node], key=lambda c: (-below[c], c))
        main_line.append(node)
    candidates = [n for n in main_line if n not in transformers]
    if not candidates:
        return None
    return min(candidates, key=lambda n: abs(2 * below[n] - total))


def _upstream_device(node: int, parent: dict[int, int], kinds: dict[int, str]) -> int | None:
    up = parent.get(node)
    while up is not None and up not in kinds:
        up = parent.get(up)
    return up


def _tree_path(top: int, node: int, parent: dict[int, int]) -> list[int]:
    """Road nodes from ``top`` down to ``node`` along the tree."""
    path = [node]
    while path[-1] != top:
        path.append(parent[path[-1]])
    return path[::-1]


def _tie_switch(grid: Grid, roads: Roads, feeder_a: int, feeder_b: int) -> None:
    """A normally-open switch joining two feeders where their transformers come closest.

    It belongs to feeder A (hanging below A's transformer, so the device tree stays a tree)
    and stands at B's transformer site, the open point of the ring.
    """

    def transformers(feeder_id: int) -> list[int]:
        return [
            d["id"]
            for d in grid.devices
            if d["feeder_id"] == feeder_id and d["kind"] == "transformer"
        ]

    def gap_m(pair: tuple[int, int]) -> float:
        a, b = (roads.xy_m[roads.row_of[grid.node_of[d]]] for d in pair)
        return float(np.hypot(*(a - b)))

    upstream_id, far_id = min(
        itertools.product(transformers(feeder_a), transformers(feeder_b)), key=gap_m
    )
    node_a, node_b = grid.node_of[upstream_id], grid.node_of[far_id]
    count = sum(d["feeder_id"] == feeder_a and d["normally_open"] for d in grid.devices)
    tie_id = grid.add_device(
        node_b,
        code=f"{code_of_feeder(feeder_a)}-NO{count + 1:02d}",
        kind="switch",
        feeder_id=feeder_a,
        upstream_id=upstream_id,
        normally_open=True,
        rated_kva=None,
        geom=node_point(roads, node_b),
    )
    route = nx.shortest_path(roads.graph, node_a, node_b, weight="length_m")
    line = LineString([roads.lonlat[roads.row_of[n]] for n in route])
    grid.add_segment(feeder_a, upstream_id, tie_id, line)


def transformers_at_sites(grid: Grid, sites: list[int]) -> np.ndarray:
    """The device id of the transformer at each site, in site order."""
    at_node = {grid.node_of[d["id"]]: d["id"] for d in grid.devices if d["kind"] == "transformer"}
    return np.array([at_node[s] for s in sites], dtype=np.int64)
