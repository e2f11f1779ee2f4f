"""Feeder trees and the premises on their transformers (with their coordinates, for the
outage areas: ``outages.intake.premise_points``), kept across groups of reports.

A storm's group of two dozen reports loaded the device trees of the feeders it touched and
the premises below their transformers afresh every time: about a quarter of the group's
time (``bench.intake --profile 2400 --group``, bench/RESULTS.md), for data that changes only
when the territory is imported. The group writer (one thread per app worker) keeps them
here instead. Each group first reads ``topology_version.token`` (migration 0018: statement
triggers on device, premise and feeder replace it in the changing transaction), and what is
held is dropped when the token differs, so a group never uses a tree older than the
territory it reads.

Only one thread changes a cache: the writer's. The batch route files with a ``copy`` of
it, taken in one step under the GIL (the dicts are copied in C): what the route's batch
loads stays in its copy, and the trees and premise lists it shares are never changed in
place (a transformer's list is replaced, not appended to, when loaded). Batches of 500
of a storm filed 1,652 reports/s loading their trees and 2,540/s from the warm cache
(bench/RESULTS.md).
"""

from __future__ import annotations

from typing import Any

import psycopg

from outages.intake.batch_state import CachedTree
from outages.intake.premise_points import PremisePoints


class TopologyCache:
    """The topology a batch store reads, valid for the token it was loaded under."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.drops = 0
        self._fresh()

    def _fresh(self) -> None:
        self.trees: dict[int, CachedTree] = {}
        self.device_codes: dict[int, str] = {}
        self.premises_by_transformer: dict[int, list[tuple[int, bool]]] = {}
        self.loaded_transformers: set[int] = set()
        self.points = PremisePoints()

    def copy(self) -> TopologyCache:
        """A cache of its own holding what this one holds now, for another thread."""
        other = TopologyCache()
        other.token = self.token
        other.trees = dict(self.trees)
        other.device_codes = dict(self.device_codes)
        other.premises_by_transformer = dict(self.premises_by_transformer)
        other.loaded_transformers = set(self.loaded_transformers)
        other.points = self.points.copy()
        return other

    def check(self, cursor: psycopg.Cursor[Any]) -> None:
        """Drop what is held if the territory changed since it was loaded."""
        cursor.execute("SELECT token::text FROM topology_version")
        row = cursor.fetchone()
        token = row[0] if row is not None else None
        if token is None or token != self.token:
            if self.token is not None:
                self.drops += 1
            self._fresh()
            self.token = token
