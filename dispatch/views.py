"""Read models of work orders: the list the console and crews page show, with urgency
breakdown, deadlines, countdowns, the crew and the closing loop's state."""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import clocks
from dispatch.models import BEFORE_SITE_STATUSES, LIVE_STATUSES, CompletionReport, Crew, WorkOrder
from dispatch.schemas import CompletionRead, UrgencyRead, WorkOrderRead
from dispatch.state import UNDO_RESTORE, allowed
from dispatch.tasks import tasks_by_order
from geo.models import Feeder, Region
from outages.models import Report


def _undo_left(order: WorkOrder, now: dt.datetime) -> int | None:
    if order.status != "restored" or order.restored_at is None:
        return None
    left = math.floor((order.restored_at + UNDO_RESTORE - now).total_seconds())
    return left if left > 0 else None


def _countdown(due: dt.datetime, now: dt.datetime) -> int:
    return math.floor((due - now).total_seconds())


def list_work_orders(
    *,
    session: Session,
    now: dt.datetime,
    status: str | None = None,
    crew_id: int | None = None,
    escalated: bool | None = None,
    ids: list[int] | None = None,
) -> list[WorkOrderRead]:
    """Orders, most urgent first, with breakdown, deadlines and countdowns.

    ``status`` is one status, or ``live`` (default when None: every status).
    """
    query = (
        select(
            WorkOrder,
            func.ST_X(WorkOrder.geom),
            func.ST_Y(WorkOrder.geom),
            Region.code,
            Feeder.code,
            Crew.code,
            CompletionReport,
        )
        .outerjoin(Region, Region.id == WorkOrder.region_id)
        .outerjoin(Feeder, Feeder.id == WorkOrder.feeder_id)
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .outerjoin(CompletionReport, CompletionReport.work_order_id == WorkOrder.id)
        .order_by(WorkOrder.urgency_score.desc(), WorkOrder.id)
    )
    if status == "live":
        query = query.where(WorkOrder.status.in_(LIVE_STATUSES))
    elif status is not None:
        query = query.where(WorkOrder.status == status)
    if crew_id is not None:
        query = query.where(WorkOrder.crew_id == crew_id)
    if escalated is not None:
        query = query.where(
            WorkOrder.escalation_level > 0 if escalated else WorkOrder.escalation_level == 0
        )
    if ids is not None:
        query = query.where(WorkOrder.id.in_(ids))
    rows = session.execute(query).all()
    order_ids = [row[0].id for row in rows]
    tasks = tasks_by_order(session=session, order_ids=order_ids)
    outage_reports = _reports_per_outage(session, [row[0].outage_id for row in rows])
    answers = []
    for order, lon, lat, region, feeder, crew, report in rows:
        read = _read(order, lon, lat, region, feeder, crew, report, now)
        read.tasks = tasks.get(order.id, [])
        read.open_tasks = sum(1 for t in read.tasks if t.status == "open")
        read.reports = (
            outage_reports.get(order.outage_id, 0)
            if order.kind == "outage"
            else max(1, len(read.tasks))
        )
        answers.append(read)
    return answers


def _reports_per_outage(session: Session, outage_ids: list[int | None]) -> dict[int, int]:
    wanted = sorted({o for o in outage_ids if o is not None})
    if not wanted:
        return {}
    return {
        outage_id: int(n)
        for outage_id, n in session.execute(
            select(Report.outage_id, func.count())
            .where(Report.outage_id.in_(wanted))
            .group_by(Report.outage_id)
        )
        if outage_id is not None
    }


def read_work_order(*, session: Session, order: WorkOrder, now: dt.datetime) -> WorkOrderRead:
    """One order as the API answers it, after the changes pending in the session."""
    session.flush()
    return list_work_orders(session=session, now=now, ids=[order.id])[0]


def _read(
    order: WorkOrder,
    lon: float,
    lat: float,
    region: str | None,
    feeder: str | None,
    crew: str | None,
    report: CompletionReport | None,
    now: dt.datetime,
) -> WorkOrderRead:
    return WorkOrderRead(
        id=order.id,
        kind=order.kind,
        status=order.status,
        allowed_transitions=allowed(order),
        outage_id=order.outage_id,
        report_id=order.report_id,
        urgency=UrgencyRead(
            score=order.urgency_score, priority=order.priority, breakdown=order.urgency_breakdown
        ),
        region=region,
        feeder=feeder,
        lon=lon,
        lat=lat,
        required_skills=list(order.required_skills),
        repair_s=order.repair_s,
        first_report_at=order.first_report_at,
        onsite_due_at=order.onsite_due_at,
        restore_due_at=order.restore_due_at,
        onsite_countdown_s=_countdown(order.onsite_due_at, now)
        if order.status in BEFORE_SITE_STATUSES
        else None,
        restore_countdown_s=_countdown(order.restore_due_at, now)
        if order.status in LIVE_STATUSES
        else None,
        at_risk=clocks.at_risk(order, now),
        overdue=clocks.overdue(order, now),
        escalation_level=order.escalation_level,
        escalated_at=order.escalated_at,
        crew_id=order.crew_id,
        crew=crew,
        locked=order.locked,
        pinned=order.pinned,
        undo_s_left=_undo_left(order, now),
        route_seq=order.route_seq,
        eta_at=order.eta_at,
        on_site_at=order.on_site_at,
        restored_at=order.restored_at,
        closed_at=order.closed_at,
        cancel_reason=order.cancel_reason,
        appointment_start_at=order.appointment_start_at,
        appointment_end_at=order.appointment_end_at,
        completion=None
        if report is None
        else CompletionRead(
            cause_found=report.cause_found,
            action=report.action,
            device_code=report.device_code,
            materials=report.materials,
            filed_by=report.filed_by,
            filed_at=report.filed_at,
            reviewed_by=report.reviewed_by,
            reviewed_at=report.reviewed_at,
            review_ok=report.review_ok,
            review_note=report.review_note,
            return_call_at=report.return_call_at,
            customer_reached=report.customer_reached,
            satisfied=report.satisfied,
            return_call_note=report.return_call_note,
        ),
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
