"""The database-backed intake store: one query per question, for one report at a time.

It answers ``outages.intake.rules.Store`` from the session and writes through the ORM, so
a single report costs a handful of indexed lookups; the batch path answers the same
questions from memory instead (``outages.intake.batch_store``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from geo.audit import record
from geo.models import Device, Feeder, Premise, Region
from outages.etr_history import set_etr
from outages.feeder_tree import FeederTree, Group, RollUp, RollUpRule, plan_rollups
from outages.intake.rules import (
    DUPLICATE_OF_CLASSIFICATIONS,
    OUTAGE_CATEGORIES,
    OutageLike,
    ReportLike,
)
from outages.models import (
    ACTIVE_OUTAGE_STATUSES,
    Outage,
    OutagePremise,
    PlannedOutage,
    PlannedOutagePremise,
    Report,
)
from outages.topology import load_feeder_tree

# The area of an outage: its premises still without power, hulled and buffered by 25 m.
HULL_BUFFER_SQL = "ST_Buffer(({hull})::geography, 25)::geometry"
"""An outage's area around the hull of its premises still dark (the batch path draws the
hull in memory: ``outages.intake.premise_points``)."""
HULL_SQL = HULL_BUFFER_SQL.format(hull="ST_ConvexHull(ST_Collect(p.geom))")


def planned_covering_query(premise_id: int, now: dt.datetime) -> Any:
    return (
        select(PlannedOutage)
        .join(PlannedOutagePremise, PlannedOutagePremise.planned_outage_id == PlannedOutage.id)
        .where(
            PlannedOutagePremise.premise_id == premise_id,
            PlannedOutage.status == "scheduled",
            PlannedOutage.starts_at <= now,
            PlannedOutage.ends_at > now,
        )
        .order_by(PlannedOutage.ends_at.desc(), PlannedOutage.id)
        .limit(1)
    )


def active_outage_query(premise_id: int) -> Any:
    return (
        select(Outage)
        .join(OutagePremise, OutagePremise.outage_id == Outage.id)
        .where(
            OutagePremise.premise_id == premise_id,
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(Outage.id)
        .limit(1)
    )


def mark_affected(session: Session, outage: Outage) -> None:
    """Affected premises = every premise fed from the outage's device or below it."""
    tree = load_feeder_tree(session=session, feeder_id=outage.feeder_id)
    devices = (
        sorted(tree.below(outage.device_id))
        if outage.device_id in tree.graph
        else [outage.device_id]
    )
    session.execute(
        text(
            "INSERT INTO outage_premise (outage_id, premise_id) "
            "SELECT :o, id FROM premise WHERE transformer_id = ANY(:devices) "
            "ON CONFLICT DO NOTHING"
        ),
        {"o": outage.id, "devices": devices},
    )
    refresh_counts(session, outage)


def refresh_counts(session: Session, outage: Outage) -> None:
    row = session.execute(
        text(
            "SELECT count(*) AS n, count(*) FILTER (WHERE p.critical IS NOT NULL) AS crit, "
            f"{HULL_SQL} AS hull "
            "FROM outage_premise op JOIN premise p ON p.id = op.premise_id "
            "WHERE op.outage_id = :o AND op.restored_at IS NULL"
        ),
        {"o": outage.id},
    ).one()
    outage.customers_affected = int(row.n)
    outage.critical_affected = int(row.crit)
    outage.geom = row.hull


