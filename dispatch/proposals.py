"""Plan proposals: the document a solved plan becomes, its storage, and applying it.

A proposal records the ``dispatch_state.version`` it was made from; ``apply_plan`` refuses
it (``PlanConflict``, 409) once any assignment changed since, so two dispatchers applying
plans made from the same state cannot overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from dispatch.exceptions import PlanConflict, PlanNotFound
from dispatch.flows import feed_etr
from dispatch.models import LIVE_STATUSES, Crew, DispatchPlan, WorkOrder
from dispatch.problem import IN_PROGRESS, PlanContext, seconds_between
from dispatch.schemas import PlanRead
from dispatch.settings import DispatchSettings
from dispatch.state import audit, bump_state, touch
from geo.audit import record
from routing.network import leg_geometry
from routing.plan import Route, RoutePlan
from routing.problem import Problem

ETA_CHANGE_MIN_S = 60
"""ETA moves smaller than this are not listed in the diff."""


def iso(at: dt.datetime, zone: ZoneInfo) -> str:
    """A time as plan documents carry it: local to the territory, to the second."""
    return at.astimezone(zone).isoformat(timespec="seconds")


@dataclass
class _Tally:
    """What the routes of a proposal add up to while their visits are written."""

    met: int = 0
    missed: int = 0
    proposed: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)
    """Order id -> (crew id, arrival), for the diff."""


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
    legs: list[tuple[int, int]] = []
    for route in plan.routes:
        previous = problem.crews[problem.crew_index[route.crew_id]].start_location
        for visit in route.visits:
            legs.append((previous, visit.location))
            previous = visit.location
    lines = iter(leg_lines(context, legs) if geometry else [[] for _ in legs])
    tally = _Tally()
    routes = [_route(problem, route, context, lines, tally, zone) for route in plan.routes]
    dropped = [
        {
            "work_order_id": context.orders[d.job_id].id,
            "priority": d.priority,
            "reason": d.reason + _off_shift_note(problem, context, d.job_id),
        }
        for d in plan.dropped
    ]
    straight = [
        {"location": problem.locations[i].id if problem.locations else str(i), "issue": issue}
        for i, issue in sorted(context.issues.items())
    ]
    return {
        "now": iso(context.now, zone),
        "based_on_version": context.version,
        "summary": {
            "orders": len(context.orders),
            "crews": len(context.crews),
            "served": sum(len(r["visits"]) for r in routes),
            "dropped": len(dropped),
            "dropped_by_priority": {str(k): v for k, v in plan.dropped_by_priority().items()},
            "onsite_met": tally.met,
            "onsite_missed": tally.missed,
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
        "diff": _diff(context, tally.proposed, zone),
        "straight_line": straight,
        "notes": context.notes,
        "check": violations,
    }


def _off_shift_note(problem: Problem, context: PlanContext, job_id: str) -> str:
    """Who else has the skills but is off shift, and from when: what a dispatcher could call in."""
    needed = problem.jobs[problem.job_index[job_id]].skills
    names = [
        f"{code} (from {start.strftime('%H:%M')})"
        for code, skills, start in context.off_shift
        if needed <= skills
    ]
    return f"; off shift with the skills: {', '.join(names)}" if names else ""


def _route(
    problem: Problem,
    route: Route,
    context: PlanContext,
    lines: Iterator[list[list[float]]],
    tally: _Tally,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """One crew's route: its start, shift end and visits with ETAs, deadlines and legs."""
    crew = context.crews[route.crew_id]
    frozen_ids = problem.crews[problem.crew_index[route.crew_id]].frozen_job_ids
    visits = []
    for seq, visit in enumerate(route.visits, start=1):
        order = context.orders[visit.job_id]
        arrival = context.now + dt.timedelta(seconds=visit.arrival_s)
        start = context.now + dt.timedelta(seconds=visit.start_s)
        late_s = max(0, seconds_between(start, order.onsite_due_at))
        if order.status != "on_site":
            if late_s == 0:
                tally.met += 1
            else:
                tally.missed += 1
        frozen = None
        if visit.job_id in frozen_ids:
            frozen = "in_progress" if order.status in IN_PROGRESS else "locked"
        tally.proposed[order.id] = (crew.id, arrival)
        visits.append(
            {
                "seq": seq,
                "work_order_id": order.id,
                "kind": order.kind,
                "priority": order.priority,
                "status": order.status,
                "frozen": frozen,
                "eta_at": iso(arrival, zone),
                "start_at": iso(start, zone),
                "end_at": iso(context.now + dt.timedelta(seconds=visit.end_s), zone),
                "travel_s": visit.travel_s,
                "onsite_due_at": iso(order.onsite_due_at, zone),
                "onsite_met": late_s == 0,
                "onsite_late_s": late_s,
                "straight_line": visit.straight_line,
                "geometry": {"type": "LineString", "coordinates": next(lines)},
            }
        )
    return {
        "crew_id": crew.id,
        "crew": crew.code,
        "start": {"lon": crew.lon, "lat": crew.lat, "source": crew.position},
        "on_shift": crew.on_shift,
        "shift_end_at": iso(crew.shift_end_at, zone),
        "travel_s": route.travel_s,
        "visits": visits,
    }


