"""Work orders from outages and reports: create them, follow the outages, refresh urgency.

One live order per active outage (it follows the outage through roll-up merges), one
make-safe order per hazard place outside outages (``dispatch/tasks.py`` groups the calls),
and one per located fault report that cut no supply and lies in no outage. The dispatcher's
sync and the heartbeat (``dispatch/cycle.py``) both run ``sync_work_orders``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch import clocks, tasks, urgency
from dispatch.exceptions import WorkOrderNotFound
from dispatch.flows import survivor as survivor_of
from dispatch.models import BEFORE_SITE_STATUSES, LIVE_STATUSES, STATUSES, WorkOrder
from dispatch.schemas import SyncResult
from dispatch.settings import DispatchSettings
from dispatch.state import audit, cancel_order, new_order, touch
from geo.locks import LockSpace, xact_lock
from geo.models import Device, Premise, Region
from outages.intake.rules import OUTAGE_CATEGORIES
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage, OutagePremise, Report

PROGRESS = {status: rank for rank, status in enumerate(STATUSES)}
"""How far along an order is; of two orders on merged outages the further one is kept."""


def get_work_order(*, session: Session, work_order_id: int, for_update: bool = False) -> WorkOrder:
    """An order by id; ``for_update`` locks its row until the transaction ends."""
    query = select(WorkOrder).where(WorkOrder.id == work_order_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(query)
    if order is None:
        msg = f"no work order #{work_order_id}"
        raise WorkOrderNotFound(msg)
    return order


def sync_work_orders(
    *, session: Session, now: dt.datetime, settings: DispatchSettings, actor: str
) -> SyncResult:
    """Create and update orders from active outages and open reports; refresh urgency.

    - One live order per active outage. When outages merge in a roll-up, the merged
      outage's order moves onto the survivor when the survivor has none; when both have
      one, the order further along (a crew on it beats none) is kept on the survivor, with
      its crew, and the other is cancelled, "merged into outage #N".
    - An outage restored or closed before a crew was sent cancels its unstarted order;
      an order with a crew stays for the crew to finish and report.
    - Hazard reports are make-safe tasks: of their outage's order when an active outage
      covers them, else of one order per hazard place (``dispatch/tasks.py``).
    - One order per located fault report that cut no supply (category outside the outage
      categories) and lies in no active outage; a fault order whose premise an outage
      darkens later is cancelled before a crew is sent (the outage's crew sees it). A
      flicker on a feeder whose outage started within 30 minutes of it is the protection
      operating, not a fault: it gets no order.
      A cancelled report order is never re-created; an active outage whose order was
      cancelled gets a new one (the outage still needs a crew).
    - Every live order's deadlines, urgency and (for outages) place, skills and repair
      time are refreshed: a roll-up moves the outage to another device.
    """
    xact_lock(session, LockSpace.DISPATCH_SYNC, 0)
    result = SyncResult()
    _follow_outages(session, result, now=now, actor=actor)
    _create_outage_orders(session, result, now=now, settings=settings, actor=actor)
    session.flush()
    tasks.sync_tasks(session=session, result=result, now=now, settings=settings, actor=actor)
    _cancel_covered_faults(session, result, now=now, actor=actor)
    _create_fault_orders(session, result, now=now, settings=settings, actor=actor)
    session.flush()
    result.refreshed = _refresh_live(session, now=now, settings=settings)
    session.flush()
    return result


def _live_outage_order(session: Session, outage_id: int) -> WorkOrder | None:
    return session.scalar(
        select(WorkOrder)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == outage_id,
            WorkOrder.status != "cancelled",
        )
        .with_for_update()
    )


def _follow_outages(session: Session, result: SyncResult, *, now: dt.datetime, actor: str) -> None:
    rows = session.execute(
        select(WorkOrder, Outage)
        .join(Outage, WorkOrder.outage_id == Outage.id)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.status.in_(LIVE_STATUSES),
            Outage.status.not_in(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(WorkOrder.id)
        .with_for_update(of=WorkOrder)
    ).all()
    for order, outage in rows:
        if outage.status != "merged":
            if order.status in ("new", "planned"):
                cancel_order(
                    session,
                    order,
                    reason=f"outage #{outage.id} was {outage.status} before a crew was sent",
                    actor=actor,
                    now=now,
                )
                result.cancelled.append(order.id)
            continue
        survivor = survivor_of(session=session, outage=outage)
        keeper = _live_outage_order(session, survivor.id)
        if keeper is not None and _progress(keeper) >= _progress(order):
            cancel_order(
                session,
                order,
                reason=f"merged into outage #{survivor.id} (order #{keeper.id})",
                actor=actor,
                now=now,
            )
            result.cancelled.append(order.id)
            continue
        if keeper is not None:
            cancel_order(
                session,
                keeper,
                reason=f"outage #{survivor.id} is served by order #{order.id}, already under way",
                actor=actor,
                now=now,
            )
            result.cancelled.append(keeper.id)
            session.flush()  # the unique live-order index must see the keeper cancelled first
        order.outage_id = survivor.id
        touch(order, now)
        audit(
            session,
            order,
            "moved",
            actor,
            now,
            from_outage=outage.id,
            to_outage=survivor.id,
            reason="outages merged in a roll-up",
        )
        result.moved.append(order.id)
        session.flush()


def _progress(order: WorkOrder) -> tuple[int, int]:
    return (PROGRESS[order.status], 1 if order.crew_id is not None else 0)


def _create_outage_orders(
    session: Session,
    result: SyncResult,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    has_order = (
        select(WorkOrder.id)
        .where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == Outage.id,
            WorkOrder.status != "cancelled",
        )
        .exists()
    )
    rows = session.execute(
        select(Outage, Device)
        .join(Device, Device.id == Outage.device_id)
        .where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES), ~has_order)
        .order_by(Outage.id)
    ).all()
    region_classes = _region_classes(session)
    for outage, device in rows:
        due = clocks.deadlines(
            kind="outage",
            first_report_at=outage.started_at,
            region_class=region_classes.get(outage.region_id),
            settings=settings,
        )
        order = new_order(
            kind="outage",
            outage_id=outage.id,
            region_id=outage.region_id,
            feeder_id=outage.feeder_id,
            geom=device.geom,
            required_skills=_skills_for_device(device.kind, settings),
            repair_s=_repair_s_for_device(device.kind, settings),
            first_report_at=outage.started_at,
            onsite_due_at=due.onsite_due_at,
            restore_due_at=due.restore_due_at,
            now=now,
        )
        session.add(order)
        session.flush()
        audit(session, order, "created", actor, now, kind="outage", outage_id=outage.id)
        result.created.append(order.id)


def _in_active_outage(premise_id: Any) -> Any:
    """SQL: the premise is dark in an active outage now."""
    return (
        select(OutagePremise.outage_id)
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .where(
            OutagePremise.premise_id == premise_id,
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .exists()
    )


FLICKER_WINDOW = dt.timedelta(minutes=30)
"""A flicker this close to an outage's start on the same feeder is the protection operating
(a recloser trying to clear the fault), not a fault of its own."""


def _explained_flicker(report: type[Report]) -> Any:
    """SQL: a flicker on a feeder whose active outage started around the same time."""
    return (report.category == "flicker") & (
        select(Outage.id)
        .where(
            Outage.feeder_id == report.feeder_id,
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
            Outage.started_at.between(
                report.received_at - FLICKER_WINDOW, report.received_at + FLICKER_WINDOW
            ),
        )
        .exists()
    )


def _cancel_covered_faults(
    session: Session, result: SyncResult, *, now: dt.datetime, actor: str
) -> None:
    """A flicker or a meter fault where an outage is now known is part of that outage."""
    orders = session.scalars(
        select(WorkOrder)
        .join(Report, Report.id == WorkOrder.report_id)
        .where(
            WorkOrder.kind == "fault",
            WorkOrder.status.in_(("new", "planned")),
            WorkOrder.crew_id.is_(None),
            _in_active_outage(Report.premise_id) | _explained_flicker(Report),
        )
        .order_by(WorkOrder.id)
        .with_for_update(of=WorkOrder)
    ).all()
    for order in orders:
        cancel_order(
            session,
            order,
            reason="part of an active outage: the premise is dark in it, or the flicker was "
            "the protection operating on its feeder; the outage's crew covers it",
            actor=actor,
            now=now,
        )
        result.cancelled.append(order.id)


def _create_fault_orders(
    session: Session,
    result: SyncResult,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    any_order = select(WorkOrder.id).where(WorkOrder.report_id == Report.id).exists()
    reports = session.scalars(
        select(Report)
        .where(
            Report.status == "open",
            Report.geom.is_not(None),
            ~Report.hazard,
            Report.category.not_in(OUTAGE_CATEGORIES),
            Report.classification == "new",
            Report.outage_id.is_(None),
            ~_in_active_outage(Report.premise_id),
            ~_explained_flicker(Report),
            ~any_order,
        )
        .order_by(Report.id)
    ).all()
    region_classes = _region_classes(session)
    for report in reports:
        assert report.geom is not None
        due = clocks.deadlines(
            kind="fault",
            first_report_at=report.received_at,
            region_class=region_classes.get(report.region_id),
            settings=settings,
        )
        order = new_order(
            kind="fault",
            report_id=report.id,
            region_id=report.region_id,
            feeder_id=report.feeder_id,
            geom=report.geom,
            required_skills=list(settings.skills_by_category.get(report.category, ["line"])),
            repair_s=_repair_s_for_category(report.category, settings),
            first_report_at=report.received_at,
            onsite_due_at=due.onsite_due_at,
            restore_due_at=due.restore_due_at,
            now=now,
        )
        session.add(order)
        session.flush()
        audit(
            session,
            order,
            "created",
            actor,
            now,
            kind="fault",
            report_id=report.id,
            category=report.category,
        )
        result.created.append(order.id)


def _skills_for_device(kind: str, settings: DispatchSettings) -> list[str]:
    return list(settings.skills_by_device_kind.get(kind, ["line"]))


def _repair_s_for_device(kind: str, settings: DispatchSettings) -> int:
    return int(settings.repair_min_by_device_kind.get(kind, 60.0) * 60)


def _repair_s_for_category(category: str, settings: DispatchSettings) -> int:
    return int(settings.repair_min_by_category.get(category, 60.0) * 60)


def _region_classes(session: Session) -> dict[int | None, str]:
    return dict(session.execute(select(Region.id, Region.region_class)).all())


def _critical_counts(session: Session, outage_ids: list[int]) -> dict[int, dict[str, int]]:
    """Critical premises still without power, by outage and kind."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if not outage_ids:
        return counts
    rows = session.execute(
        select(OutagePremise.outage_id, Premise.critical, func.count())
        .join(Premise, Premise.id == OutagePremise.premise_id)
        .where(
            OutagePremise.outage_id.in_(outage_ids),
            OutagePremise.restored_at.is_(None),
            Premise.critical.is_not(None),
        )
        .group_by(OutagePremise.outage_id, Premise.critical)
    ).all()
    for outage_id, kind, count in rows:
        counts[outage_id][str(kind)] = int(count)
    return counts


def _refresh_live(session: Session, *, now: dt.datetime, settings: DispatchSettings) -> int:
    # Outage orders follow their outage's device (a roll-up moves it up the feeder).
    session.execute(
        text(
            "UPDATE work_order w SET geom = d.geom, feeder_id = o.feeder_id, "
            "region_id = o.region_id "
            "FROM outage o JOIN device d ON d.id = o.device_id "
            "WHERE w.kind = 'outage' AND w.outage_id = o.id AND w.status = ANY(:live) "
            "AND (NOT ST_Equals(w.geom, d.geom) OR w.feeder_id IS DISTINCT FROM o.feeder_id "
            "OR w.region_id IS DISTINCT FROM o.region_id)"
        ),
        {"live": list(LIVE_STATUSES)},
    )
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.id)
        .execution_options(populate_existing=True)
    ).all()
    refresh_orders(session=session, orders=list(orders), now=now, settings=settings)
    return len(orders)


