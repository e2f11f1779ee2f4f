"""Planning: open work orders and on-shift crews -> ``routing.solve`` -> a stored proposal.

The routing clock starts at ``now`` (second 0). Crews start where they are (live position,
else the depot) and are available until their shift ends (night shifts wrap past midnight);
routes end at the last visit (no paid return to the depot: at shift end crews hand over).
Visits in progress (``en_route``, ``on_site``) come first on their crew, then the orders a
dispatcher locked to it, in their current order; both are frozen prefixes for the solver.

A proposal records the ``dispatch_state.version`` it was made from; ``apply_plan`` refuses
it (``PlanConflict``, 409) once any assignment changed since, so two dispatchers applying
plans made from the same state cannot overwrite each other.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from dispatch import solve_worker
from dispatch.exceptions import StaleVersion
from dispatch.models import LIVE_STATUSES, WorkOrder
from dispatch.plan_models import DispatchPlan
from dispatch.roads import road_network
from dispatch.service import bump_state, feed_etr, on_shift, state_version
from dispatch.settings import DispatchSettings
from geo.audit import record
from geo.exceptions import InvalidInput, NotFound
from geo.models import Crew
from routing.network import RoadNetwork, leg_geometry, travel_time_matrix
from routing.plan import RoutePlan
from routing.problem import Crew as RoutingCrew
from routing.problem import Job, Location, Problem, TimeWindow, haversine_matrix_m

IN_PROGRESS = ("on_site", "en_route")
MAX_HORIZON_S = 24 * 3600
"""A round-the-clock crew is planned a day ahead; re-plans cover what comes after."""
FALLBACK_SPEED_MPS = 8.0
DETOUR_FACTOR = 1.3
ETA_CHANGE_MIN_S = 60
"""ETA moves smaller than this are not listed in the diff."""


class PlanNotFound(NotFound):
    """No dispatch plan with that id."""


class PlanConflict(StaleVersion):
    """The plan was made from an older dispatch state (or is no longer a proposal): 409.

    The plan is marked as a conflict before this is raised, and that mark is kept.
    """

    keep_changes = True


class NothingToPlan(InvalidInput):
    """No crew is on shift, so there is nobody to plan for."""


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


def _seconds(at: dt.datetime, now: dt.datetime) -> int:
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
    position = func.coalesce(Crew.geom, Crew.depot_geom)
    crew_rows = session.execute(
        select(Crew, func.ST_X(position), func.ST_Y(position)).order_by(Crew.code)
    ).all()
    busy_crews = {order.crew_id for order, _, _ in order_rows if order.status in IN_PROGRESS} - {
        None
    }
    crews: list[tuple[Crew, CrewInfo]] = []
    for crew, lon, lat in crew_rows:
        working = on_shift(crew=crew, now=now, settings=settings)
        if not working and crew.id not in busy_crews:
            continue
        # A crew past its shift with a visit in progress finishes it and takes nothing new.
        end_at = shift_end_at(crew, now, settings) if working else now
        crews.append(
            (
                crew,
                CrewInfo(
                    id=crew.id,
                    code=crew.code,
                    lon=float(lon),
                    lat=float(lat),
                    position="live" if crew.geom is not None else "depot",
                    shift_end_at=end_at,
                    on_shift=working,
                ),
            )
        )
    if not crews:
        msg = (
            f"no crew is on shift at {now.isoformat(timespec='minutes')}: nothing to plan; "
            "check the crews' shifts"
        )
        raise NothingToPlan(msg)
    crew_by_id = {crew.id: (crew, info) for crew, info in crews}
    context = PlanContext(
        now=now,
        version=version,
        timezone=settings.timezone,
        orders={},
        crews={info.code: info for _, info in crews},
        lon=[info.lon for _, info in crews],
        lat=[info.lat for _, info in crews],
    )
    frozen: dict[int, list[tuple[tuple[int, int, int], str]]] = {c.id: [] for c, _ in crews}
    jobs: list[Job] = []
    for order, lon, lat in order_rows:
        info = OrderInfo(
            id=order.id,
            kind=order.kind,
            status=order.status,
            priority=order.priority,
            lon=float(lon),
            lat=float(lat),
            crew_id=order.crew_id,
            locked=order.locked,
            route_seq=order.route_seq,
            eta_at=order.eta_at,
            onsite_due_at=order.onsite_due_at,
            repair_s=order.repair_s,
        )
        pinned = order.crew_id is not None and (order.status in IN_PROGRESS or order.locked)
        if pinned and order.crew_id not in crew_by_id:
            context.excluded.append(
                {
                    "work_order_id": order.id,
                    "priority": order.priority,
                    "reason": "locked to a crew that is off shift; kept as it is",
                }
            )
            continue
        job_id = str(order.id)
        skills = frozenset(order.required_skills)
        service_s = order.repair_s
        if pinned:
            assert order.crew_id is not None
            crew = crew_by_id[order.crew_id][0]
            # The dispatcher's lock stands even if the crew lacks a listed skill.
            skills &= frozenset(crew.skills)
            rank = 0 if order.status == "on_site" else 1 if order.status == "en_route" else 2
            frozen[order.crew_id].append(((rank, order.route_seq or 1 << 30, order.id), job_id))
        if order.status == "on_site" and order.on_site_at is not None:
            service_s = max(0, order.repair_s - _seconds(now, order.on_site_at))
        windows: tuple[TimeWindow, ...] = ()
        if order.appointment_start_at is not None and order.appointment_end_at is not None:
            end_s = _seconds(order.appointment_end_at, now)
            if end_s >= 0:
                start_s = max(0, _seconds(order.appointment_start_at, now))
                windows = (TimeWindow(start_s, end_s),)
            else:
                context.notes.append(
                    f"work order #{order.id}: its appointment ended before now; planned "
                    "without a window (book a new one)"
                )
        deadline_s = (
            None if order.status == "on_site" else max(0, _seconds(order.onsite_due_at, now))
        )
        jobs.append(
            Job(
                id=job_id,
                location=len(context.lon),
                service_s=service_s,
                time_windows=windows,
                priority=order.priority,
                skills=skills,
                sla_deadline_s=deadline_s,
            )
        )
        context.orders[job_id] = info
        context.lon.append(info.lon)
        context.lat.append(info.lat)
    routing_crews = tuple(
        RoutingCrew(
            id=info.code,
            start_location=c,
            shift=TimeWindow(0, max(0, min(MAX_HORIZON_S, _seconds(info.shift_end_at, now)))),
            skills=frozenset(crew.skills),
            frozen_job_ids=tuple(job_id for _, job_id in sorted(frozen[crew.id])),
        )
        for c, (crew, info) in enumerate(crews)
    )
    travel_s, straight = _travel(session, context)
    problem = Problem(
        travel_s=travel_s,
        jobs=tuple(jobs),
        crews=routing_crews,
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


# --- the proposal ---------------------------------------------------------------------------


def _iso(at: dt.datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(timespec="seconds")


def proposal_document(
    problem: Problem,
    plan: RoutePlan,
    context: PlanContext,
    *,
    violations: list[str],
    solve_s: float,
    geometry: bool = True,
) -> dict[str, Any]:
    """The proposal as JSON: routes with ETAs and deadlines, drops with reasons, the diff."""
    zone = ZoneInfo(context.timezone)
    now = context.now

    def at(seconds: int) -> dt.datetime:
        return now + dt.timedelta(seconds=seconds)

    legs: list[tuple[int, int]] = []
    for route in plan.routes:
        previous = problem.crews[problem.crew_index[route.crew_id]].start_location
        for visit in route.visits:
            legs.append((previous, visit.location))
            previous = visit.location
    lines = _leg_lines(context, legs) if geometry else [[] for _ in legs]
    leg_iter = iter(lines)
    routes: list[dict[str, Any]] = []
    proposed: dict[int, tuple[int, dt.datetime]] = {}
    met = missed = 0
    for route in plan.routes:
        crew = context.crews[route.crew_id]
        frozen_ids = problem.crews[problem.crew_index[route.crew_id]].frozen_job_ids
        visits = []
        for seq, visit in enumerate(route.visits, start=1):
            order = context.orders[visit.job_id]
            arrival = at(visit.arrival_s)
            start = at(visit.start_s)
            late_s = max(0, _seconds(start, order.onsite_due_at))
            if order.status != "on_site":
                met, missed = (met + 1, missed) if late_s == 0 else (met, missed + 1)
            frozen = None
            if visit.job_id in frozen_ids:
                frozen = "in_progress" if order.status in IN_PROGRESS else "locked"
            proposed[order.id] = (crew.id, arrival)
            visits.append(
                {
                    "seq": seq,
                    "work_order_id": order.id,
                    "kind": order.kind,
                    "priority": order.priority,
                    "status": order.status,
                    "frozen": frozen,
                    "eta_at": _iso(arrival, zone),
                    "start_at": _iso(start, zone),
                    "end_at": _iso(at(visit.end_s), zone),
                    "travel_s": visit.travel_s,
                    "onsite_due_at": _iso(order.onsite_due_at, zone),
                    "onsite_met": late_s == 0,
                    "onsite_late_s": late_s,
                    "straight_line": visit.straight_line,
                    "geometry": {"type": "LineString", "coordinates": next(leg_iter)},
                }
            )
        routes.append(
            {
                "crew_id": crew.id,
                "crew": crew.code,
                "start": {"lon": crew.lon, "lat": crew.lat, "source": crew.position},
                "on_shift": crew.on_shift,
                "shift_end_at": _iso(crew.shift_end_at, zone),
                "travel_s": route.travel_s,
                "visits": visits,
            }
        )
    dropped = [
        {
            "work_order_id": context.orders[d.job_id].id,
            "priority": d.priority,
            "reason": d.reason,
        }
        for d in plan.dropped
    ]
    straight = [
        {"location": problem.locations[i].id if problem.locations else str(i), "issue": issue}
        for i, issue in sorted(context.issues.items())
    ]
    served = sum(len(r["visits"]) for r in routes)
    return {
        "now": _iso(now, zone),
        "based_on_version": context.version,
        "summary": {
            "orders": len(context.orders),
            "crews": len(context.crews),
            "served": served,
            "dropped": len(dropped),
            "dropped_by_priority": {str(k): v for k, v in plan.dropped_by_priority().items()},
            "onsite_met": met,
            "onsite_missed": missed,
            "travel_s": plan.travel_s,
            "straight_line_points": len(straight),
        },
        "timings_s": {
            "roads": round(context.roads_s, 3),
            "matrix": round(context.matrix_s, 3),
            "build": round(context.build_s, 3),
            "solve": round(solve_s, 3),
        },
        "routes": routes,
        "dropped": dropped,
        "excluded": context.excluded,
        "diff": _diff(context, proposed, zone),
        "straight_line": straight,
        "notes": context.notes,
        "check": violations,
    }


def _leg_lines(context: PlanContext, legs: list[tuple[int, int]]) -> list[list[list[float]]]:
    def rounded(points: list[tuple[float, float]]) -> list[list[float]]:
        return [[round(x, 6), round(y, 6)] for x, y in points]

    if not legs:
        return []
    if context.network is None:
        return [
            rounded([(context.lon[a], context.lat[a]), (context.lon[b], context.lat[b])])
            for a, b in legs
        ]
    lines = leg_geometry(context.network, np.array(context.lon), np.array(context.lat), legs)
    return [rounded(line) for line in lines]


def _diff(
    context: PlanContext, proposed: dict[int, tuple[int, dt.datetime]], zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    codes = {info.id: info.code for info in context.crews.values()}
    moved, assigned, unassigned, eta_changes = [], [], [], []
    for order in context.orders.values():
        before = order.crew_id
        after, eta = proposed.get(order.id, (None, None))
        if before is None and after is not None:
            assigned.append({"work_order_id": order.id, "to_crew": codes[after]})
        elif before is not None and after is None:
            unassigned.append({"work_order_id": order.id, "from_crew": codes.get(before, before)})
        elif before is not None and after is not None and before != after:
            moved.append(
                {
                    "work_order_id": order.id,
                    "from_crew": codes.get(before, before),
                    "to_crew": codes[after],
                }
            )
        elif eta is not None and order.eta_at is not None:
            delta_s = _seconds(eta, order.eta_at)
            if abs(delta_s) >= ETA_CHANGE_MIN_S:
                eta_changes.append(
                    {
                        "work_order_id": order.id,
                        "from": _iso(order.eta_at, zone),
                        "to": _iso(eta, zone),
                        "delta_s": delta_s,
                    }
                )
    return {
        "moved": moved,
        "assigned": assigned,
        "unassigned": unassigned,
        "eta_changes": eta_changes,
    }


def store_proposal(
    *,
    session: Session,
    document: dict[str, Any],
    context: PlanContext,
    solve_s: float,
    actor: str,
) -> DispatchPlan:
    """Save a proposal; its id is written into the document too."""
    plan = DispatchPlan(
        created_at=context.now,
        created_by=actor,
        based_on_version=context.version,
        status="proposed",
        solve_s=solve_s,
        proposal=document,
    )
    session.add(plan)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="dispatch_plan.proposed",
        object_type="dispatch_plan",
        object_id=plan.id,
        detail={"based_on_version": context.version, **document["summary"]},
        at=context.now,
    )
    session.flush()
    return plan


def finish_proposal(
    *,
    session: Session,
    problem: Problem,
    context: PlanContext,
    result: solve_worker.SolveResult,
    solve_s: float,
    actor: str,
) -> DispatchPlan:
    """Turn a solved plan into the stored proposal (document building plus the insert)."""
    document = proposal_document(
        problem, result.plan, context, violations=result.violations, solve_s=solve_s
    )
    return store_proposal(
        session=session, document=document, context=context, solve_s=solve_s, actor=actor
    )


def propose(
    *,
    session: Session,
    now: dt.datetime,
    settings: DispatchSettings,
    time_limit_s: float,
    actor: str,
    seed: int = 0,
) -> DispatchPlan:
    """Build the problem, solve it in the worker process (blocking this thread), store it.

    The web route runs the same three steps itself so it can await the worker.
    """
    problem, context = build_problem(session=session, now=now, settings=settings)
    started = time.perf_counter()
    result = solve_worker.submit(problem, time_limit_s=time_limit_s, seed=seed).result()
    solve_s = time.perf_counter() - started
    return finish_proposal(
        session=session,
        problem=problem,
        context=context,
        result=result,
        solve_s=solve_s,
        actor=actor,
    )


def get_plan(*, session: Session, plan_id: int, for_update: bool = False) -> DispatchPlan:
    query = select(DispatchPlan).where(DispatchPlan.id == plan_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    plan = session.scalar(query)
    if plan is None:
        msg = f"no dispatch plan #{plan_id}"
        raise PlanNotFound(msg)
    return plan


def plan_read(plan: DispatchPlan) -> dict[str, Any]:
    """The stored proposal with its id and status, as the API answers it."""
    return {
        **plan.proposal,
        "id": plan.id,
        "status": plan.status,
        "created_at": plan.created_at.isoformat(timespec="seconds"),
        "created_by": plan.created_by,
        "based_on_version": plan.based_on_version,
        "solve_s": plan.solve_s,
        "applied_at": plan.applied_at.isoformat(timespec="seconds") if plan.applied_at else None,
        "applied_by": plan.applied_by,
    }


# --- applying -------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    plan_id: int
    version: int
    changed: list[int] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def apply_plan(
    *, session: Session, plan_id: int, settings: DispatchSettings, now: dt.datetime, actor: str
) -> ApplyResult:
    """Make a proposal the current plan: crews, route order and ETAs of its orders.

    Raises ``PlanConflict`` (409) when the dispatch version moved since the plan was made,
    or the plan is not a proposal any more; the plan is then marked ``conflict`` (the caller
    may commit that before answering). Orders that reached a later step meanwhile (a crew
    went en route or on site, the order was restored or cancelled) keep what they have and
    are listed as skipped. Dropped orders that had an unlocked crew are unassigned.
    """
    current = int(
        session.execute(
            text("SELECT version FROM dispatch_state WHERE id = 1 FOR UPDATE")
        ).scalar_one()
    )
    plan = get_plan(session=session, plan_id=plan_id, for_update=True)
    if plan.status == "applied":
        msg = f"dispatch plan #{plan.id} is already applied: nothing to do"
        raise PlanConflict(msg, current)
    if plan.based_on_version != current:
        plan.status = "conflict"
        session.flush()
        msg = (
            f"dispatch plan #{plan.id} was made from version {plan.based_on_version}, but "
            f"assignments changed since (now version {current}): re-plan and apply the new plan"
        )
        raise PlanConflict(msg, current)
    targets: dict[int, tuple[int, int, dt.datetime]] = {}
    for route in plan.proposal["routes"]:
        for visit in route["visits"]:
            targets[visit["work_order_id"]] = (
                route["crew_id"],
                visit["seq"],
                dt.datetime.fromisoformat(visit["eta_at"]),
            )
    dropped_ids = {d["work_order_id"] for d in plan.proposal["dropped"]}
    ids = sorted(targets.keys() | dropped_ids)
    orders = {
        o.id: o
        for o in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids)).with_for_update())
    }
    result = ApplyResult(plan_id=plan.id, version=current)
    for order_id in ids:
        order = orders.get(order_id)
        if order is None or order.status not in LIVE_STATUSES:
            result.skipped.append({"work_order_id": order_id, "reason": "no longer open"})
            continue
        target = targets.get(order_id)
        if target is None:
            if order.crew_id is None or order.locked or order.status in IN_PROGRESS:
                continue
            had = order.crew_id
            order.crew_id, order.route_seq, order.eta_at, order.status = None, None, None, "new"
            _touch_and_audit(session, order, actor, now, plan.id, crew_from=had, crew_to=None)
            result.unassigned.append(order_id)
            continue
        crew_id, seq, eta = target
        if order.status in IN_PROGRESS and order.crew_id != crew_id:
            result.skipped.append(
                {"work_order_id": order_id, "reason": f"{order.status} with another crew"}
            )
            continue
        if (order.crew_id, order.route_seq, order.eta_at) == (crew_id, seq, eta):
            continue
        previous = order.crew_id
        if order.crew_id != crew_id:
            order.crew_id = crew_id
            if order.status in ("new", "dispatched"):
                # A different crew has not been sent yet: the order is planned for it.
                order.status = "planned"
        elif order.status == "new":
            order.status = "planned"
        order.route_seq, order.eta_at = seq, eta
        _touch_and_audit(session, order, actor, now, plan.id, crew_from=previous, crew_to=crew_id)
        crew = session.get(Crew, crew_id)
        if crew is not None:
            feed_etr(session, order, crew, eta, settings=settings, now=now, actor=actor)
        result.changed.append(order_id)
    result.version = bump_state(session, now)
    plan.status, plan.applied_at, plan.applied_by = "applied", now, actor
    session.execute(
        update(DispatchPlan)
        .where(DispatchPlan.status == "proposed", DispatchPlan.id != plan.id)
        .values(status="superseded")
    )
    record(
        session=session,
        actor=actor,
        action="dispatch_plan.applied",
        object_type="dispatch_plan",
        object_id=plan.id,
        detail={
            "version": result.version,
            "changed": result.changed,
            "unassigned": result.unassigned,
            "skipped": result.skipped,
        },
        at=now,
    )
    session.flush()
    return result


def _touch_and_audit(
    session: Session,
    order: WorkOrder,
    actor: str,
    now: dt.datetime,
    plan_id: int,
    *,
    crew_from: int | None,
    crew_to: int | None,
) -> None:
    order.version += 1
    order.updated_at = now
    record(
        session=session,
        actor=actor,
        action="work_order.planned",
        object_type="work_order",
        object_id=order.id,
        detail={
            "plan_id": plan_id,
            "from_crew_id": crew_from,
            "to_crew_id": crew_to,
            "status": order.status,
            "route_seq": order.route_seq,
            "eta_at": order.eta_at.isoformat() if order.eta_at else None,
        },
        at=now,
    )


# --- the current plan -----------------------------------------------------------------------


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
    lon: list[float] = []
    lat: list[float] = []
    legs: list[tuple[int, int]] = []
    by_crew: dict[int, list[tuple[WorkOrder, int]]] = {}
    start_row: dict[int, int] = {}
    for crew, x, y in crews:
        start_row[crew.id] = len(lon)
        lon.append(float(x))
        lat.append(float(y))
    unassigned_p1: list[int] = []
    for order, x, y in rows:
        if order.crew_id is None:
            if order.priority == 1:
                unassigned_p1.append(order.id)
            continue
        by_crew.setdefault(order.crew_id, []).append((order, len(lon)))
        lon.append(float(x))
        lat.append(float(y))
    for crew, _, _ in crews:
        previous = start_row[crew.id]
        for _, row in by_crew.get(crew.id, []):
            legs.append((previous, row))
            previous = row
    roads = road_network(session=session)
    context = PlanContext(
        now=now,
        version=0,
        timezone=settings.timezone,
        orders={},
        crews={},
        lon=lon,
        lat=lat,
        network=roads.network,
    )
    lines = iter(_leg_lines(context, legs))
    answer = []
    for crew, x, y in crews:
        visits = [
            {
                "seq": order.route_seq,
                "work_order_id": order.id,
                "priority": order.priority,
                "status": order.status,
                "locked": order.locked,
                "eta_at": _iso(order.eta_at, zone) if order.eta_at else None,
                "onsite_due_at": _iso(order.onsite_due_at, zone),
                "onsite_met": None if order.eta_at is None else order.eta_at <= order.onsite_due_at,
                "geometry": {"type": "LineString", "coordinates": next(lines)},
            }
            for order, _ in by_crew.get(crew.id, [])
        ]
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
    latest = session.scalar(
        select(DispatchPlan.id)
        .where(DispatchPlan.status == "applied")
        .order_by(DispatchPlan.applied_at.desc(), DispatchPlan.id.desc())
        .limit(1)
    )
    return {
        "now": _iso(now, zone),
        "version": state_version(session=session),
        "plan_id": latest,
        "routes": answer,
        "unassigned_priority_1": unassigned_p1,
        "replan_suggested": bool(unassigned_p1),
    }
