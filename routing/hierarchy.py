"""Contraction hierarchy of the junction graph, and many-to-many travel times on it (RPHAST).

Why: one Dijkstra per point over the whole city graph costs about 1.4 s for a 1,055-point
matrix. A contraction hierarchy (Geisberger et al. 2008) ranks the junctions and adds shortcut
edges, so that every shortest path climbs to its highest-ranked junction and then descends.
The matrix then takes two phases (restricted PHAST, Delling et al. 2011):

1. an upward search from every source (small: a few hundred junctions each), done by scipy;
2. one downward sweep over the junctions that can reach a target by descending, in decreasing
   rank, carried out for all sources at once as numpy array operations, level by level.

The hierarchy depends on the network only, so it is built once per network (about a second
for a city) and reused by every matrix. Distances are exact: the witness searches that decide
whether a shortcut is needed only ever add shortcuts when in doubt.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, dijkstra

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

WITNESS_SETTLED = 60
"""Junctions a witness search may settle before it gives up (and the shortcut is added)."""

ZERO_WEIGHT = 1e-9
"""scipy's sparse graphs read a stored zero as "no edge": coincident points stay a hair apart."""


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """Upward and downward edges of a contracted graph over ``n`` vertices.

    ``up`` holds the edges from a vertex to higher-ranked ones, in their own direction;
    ``down_*`` the edges from a vertex to lower-ranked ones, grouped by the level of their
    head (every edge into a level starts at a lower level, so levels can be swept in order).
    """

    n: int
    up: csr_matrix
    down_reverse: csr_matrix
    """Downward edges reversed (head -> tail): which vertices can descend to a given one."""
    down_tail: IntArray
    down_head: IntArray
    down_weight: FloatArray
    level: IntArray


def build_hierarchy(
    n: int, tails: Sequence[int], heads: Sequence[int], weights: Sequence[float]
) -> Hierarchy:
    """Contract the directed graph given by its edges (parallel edges: the lightest counts)."""
    out: list[dict[int, float]] = [{} for _ in range(n)]
    into: list[dict[int, float]] = [{} for _ in range(n)]
    for t, h, w in zip(tails, heads, weights, strict=True):
        if t != h and w < out[t].get(h, np.inf):
            out[t][h] = w
            into[h][t] = w
    deleted = [0] * n
    contracted = [False] * n

    def priority(v: int) -> int:
        # Edge difference without witness searches (an upper bound on the shortcuts), plus
        # contracted neighbours: keeps the order cheap to maintain and spread over the map.
        n_in, n_out = len(into[v]), len(out[v])
        return n_in * n_out - n_in - n_out + 2 * deleted[v]

    queue = [(priority(v), v) for v in range(n)]
    heapq.heapify(queue)
    up: list[tuple[int, int, float]] = []
    down: list[tuple[int, int, float]] = []
    while queue:
        key, v = heapq.heappop(queue)
        if contracted[v]:
            continue
        current = priority(v)
        if current > key and queue and current > queue[0][0]:
            heapq.heappush(queue, (current, v))
            continue
        contracted[v] = True
        up.extend((v, x, w) for x, w in out[v].items())
        down.extend((u, v, w) for u, w in into[v].items())
        _add_shortcuts(v, out, into)
        for x in out[v]:
            del into[x][v]
            deleted[x] += 1
        for u in into[v]:
            del out[u][v]
            deleted[u] += 1
        out[v], into[v] = {}, {}
    return _assemble(n, up, down)


def _add_shortcuts(v: int, out: list[dict[int, float]], into: list[dict[int, float]]) -> None:
    """Shortcuts u -> x for every path u -> v -> x that no other path matches."""
    targets = out[v]
    for u, w_in in into[v].items():
        wanted = {x: w_in + w for x, w in targets.items() if x != u}
        if not wanted:
            continue
        found = _witness(u, v, out, max(wanted.values()), set(wanted))
        for x, through in wanted.items():
            if found.get(x, np.inf) > through and through < out[u].get(x, np.inf):
                out[u][x] = through
                into[x][u] = through


def _witness(
    source: int, avoid: int, out: list[dict[int, float]], limit: float, targets: set[int]
) -> dict[int, float]:
    """Distances from ``source`` not through ``avoid``, up to ``limit`` (a bounded search)."""
    distance = {source: 0.0}
    heap = [(0.0, source)]
    settled = 0
    remaining = set(targets)
    while heap and remaining and settled < WITNESS_SETTLED:
        d, u = heapq.heappop(heap)
        if d > distance.get(u, np.inf):
            continue
        if d > limit:
            break
        settled += 1
        remaining.discard(u)
        for x, w in out[u].items():
            if x != avoid and d + w < distance.get(x, np.inf):
                distance[x] = d + w
                heapq.heappush(heap, (d + w, x))
    return distance