def refresh_orders(
    *, session: Session, orders: list[WorkOrder], now: dt.datetime, settings: DispatchSettings
) -> None:
    """Recompute deadlines and urgency (and, for outages, skills and repair time)."""
    outage_ids = [o.outage_id for o in orders if o.outage_id is not None]
    outage_rows = (
        session.execute(
            select(Outage, Device.kind)
            .join(Device, Device.id == Outage.device_id)
            .where(Outage.id.in_(outage_ids))
        ).all()
        if outage_ids
        else []
    )
    outage_by_id = {outage.id: (outage, kind) for outage, kind in outage_rows}
    critical = _critical_counts(
        session, [o.id for o, _ in outage_rows if o.status in ACTIVE_OUTAGE_STATUSES]
    )
    region_classes = _region_classes(session)
    for order in orders:
        supply_lost, hazard, customers = False, order.kind == "hazard", 0
        counts: dict[str, int] = {}
        if order.kind == "outage" and order.outage_id in outage_by_id:
            outage, device_kind = outage_by_id[order.outage_id]
            order.required_skills = _skills_for_device(device_kind, settings)
            order.repair_s = _repair_s_for_device(device_kind, settings)
            if outage.status in ACTIVE_OUTAGE_STATUSES:
                order.first_report_at = min(order.first_report_at, outage.started_at)
                supply_lost, hazard = True, outage.hazard
                customers = outage.customers_affected
                counts = critical.get(outage.id, {})
        elif order.kind == "fault":
            customers = 1
        due = clocks.deadlines(
            kind=order.kind,
            first_report_at=order.first_report_at,
            region_class=region_classes.get(order.region_id),
            settings=settings,
            appointment_end_at=order.appointment_end_at,
            repair_s=order.repair_s,
        )
        order.onsite_due_at, order.restore_due_at = due.onsite_due_at, due.restore_due_at
        slack = (
            (order.onsite_due_at - now).total_seconds() / 60
            if order.status in BEFORE_SITE_STATUSES
            else None
        )
        scored = urgency.score(
            hazard=hazard,
            supply_lost=supply_lost,
            life_support=counts.get("life_support", 0),
            hospital=counts.get("hospital", 0),
            other_critical=sum(
                v for k, v in counts.items() if k not in ("life_support", "hospital")
            ),
            customers_affected=customers,
            waiting_min=(now - order.first_report_at).total_seconds() / 60,
            sla_slack_min=slack,
            weights=settings.urgency,
            big_outage_customers=settings.big_outage_customers,
        )
        order.urgency_score = scored.score
        order.priority = scored.priority
        if order.urgency_breakdown != scored.breakdown:
            order.urgency_breakdown = scored.breakdown
    session.flush()