def leg_lines(context: PlanContext, legs: list[tuple[int, int]]) -> list[list[list[float]]]:
    """Each leg (rows of the context's points) as lon/lat coordinates along the roads."""

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
            delta_s = seconds_between(eta, order.eta_at)
            if abs(delta_s) >= ETA_CHANGE_MIN_S:
                eta_changes.append(
                    {
                        "work_order_id": order.id,
                        "from": iso(order.eta_at, zone),
                        "to": iso(eta, zone),
                        "delta_s": delta_s,
                    }
                )
    return {
        "moved": moved,
        "assigned": assigned,
        "unassigned": unassigned,
        "eta_changes": eta_changes,
    }


# --- storing and reading ------------------------------------------------------------------


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


def get_plan(*, session: Session, plan_id: int, for_update: bool = False) -> DispatchPlan:
    query = select(DispatchPlan).where(DispatchPlan.id == plan_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    plan = session.scalar(query)
    if plan is None:
        msg = f"no dispatch plan #{plan_id}"
        raise PlanNotFound(msg)
    return plan


def plan_read(plan: DispatchPlan) -> PlanRead:
    """The stored proposal with its id and status, as the API answers it."""
    return PlanRead.model_validate(
        {
            **plan.proposal,
            "id": plan.id,
            "status": plan.status,
            "created_at": plan.created_at.isoformat(timespec="seconds"),
            "created_by": plan.created_by,
            "based_on_version": plan.based_on_version,
            "solve_s": plan.solve_s,
            "applied_at": plan.applied_at.isoformat(timespec="seconds")
            if plan.applied_at
            else None,
            "applied_by": plan.applied_by,
        }
    )


# --- applying -------------------------------------------------------------------------------


@dataclass
class ApplyResult:
    plan_id: int
    version: int
    changed: list[int] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


Target = tuple[int, int, dt.datetime]
"""Where a plan puts an order: crew id, route position, ETA."""


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
    _check_current(session, plan, current)
    targets: dict[int, Target] = {}
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
        _apply_to(session, order, targets.get(order_id), plan, result, settings, now, actor)
    result.version = bump_state(session=session, now=now)
    _mark_applied(session, plan, result, now=now, actor=actor)
    return result


def _check_current(session: Session, plan: DispatchPlan, current: int) -> None:
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


def _apply_to(
    session: Session,
    order: WorkOrder,
    target: Target | None,
    plan: DispatchPlan,
    result: ApplyResult,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """One live order takes its place in the plan (or, dropped, loses an unlocked crew)."""
    if target is None:
        if order.crew_id is None or order.locked or order.status in IN_PROGRESS:
            return
        had = order.crew_id
        order.crew_id, order.route_seq, order.eta_at, order.status = None, None, None, "new"
        _touch_and_audit(session, order, actor, now, plan.id, crew_from=had, crew_to=None)
        result.unassigned.append(order.id)
        return
    crew_id, seq, eta = target
    if order.status in IN_PROGRESS and order.crew_id != crew_id:
        result.skipped.append(
            {"work_order_id": order.id, "reason": f"{order.status} with another crew"}
        )
        return
    if (order.crew_id, order.route_seq, order.eta_at) == (crew_id, seq, eta):
        return
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
        feed_etr(
            session=session,
            order=order,
            crew=crew,
            arrival=eta,
            source="plan",
            settings=settings,
            now=now,
            actor=actor,
        )
    result.changed.append(order.id)


def _mark_applied(
    session: Session, plan: DispatchPlan, result: ApplyResult, *, now: dt.datetime, actor: str
) -> None:
    """The plan is current; every other open proposal is superseded."""
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
    touch(order, now)
    audit(
        session,
        order,
        "planned",
        actor,
        now,
        plan_id=plan_id,
        from_crew_id=crew_from,
        to_crew_id=crew_to,
        status=order.status,
        route_seq=order.route_seq,
        eta_at=order.eta_at.isoformat() if order.eta_at else None,
    )
