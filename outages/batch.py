"""Batch intake: many reports, the answers filing them one by one would give, written at once.

A batch is locked, loaded, decided and written in five steps:

1. idempotency keys are locked (sorted, so batches cannot deadlock each other) and
   keys already stored replay their stored answers; the rest are located in bulk
   (``outages.locate_bulk``);
2. every feeder the batch touches is locked (sorted; the single path locks the same
   ``LockSpace.FEEDER`` keys, so the two paths serialize per feeder);
3. the state those reports can meet is loaded with a few set-based queries: planned
   outages covering their premises now, the active outages covering them, suspected
   outages of the touched feeders with their affected premises, reports and roll-up
   evidence, open reports of the same premises and phones within the duplicate window,
   feeder trees (on first use), region classes and codes;
4. the shared rules (``outages.rules``) run over that state in memory, in order, through
   ``BatchStore``: the same classification, roll-ups (``plan_rollups``), ETRs and messages;
5. everything changed is written set-based: COPY for reports, outages, affected premises,
   ETR history and events; one UPDATE each for outages and moved reports.

Ids are drawn from the sequences up front (reports) or in small blocks (outages), so
answers carry them; they are equal to the single path's up to renumbering.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.locks import LockSpace
from outages import rules
from outages.etr import check_etr
from outages.exceptions import AddressNotFound
from outages.locate import Located
from outages.locate_bulk import locate_many
from outages.rules import DUPLICATE_OF_CLASSIFICATIONS, OUTAGE_CATEGORIES, OutageLike, ReportLike
from outages.schemas import MAX_BATCH_REPORTS, BatchItemError, BatchReport, ReportAnswer
from outages.settings import OutageSettings
from outages.store import HULL_SQL
from outages.topology import FeederTree, Group, RollUp, RollUpRule, load_feeder_trees, plan_rollups

OUTAGE_ID_BLOCK = 32
_OUTAGE_COLUMNS = (
    "id, status, device_id, feeder_id, region_id, cause, hazard, customers_affected, "
    "critical_affected, started_at, etr_at, confirmed_at, merged_into_id, explanation"
)
_REPORT_COPY = (
    "COPY report (id, received_at, channel, category, description, hazard, address_text, "
    "caller_phone, caller_account, located_by, premise_id, region_id, feeder_id, "
    "classification, outage_id, planned_outage_id, duplicate_of_id, status, "
    "idempotency_key, filed_by, answer, geom) FROM STDIN"
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
    """An outage in memory; ``rows`` (premise -> restored, critical) when loaded."""

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
    added: set[int] = field(default_factory=set)
    report_ids: list[int] | None = None
    unrestored: int = 0
    critical_unrestored: int = 0
    refreshed: bool = False
    marked: set[int] = field(default_factory=set)


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


def _earliest(table: dict[Any, MemReport], key: Any, report: MemReport) -> None:
    held = table.get(key)
    if held is None or (report.received_at, report.id) < (held.received_at, held.id):
        table[key] = report


class BatchStore:
    """``outages.rules.Store`` over state loaded once per batch; see the module docstring."""

    def __init__(
        self,
        session: Session,
        cursor: psycopg.Cursor[Any],
        settings: OutageSettings,
        now: dt.datetime,
    ) -> None:
        self.session = session
        self.cur = cursor
        self.now = now
        self.rollup_since = now - dt.timedelta(minutes=settings.rollup_window_min)
        self.duplicate_since = now - dt.timedelta(hours=settings.duplicate_window_h)
        self.premises: dict[int, MemPremise] = {}
        self.device_codes: dict[int, str] = {}
        self.regions: dict[int, tuple[str, str]] = {}
        self.feeder_codes: dict[int, str] = {}
        self.planned_by_premise: dict[int, MemPlanned] = {}
        self.planned_by_id: dict[int, MemPlanned] = {}
        self.outages_by_id: dict[int, MemOutage] = {}
        self.loaded_values: dict[int, dict[str, Any]] = {}
        self.covering: dict[int, set[int]] = {}
        self.by_premise: dict[int, MemReport] = {}
        self.by_phone: dict[str, MemReport] = {}
        self.groups: dict[int, dict[int, set[int]]] = {}
        self.dirty: set[int] = set()
        self.trees: dict[int, CachedTree] = {}
        self.premises_by_transformer: dict[int, list[tuple[int, bool]]] = {}
        self.loaded_transformers: set[int] = set()
        self.feeders: set[int] = set()
        self.merged_now: dict[int, int] = {}
        self.outage_ids: list[int] = []
        self.etr_rows: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []

    # -- loading ---------------------------------------------------------------------------

    def load(self, located: Sequence[tuple[MemReport, Located]]) -> None:
        """Lock the touched feeders and load what the batch's reports can meet."""
        cur = self.cur
        proxies = sorted(
            {loc.proxy_premise_id for _, loc in located if loc.proxy_premise_id is not None}
        )
        cur.execute(
            "SELECT p.id, p.transformer_id, p.feeder_id, p.region_id, d.feeder_id, d.code "
            "FROM premise p LEFT JOIN device d ON d.id = p.transformer_id WHERE p.id = ANY(%s)",
            [proxies],
        )
        feeders = {loc.feeder_id for _, loc in located if loc.feeder_id is not None}
        for pid, transformer, feeder, region, transformer_feeder, code in cur.fetchall():
            self.premises[pid] = MemPremise(transformer, feeder, region)
            if transformer is not None:
                self.device_codes[transformer] = code
            feeders.update(f for f in (feeder, transformer_feeder) if f is not None)
        # Outages covering these premises normally sit on these feeders; any that do not
        # are locked too, before their state is read.
        covering_sql = (
            "SELECT op.premise_id, o.id, o.feeder_id FROM outage_premise op "
            "JOIN outage o ON o.id = op.outage_id WHERE op.premise_id = ANY(%s) "
            "AND op.restored_at IS NULL AND o.status IN ('suspected', 'confirmed')"
        )
        cur.execute(covering_sql, [proxies])
        feeders.update(f for _, _, f in cur.fetchall())
        while True:
            self._lock_feeders(feeders - self.feeders)
            cur.execute(covering_sql, [proxies])
            covering = cur.fetchall()
            extra = {f for _, _, f in covering} - self.feeders
            if not extra:
                break
            feeders |= extra
        for pid, oid, _ in covering:
            self.covering.setdefault(pid, set()).add(oid)
        cur.execute("SELECT id, code, region_class FROM region")
        self.regions = {rid: (code, rclass) for rid, code, rclass in cur.fetchall()}
        cur.execute("SELECT id, code FROM feeder WHERE id = ANY(%s)", [sorted(self.feeders)])
        self.feeder_codes = dict(cur.fetchall())
        cur.execute(
            "SELECT DISTINCT ON (pp.premise_id) pp.premise_id, p.id, p.ends_at, p.reason "
            "FROM planned_outage_premise pp JOIN planned_outage p ON p.id = pp.planned_outage_id "
            "WHERE pp.premise_id = ANY(%s) AND p.status = 'scheduled' "
            "AND p.starts_at <= %s AND p.ends_at > %s "
            "ORDER BY pp.premise_id, p.ends_at DESC, p.id",
            [proxies, self.now, self.now],
        )
        for pid, planned_id, ends_at, reason in cur.fetchall():
            planned = self.planned_by_id.setdefault(
                planned_id, MemPlanned(planned_id, ends_at, reason)
            )
            self.planned_by_premise[pid] = planned
        # Earlier open reports a batch report may duplicate.
        premise_ids = sorted({r.premise_id for r, _ in located if r.premise_id is not None})
        phones = sorted({r.caller_phone for r, _ in located if r.caller_phone})
        cur.execute(
            "SELECT id, received_at, premise_id, caller_phone, outage_id FROM report "
            "WHERE (premise_id = ANY(%s) OR caller_phone = ANY(%s)) AND status = 'open' "
            "AND classification = ANY(%s) AND received_at >= %s",
            [premise_ids, phones, list(DUPLICATE_OF_CLASSIFICATIONS), self.duplicate_since],
        )
        referenced: set[int] = set()
        for rid, received_at, pid, phone, oid in cur.fetchall():
            earlier = MemReport(rid, received_at, "", False, phone, pid, None, None)
            earlier.outage_id = oid
            if oid is not None:
                referenced.add(oid)
            if pid is not None:
                _earliest(self.by_premise, pid, earlier)
            if phone:
                _earliest(self.by_phone, phone, earlier)
        # Outages: the suspected ones of the touched feeders (they may roll up), the ones
        # covering the batch's premises, the ones earlier reports point at.
        cur.execute(
            f"SELECT {_OUTAGE_COLUMNS} FROM outage WHERE (feeder_id = ANY(%s) "
            "AND status = 'suspected') OR id = ANY(%s)",
            [sorted(self.feeders), sorted(referenced | {oid for _, oid, _ in covering})],
        )
        for row in cur.fetchall():
            outage = self.outages_by_id[row[0]] = MemOutage(*row)
            self.loaded_values[outage.id] = _outage_values(outage)
        suspected = sorted(
            o.id
            for o in self.outages_by_id.values()
            if o.status == "suspected" and o.feeder_id in self.feeders
        )
        for oid in suspected:
            outage = self.outages_by_id[oid]
            outage.rows = {}
            outage.report_ids = []
        cur.execute(
            "SELECT op.outage_id, op.premise_id, op.restored_at IS NOT NULL, "
            "p.critical IS NOT NULL FROM outage_premise op JOIN premise p ON p.id = op.premise_id "
            "WHERE op.outage_id = ANY(%s)",
            [suspected],
        )
        for oid, pid, restored, critical in cur.fetchall():
            outage = self.outages_by_id[oid]
            assert outage.rows is not None
            outage.rows[pid] = (restored, critical)
            if not restored:
                outage.unrestored += 1
                outage.critical_unrestored += critical
                self.covering.setdefault(pid, set()).add(oid)
        cur.execute(
            "SELECT outage_id, id, premise_id, premise_id IS NOT NULL AND received_at >= %s "
            "AND category = ANY(%s) FROM report WHERE outage_id = ANY(%s)",
            [self.rollup_since, list(OUTAGE_CATEGORIES), suspected],
        )
        for oid, rid, pid, evidence in cur.fetchall():
            outage = self.outages_by_id[oid]
            assert outage.report_ids is not None
            outage.report_ids.append(rid)
            if evidence:
                self.groups.setdefault(outage.feeder_id, {}).setdefault(oid, set()).add(pid)
        self.dirty = set(self.groups)
        # Trees are prefetched where a report can open or roll up an outage: a storm's
        # bulk, callers below a confirmed outage, needs none (``tree`` loads any missed).
        needed: set[int] = set()
        for report, loc in located:
            pid = loc.proxy_premise_id
            if pid is None or report.category not in OUTAGE_CATEGORIES:
                continue
            if pid in self.planned_by_premise:
                continue
            ids = self.covering.get(pid)
            if ids:
                outage = self.outages_by_id[min(ids)]
                if outage.status == "suspected":
                    needed.add(outage.feeder_id)
                continue
            premise = self.premises.get(pid)
            if premise is not None and premise.feeder_id is not None:
                needed.add(premise.feeder_id)
        self.load_trees(needed)

    def _lock_feeders(self, feeders: Iterable[int]) -> None:
        new = sorted(set(feeders))
        if new:
            # unnest keeps the array's order, so locks are taken in ascending order.
            self.cur.execute(
                "SELECT count(pg_advisory_xact_lock(%s::int, f)) FROM unnest(%s::int[]) f",
                [int(LockSpace.FEEDER), new],
            )
            self.feeders.update(new)

    def load_trees(self, feeders: Iterable[int]) -> None:
        """Device trees of these feeders and the premises on their transformers."""
        wanted = sorted(set(feeders) - set(self.trees))
        if not wanted:
            return
        for feeder_id, tree in load_feeder_trees(session=self.session, feeder_ids=wanted).items():
            self.trees[feeder_id] = CachedTree.of(tree)
            self.device_codes.update(tree.codes)
        devices = [d for f in wanted for d in self.trees[f].kinds]
        self._load_premises_on(devices)

    def _load_premises_on(self, devices: Sequence[int]) -> None:
        missing = [d for d in devices if d not in self.loaded_transformers]
        if not missing:
            return
        self.cur.execute(
            "SELECT transformer_id, id, critical IS NOT NULL FROM premise "
            "WHERE transformer_id = ANY(%s)",
            [missing],
        )
        by_transformer = self.premises_by_transformer
        for transformer, pid, critical in self.cur.fetchall():
            held = by_transformer.get(transformer)
            if held is None:
                held = by_transformer[transformer] = []
            held.append((pid, critical))
        self.loaded_transformers.update(missing)

    def tree(self, feeder_id: int) -> CachedTree:
        if feeder_id not in self.trees:
            self.load_trees([feeder_id])
        return self.trees[feeder_id]

    def new_outage_id(self) -> int:
        if not self.outage_ids:
            self.cur.execute(
                "SELECT nextval('outage_id_seq') FROM generate_series(1, %s)", [OUTAGE_ID_BLOCK]
            )
            self.outage_ids = sorted((r[0] for r in self.cur.fetchall()), reverse=True)
        return self.outage_ids.pop()

    def resolve(self, outage_id: int | None) -> int | None:
        while outage_id in self.merged_now:
            outage_id = self.merged_now[outage_id]
        return outage_id

    def register(self, report: MemReport) -> None:
        """A filed batch report is one a later report of the batch may duplicate."""
        if report.classification not in DUPLICATE_OF_CLASSIFICATIONS:
            return
        if report.premise_id is not None:
            _earliest(self.by_premise, report.premise_id, report)
        if report.caller_phone:
            _earliest(self.by_phone, report.caller_phone, report)

    # -- rules.Store -----------------------------------------------------------------------

    def planned_covering(self, premise_id: int, now: dt.datetime) -> MemPlanned | None:
        return self.planned_by_premise.get(premise_id)

    def active_outage_of(self, premise_id: int) -> MemOutage | None:
        ids = self.covering.get(premise_id)
        return self.outages_by_id[min(ids)] if ids else None

    def recent_open_report(self, report: ReportLike, since: dt.datetime) -> MemReport | None:
        best = None
        if report.premise_id is not None:
            best = self.by_premise.get(report.premise_id)
        if report.caller_phone:
            by_phone = self.by_phone.get(report.caller_phone)
            if by_phone is not None and (
                best is None or (by_phone.received_at, by_phone.id) < (best.received_at, best.id)
            ):
                best = by_phone
        if best is not None:
            best.outage_id = self.resolve(best.outage_id)
        return best

    def premise(self, premise_id: int) -> MemPremise | None:
        return self.premises.get(premise_id)

    def device_code(self, device_id: int) -> str:
        return self.device_codes[device_id]

    def region_class(self, region_id: int | None) -> str | None:
        region = self.regions.get(region_id) if region_id is not None else None
        return region[1] if region else None

    def region_code(self, region_id: int | None) -> str | None:
        region = self.regions.get(region_id) if region_id else None
        return region[0] if region else None

    def feeder_code(self, feeder_id: int | None) -> str | None:
        if not feeder_id:
            return None
        code = self.feeder_codes.get(feeder_id)
        if code is None:
            self.cur.execute("SELECT code FROM feeder WHERE id = %s", [feeder_id])
            row = self.cur.fetchone()
            if row is None:
                return None
            code = self.feeder_codes[feeder_id] = row[0]
        return code

    def planned(self, planned_id: int) -> MemPlanned:
        return self.planned_by_id[planned_id]

    def outage(self, outage_id: int) -> MemOutage:
        return self.outages_by_id[outage_id]

    def outages(self, outage_ids: Sequence[int]) -> list[MemOutage]:
        return [self.outages_by_id[i] for i in outage_ids]

    def attach(self, report: ReportLike, outage_id: int | None) -> None:
        report.outage_id = outage_id
        outage = self.outages_by_id.get(outage_id) if outage_id is not None else None
        if outage is None or outage.report_ids is None:
            return  # not an outage that can roll up in this batch
        outage.report_ids.append(report.id)
        if (
            outage.status == "suspected"
            and report.premise_id is not None
            and report.category in OUTAGE_CATEGORIES
            and report.received_at >= self.rollup_since
        ):
            premises = self.groups.setdefault(outage.feeder_id, {}).setdefault(outage.id, set())
            if report.premise_id not in premises:
                premises.add(report.premise_id)
                self.dirty.add(outage.feeder_id)

    def create_outage(
        self,
        *,
        device_id: int,
        feeder_id: int,
        region_id: int | None,
        status: str,
        cause: str | None,
        now: dt.datetime,
        explanation: dict[str, Any],
    ) -> MemOutage:
        outage = MemOutage(
            id=self.new_outage_id(),
            status=status,
            device_id=device_id,
            feeder_id=feeder_id,
            region_id=region_id,
            cause=cause,
            hazard=False,
            customers_affected=0,
            critical_affected=0,
            started_at=now,
            etr_at=None,
            confirmed_at=now if status == "confirmed" else None,
            merged_into_id=None,
            explanation=explanation,
            is_new=True,
            rows={},
            report_ids=[] if feeder_id in self.feeders else None,
        )
        self.outages_by_id[outage.id] = outage
        return outage

    def feeder_of_device(self, device_id: int) -> int:
        self.cur.execute("SELECT feeder_id FROM device WHERE id = %s", [device_id])
        row = self.cur.fetchone()
        assert row is not None
        return int(row[0])

    def set_etr(
        self,
        outage: OutageLike,
        *,
        etr_at: dt.datetime,
        source: str,
        reason: str,
        actor: str,
        now: dt.datetime,
    ) -> None:
        check_etr(etr_at=etr_at, now=now)
        self.etr_rows.append((outage.id, now, outage.etr_at, etr_at, source, reason, actor))
        outage.etr_at = etr_at

    def mark_affected(self, outage: OutageLike) -> None:
        assert isinstance(outage, MemOutage) and outage.rows is not None
        tree = self.tree(outage.feeder_id)
        devices = (
            tree.below(outage.device_id) if outage.device_id in tree.graph else {outage.device_id}
        )
        # Rows only grow while an outage lives, so devices marked before add nothing new.
        fresh = [d for d in devices if d not in outage.marked]
        self._load_premises_on(fresh)
        rows = outage.rows
        covering = self.covering
        for d in fresh:
            for pid, critical in self.premises_by_transformer.get(d, ()):
                if pid not in rows:
                    rows[pid] = (False, critical)
                    outage.added.add(pid)
                    outage.unrestored += 1
                    outage.critical_unrestored += critical
                    held = covering.get(pid)
                    if held is None:
                        covering[pid] = {outage.id}
                    else:
                        held.add(outage.id)
        outage.marked.update(fresh)
        outage.customers_affected = outage.unrestored
        outage.critical_affected = outage.critical_unrestored
        outage.refreshed = True

    def plan_rollups(
        self, feeder_id: int, since: dt.datetime, rule: RollUpRule
    ) -> tuple[FeederTree, list[RollUp]] | None:
        # Evidence changes only through attach and merge, which mark the feeder dirty; an
        # unchanged feeder would plan the same nothing again.
        if feeder_id not in self.dirty:
            return None
        groups = self.groups.get(feeder_id, {})
        if len(groups) < 2:
            self.dirty.discard(feeder_id)
            return None
        tree = self.tree(feeder_id)
        decisions = plan_rollups(
            tree,
            [
                Group([oid], self.outages_by_id[oid].device_id, premises)
                for oid, premises in groups.items()
            ],
            rule,
        )
        if not decisions:
            self.dirty.discard(feeder_id)
        return tree, decisions

    def report_counts(self, outage_ids: Sequence[int]) -> dict[int, int]:
        counts = {}
        for oid in outage_ids:
            report_ids = self.outages_by_id[oid].report_ids
            assert report_ids is not None
            counts[oid] = len(report_ids)
        return counts

    def report_ids_of(self, outage_id: int) -> list[int]:
        report_ids = self.outages_by_id[outage_id].report_ids
        assert report_ids is not None
        return list(report_ids)

    def merge(self, survivor: OutageLike, others: Sequence[OutageLike]) -> None:
        assert isinstance(survivor, MemOutage) and survivor.report_ids is not None
        groups = self.groups.setdefault(survivor.feeder_id, {})
        evidence = groups.setdefault(survivor.id, set())
        for other in others:
            assert isinstance(other, MemOutage)
            assert other.report_ids is not None and other.rows is not None
            survivor.report_ids.extend(other.report_ids)
            other.report_ids = []
            evidence |= groups.pop(other.id, set())
            for pid, (restored, _) in other.rows.items():
                if not restored:
                    self.covering[pid].discard(other.id)
            self.merged_now[other.id] = survivor.id
        self.dirty.add(survivor.feeder_id)

    def record(
        self,
        *,
        actor: str,
        action: str,
        object_type: str,
        object_id: int,
        detail: dict[str, Any],
        at: dt.datetime,
    ) -> None:
        self.events.append((at, actor, action, object_type, str(object_id), json.dumps(detail)))

    # -- writing ---------------------------------------------------------------------------

    def write(self, reports: Sequence[MemReport]) -> None:
        """Everything the batch changed, set-based, in an order the foreign keys accept."""
        cur = self.cur
        changed = [o for o in self.outages_by_id.values() if o.rows is not None or o.is_new]
        new = [o for o in changed if o.is_new]
        if new:
            with cur.copy(f"COPY outage ({_OUTAGE_COLUMNS}) FROM STDIN") as copy:
                for o in new:
                    copy.write_row(_outage_row(o))
        old = [o for o in self.outages_by_id.values() if not o.is_new]
        # Only the columns that changed: a dispatcher may confirm an outage meanwhile.
        updates: dict[tuple[str, ...], list[list[Any]]] = {}
        for o in old:
            now_values = _outage_values(o)
            columns = tuple(c for c in _UPDATABLE if now_values[c] != self.loaded_values[o.id][c])
            if columns:
                updates.setdefault(columns, []).append([*(now_values[c] for c in columns), o.id])
        for columns, params in updates.items():
            assignments = ", ".join(
                f"{c} = %s::jsonb" if c == "explanation" else f"{c} = %s" for c in columns
            )
            cur.executemany(f"UPDATE outage SET {assignments} WHERE id = %s", params)
        gone = sorted(o.id for o in old if o.id in self.merged_now)
        if gone:
            cur.execute("DELETE FROM outage_premise WHERE outage_id = ANY(%s)", [gone])
            moves = [(oid, self.resolve(oid)) for oid in gone]
            cur.execute(
                "UPDATE report r SET outage_id = m.survivor "
                "FROM unnest(%s::int[], %s::int[]) AS m(merged, survivor) "
                "WHERE r.outage_id = m.merged",
                [[m for m, _ in moves], [s for _, s in moves]],
            )
        with cur.copy("COPY outage_premise (outage_id, premise_id) FROM STDIN") as copy:
            for o in changed:
                if o.id not in self.merged_now:
                    for pid in sorted(o.added):
                        copy.write_row((o.id, pid))
        if self.etr_rows:
            with cur.copy(
                "COPY etr_change (outage_id, changed_at, previous_etr_at, etr_at, source, "
                "reason, actor) FROM STDIN"
            ) as copy:
                for row in self.etr_rows:
                    copy.write_row(row)
        with cur.copy(_REPORT_COPY) as copy:
            for r in reports:
                c = r.columns
                copy.write_row(
                    (
                        r.id,
                        r.received_at,
                        c["channel"],
                        r.category,
                        c["description"],
                        r.hazard,
                        c["address_text"],
                        r.caller_phone,
                        c["caller_account"],
                        c["located_by"],
                        r.premise_id,
                        r.region_id,
                        r.feeder_id,
                        r.classification,
                        self.resolve(r.outage_id),
                        r.planned_outage_id,
                        r.duplicate_of_id,
                        "open",
                        c["idempotency_key"],
                        c["filed_by"],
                        json.dumps(r.answer),
                        None if r.lon is None else f"SRID=4326;POINT({r.lon!r} {r.lat!r})",
                    )
                )
        with cur.copy(
            "COPY event (occurred_at, actor, action, object_type, object_id, detail) FROM STDIN"
        ) as copy:
            for event in self.events:
                copy.write_row(event)
        hulls = [o for o in changed if o.refreshed and o.rows]
        if hulls:
            pairs = [
                (o.id, pid)
                for o in hulls
                for pid, (restored, _) in (o.rows or {}).items()
                if not restored
            ]
            cur.execute(
                f"UPDATE outage o SET geom = h.hull FROM (SELECT x.o, {HULL_SQL} AS hull "
                "FROM unnest(%s::int[], %s::int[]) AS x(o, pid) JOIN premise p ON p.id = x.pid "
                "GROUP BY x.o) h WHERE o.id = h.o",
                [[o for o, _ in pairs], [p for _, p in pairs]],
            )


