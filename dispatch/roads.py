"""The stored road network as a routable ``routing.network.RoadNetwork``, cached per process.

Building the network (contraction, components, k-d trees) takes seconds on a city and the
roads change rarely, so it is built once per process and database, and rebuilt only when a
cheap signature of ``road_edge`` / ``road_node`` (row counts and largest ids) changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import RoadEdge, RoadNode
from routing.network import RoadNetwork, build_network

Signature = tuple[int, int, int, int]


@dataclass(frozen=True, eq=False)
class StoredRoads:
    """The network and what it was built from: ``node_ids[i]`` is the ``road_node.id`` of node i.

    ``network`` is None when the database holds no roads (every time is then straight-line).
    """

    network: RoadNetwork | None
    node_ids: npt.NDArray[np.int64]
    signature: Signature
    build_s: float


_cache: dict[str, StoredRoads] = {}
_lock = threading.Lock()


def _database_key(session: Session) -> str:
    bind = session.get_bind()
    return bind.engine.url.render_as_string(hide_password=True)


def _signature(session: Session) -> Signature:
    edges, max_edge = session.execute(select(func.count(), func.max(RoadEdge.id))).one()
    nodes, max_node = session.execute(select(func.count(), func.max(RoadNode.id))).one()
    return (int(edges), int(max_edge or 0), int(nodes), int(max_node or 0))


def road_network(*, session: Session) -> StoredRoads:
    """The routable network of the session's database, from the cache while it is current.

    The signature query costs two index-only aggregates; a rebuild happens only when roads
    were added or removed. One build at a time per process (a lock), so concurrent first
    requests do not each build it.
    """
    key = _database_key(session)
    signature = _signature(session)
    cached = _cache.get(key)
    if cached is not None and cached.signature == signature:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.signature == signature:
            return cached
        built = load_roads(session=session, signature=signature)
        _cache[key] = built
        return built


def load_roads(*, session: Session, signature: Signature | None = None) -> StoredRoads:
    """Read ``road_node`` and ``road_edge`` and build the network (no cache)."""
    started = time.perf_counter()
    signature = signature or _signature(session)
    node_rows = session.execute(
        select(RoadNode.id, func.ST_X(RoadNode.geom), func.ST_Y(RoadNode.geom)).order_by(
            RoadNode.id
        )
    ).all()
    node_ids = np.array([r[0] for r in node_rows], dtype=np.int64)
    if not len(node_ids):
        return StoredRoads(None, node_ids, signature, time.perf_counter() - started)
    lon = np.array([r[1] for r in node_rows], dtype=float)
    lat = np.array([r[2] for r in node_rows], dtype=float)
    edge_rows = session.execute(
        select(
            RoadEdge.from_node_id,
            RoadEdge.to_node_id,
            RoadEdge.length_m,
            RoadEdge.oneway,
            RoadEdge.speed_kmh,
            RoadEdge.highway,
        )
    ).all()
    if not edge_rows:
        return StoredRoads(None, node_ids, signature, time.perf_counter() - started)
    from_id = np.array([r[0] for r in edge_rows], dtype=np.int64)
    to_id = np.array([r[1] for r in edge_rows], dtype=np.int64)
    network = build_network(
        np.searchsorted(node_ids, from_id),
        np.searchsorted(node_ids, to_id),
        np.array([r[2] for r in edge_rows], dtype=float),
        np.array([bool(r[3]) for r in edge_rows], dtype=bool),
        lon,
        lat,
        speed_kmh=np.array([np.nan if r[4] is None else r[4] for r in edge_rows], dtype=float),
        road_class=[r[5] for r in edge_rows],
    )
    return StoredRoads(network, node_ids, signature, time.perf_counter() - started)
