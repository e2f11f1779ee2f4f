"""A crew's route between plans: where a manually assigned order goes, and ETAs that add up.

A plan gives each crew an order of stops with road-time arrivals. Between plans dispatchers
assign and lock orders by hand and crews report their steps; without care an order locked to
a busy crew got an arrival computed from the crew's position as if it were the first stop,
while three stops came before it. Here the route is one list: stops in progress first, then
the others in plan order; a hand-assigned order goes before the first stop of lower urgency
(unless the dispatcher pins a position), and arrivals are computed along the list, each after
the previous stop's repair, so they rise with the stop order.

Arrivals between plans are straight-line estimates (``straight_line_speed_kmh``); the next
plan brings road times.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.models import Crew, WorkOrder
from dispatch.settings import DispatchSettings
from routing.problem import haversine_matrix_m

ROUTE_STATUSES = ("planned", "dispatched", "en_route", "on_site")
"""Orders that are stops of a crew's route (``new`` ones have no crew)."""
IN_PROGRESS_RANK = {"on_site": 0, "en_route": 1}


@dataclass(frozen=True)
class Moved:
    """An order whose arrival changed, with the arrival it had."""

    order: WorkOrder
    previous_eta: dt.datetime | None


def urgency_key(order: WorkOrder) -> tuple[int, float, int]:
    """Most urgent first: priority class, then score, then the older order."""
    return (order.priority, -order.urgency_score, order.id)


def crew_route(*, session: Session, crew: Crew, exclude: int | None = None) -> list[WorkOrder]:
    """The crew's stops in order: in progress first, then by route position, then urgency."""
    orders = session.scalars(
        select(WorkOrder).where(
            WorkOrder.crew_id == crew.id,
            WorkOrder.status.in_(ROUTE_STATUSES),
            WorkOrder.id != (exclude or 0),
        )
    ).all()
    return sorted(
        orders,
        key=lambda o: (
            IN_PROGRESS_RANK.get(o.status, 2),
            o.route_seq if o.route_seq is not None else math.inf,
            *urgency_key(o),
        ),
    )


def _started(route: list[WorkOrder]) -> int:
    """How many stops at the front are in progress (they cannot be overtaken)."""
    return sum(1 for o in route if o.status in IN_PROGRESS_RANK)


def place(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew,
    position: int | None,
    now: dt.datetime,
    settings: DispatchSettings,
) -> list[Moved]:
    """Put ``order`` into ``crew``'s route and re-time the stops from it on.

    ``position`` (1-based, pinned by the dispatcher) puts it there, never before a stop in
    progress; without one it goes before the first not-started stop of lower urgency.
    """
    route = crew_route(session=session, crew=crew, exclude=order.id)
    first_free = _started(route)
    if position is not None:
        index = min(max(position - 1, first_free), len(route))
    else:
        index = next(
            (
                i
                for i in range(first_free, len(route))
                if urgency_key(route[i]) > urgency_key(order)
            ),
            len(route),
        )
    route.insert(index, order)
    return retime(session=session, crew=crew, route=route, start=index, now=now, settings=settings)


def retime_crew(
    *,
    session: Session,
    crew: Crew,
    now: dt.datetime,
    settings: DispatchSettings,
    keep_later: bool,
) -> list[Moved]:
    """Re-time the crew's whole route (after a step, a position, an order leaving it).

    ``keep_later`` keeps an arrival that is later than the estimate (a plan's road time,
    say): estimates then only push arrivals back, never pull them forward.
    """
    route = crew_route(session=session, crew=crew)
    return retime(
        session=session,
        crew=crew,
        route=route,
        start=0,
        now=now,
        settings=settings,
        keep_later=keep_later,
    )


def retime(
    *,
    session: Session,
    crew: Crew,
    route: list[WorkOrder],
    start: int,
    now: dt.datetime,
    settings: DispatchSettings,
    keep_later: bool = False,
) -> list[Moved]:
    """Number the stops 1..n and compute arrivals from stop ``start`` on, each after the one
    before it: the previous stop's arrival (or on-site time) plus its repair, plus the
    straight-line travel between them. Returns the orders whose arrival changed."""
    points = _points(session, crew, route)
    distances = haversine_matrix_m(points[:, 0], points[:, 1])
    speed_m_s = max(settings.straight_line_speed_kmh, 1.0) / 3.6
    moved: list[Moved] = []
    free_at = now
    for i, order in enumerate(route):
        order.route_seq = i + 1
        if i < start and order.status != "on_site" and order.eta_at is not None:
            free_at = max(order.eta_at, now) + dt.timedelta(seconds=order.repair_s)
            continue
        if order.status == "on_site":
            arrived = order.on_site_at or now
            free_at = max(arrived + dt.timedelta(seconds=order.repair_s), now)
            continue
        travel_s = math.ceil(float(distances[i, i + 1]) / speed_m_s)
        eta = (free_at + dt.timedelta(seconds=travel_s)).replace(microsecond=0)
        if keep_later and order.eta_at is not None and order.eta_at > eta:
            eta = order.eta_at
        if order.eta_at != eta:
            moved.append(Moved(order=order, previous_eta=order.eta_at))
            order.eta_at = eta
        free_at = eta + dt.timedelta(seconds=order.repair_s)
    session.flush()
    return moved


def _points(session: Session, crew: Crew, route: list[WorkOrder]) -> np.ndarray:
    """Lon/lat of the crew (live position, else depot) then of each stop, in route order."""
    crew_xy = session.execute(
        select(
            func.ST_X(func.coalesce(Crew.geom, Crew.depot_geom)),
            func.ST_Y(func.coalesce(Crew.geom, Crew.depot_geom)),
        ).where(Crew.id == crew.id)
    ).one()
    by_id: dict[int, tuple[float, float]] = {}
    ids = [o.id for o in route]
    if ids:
        session.flush()
        by_id = {
            i: (x, y)
            for i, x, y in session.execute(
                select(WorkOrder.id, func.ST_X(WorkOrder.geom), func.ST_Y(WorkOrder.geom)).where(
                    WorkOrder.id.in_(ids)
                )
            )
        }
    rows = [(float(crew_xy[0]), float(crew_xy[1]))] + [by_id[i] for i in ids]
    return np.asarray(rows, dtype=float)