def _outage_row(o: MemOutage) -> tuple[Any, ...]:
    return (
        o.id,
        o.status,
        o.device_id,
        o.feeder_id,
        o.region_id,
        o.cause,
        o.hazard,
        o.customers_affected,
        o.critical_affected,
        o.started_at,
        o.etr_at,
        o.confirmed_at,
        o.merged_into_id,
        json.dumps(o.explanation),
    )


_UPDATABLE = (
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


def _outage_values(o: MemOutage) -> dict[str, Any]:
    values = {c: getattr(o, c) for c in _UPDATABLE}
    values["explanation"] = json.dumps(o.explanation)
    return values


def _item_error(index: int, error: InvalidInput) -> BatchItemError:
    return BatchItemError(
        index=index,
        status_code=422,
        error=type(error).__name__,
        detail=str(error),
        suggestions=error.suggestions if isinstance(error, AddressNotFound) else [],
    )


def check_batch(items: Sequence[BatchReport], *, is_agent: bool) -> None:
    """Refuse the whole batch, naming the items, for what no single item may do."""
    if not items:
        msg = "the batch is empty: send 1 to 10000 reports"
        raise InvalidInput(msg)
    if len(items) > MAX_BATCH_REPORTS:
        msg = f"the batch has {len(items)} reports: send at most {MAX_BATCH_REPORTS} per request"
        raise InvalidInput(msg)
    if not is_agent:
        bad = [i for i, item in enumerate(items) if item.allow_unlocated]
        if bad:
            msg = (
                "only hotline agents may file unlocated reports: log in as an agent "
                f"(reports {_indexes(bad)})"
            )
            raise InvalidInput(msg)


def _indexes(indexes: Sequence[int]) -> str:
    shown = ", ".join(str(i) for i in indexes[:20])
    return shown + (f" and {len(indexes) - 20} more" if len(indexes) > 20 else "")


def file_batch(
    *,
    session: Session,
    items: Sequence[BatchReport],
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    is_agent: bool,
) -> list[ReportAnswer | BatchItemError]:
    """File reports in order with the answers ``file_report`` would give one by one.

    Parameters
    ----------
    session
        The caller's transaction; everything is written in it (or nothing, on error).
    items
        The reports, each with an optional idempotency key. A key already stored, or
        used by an earlier stored item of the batch, replays that answer.
    settings, now, actor, is_agent
        As for ``outages.service.file_report``; every report is received at ``now``.

    Returns
    -------
    One entry per item, in order: its ``ReportAnswer``, or a ``BatchItemError`` for a
    report that could not be located (unknown account, unmatched address, point outside
    the territory), which is not stored.
    """
    check_batch(items, is_agent=is_agent)
    session.flush()
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    cur = connection.cursor()
    out: list[ReportAnswer | BatchItemError | None] = [None] * len(items)
    keys = sorted({item.idempotency_key for item in items if item.idempotency_key})
    stored_answers: dict[str, ReportAnswer] = {}
    if keys:
        cur.execute(
            "SELECT count(pg_advisory_xact_lock(%s::int, k)) FROM "
            "(SELECT DISTINCT hashtext(x) AS k FROM unnest(%s::text[]) x ORDER BY 1) s",
            [int(LockSpace.IDEMPOTENCY), keys],
        )
        cur.execute(
            "SELECT idempotency_key, answer FROM report WHERE idempotency_key = ANY(%s)", [keys]
        )
        stored_answers = {k: ReportAnswer.model_validate(a) for k, a in cur.fetchall()}
    fresh = [
        i
        for i, item in enumerate(items)
        if not (item.idempotency_key and item.idempotency_key in stored_answers)
    ]
    found = locate_many(
        session=session, items=[items[i] for i in fresh], settings=settings, is_agent=is_agent
    )
    where = dict(zip(fresh, found, strict=True))
    # Who files and who replays: the first located item with a key owns it.
    owner: dict[str, int] = {}
    filed: list[tuple[int, Located]] = []
    replays: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        key = item.idempotency_key
        if key and key in stored_answers:
            out[i] = stored_answers[key]
        elif key and key in owner:
            replays.append((i, key))
        else:
            located = where[i]
            if isinstance(located, InvalidInput):
                out[i] = _item_error(i, located)
                continue
            if key:
                owner[key] = i
            filed.append((i, located))
    reports: list[MemReport] = []
    if filed:
        cur.execute("SELECT nextval('report_id_seq') FROM generate_series(1, %s)", [len(filed)])
        ids = sorted(r[0] for r in cur.fetchall())
        for report_id, (i, located) in zip(ids, filed, strict=True):
            item = items[i]
            columns = rules.report_fields(
                data=item,
                located_by=located.located_by,
                premise_id=located.premise_id,
                region_id=located.region_id,
                feeder_id=located.feeder_id,
                now=now,
                actor=actor,
                idempotency_key=item.idempotency_key,
            )
            reports.append(
                MemReport(
                    id=report_id,
                    received_at=now,
                    category=columns["category"],
                    hazard=columns["hazard"],
                    caller_phone=columns["caller_phone"],
                    premise_id=located.premise_id,
                    region_id=located.region_id,
                    feeder_id=located.feeder_id,
                    columns=columns,
                    lon=located.lon,
                    lat=located.lat,
                )
            )
    if reports:
        store = BatchStore(session, cur, settings, now)
        store.load([(r, loc) for r, (_, loc) in zip(reports, filed, strict=True)])
        for report, (i, located) in zip(reports, filed, strict=True):
            out[i] = rules.file_located(
                store,
                report,
                rules.Where(proxy_premise_id=located.proxy_premise_id, address=located.address),
                settings=settings,
                now=now,
                actor=actor,
            )
            store.register(report)
        store.write(reports)
        # The ORM did not see these writes: objects it holds must be read again.
        session.expire_all()
    for i, key in replays:
        out[i] = out[owner[key]]
    assert all(o is not None for o in out)
    return out  # type: ignore[return-value]
