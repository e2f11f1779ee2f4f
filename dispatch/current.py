"""The current routes: what every crew is on now, in route order, with ETAs and legs.

The console draws these and offers a re-plan when priority-1 orders wait without a crew.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.crews import on_shift
from dispatch.models import LIVE_STATUSES, Crew, DispatchPlan, WorkOrder
from dispatch.problem import PlanContext
from dispatch.proposals import iso, leg_lines
from dispatch.roads import road_network
from dispatch.settings import DispatchSettings
from dispatch.state import state_version


def current_routes(
    *, session: Session, now: dt.datetime, settings: DispatchSettings
) -> dict[str, Any]:
    """Current routes per crew (live orders in route order) with ETAs and leg geometry.

    ``replan_suggested`` lists unassigned priority-1 orders: the console offers a re-plan.
    """
    zone = ZoneInfo(settings.timezone)
    position = func.coalesce(Crew.geom, Crew.depot_geom)
    crews = session.execute(
        select(Crew, func.ST_X(position), func.ST_Y(position)).order_by(Crew.code)
    ).all()
    rows = session.execute(
        select(WorkOrder, func.ST_X(WorkOrder.geom), func.ST_Y(WorkOrder.geom))
        .where(WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.route_seq.nulls_last(), WorkOrder.eta_at.nulls_last(), WorkOrder.id)
    ).all()
    # Points: the crews' positions first, then each assigned order, so legs are row pairs.
    lon = [float(x) for _, x, _ in crews]
    lat = [float(y) for _, _, y in crews]
    start_row = {crew.id: row for row, (crew, _, _) in enumerate(crews)}
    by_crew: dict[int, list[tuple[WorkOrder, int]]] = {}
    unassigned_p1: list[int] = []
    for order, x, y in rows:
        if order.crew_id is None:
            if order.priority == 1:
                unassigned_p1.append(order.id)
            continue
        by_crew.setdefault(order.crew_id, []).append((order, len(lon)))
        lon.append(float(x))
        lat.append(float(y))
    legs: list[tuple[int, int]] = []
    for crew, _, _ in crews:
        previous = start_row[crew.id]
        for _, row in by_crew.get(crew.id, []):
            legs.append((previous, row))
            previous = row
    context = PlanContext(
        now=now,
        version=0,
        timezone=settings.timezone,
        orders={},
        crews={},
        lon=lon,
        lat=lat,
        network=road_network(session=session).network,
    )
    lines = iter(leg_lines(context, legs))
    answer = []
    for crew, x, y in crews:
        visits = [_visit(order, next(lines), zone) for order, _ in by_crew.get(crew.id, [])]
        answer.append(
            {
                "crew_id": crew.id,
                "crew": crew.code,
                "status": crew.status,
                "on_shift": on_shift(crew=crew, now=now, settings=settings),
                "position": {
                    "lon": float(x),
                    "lat": float(y),
                    "source": "live" if crew.geom is not None else "depot",
                },
                "visits": visits,
            }
        )
    latest = _latest_applied(session)
    return {
        "now": iso(now, zone),
        "version": state_version(session=session),
        "plan_id": latest,
        "routes": answer,
        "unassigned_priority_1": unassigned_p1,
        "replan_suggested": bool(unassigned_p1),
    }


def _visit(order: WorkOrder, line: list[list[float]], zone: ZoneInfo) -> dict[str, Any]:
    return {
        "seq": order.route_seq,
        "work_order_id": order.id,
        "priority": order.priority,
        "status": order.status,
        "locked": order.locked,
        "eta_at": iso(order.eta_at, zone) if order.eta_at else None,
        "onsite_due_at": iso(order.onsite_due_at, zone),
        "onsite_met": None if order.eta_at is None else order.eta_at <= order.onsite_due_at,
        "geometry": {"type": "LineString", "coordinates": line},
    }


def _latest_applied(session: Session) -> int | None:
    return session.scalar(
        select(DispatchPlan.id)
        .where(DispatchPlan.status == "applied")
        .order_by(DispatchPlan.applied_at.desc(), DispatchPlan.id.desc())
        .limit(1)
    )
