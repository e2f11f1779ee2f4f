"""Open work orders and available crews -> a ``routing.Problem``, with its database context.

The routing clock starts at ``now`` (second 0). Crews start where they are (live position,
else the depot) and are available until their shift ends (night shifts wrap past midnight);
routes end at the last visit (no paid return to the depot: at shift end crews hand over).
Visits in progress (``en_route``, ``on_site``) come first on their crew, then the orders a
dispatcher locked and pinned to it, in their current order: both are frozen prefixes for the
solver. An order locked without a pin keeps its crew (the job may only go to it) and is
sequenced by the solver among the crew's work, by urgency like any other. Each job carries
its order's urgency score, so inside a priority class the hospital feeder outweighs a
one-customer fault.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.crews import on_shift
from dispatch.exceptions import NothingToPlan
from dispatch.models import LIVE_STATUSES, Crew, WorkOrder
from dispatch.roads import road_network
from dispatch.settings import DispatchSettings
from dispatch.state import state_version
from routing.network import RoadNetwork, travel_time_matrix
from routing.problem import (
    MAX_WAIT_COST,
    Job,
    Location,
    Problem,
    TimeWindow,
    haversine_matrix_m,
)
from routing.problem import Crew as RoutingCrew

IN_PROGRESS = ("on_site", "en_route")
MAX_HORIZON_S = 24 * 3600
"""A round-the-clock crew is planned a day ahead; re-plans cover what comes after."""
FALLBACK_SPEED_MPS = 8.0
DETOUR_FACTOR = 1.3

Frozen = dict[int, list[tuple[tuple[int, int, int], str]]]
"""Per crew id: the frozen job ids with their sort key (in progress, pinned; route order)."""


@dataclass(frozen=True, slots=True)
class OrderInfo:
    """What the proposal needs to know about an order, read once when the problem is built."""

    id: int
    kind: str
    status: str
    priority: int
    lon: float
    lat: float
    crew_id: int | None
    locked: bool
    route_seq: int | None
    eta_at: dt.datetime | None
    onsite_due_at: dt.datetime
    repair_s: int


@dataclass(frozen=True, slots=True)
class CrewInfo:
    id: int
    code: str
    lon: float
    lat: float
    position: str
    """``live`` (last posted position) or ``depot``."""
    shift_end_at: dt.datetime
    on_shift: bool


@dataclass
class PlanContext:
    """The database side of a problem: ids behind the job and crew names, and timings.

    Job ids are order ids as text; crew ids are crew codes. Matrix rows are the crews' start
    points, then one row per job.
    """

    now: dt.datetime
    version: int
    timezone: str
    orders: dict[str, OrderInfo]
    crews: dict[str, CrewInfo]
    lon: list[float]
    lat: list[float]
    excluded: list[dict[str, Any]] = field(default_factory=list)
    off_shift: list[tuple[str, frozenset[str], dt.time]] = field(default_factory=list)
    """Crews not in the plan: code, skills and the local time their shift starts."""
    wait_cost_per_point: float = 0.0
    issues: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    network: RoadNetwork | None = None
    roads_s: float = 0.0
    matrix_s: float = 0.0
    build_s: float = 0.0


def shift_end_at(crew: Crew, now: dt.datetime, settings: DispatchSettings) -> dt.datetime:
    """The end of the shift a crew on shift at ``now`` is in: the next ``shift_end`` after
    ``now`` in local time (so a 19:00-07:00 shift seen at 20:00 ends tomorrow at 07:00)."""
    if crew.shift_start == crew.shift_end:
        return now + dt.timedelta(seconds=MAX_HORIZON_S)
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    end = dt.datetime.combine(local.date(), crew.shift_end, tzinfo=zone)
    if end <= local:
        end = dt.datetime.combine(local.date() + dt.timedelta(days=1), crew.shift_end, tzinfo=zone)
    return end


def seconds_between(at: dt.datetime, now: dt.datetime) -> int:
    """Whole seconds from ``now`` to ``at`` (negative when ``at`` is earlier)."""
    return int((at - now).total_seconds())


def build_problem(
    *, session: Session, now: dt.datetime, settings: DispatchSettings
) -> tuple[Problem, PlanContext]:
    """The routing problem of the live orders and the crews available now.

    Raises ``NothingToPlan`` when no crew is on shift and none has a visit in progress.
    """
    started = time.perf_counter()
    # The version first: an assignment committed after this read but before the orders are
    # read makes the plan look older than it is (a needless 409), never newer.
    version = state_version(session=session)
    order_rows = session.execute(
        select(WorkOrder, func.ST_X(WorkOrder.geom), func.ST_Y(WorkOrder.geom))
        .where(WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.id)
    ).all()
    busy = {order.crew_id for order, _, _ in order_rows if order.status in IN_PROGRESS} - {None}
    crews, off_shift = _available_crews(session, busy, now=now, settings=settings)
    context = PlanContext(
        now=now,
        version=version,
        timezone=settings.timezone,
        orders={},
        crews={info.code: info for _, info in crews},
        lon=[info.lon for _, info in crews],
        lat=[info.lat for _, info in crews],
        off_shift=off_shift,
        wait_cost_per_point=settings.wait_cost_per_point,
    )
    crew_by_id = {crew.id: crew for crew, _ in crews}
    frozen: Frozen = {crew.id: [] for crew, _ in crews}
    jobs = [
        job
        for order, lon, lat in order_rows
        if (job := _job(order, float(lon), float(lat), crew_by_id, frozen, context)) is not None
    ]
    travel_s, straight = _travel(session, context)
    problem = Problem(
        travel_s=travel_s,
        jobs=tuple(jobs),
        crews=_routing_crews(crews, frozen, now),
        locations=tuple(
            Location(id=name, lon=lon, lat=lat)
            for name, lon, lat in zip(
                [f"crew:{info.code}" for _, info in crews] + [f"order:{job.id}" for job in jobs],
                context.lon,
                context.lat,
                strict=True,
            )
        ),
        straight_line_locations=straight,
    )
    context.build_s = time.perf_counter() - started
    return problem, context


def _available_crews(
    session: Session, busy: set[int | None], *, now: dt.datetime, settings: DispatchSettings
) -> tuple[list[tuple[Crew, CrewInfo]], list[tuple[str, frozenset[str], dt.time]]]:
    """Crews on shift, and crews past their shift with a visit in progress (``busy``); and
    the others (code, skills, shift start), so a drop reason can name who is off shift."""
    position = func.coalesce(Crew.geom, Crew.depot_geom)
    crews: list[tuple[Crew, CrewInfo]] = []
    off: list[tuple[str, frozenset[str], dt.time]] = []
    for crew, lon, lat in session.execute(
        select(Crew, func.ST_X(position), func.ST_Y(position)).order_by(Crew.code)
    ):
        working = on_shift(crew=crew, now=now, settings=settings)
        if not working and crew.id not in busy:
            off.append((crew.code, frozenset(crew.skills), crew.shift_start))
            continue
        # A crew past its shift with a visit in progress finishes it and takes nothing new.
        end_at = shift_end_at(crew, now, settings) if working else now
        info = CrewInfo(
            id=crew.id,
            code=crew.code,
            lon=float(lon),
            lat=float(lat),
            position="live" if crew.geom is not None else "depot",
            shift_end_at=end_at,
            on_shift=working,
        )
        crews.append((crew, info))
    if not crews:
        msg = (
            f"no crew is on shift at {now.isoformat(timespec='minutes')}: nothing to plan; "
            "check the crews' shifts"
        )
        raise NothingToPlan(msg)
    return crews, off


def _job(
    order: WorkOrder,
    lon: float,
    lat: float,
    crew_by_id: dict[int, Crew],
    frozen: Frozen,
    context: PlanContext,
) -> Job | None:
    """The order as a job (recorded in ``context``), or None when it is left out."""
    now = context.now
    kept = order.crew_id is not None and (order.status in IN_PROGRESS or order.locked)
    # In progress or pinned by the dispatcher: a frozen prefix. Locked without a pin: the
    # crew is kept, the solver sequences it by urgency among the crew's other work.
    pinned = kept and (order.status in IN_PROGRESS or order.pinned)
    if kept and order.crew_id not in crew_by_id:
        context.excluded.append(
            {
                "work_order_id": order.id,
                "priority": order.priority,
                "reason": "locked to a crew that is off shift; kept as it is",
            }
        )
        return None
    job_id = str(order.id)
    skills = frozenset(order.required_skills)
    only: frozenset[str] = frozenset()
    if kept:
        assert order.crew_id is not None
        # The dispatcher's lock stands even if the crew lacks a listed skill.
        skills &= frozenset(crew_by_id[order.crew_id].skills)
        only = frozenset({crew_by_id[order.crew_id].code})
    if pinned:
        assert order.crew_id is not None
        rank = 0 if order.status == "on_site" else 1 if order.status == "en_route" else 2
        frozen[order.crew_id].append(((rank, order.route_seq or 1 << 30, order.id), job_id))
    service_s = order.repair_s
    if order.status == "on_site" and order.on_site_at is not None:
        service_s = max(0, order.repair_s - seconds_between(now, order.on_site_at))
    deadline_s = (
        None if order.status == "on_site" else max(0, seconds_between(order.onsite_due_at, now))
    )
    job = Job(
        id=job_id,
        location=len(context.lon),
        service_s=service_s,
        time_windows=_windows(order, context),
        priority=order.priority,
        skills=skills,
        sla_deadline_s=deadline_s,
        score=max(0.0, float(order.urgency_score)),
        crews=only,
        wait_cost=wait_cost(order.urgency_score, context.wait_cost_per_point),
    )
    context.orders[job_id] = _order_info(order, lon, lat)
    context.lon.append(lon)
    context.lat.append(lat)
    return job


def wait_cost(score: float, per_point: float) -> int:
    """The routing wait cost of an order: its urgency score priced per point
    (``DispatchSettings.wait_cost_per_point``), rounded: at 0.01 a fault without supply loss
    (score under 50) waits unpriced, an ordinary outage costs 1-2 per second, a hospital's 5.
    """
    return min(MAX_WAIT_COST, round(max(0.0, score) * max(0.0, per_point)))


def _windows(order: WorkOrder, context: PlanContext) -> tuple[TimeWindow, ...]:
    """The booked slot as a time window; a slot already over is dropped with a note."""
    if order.appointment_start_at is None or order.appointment_end_at is None:
        return ()
    end_s = seconds_between(order.appointment_end_at, context.now)
    if end_s < 0:
        context.notes.append(
            f"work order #{order.id}: its appointment ended before now; planned "
            "without a window (book a new one)"
        )
        return ()
    start_s = max(0, seconds_between(order.appointment_start_at, context.now))
    return (TimeWindow(start_s, end_s),)


def _order_info(order: WorkOrder, lon: float, lat: float) -> OrderInfo:
    return OrderInfo(
        id=order.id,
        kind=order.kind,
        status=order.status,
        priority=order.priority,
        lon=lon,
        lat=lat,
        crew_id=order.crew_id,
        locked=order.locked,
        route_seq=order.route_seq,
        eta_at=order.eta_at,
        onsite_due_at=order.onsite_due_at,
        repair_s=order.repair_s,
    )


def _routing_crews(
    crews: Sequence[tuple[Crew, CrewInfo]], frozen: Frozen, now: dt.datetime
) -> tuple[RoutingCrew, ...]:
    return tuple(
        RoutingCrew(
            id=info.code,
            start_location=c,
            shift=TimeWindow(
                0, max(0, min(MAX_HORIZON_S, seconds_between(info.shift_end_at, now)))
            ),
            skills=frozenset(crew.skills),
            frozen_job_ids=tuple(job_id for _, job_id in sorted(frozen[crew.id])),
        )
        for c, (crew, info) in enumerate(crews)
    )


def _travel(session: Session, context: PlanContext) -> tuple[np.ndarray, frozenset[int]]:
    """Road travel times between the context's points; straight-line rows flagged."""
    started = time.perf_counter()
    roads = road_network(session=session)
    context.roads_s = time.perf_counter() - started
    context.network = roads.network
    lon, lat = np.array(context.lon), np.array(context.lat)
    started = time.perf_counter()
    if roads.network is None:
        context.notes.append("no roads are stored: every travel time is a straight-line estimate")
        distance_m = haversine_matrix_m(lon, lat) * DETOUR_FACTOR
        travel = np.rint(distance_m / FALLBACK_SPEED_MPS).astype(np.int64)
        context.issues = dict.fromkeys(range(len(lon)), "no road network stored")
        context.matrix_s = time.perf_counter() - started
        return travel, frozenset(range(len(lon)))
    matrix = travel_time_matrix(
        roads.network,
        lon,
        lat,
        fallback_speed_mps=FALLBACK_SPEED_MPS,
        detour_factor=DETOUR_FACTOR,
    )
    context.issues = dict(matrix.issues)
    context.matrix_s = time.perf_counter() - started
    return matrix.travel_s, frozenset(np.flatnonzero(matrix.straight_line).tolist())