class SessionStore:
    """``outages.intake.rules.Store`` over a session (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def planned_covering(self, premise_id: int, now: dt.datetime) -> PlannedOutage | None:
        planned: PlannedOutage | None = self.session.scalar(planned_covering_query(premise_id, now))
        return planned

    def active_outage_of(self, premise_id: int) -> Outage | None:
        outage: Outage | None = self.session.scalar(active_outage_query(premise_id))
        return outage

    def recent_open_report(self, report: ReportLike, since: dt.datetime) -> Report | None:
        same = Report.premise_id == report.premise_id if report.premise_id is not None else None
        if report.caller_phone:
            by_phone = Report.caller_phone == report.caller_phone
            same = by_phone if same is None else (same | by_phone)
        if same is None:
            return None
        return self.session.scalar(
            select(Report)
            .where(
                same,
                Report.id != report.id,
                Report.status == "open",
                Report.classification.in_(DUPLICATE_OF_CLASSIFICATIONS),
                Report.received_at >= since,
            )
            # The id breaks ties: reports filed in one batch share their received_at.
            .order_by(Report.received_at, Report.id)
            .limit(1)
        )

    def premise(self, premise_id: int) -> Premise | None:
        return self.session.get(Premise, premise_id)

    def device_code(self, device_id: int) -> str:
        return self.session.execute(select(Device.code).where(Device.id == device_id)).scalar_one()

    def region_class(self, region_id: int | None) -> str | None:
        if region_id is None:
            return None
        return self.session.scalar(select(Region.region_class).where(Region.id == region_id))

    def region_code(self, region_id: int | None) -> str | None:
        if not region_id:
            return None
        return self.session.scalar(select(Region.code).where(Region.id == region_id))

    def feeder_code(self, feeder_id: int | None) -> str | None:
        if not feeder_id:
            return None
        return self.session.scalar(select(Feeder.code).where(Feeder.id == feeder_id))

    def planned(self, planned_id: int) -> PlannedOutage:
        planned = self.session.get(PlannedOutage, planned_id)
        assert planned is not None
        return planned

    def outage(self, outage_id: int) -> Outage:
        outage = self.session.get(Outage, outage_id)
        assert outage is not None
        return outage

    def outages(self, outage_ids: Sequence[int]) -> list[Outage]:
        return list(self.session.scalars(select(Outage).where(Outage.id.in_(outage_ids))))

    def attach(self, report: ReportLike, outage_id: int | None) -> None:
        report.outage_id = outage_id

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
    ) -> Outage:
        outage = Outage(
            status=status,
            device_id=device_id,
            feeder_id=feeder_id,
            region_id=region_id,
            cause=cause,
            started_at=now,
            confirmed_at=now if status == "confirmed" else None,
            explanation=explanation,
            hazard=False,
        )
        self.session.add(outage)
        self.session.flush()
        return outage

    def feeder_of_device(self, device_id: int) -> int:
        return self.session.execute(
            select(Device.feeder_id).where(Device.id == device_id)
        ).scalar_one()

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
        assert isinstance(outage, Outage)
        set_etr(
            session=self.session,
            outage=outage,
            etr_at=etr_at,
            source=source,
            reason=reason,
            actor=actor,
            now=now,
        )

    def mark_affected(self, outage: OutageLike) -> None:
        assert isinstance(outage, Outage)
        self.session.flush()
        mark_affected(self.session, outage)

    def plan_rollups(
        self, feeder_id: int, since: dt.datetime, rule: RollUpRule
    ) -> tuple[FeederTree, list[RollUp]] | None:
        self.session.flush()
        # Most calls of a storm are 'known' on the one outage of their feeder: with fewer
        # than two suspected outages there is nothing to merge, and one indexed probe says so.
        suspected = self.session.scalars(
            select(Outage.id)
            .where(Outage.feeder_id == feeder_id, Outage.status == "suspected")
            .limit(2)
        ).all()
        if len(suspected) < 2:
            return None
        rows = self.session.execute(
            select(Outage.id, Outage.device_id, Report.premise_id)
            .join(Report, Report.outage_id == Outage.id)
            .where(
                Outage.feeder_id == feeder_id,
                Outage.status == "suspected",
                Report.received_at >= since,
                Report.premise_id.is_not(None),
                Report.category.in_(OUTAGE_CATEGORIES),
            )
        ).all()
        groups: dict[int, Group] = {}
        for outage_id, device_id, premise_id in rows:
            group = groups.setdefault(outage_id, Group([outage_id], device_id))
            if premise_id is not None:
                group.reporting_premises.add(premise_id)
        if len(groups) < 2:
            return None
        tree = load_feeder_tree(session=self.session, feeder_id=feeder_id)
        return tree, plan_rollups(tree, groups.values(), rule)

    def report_counts(self, outage_ids: Sequence[int]) -> dict[int, int]:
        rows = self.session.execute(
            select(Report.outage_id, func.count())
            .where(Report.outage_id.in_(outage_ids))
            .group_by(Report.outage_id)
        ).all()
        return {int(o): int(n) for o, n in rows if o is not None}

    def report_ids_of(self, outage_id: int) -> list[int]:
        return list(self.session.scalars(select(Report.id).where(Report.outage_id == outage_id)))

    def merge(self, survivor: OutageLike, others: Sequence[OutageLike]) -> None:
        other_ids = [o.id for o in others]
        self.session.execute(
            update(Report).where(Report.outage_id.in_(other_ids)).values(outage_id=survivor.id)
        )
        self.session.execute(
            text("DELETE FROM outage_premise WHERE outage_id = ANY(:ids)"), {"ids": other_ids}
        )

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
        record(
            session=self.session,
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=detail,
            at=at,
        )