def _assemble(
    n: int, up: list[tuple[int, int, float]], down: list[tuple[int, int, float]]
) -> Hierarchy:
    up_a = np.array(up, dtype=float).reshape(-1, 3)
    down_a = np.array(down, dtype=float).reshape(-1, 3)
    up_graph = csr_matrix(
        (np.maximum(up_a[:, 2], ZERO_WEIGHT), (up_a[:, 0].astype(int), up_a[:, 1].astype(int))),
        shape=(n, n),
    )
    tails, heads = down_a[:, 0].astype(np.int64), down_a[:, 1].astype(np.int64)
    weights = down_a[:, 2]
    # A head's level is one more than its tails' highest. ``down`` lists the edges by the
    # contraction of their head and every tail was contracted later, so walking the list
    # backwards sees each vertex's level final before it is used as a tail.
    level = np.zeros(n, dtype=np.int64)
    for t, h in zip(tails[::-1].tolist(), heads[::-1].tolist(), strict=True):
        if level[t] + 1 > level[h]:
            level[h] = level[t] + 1
    reverse = csr_matrix((np.ones(len(tails)), (heads, tails)), shape=(n, n))
    by_level = np.lexsort((heads, level[heads]))
    return Hierarchy(
        n=n,
        up=up_graph,
        down_reverse=reverse,
        down_tail=tails[by_level],
        down_head=heads[by_level],
        down_weight=weights[by_level],
        level=level,
    )


def many_to_many(
    hierarchy: Hierarchy,
    sources: Sequence[Sequence[tuple[int, float]]],
    targets: Sequence[Sequence[tuple[int, float]]],
) -> FloatArray:
    """Shortest travel times from every source to every target.

    A source is a list of (vertex, cost to reach it) and a target a list of (vertex, cost
    from it): a point on a road between two junctions leaves and arrives through either end.
    """
    n = hierarchy.n
    n_src = len(sources)
    cheapest: dict[tuple[int, int], float] = {}
    for i, entries in enumerate(sources):
        for v, c in entries:
            # A ring road leaves by both ends at one junction: keep the cheaper, because
            # csr_matrix would add the two up.
            cheapest[(n + i, v)] = min(c, cheapest.get((n + i, v), np.inf))
    rows = np.array([(i, v, c) for (i, v), c in cheapest.items()], dtype=float).reshape(-1, 3)
    up = hierarchy.up.tocoo()
    graph = csr_matrix(
        (
            np.concatenate([up.data, np.maximum(rows[:, 2], ZERO_WEIGHT)]),
            (
                np.concatenate([up.row, rows[:, 0].astype(np.int64)]),
                np.concatenate([up.col, rows[:, 1].astype(np.int64)]),
            ),
        ),
        shape=(n + n_src, n + n_src),
    )
    target_vertices = sorted({v for entries in targets for v, _ in entries})
    selected = _descending_to(hierarchy, target_vertices)
    position = np.full(n, -1, dtype=np.int64)
    position[selected] = np.arange(len(selected))
    upward = dijkstra(graph, directed=True, indices=np.arange(n, n + n_src))
    distance = np.ascontiguousarray(upward[:, selected].T)
    _sweep_down(hierarchy, distance, position)
    result = np.full((n_src, len(targets)), np.inf)
    for j, entries in enumerate(targets):
        for v, c in entries:
            np.minimum(result[:, j], distance[position[v]] + c, out=result[:, j])
    return result


def _descending_to(hierarchy: Hierarchy, vertices: Sequence[int]) -> IntArray:
    """Vertices from which some target can be reached by downward edges only."""
    n = hierarchy.n
    if not vertices:
        return np.zeros(0, dtype=np.int64)
    # One search from a virtual root joined to every target finds their union at once.
    root = n
    reverse = hierarchy.down_reverse.tocoo()
    graph = csr_matrix(
        (
            np.ones(len(reverse.data) + len(vertices)),
            (
                np.concatenate([reverse.row, np.full(len(vertices), root)]),
                np.concatenate([reverse.col, np.asarray(vertices)]),
            ),
        ),
        shape=(n + 1, n + 1),
    )
    reached = breadth_first_order(graph, root, directed=True, return_predecessors=False)
    return np.sort(reached[reached != root]).astype(np.int64)


def _sweep_down(hierarchy: Hierarchy, distance: FloatArray, position: IntArray) -> None:
    """Relax the downward edges among the selected vertices, level by level, for all rows."""
    tails, heads = position[hierarchy.down_tail], position[hierarchy.down_head]
    inside = (tails >= 0) & (heads >= 0)
    tails, heads = tails[inside], heads[inside]
    weights = hierarchy.down_weight[inside]
    levels = hierarchy.level[hierarchy.down_head[inside]]
    if not len(heads):
        return
    bounds = np.flatnonzero(np.diff(levels)) + 1
    for start, stop in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [len(heads)]]), strict=True
    ):
        level_heads = heads[start:stop]
        candidates = distance[tails[start:stop]] + weights[start:stop, None]
        firsts = np.flatnonzero(np.concatenate([[True], level_heads[1:] != level_heads[:-1]]))
        best = np.minimum.reduceat(candidates, firsts, axis=0)
        unique = level_heads[firsts]
        distance[unique] = np.minimum(distance[unique], best)
