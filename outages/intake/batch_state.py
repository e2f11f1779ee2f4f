"""What a batch holds in memory: its reports, the outages they meet, planned work, premises.

``outages.intake.batch_store.BatchStore`` loads these once per batch and the rules change
them in place; ``outages.intake.batch_write`` writes what changed. The classes carry the
fields ``outages.intake.rules`` reads (``ReportLike``, ``OutageLike``, ...) and the
bookkeeping the batch needs to write set-based afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from outages.feeder_tree import FeederTree
from outages.intake.pg_text import json_text

# The outage columns as COPY writes them and as a batch reads them back.
OUTAGE_COLUMNS = (
    "id, status, device_id, feeder_id, region_id, cause, hazard, customers_affected, "
    "critical_affected, started_at, etr_at, confirmed_at, merged_into_id, explanation"
)


@dataclass(slots=True)
class MemReport:
    """A report of the batch (or an earlier one it may duplicate), in memory."""

    id: int
    received_at: dt.datetime
    category: str
    hazard: bool
    caller_phone: str | None
    premise_id: int | None
    region_id: int | None
    feeder_id: int | None
    token: str = ""  # an earlier report, loaded to be duplicated, needs none
    classification: str = "unlocated"
    outage_id: int | None = None
    planned_outage_id: int | None = None
    duplicate_of_id: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None


@dataclass(slots=True)
class MemOutage:
    """An outage in memory; ``rows`` (premise -> restored, critical) when loaded.

    A suspected outage of a touched feeder is loaded with ``rows_pending``: its affected
    premises are read only if the batch changes it (``BatchStore.rows_of``).
    """

    id: int
    status: str
    device_id: int
    feeder_id: int
    region_id: int | None
    cause: str | None
    hazard: bool
    customers_affected: int
    critical_affected: int
    started_at: dt.datetime
    etr_at: dt.datetime | None
    confirmed_at: dt.datetime | None
    merged_into_id: int | None
    explanation: dict[str, Any]
    is_new: bool = False
    rows: dict[int, tuple[bool, bool]] | None = None
    rows_pending: bool = False
    added: set[int] = field(default_factory=set)
    report_ids: list[int] | None = None
    unrestored: int = 0
    critical_unrestored: int = 0
    refreshed: bool = False
    marked: set[int] = field(default_factory=set)


PROVISIONAL_BASE = 2**31
"""The first provisional outage number of a batch, one past the largest ``integer`` id
PostgreSQL stores (``outages.intake.batch_ids`` explains)."""


@dataclass(slots=True)
class MemEvent:
    """An event to append; its detail is written as JSON once outages have their numbers."""

    at: dt.datetime
    actor: str
    action: str
    object_type: str
    object_id: int
    detail: dict[str, Any]


@dataclass(slots=True)
class MemPlanned:
    id: int
    ends_at: dt.datetime
    reason: str


@dataclass(slots=True)
class MemPremise:
    transformer_id: int | None
    feeder_id: int | None
    region_id: int | None


@dataclass(frozen=True)
class CachedTree(FeederTree):
    """A feeder tree that remembers its answers: the roll-up asks the same ones often."""

    _below: dict[int, set[int]] = field(default_factory=dict, compare=False, repr=False)
    _ancestors: dict[int, list[int]] = field(default_factory=dict, compare=False, repr=False)
    _customers: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, tree: FeederTree) -> CachedTree:
        return cls(
            graph=tree.graph,
            kinds=tree.kinds,
            codes=tree.codes,
            direct_customers=tree.direct_customers,
            normally_open=tree.normally_open,
        )

    def below(self, device_id: int) -> set[int]:
        hit = self._below.get(device_id)
        if hit is None:
            hit = self._below[device_id] = super().below(device_id)
        return hit

    def ancestors(self, device_id: int) -> list[int]:
        hit = self._ancestors.get(device_id)
        if hit is None:
            hit = self._ancestors[device_id] = super().ancestors(device_id)
        return hit

    def customers_below(self, device_id: int) -> int:
        hit = self._customers.get(device_id)
        if hit is None:
            hit = self._customers[device_id] = super().customers_below(device_id)
        return hit


def keep_earliest(table: dict[Any, MemReport], key: Any, report: MemReport) -> None:
    """Keep the earliest (received_at, id) report per key: the one a duplicate points at."""
    held = table.get(key)
    if held is None or (report.received_at, report.id) < (held.received_at, held.id):
        table[key] = report


# What a batch may change on an outage it loaded (only what changed is written).
UPDATABLE = (
    "status",
    "device_id",
    "hazard",
    "customers_affected",
    "critical_affected",
    "started_at",
    "etr_at",
    "merged_into_id",
    "explanation",
)


def outage_values(o: MemOutage) -> dict[str, Any]:
    """The updatable columns as written: kept at load, compared before writing."""
    values = {c: getattr(o, c) for c in UPDATABLE}
    values["explanation"] = json_text(o.explanation)
    return values
