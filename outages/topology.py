"""Feeder trees as the database holds them: ``device.upstream_id`` and premise counts.

The tree itself and the roll-up rule over it are pure and live in ``outages.feeder_tree``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Device, Premise
from outages.feeder_tree import FeederTree


def load_feeder_tree(*, session: Session, feeder_id: int) -> FeederTree:
    """Build the tree of one feeder from ``device.upstream_id`` and premise counts."""
    return load_feeder_trees(session=session, feeder_ids=[feeder_id])[feeder_id]


def load_feeder_trees(*, session: Session, feeder_ids: Iterable[int]) -> dict[int, FeederTree]:
    """The trees of several feeders in two queries (the batch path loads many at once)."""
    wanted = sorted(set(feeder_ids))
    rows = session.execute(
        select(
            Device.id,
            Device.kind,
            Device.code,
            Device.upstream_id,
            Device.normally_open,
            Device.feeder_id,
        ).where(Device.feeder_id.in_(wanted))
    ).all()
    counts = session.execute(
        select(Premise.feeder_id, Premise.transformer_id, func.count())
        .where(Premise.feeder_id.in_(wanted), Premise.transformer_id.is_not(None))
        .group_by(Premise.feeder_id, Premise.transformer_id)
    ).all()
    devices: dict[int, list[Any]] = {f: [] for f in wanted}
    for r in rows:
        devices[r.feeder_id].append(r)
    customers: dict[int, dict[int, int]] = {f: {} for f in wanted}
    for f, t, n in counts:
        if f is not None and t is not None:
            customers[f][int(t)] = int(n)
    trees = {}
    for f in wanted:
        graph = nx.DiGraph()
        graph.add_nodes_from(r.id for r in devices[f])
        graph.add_edges_from((r.upstream_id, r.id) for r in devices[f] if r.upstream_id is not None)
        trees[f] = FeederTree(
            graph=graph,
            kinds={r.id: r.kind for r in devices[f]},
            codes={r.id: r.code for r in devices[f]},
            direct_customers=customers[f],
            normally_open=frozenset(r.id for r in devices[f] if r.normally_open),
        )
    return trees
