"""The contraction hierarchy gives the same travel times as plain Dijkstra, to the second."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.hierarchy import build_hierarchy, many_to_many
from routing.network import RoadNetwork, build_network, travel_time_matrix


@pytest.mark.parametrize("seed", range(8))
def test_many_to_many_equals_dijkstra_on_random_digraphs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 80, 220
    tails, heads = rng.integers(0, n, m), rng.integers(0, n, m)
    weights = rng.uniform(0.5, 10.0, m)
    lightest: dict[tuple[int, int], float] = {}
    for t, h, w in zip(tails.tolist(), heads.tolist(), weights.tolist(), strict=True):
        if t != h:
            lightest[(t, h)] = min(w, lightest.get((t, h), np.inf))
    keys = np.array(list(lightest))
    graph = csr_matrix((list(lightest.values()), (keys[:, 0], keys[:, 1])), shape=(n, n))
    expected = dijkstra(graph, directed=True)
    hierarchy = build_hierarchy(n, tails.tolist(), heads.tolist(), weights.tolist())
    points = [[(v, 0.0)] for v in range(n)]
    got = many_to_many(hierarchy, points, points)
    np.fill_diagonal(got, 0.0)
    assert np.array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    assert np.allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-9)


def street_grid(seed: int, size: int = 14) -> RoadNetwork:
    """A city-like grid: bends on every street, random one-ways, a ring road with bends."""
    rng = np.random.default_rng(seed)
    lon: list[float] = []
    lat: list[float] = []
    edges: list[tuple[int, int, float, bool]] = []

    def node(x: float, y: float) -> int:
        lon.append(x * 0.001)
        lat.append(y * 0.001)
        return len(lon) - 1

    corner = [[node(x, y) for y in range(size)] for x in range(size)]
    for x in range(size):
        for y in range(size):
            for dx, dy in ((1, 0), (0, 1)):
                if x + dx >= size or y + dy >= size or rng.random() < 0.1:
                    continue
                # Two shape nodes (bends) per street, so points land inside chains too.
                bend_a = node(x + dx / 3 + rng.normal(0, 0.02), y + dy / 3)
                bend_b = node(x + 2 * dx / 3, y + 2 * dy / 3 + rng.normal(0, 0.02))
                one_way = bool(rng.random() < 0.25)
                path = [corner[x][y], bend_a, bend_b, corner[x + dx][y + dy]]
                if one_way and rng.random() < 0.5:
                    path.reverse()
                for a, b in itertools.pairwise(path):
                    edges.append((a, b, float(rng.uniform(30, 120)), one_way))
    # A ring road hanging from one corner: a point on it leaves by both ends at one junction.
    ring = [corner[0][0], *(node(-0.3 - 0.2 * np.sin(t), 0.2 * np.cos(t)) for t in (1, 2, 3))]
    for a, b in zip(ring, [*ring[1:], ring[0]], strict=True):
        edges.append((a, b, float(rng.uniform(30, 80)), False))
    return build_network(
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        [e[3] for e in edges],
        lon,
        lat,
        speed_kmh=rng.uniform(20, 60, len(edges)),
    )


@pytest.mark.parametrize("seed", range(3))
def test_hierarchy_matrix_is_identical_to_the_dijkstra_baseline(seed: int) -> None:
    network = street_grid(seed)
    rng = np.random.default_rng(100 + seed)
    nodes = rng.choice(network.component_nodes, 150, replace=False)
    # Shape nodes, junctions, off-node points (snapped with a walk) and the ring's bends.
    lon = np.concatenate([network.lon[nodes] + rng.normal(0, 1e-5, 150), network.lon[-3:]])
    lat = np.concatenate([network.lat[nodes], network.lat[-3:]])
    baseline = travel_time_matrix(network, lon, lat, method="dijkstra")
    fast = travel_time_matrix(network, lon, lat)
    assert np.array_equal(fast.travel_s, baseline.travel_s)
    inside = sum(network.kept_index[n] < 0 for n in fast.node.tolist() if n >= 0)
    assert inside > 50  # the comparison covers points inside chains, not only junctions
