"""Make-safe tasks: hazard calls grouped into one order per incident instead of one each.

In a storm, twenty-five callers report the same fallen line below the recloser that tripped.
They are one incident: the outage's order carries each call as a task (its place and the
caller's words) for the crew that restores it. Hazards outside any active outage group by
place (the same premise, or within ``HAZARD_PLACE_M`` and ``HAZARD_WINDOW`` of another open
task) into one make-safe order. Every hazard report is still stored, counted and shown; only
orders group. A task stays open until the crew marks it made safe; an outage whose tasks are
open is not restored without that, or an explicit override (the tasks then move on to a
make-safe order of their own, so an overridden hazard is never lost).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from geoalchemy2 import Geometry
from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from dispatch import clocks
from dispatch.exceptions import OpenMakeSafeTasks, TaskNotFound
from dispatch.flows import survivor
from dispatch.models import BEFORE_SITE_STATUSES, LIVE_STATUSES, WorkOrder, WorkOrderTask
from dispatch.schemas import SyncResult, TaskRead
from dispatch.settings import DispatchSettings
from dispatch.state import audit, cancel_order, new_order, touch
from geo.models import Premise, Region
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage, OutagePremise, Report

HAZARD_PLACE_M = 50.0
HAZARD_WINDOW = dt.timedelta(hours=2)


def sync_tasks(
    *,
    session: Session,
    result: SyncResult,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    """Give every open hazard report a task on the right order, and follow the outages.

    In order: tasks left open on orders that are over (an overridden restore, a cancelled
    order) are re-homed; hazard orders whose place an active outage now covers hand their
    tasks to that outage's order and are cancelled; hazard reports without a task get one.
    """
    _rehome_stranded(session, now=now, actor=actor)
    _fold_into_outages(session, result, now=now, actor=actor)
    _task_new_hazards(session, result, now=now, settings=settings, actor=actor)
    session.flush()


def _active_outage_of(session: Session, report: Report) -> Outage | None:
    """The active outage a hazard belongs to: its own (after merges), else one covering its
    premise now (a roll-up can darken a place after its call)."""
    if report.outage_id is not None:
        outage = session.get(Outage, report.outage_id)
        if outage is not None:
            outage = survivor(session=session, outage=outage)
            if outage.status in ACTIVE_OUTAGE_STATUSES:
                return outage
    if report.premise_id is None:
        return None
    return session.scalar(
        select(Outage)
        .join(OutagePremise, OutagePremise.outage_id == Outage.id)
        .where(
            OutagePremise.premise_id == report.premise_id,
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(Outage.started_at, Outage.id)
        .limit(1)
    )


def _outage_order(session: Session, outage_id: int) -> WorkOrder | None:
    return session.scalar(
        select(WorkOrder).where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == outage_id,
            WorkOrder.status.in_(LIVE_STATUSES),
        )
    )


def _place_order(session: Session, report: Report) -> WorkOrder | None:
    """A live make-safe order with an open task at the same premise, or within 50 m and 2 h."""
    # Typed as a geometry so it binds as one: a report read back from the database holds
    # a WKBElement, which a bare bind parameter cannot send (only a fresh report's text).
    place = type_coerce(report.geom, Geometry("POINT", srid=4326))
    close = func.ST_DWithin(
        func.Geography(WorkOrderTask.geom), func.Geography(place), HAZARD_PLACE_M
    ) & WorkOrderTask.reported_at.between(
        report.received_at - HAZARD_WINDOW, report.received_at + HAZARD_WINDOW
    )
    return session.scalar(
        select(WorkOrder)
        .join(WorkOrderTask, WorkOrderTask.work_order_id == WorkOrder.id)
        .where(
            WorkOrder.kind == "hazard",
            WorkOrder.status.in_(LIVE_STATUSES),
            WorkOrderTask.status == "open",
            (WorkOrderTask.premise_id == report.premise_id) | close
            if report.premise_id is not None
            else close,
        )
        .order_by(WorkOrder.id)
        .limit(1)
    )


def _task_note(report: Report, address: str | None) -> str:
    words = (report.description or "").strip()
    place = address or report.address_text or "the reported point"
    label = report.category.replace("_", " ")
    return f"{label} at {place}: {words}" if words else f"{label} at {place}"


def _add_task(session: Session, order: WorkOrder, report: Report, now: dt.datetime) -> None:
    address = (
        session.scalar(select(Premise.address).where(Premise.id == report.premise_id))
        if report.premise_id is not None
        else None
    )
    assert report.geom is not None
    session.add(
        WorkOrderTask(
            work_order_id=order.id,
            report_id=report.id,
            premise_id=report.premise_id,
            category=report.category,
            note=_task_note(report, address),
            status="open",
            reported_at=report.received_at,
            created_at=now,
            geom=report.geom,
        )
    )
    order.first_report_at = min(order.first_report_at, report.received_at)
    touch(order, now)


def _task_new_hazards(
    session: Session,
    result: SyncResult,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    actor: str,
) -> None:
    has_task = (
        select(WorkOrderTask.id)
        .where(WorkOrderTask.report_id == Report.id, WorkOrderTask.status != "moved")
        .exists()
    )
    reports = session.scalars(
        select(Report)
        .where(Report.hazard, Report.status == "open", Report.geom.is_not(None), ~has_task)
        .order_by(Report.received_at, Report.id)
    ).all()
    region_classes: dict[int | None, str] | None = None
    for report in reports:
        outage = _active_outage_of(session, report)
        order = _outage_order(session, outage.id) if outage is not None else None
        if order is None:
            order = _place_order(session, report)
        if order is None:
            if region_classes is None:
                # .all(): dict() would take a Result, which has keys(), for a mapping.
                rows = session.execute(select(Region.id, Region.region_class)).all()
                region_classes = dict(rows)
            order = _hazard_order(
                session, report, now=now, settings=settings, classes=region_classes
            )
            audit(
                session,
                order,
                "created",
                actor,
                now,
                kind="hazard",
                report_id=report.id,
                category=report.category,
                outage_id=report.outage_id,
            )
            result.created.append(order.id)
        _add_task(session, order, report, now)
        session.flush()


def _hazard_order(
    session: Session,
    report: Report,
    *,
    now: dt.datetime,
    settings: DispatchSettings,
    classes: dict[int | None, str],
) -> WorkOrder:
    due = clocks.deadlines(
        kind="hazard",
        first_report_at=report.received_at,
        region_class=classes.get(report.region_id),
        settings=settings,
    )
    order = new_order(
        kind="hazard",
        report_id=report.id,
        region_id=report.region_id,
        feeder_id=report.feeder_id,
        geom=report.geom,
        required_skills=list(settings.skills_by_category.get(report.category, ["line"])),
        repair_s=int(settings.repair_min_by_category.get(report.category, 60.0) * 60),
        first_report_at=report.received_at,
        onsite_due_at=due.onsite_due_at,
        restore_due_at=due.restore_due_at,
        now=now,
    )
    session.add(order)
    session.flush()
    return order


def _fold_into_outages(
    session: Session, result: SyncResult, *, now: dt.datetime, actor: str
) -> None:
    """Hazard orders no crew has reached yet whose places an active outage now covers."""
    rows = session.execute(
        select(WorkOrderTask, Report, WorkOrder)
        .join(Report, Report.id == WorkOrderTask.report_id)
        .join(WorkOrder, WorkOrder.id == WorkOrderTask.work_order_id)
        .where(
            WorkOrder.kind == "hazard",
            WorkOrder.status.in_(BEFORE_SITE_STATUSES),
            WorkOrderTask.status == "open",
        )
        .order_by(WorkOrder.id, WorkOrderTask.id)
    ).all()
    moved_from: dict[int, WorkOrder] = {}
    for task, report, order in rows:
        outage = _active_outage_of(session, report)
        target = _outage_order(session, outage.id) if outage is not None else None
        if target is None:
            continue
        task.status = "moved"
        session.flush()
        _add_task(session, target, report, now)
        moved_from[order.id] = order
    session.flush()
    for order in moved_from.values():
        if open_task_count(session=session, order=order) == 0:
            cancel_order(
                session,
                order,
                reason="its make-safe tasks joined the order of the outage that covers the place",
                actor=actor,
                now=now,
            )
            result.cancelled.append(order.id)


def _rehome_stranded(session: Session, *, now: dt.datetime, actor: str) -> None:
    """Open tasks on orders that are over: mark them moved so they get a live order again."""
    stranded = session.scalars(
        select(WorkOrderTask)
        .join(WorkOrder, WorkOrder.id == WorkOrderTask.work_order_id)
        .where(WorkOrderTask.status == "open", WorkOrder.status.not_in(LIVE_STATUSES))
    ).all()
    for task in stranded:
        task.status = "moved"
        task.done_at, task.done_by = now, actor
    session.flush()


def open_task_count(*, session: Session, order: WorkOrder) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(WorkOrderTask)
            .where(WorkOrderTask.work_order_id == order.id, WorkOrderTask.status == "open")
        )
        or 0
    )


def check_restorable(
    *,
    session: Session,
    order: WorkOrder,
    made_safe: bool,
    override_reason: str | None,
    actor: str,
    now: dt.datetime,
) -> None:
    """Before ``restored``: the order's open make-safe tasks are made safe now, overridden
    with a reason (they move on to a make-safe order of their own), or the step is refused."""
    tasks = open_tasks(session=session, order=order)
    if not tasks:
        return
    if made_safe:
        for task in tasks:
            task.status, task.done_at, task.done_by = "made_safe", now, actor
        audit(session, order, "made_safe", actor, now, tasks=[t.id for t in tasks])
        session.flush()
        return
    if override_reason and override_reason.strip():
        audit(
            session,
            order,
            "restore_override",
            actor,
            now,
            open_tasks=[t.id for t in tasks],
            reason=override_reason.strip(),
        )
        return
    places = "; ".join(t.note for t in tasks[:3]) + ("; ..." if len(tasks) > 3 else "")
    msg = (
        f"work order #{order.id} has {len(tasks)} open make-safe task"
        f"{'' if len(tasks) == 1 else 's'} ({places}): confirm they are made safe "
        "(made_safe: true) or give override_reason to restore anyway"
    )
    raise OpenMakeSafeTasks(msg, [t.id for t in tasks])


def open_tasks(*, session: Session, order: WorkOrder) -> list[WorkOrderTask]:
    return list(
        session.scalars(
            select(WorkOrderTask)
            .where(WorkOrderTask.work_order_id == order.id, WorkOrderTask.status == "open")
            .order_by(WorkOrderTask.reported_at, WorkOrderTask.id)
        )
    )


def mark_task(
    *, session: Session, order: WorkOrder, task_id: int, actor: str, now: dt.datetime
) -> WorkOrderTask:
    """The crew made one place safe (a line cut clear, a pole taped off)."""
    task = session.get(WorkOrderTask, task_id)
    if task is None or task.work_order_id != order.id or task.status == "moved":
        msg = f"work order #{order.id} has no make-safe task #{task_id}"
        raise TaskNotFound(msg)
    if task.status == "open":
        task.status, task.done_at, task.done_by = "made_safe", now, actor
        audit(session, order, "task_made_safe", actor, now, task=task.id)
        touch(order, now)
        session.flush()
    return task


def tasks_by_order(*, session: Session, order_ids: list[int]) -> dict[int, list[TaskRead]]:
    """The tasks of several orders in one query, oldest call first (moved ones left out)."""
    found: dict[int, list[TaskRead]] = defaultdict(list)
    if not order_ids:
        return found
    rows = session.execute(
        select(WorkOrderTask, func.ST_X(WorkOrderTask.geom), func.ST_Y(WorkOrderTask.geom))
        .where(WorkOrderTask.work_order_id.in_(order_ids), WorkOrderTask.status != "moved")
        .order_by(WorkOrderTask.reported_at, WorkOrderTask.id)
    )
    for task, lon, lat in rows:
        found[task.work_order_id].append(
            TaskRead(
                id=task.id,
                report_id=task.report_id,
                category=task.category,
                note=task.note,
                status=task.status,
                reported_at=task.reported_at,
                done_at=task.done_at,
                done_by=task.done_by,
                lon=lon,
                lat=lat,
            )
        )
    return found


def check_outage_restorable(
    *,
    session: Session,
    outage: Outage,
    made_safe: bool,
    override_reason: str | None,
    actor: str,
    now: dt.datetime,
) -> None:
    """The same rule when a dispatcher restores the outage itself (from SCADA, say): its
    order's open make-safe tasks are made safe, overridden, or the restore is refused."""
    order = _outage_order(session, outage.id)
    if order is not None:
        check_restorable(
            session=session,
            order=order,
            made_safe=made_safe,
            override_reason=override_reason,
            actor=actor,
            now=now,
        )
