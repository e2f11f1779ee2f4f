"""The query graph of one matrix: the junction graph plus the points asked for, pruned.

The baseline of the travel-time matrix (one scipy Dijkstra per point) and the search behind
leg geometry: each snapped shape node becomes a vertex splitting its chains, dead ends that
hold no point are pruned and pass-through junctions bypassed, all without changing any travel
time between the points.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

if TYPE_CHECKING:
    from routing.network import RoadNetwork

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class QueryGraph:
    """The contracted graph plus one vertex per snapped shape node, split into its chains."""

    graph: csr_matrix
    vertex_of_node: dict[int, int]
    edge_nodes: dict[tuple[int, int], IntArray]


def query_graph(network: RoadNetwork, nodes: Sequence[int]) -> QueryGraph:
    n_kept = network.n_junctions
    vertex_of_node: dict[int, int] = {}
    on_chain: dict[int, list[tuple[float, int, int]]] = {}
    n_vertices = n_kept
    for node in sorted(set(nodes)):
        if network.kept_index[node] >= 0:
            vertex_of_node[node] = int(network.kept_index[node])
            continue
        vertex_of_node[node] = n_vertices
        n_vertices += 1
        for k, position in network.node_chains[node]:
            offset = float(network.chain_offset_s[k][position])
            on_chain.setdefault(k, []).append((offset, position, node))
    tails = network.kept_index[network.chain_from].tolist()
    heads = network.kept_index[network.chain_to].tolist()
    weights = network.chain_travel_s.tolist()
    edge_nodes: dict[tuple[int, int], IntArray] = {}
    best: dict[tuple[int, int], float] = {}
    for k, (t, h, w) in enumerate(zip(tails, heads, weights, strict=True)):
        if w < best.get((t, h), math.inf):
            best[(t, h)] = w
            edge_nodes[(t, h)] = network.chain_nodes[k]
    for k, stops in on_chain.items():
        path, offsets = network.chain_nodes[k], network.chain_offset_s[k]
        previous_vertex = int(network.kept_index[path[0]])
        previous_offset, previous_position = 0.0, 0
        for offset, position, node in [*sorted(stops), (float(offsets[-1]), len(path) - 1, -1)]:
            vertex = vertex_of_node[node] if node >= 0 else int(network.kept_index[path[-1]])
            key = (previous_vertex, vertex)
            if offset - previous_offset < best.get(key, math.inf):
                best[key] = offset - previous_offset
                edge_nodes[key] = path[previous_position : position + 1]
            previous_vertex, previous_offset, previous_position = vertex, offset, position
    protected = set(vertex_of_node.values())
    keys = np.array(list(best), dtype=np.int64).reshape(-1, 2)
    alive = _prune_dead_ends(keys, n_vertices, protected=sorted(protected))
    _bypass_pass_through(best, edge_nodes, alive, protected)
    pairs = [key for key in best if alive[key[0]] and alive[key[1]]]
    keys = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    weights_a = np.array([best[key] for key in pairs], dtype=float)
    renumber = np.cumsum(alive) - 1
    graph = csr_matrix(
        # A zero weight means "no edge" to scipy: keep coincident nodes a hair apart.
        (np.maximum(weights_a, 1e-9), (renumber[keys[:, 0]], renumber[keys[:, 1]])),
        shape=(int(alive.sum()), int(alive.sum())),
    )
    return QueryGraph(
        graph=graph,
        vertex_of_node={node: int(renumber[v]) for node, v in vertex_of_node.items()},
        edge_nodes={(int(renumber[t]), int(renumber[h])): edge_nodes[(t, h)] for t, h in pairs},
    )


def _bypass_pass_through(
    best: dict[tuple[int, int], float],
    edge_nodes: dict[tuple[int, int], IntArray],
    alive: npt.NDArray[np.bool_],
    protected: set[int],
) -> None:
    """Fold vertices that only pass traffic between two neighbours into direct edges.

    Dead-end pruning leaves junctions whose side streets are gone; a shortest path through
    such a vertex goes from one neighbour to the other (a U-turn is never shortest), so an
    edge between the neighbours replaces it exactly. About a quarter fewer vertices for
    Dijkstra on a city graph. Updates the dicts and ``alive`` in place.
    """
    outgoing: dict[int, dict[int, float]] = {}
    incoming: dict[int, dict[int, float]] = {}
    for (tail, head), weight in best.items():
        if alive[tail] and alive[head]:
            outgoing.setdefault(tail, {})[head] = weight
            incoming.setdefault(head, {})[tail] = weight
    for vertex in np.flatnonzero(alive).tolist():
        if vertex in protected:
            continue
        ins, outs = incoming.get(vertex, {}), outgoing.get(vertex, {})
        if len(ins.keys() | outs.keys()) != 2:
            continue
        replacements = [
            (
                a,
                b,
                ins[a] + outs[b],
                np.concatenate([edge_nodes[(a, vertex)], edge_nodes[(vertex, b)][1:]]),
            )
            for a in ins
            for b in outs
            if a != b
        ]
        for a in ins:
            del outgoing[a][vertex]
            del best[(a, vertex)]
        for b in outs:
            del incoming[b][vertex]
            del best[(vertex, b)]
        incoming.pop(vertex, None)
        outgoing.pop(vertex, None)
        alive[vertex] = False
        for a, b, weight, nodes in replacements:
            if weight < best.get((a, b), math.inf):
                best[(a, b)] = weight
                edge_nodes[(a, b)] = nodes
                outgoing.setdefault(a, {})[b] = weight
                incoming.setdefault(b, {})[a] = weight


def _prune_dead_ends(
    keys: IntArray, n_vertices: int, *, protected: Sequence[int]
) -> npt.NDArray[np.bool_]:
    """Vertices left after repeatedly removing dead ends that are not query points.

    A vertex with a single neighbour lies on no shortest path between two other vertices, so
    removing dead-end streets (a third of a city's junctions) speeds every search up without
    changing any travel time between the points asked for.
    """
    ones = np.ones(len(keys))
    adjacency = csr_matrix((ones, (keys[:, 0], keys[:, 1])), shape=(n_vertices, n_vertices))
    adjacency = ((adjacency + adjacency.T) > 0).astype(np.int64)
    alive = np.ones(n_vertices, dtype=bool)
    keep = np.zeros(n_vertices, dtype=bool)
    keep[list(protected)] = True
    while True:
        neighbours = adjacency @ alive.astype(np.int64)
        dead_end = alive & ~keep & (neighbours <= 1)
        if not dead_end.any():
            return alive
        alive &= ~dead_end
