"""The batch's intake store: the state a batch can meet, loaded once, kept in memory.

``BatchStore`` answers ``outages.intake.rules.Store`` from memory, so the rules run over
thousands of reports without a query each. ``load`` locks the touched feeders (through
``outages.intake.admit``) and reads, with a few set-based queries: planned outages covering
the batch's premises now, the active outages covering them, the suspected outages of the
touched feeders with their affected premises, reports and roll-up evidence, open reports
of the same premises and phones within the duplicate window, region classes and codes,
and the feeder trees a report can need (more on first use). What the rules change stays
in memory until ``outages.intake.batch_write`` writes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from outages.etr import check_etr
from outages.feeder_tree import FeederTree, Group, RollUp, RollUpRule, plan_rollups
from outages.intake.admit import lock_feeders
from outages.intake.batch_state import (
    OUTAGE_COLUMNS,
    PROVISIONAL_BASE,
    CachedTree,
    MemEvent,
    MemOutage,
    MemPlanned,
    MemPremise,
    MemReport,
    keep_earliest,
    outage_values,
)
from outages.intake.locate import Located
from outages.intake.pg_text import int_array
from outages.intake.premise_points import PremisePoints
from outages.intake.rules import (
    DUPLICATE_OF_CLASSIFICATIONS,
    OUTAGE_CATEGORIES,
    OutageLike,
    ReportLike,
)
from outages.intake.topology_cache import TopologyCache
from outages.settings import OutageSettings
from outages.topology import load_feeder_trees


class BatchStore:
    """``outages.intake.rules.Store`` over state loaded once per batch; see the module docstring."""

    def __init__(
        self,
        session: Session,
        cursor: psycopg.Cursor[Any],
        settings: OutageSettings,
        now: dt.datetime,
        topology: TopologyCache | None = None,
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
        # Suspected outages whose affected premises ``rows_of`` has not read, by feeder.
        self.pending_on: dict[int, set[int]] = {}
        self.dirty: set[int] = set()
        self.trees: dict[int, CachedTree] = {}
        self.premises_by_transformer: dict[int, list[tuple[int, bool]]] = {}
        self.loaded_transformers: set[int] = set()
        self.points = PremisePoints()
        self.feeders: set[int] = set()
        self.merged_now: dict[int, int] = {}
        self.etr_rows: list[tuple[Any, ...]] = []
        self.events: list[MemEvent] = []
        self.opened = 0
        if topology is not None:  # the writer's trees, still valid for this territory
            topology.check(cursor)
            self.trees = topology.trees
            self.device_codes = topology.device_codes
            self.premises_by_transformer = topology.premises_by_transformer
            self.loaded_transformers = topology.loaded_transformers
            self.points = topology.points

    # -- loading ---------------------------------------------------------------------------

    def load(self, located: Sequence[tuple[MemReport, Located]]) -> None:
        """Lock the touched feeders and load what the batch's reports can meet."""
        proxies = sorted(
            {loc.proxy_premise_id for _, loc in located if loc.proxy_premise_id is not None}
        )
        feeders = self._load_proxies(proxies)
        feeders.update(loc.feeder_id for _, loc in located if loc.feeder_id is not None)
        covering = self._lock_covering(proxies, feeders)
        self._load_codes()
        self._load_planned(proxies)
        referenced = self._load_earlier_reports([r for r, _ in located])
        self._load_outages(referenced | {oid for _, oid in covering})
        self._load_suspected()
        self.load_trees(self._trees_needed(located))

    def _load_proxies(self, proxies: Sequence[int]) -> set[int]:
        """The premises classified against, their transformers' codes; their feeders."""
        self.cur.execute(
            "SELECT p.id, p.transformer_id, p.feeder_id, p.region_id, d.feeder_id, d.code "
            "FROM premise p LEFT JOIN device d ON d.id = p.transformer_id WHERE p.id = ANY(%s)",
            [int_array(proxies)],
        )
        feeders: set[int] = set()
        for pid, transformer, feeder, region, transformer_feeder, code in self.cur.fetchall():
            self.premises[pid] = MemPremise(transformer, feeder, region)
            if transformer is not None:
                self.device_codes[transformer] = code
            feeders.update(f for f in (feeder, transformer_feeder) if f is not None)
        return feeders

    def _lock_covering(self, proxies: Sequence[int], feeders: set[int]) -> list[tuple[int, int]]:
        """Lock the feeders, and those of the active outages covering the premises.

        Outages covering these premises normally sit on these feeders; any that do not
        are locked too, before their state is read. Returns (premise, outage) pairs.
        """
        covering_sql = (
            "SELECT op.premise_id, o.id, o.feeder_id FROM outage_premise op "
            "JOIN outage o ON o.id = op.outage_id WHERE op.premise_id = ANY(%s) "
            "AND op.restored_at IS NULL AND o.status IN ('suspected', 'confirmed')"
        )
        proxy_ids = int_array(proxies)
        self.cur.execute(covering_sql, [proxy_ids])
        feeders.update(f for _, _, f in self.cur.fetchall())
        while True:
            new = feeders - self.feeders
            lock_feeders(session=self.session, feeder_ids=new)
            self.feeders.update(new)
            self.cur.execute(covering_sql, [proxy_ids])
            covering = self.cur.fetchall()
            extra = {f for _, _, f in covering} - self.feeders
            if not extra:
                break
            feeders |= extra
        for pid, oid, _ in covering:
            self.covering.setdefault(pid, set()).add(oid)
        return [(pid, oid) for pid, oid, _ in covering]

    def _load_codes(self) -> None:
        self.cur.execute("SELECT id, code, region_class FROM region")
        self.regions = {rid: (code, rclass) for rid, code, rclass in self.cur.fetchall()}
        self.cur.execute(
            "SELECT id, code FROM feeder WHERE id = ANY(%s)", [int_array(sorted(self.feeders))]
        )
        self.feeder_codes = dict(self.cur.fetchall())

    def _load_planned(self, proxies: Sequence[int]) -> None:
        """The planned outage covering each premise now (latest end, then lowest id)."""
        self.cur.execute(
            "SELECT DISTINCT ON (pp.premise_id) pp.premise_id, p.id, p.ends_at, p.reason "
            "FROM planned_outage_premise pp JOIN planned_outage p ON p.id = pp.planned_outage_id "
            "WHERE pp.premise_id = ANY(%s) AND p.status = 'scheduled' "
            "AND p.starts_at <= %s AND p.ends_at > %s "
            "ORDER BY pp.premise_id, p.ends_at DESC, p.id",
            [int_array(proxies), self.now, self.now],
        )
        for pid, planned_id, ends_at, reason in self.cur.fetchall():
            planned = self.planned_by_id.setdefault(
                planned_id, MemPlanned(planned_id, ends_at, reason)
            )
            self.planned_by_premise[pid] = planned

    def _load_earlier_reports(self, reports: Sequence[MemReport]) -> set[int]:
        """Earlier open reports a batch report may duplicate; returns their outages' ids."""
        premise_ids = sorted({r.premise_id for r in reports if r.premise_id is not None})
        phones = sorted({r.caller_phone for r in reports if r.caller_phone})
        self.cur.execute(
            "SELECT id, received_at, premise_id, caller_phone, outage_id FROM report "
            "WHERE (premise_id = ANY(%s) OR caller_phone = ANY(%s)) AND status = 'open' "
            "AND classification = ANY(%s) AND received_at >= %s",
            [
                int_array(premise_ids),
                phones,
                list(DUPLICATE_OF_CLASSIFICATIONS),
                self.duplicate_since,
            ],
        )
        referenced: set[int] = set()
        for rid, received_at, pid, phone, oid in self.cur.fetchall():
            earlier = MemReport(rid, received_at, "", False, phone, pid, None, None)
            earlier.outage_id = oid
            if oid is not None:
                referenced.add(oid)
            if pid is not None:
                keep_earliest(self.by_premise, pid, earlier)
            if phone:
                keep_earliest(self.by_phone, phone, earlier)
        return referenced

    def _load_outages(self, outage_ids: set[int]) -> None:
        """The suspected outages of the touched feeders (they may roll up) and these."""
        self.cur.execute(
            f"SELECT {OUTAGE_COLUMNS} FROM outage WHERE (feeder_id = ANY(%s) "
            "AND status = 'suspected') OR id = ANY(%s)",
            [int_array(sorted(self.feeders)), int_array(sorted(outage_ids))],
        )
        for row in self.cur.fetchall():
            outage = self.outages_by_id[row[0]] = MemOutage(*row)
            self.loaded_values[outage.id] = outage_values(outage)

    def _load_suspected(self) -> None:
        """Reports and roll-up evidence of the touched feeders' suspected outages: what a
        roll-up plans over. Their affected premises wait for ``rows_of``: a storm's group
        meets dozens of suspected outages and changes few, and the batch's own premises
        already know what covers them (``_lock_covering``)."""
        suspected = sorted(
            o.id
            for o in self.outages_by_id.values()
            if o.status == "suspected" and o.feeder_id in self.feeders
        )
        for oid in suspected:
            outage = self.outages_by_id[oid]
            outage.rows = {}
            outage.rows_pending = True
            outage.report_ids = []
            self.pending_on.setdefault(outage.feeder_id, set()).add(oid)
        self.cur.execute(
            "SELECT outage_id, id, premise_id, premise_id IS NOT NULL AND received_at >= %s "
            "AND category = ANY(%s) FROM report WHERE outage_id = ANY(%s)",
            [self.rollup_since, list(OUTAGE_CATEGORIES), int_array(suspected)],
        )
        for oid, rid, pid, evidence in self.cur.fetchall():
            outage = self.outages_by_id[oid]
            assert outage.report_ids is not None
            outage.report_ids.append(rid)
            if evidence:
                self.groups.setdefault(outage.feeder_id, {}).setdefault(oid, set()).add(pid)
        self.dirty = set(self.groups)

    def rows_of(self, outages: Iterable[MemOutage]) -> None:
        """Read the affected premises of these outages where still pending, in one query,
        and those of every other pending outage on their feeders: a roll-up that changed
        one suspected outage of a feeder is likely to merge its neighbours next (a batch of
        10,000 storm reports otherwise read them in 849 queries, 0.2-1.0 s)."""
        feeders = {o.feeder_id for o in outages if o.rows_pending}
        if not feeders:
            return
        pending = {
            oid: self.outages_by_id[oid] for f in feeders for oid in self.pending_on.pop(f, ())
        }
        # The critical flag by key, row by row: a storm's COPYs leave the statistics stale,
        # and a join planned on them read all 100,000 premises per call (55 ms; this 3 ms).
        self.cur.execute(
            "SELECT op.outage_id, op.premise_id, op.restored_at IS NOT NULL, "
            "(SELECT p.critical IS NOT NULL FROM premise p WHERE p.id = op.premise_id) "
            "FROM outage_premise op WHERE op.outage_id = ANY(%s)",
            [int_array(sorted(pending))],
        )
        for oid, pid, restored, critical in self.cur.fetchall():
            outage = pending[oid]
            assert outage.rows is not None
            outage.rows[pid] = (restored, critical)
            if not restored:
                outage.unrestored += 1
                outage.critical_unrestored += critical
                self.covering.setdefault(pid, set()).add(oid)
        for outage in pending.values():
            outage.rows_pending = False

    def _trees_needed(self, located: Sequence[tuple[MemReport, Located]]) -> set[int]:
        """Feeders whose trees a report can need: where it may open or roll up an outage.

        A storm's bulk, callers below a confirmed outage, needs none (``tree`` loads any
        missed).
        """
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
        return needed

    def load_trees(self, feeders: Iterable[int]) -> None:
        """Device trees of these feeders and the premises on their transformers."""
        wanted = sorted(f for f in set(feeders) if f not in self.trees)
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
            "SELECT transformer_id, id, critical IS NOT NULL, ST_X(geom), ST_Y(geom) "
            "FROM premise WHERE transformer_id = ANY(%s)",
            [int_array(missing)],
        )
        # New lists: a list another store shares (``TopologyCache.copy``) is never changed.
        by_transformer = self.premises_by_transformer
        for transformer in missing:
            by_transformer[transformer] = []
        rows = self.cur.fetchall()
        for transformer, pid, critical, _, _ in rows:
            by_transformer[transformer].append((pid, critical))
        self.points.add([(pid, x, y) for _, pid, _, x, y in rows])
        self.loaded_transformers.update(missing)

    def tree(self, feeder_id: int) -> CachedTree:
        if feeder_id not in self.trees:
            self.load_trees([feeder_id])
        return self.trees[feeder_id]

    def new_outage_id(self) -> int:
        """A provisional number, in the order opened; ``outages.intake.batch_ids`` draws
        the final ones in one statement before the batch is written."""
        self.opened += 1
        return PROVISIONAL_BASE + self.opened - 1

    def resolve(self, outage_id: int | None) -> int | None:
        while outage_id in self.merged_now:
            outage_id = self.merged_now[outage_id]
        return outage_id

    def register(self, report: MemReport) -> None:
        """A filed batch report is one a later report of the batch may duplicate."""
        if report.classification not in DUPLICATE_OF_CLASSIFICATIONS:
            return
        if report.premise_id is not None:
            keep_earliest(self.by_premise, report.premise_id, report)
        if report.caller_phone:
            keep_earliest(self.by_phone, report.caller_phone, report)

    # -- Store ----------------------------------------------------------------------------

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
        self.rows_of([outage])
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
        self.rows_of(o for o in others if isinstance(o, MemOutage))
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
        self.events.append(MemEvent(at, actor, action, object_type, object_id, detail))
