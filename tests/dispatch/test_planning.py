"""Planning on the demo city: problems from orders and crews, proposals, apply and its 409.

At ``NOW`` (20:00 in Helsinki) the night crews CREW-05 and CREW-06 and the round-the-clock
CREW-07 and CREW-08 are on shift; the day crews are not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch import solve_worker
from dispatch.current import current_routes
from dispatch.exceptions import NothingToPlan, PlanConflict
from dispatch.lifecycle import assign, transition
from dispatch.models import Crew, DispatchPlan, WorkOrder
from dispatch.planning import propose
from dispatch.problem import build_problem
from dispatch.proposals import apply_plan, proposal_document
from dispatch.state import state_version
from geo.models import Device, Event, Feeder
from outages.models import EtrChange, Outage
from routing.check import check_plan
from routing.problem import Problem
from tests.dispatch.helpers import NOW, crew, order_of, outage_on, sync
from web.settings import Settings

TIME_LIMIT_S = 1.0
ON_SHIFT = {"CREW-05", "CREW-06", "CREW-07", "CREW-08"}


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


def make_orders(session: Session, settings: Settings, n: int = 6) -> list[WorkOrder]:
    """Outage orders on fuses of ``n`` different feeders (skill ``line``), synced."""
    fuses = session.execute(
        select(Device.code, Device.feeder_id)
        .join(Feeder, Feeder.id == Device.feeder_id)
        .where(Device.kind == "fuse")
        .order_by(Device.feeder_id, Device.id)
    ).all()
    codes: dict[int, str] = {}
    for code, feeder_id in fuses:
        codes.setdefault(feeder_id, code)
    assert len(codes) >= n, f"the demo grid has fuses on {len(codes)} feeders only"
    outages = []
    for code in list(codes.values())[:n]:
        device = session.scalar(select(Device).where(Device.code == code))
        assert device is not None
        outages.append(outage_on(session, settings, device))
    sync(session, settings)
    return [order_of(session, outage.id) for outage in outages]


def _audited(problem: Problem, plan_row: DispatchPlan) -> None:
    assert plan_row.proposal["check"] == []


def test_problem_from_orders_and_on_shift_crews(db_session: Session, settings: Settings) -> None:
    orders = make_orders(db_session, settings)
    problem, context = build_problem(session=db_session, now=NOW, settings=settings)
    assert {c.id for c in problem.crews} == ON_SHIFT
    assert {j.id for j in problem.jobs} == {str(o.id) for o in orders}
    assert context.version == state_version(session=db_session)
    night = problem.crews[problem.crew_index["CREW-05"]]
    # 20:00 local to 07:00 tomorrow: 11 hours.
    assert night.shift.end_s == 11 * 3600
    for job in problem.jobs:
        order = next(o for o in orders if str(o.id) == job.id)
        assert job.priority == order.priority
        assert job.service_s == order.repair_s
        assert job.sla_deadline_s == int((order.onsite_due_at - NOW).total_seconds())
        assert job.skills == frozenset(order.required_skills)
    assert problem.travel_s.shape == (len(problem.crews) + len(orders),) * 2
    # Real road times on the demo city: nothing falls back to straight lines.
    assert not problem.straight_line_locations
    assert problem.travel_s[0].max() > 0


def test_roads_are_cached_per_database(db_session: Session) -> None:
    from dispatch.roads import road_network

    first = road_network(session=db_session)
    assert first.network is not None
    assert road_network(session=db_session) is first


def test_proposal_passes_the_checker_and_etas_increase(
    db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings)
    plan = propose(
        session=db_session, now=NOW, settings=settings, time_limit_s=TIME_LIMIT_S, actor="d"
    )
    doc = plan.proposal
    assert doc["check"] == []
    assert plan.based_on_version == state_version(session=db_session)
    assert doc["summary"]["served"] + doc["summary"]["dropped"] == len(orders)
    assert doc["summary"]["served"] == len(orders)
    assert {d["work_order_id"] for d in doc["diff"]["assigned"]} == {o.id for o in orders}
    for route in doc["routes"]:
        etas = [dt.datetime.fromisoformat(v["eta_at"]) for v in route["visits"]]
        assert all(eta >= NOW for eta in etas)
        assert etas == sorted(etas)
        assert len(set(etas)) == len(etas)
        for visit in route["visits"]:
            coordinates = visit["geometry"]["coordinates"]
            assert len(coordinates) >= 2
            assert all(24.0 < lon < 26.0 and 59.0 < lat < 61.0 for lon, lat in coordinates)
            assert visit["onsite_met"] == (visit["onsite_late_s"] == 0)
            assert dt.datetime.fromisoformat(visit["eta_at"]).utcoffset() is not None
    assert db_session.scalar(
        select(Event.id).where(
            Event.object_type == "dispatch_plan", Event.object_id == str(plan.id)
        )
    )


def test_skills_are_respected(db_session: Session, settings: Settings) -> None:
    orders = make_orders(db_session, settings, n=4)
    for order in orders[:2]:
        order.required_skills = ["cable"]  # only CREW-06 and CREW-08 of the night
    db_session.flush()
    problem, context = build_problem(session=db_session, now=NOW, settings=settings)
    from dispatch.solve_worker import solve_and_check

    result = solve_and_check(problem, TIME_LIMIT_S, 0)
    assert result.violations == []
    doc = proposal_document(
        problem, result.plan, context, violations=[], solve_s=0.0, geometry=False
    )
    crews_of = {v["work_order_id"]: r["crew"] for r in doc["routes"] for v in r["visits"]}
    for order in orders[:2]:
        assert crews_of[order.id] in {"CREW-06", "CREW-08"}


def test_priority_1_is_served_first_when_capacity_is_short(
    db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings, n=5)
    # One crew left on shift with two hours; each job takes 90 minutes.
    db_session.execute(
        update(Crew)
        .where(Crew.code != "CREW-07")
        .values(shift_start=dt.time(6, 0), shift_end=dt.time(7, 0))
    )
    db_session.execute(update(Crew).where(Crew.code == "CREW-07").values(shift_end=dt.time(22, 0)))
    for order in orders:
        order.repair_s = 90 * 60
        order.required_skills = []
        order.priority = 3
    urgent = orders[-1]
    urgent.priority = 1
    db_session.flush()
    plan = propose(
        session=db_session, now=NOW, settings=settings, time_limit_s=TIME_LIMIT_S, actor="d"
    )
    doc = plan.proposal
    assert doc["check"] == []
    (route,) = doc["routes"]
    assert [v["work_order_id"] for v in route["visits"]] == [urgent.id]
    assert {d["work_order_id"] for d in doc["dropped"]} == {o.id for o in orders[:-1]}
    assert all(d["reason"] for d in doc["dropped"])
    assert doc["summary"]["dropped_by_priority"]["1"] == 0


def test_in_progress_and_pinned_orders_stay_first_locked_ones_keep_their_crew(
    db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings)
    line_crew = crew(db_session, "CREW-05")
    other = crew(db_session, "CREW-08")
    kw = {"session": db_session, "actor": "d", "now": NOW, "settings": settings}
    assign(order=orders[0], crew=line_crew, lock=False, **kw)  # type: ignore[arg-type]
    transition(order=orders[0], to="en_route", **kw)  # type: ignore[arg-type]
    assign(order=orders[1], crew=line_crew, lock=True, position=2, **kw)  # type: ignore[arg-type]
    assign(order=orders[2], crew=other, lock=True, **kw)  # type: ignore[arg-type]
    problem, _ = build_problem(session=db_session, now=NOW, settings=settings)
    assert problem.crews[problem.crew_index["CREW-05"]].frozen_job_ids == (
        str(orders[0].id),
        str(orders[1].id),
    )
    # Locked without a pin: the crew is kept, the place in its route is the solver's.
    assert problem.crews[problem.crew_index["CREW-08"]].frozen_job_ids == ()
    assert problem.jobs[problem.job_index[str(orders[2].id)]].crews == {"CREW-08"}
    plan = propose(
        session=db_session, now=NOW, settings=settings, time_limit_s=TIME_LIMIT_S, actor="d"
    )
    doc = plan.proposal
    assert doc["check"] == []
    routes = {r["crew"]: r["visits"] for r in doc["routes"]}
    assert [v["work_order_id"] for v in routes["CREW-05"][:2]] == [orders[0].id, orders[1].id]
    assert routes["CREW-05"][0]["frozen"] == "in_progress"
    assert routes["CREW-05"][1]["frozen"] == "locked"
    assert orders[2].id in [v["work_order_id"] for v in routes["CREW-08"]]


def test_apply_makes_it_current_and_a_second_plan_of_the_same_state_is_409(
    db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings, n=4)
    kw = {"session": db_session, "now": NOW, "settings": settings, "actor": "d"}
    first = propose(time_limit_s=0.5, **kw)  # type: ignore[arg-type]
    second = propose(time_limit_s=0.5, **kw)  # type: ignore[arg-type]
    assert first.based_on_version == second.based_on_version
    before = state_version(session=db_session)
    result = apply_plan(session=db_session, settings=settings, plan_id=first.id, now=NOW, actor="d")
    assert result.version == before + 1
    assert sorted(result.changed) == sorted(o.id for o in orders)
    served = {
        v["work_order_id"]: (r["crew_id"], v) for r in first.proposal["routes"] for v in r["visits"]
    }
    for order in orders:
        db_session.refresh(order)
        crew_id, visit = served[order.id]
        assert order.crew_id == crew_id
        assert order.status == "planned"
        assert order.route_seq == visit["seq"]
        assert order.eta_at == dt.datetime.fromisoformat(visit["eta_at"])
        # Customers are never told an ETR the crew cannot make: the plan moves it later when
        # arrival plus repair is later than the ETR they were told, never earlier.
        outage = db_session.get(Outage, order.outage_id)
        assert outage is not None and outage.etr_at is not None
        assert order.eta_at is not None
        assert outage.etr_at >= order.eta_at + dt.timedelta(seconds=order.repair_s)
        earlier = db_session.scalars(
            select(EtrChange).where(
                EtrChange.outage_id == order.outage_id,
                EtrChange.source == "dispatch",
                EtrChange.etr_at < EtrChange.previous_etr_at,
            )
        ).all()
        assert earlier == [], "an applied plan brought an ETR forward"
    db_session.refresh(second)
    assert second.status == "superseded"
    with pytest.raises(PlanConflict, match="re-plan"):
        apply_plan(session=db_session, settings=settings, plan_id=second.id, now=NOW, actor="d")
    current = current_routes(session=db_session, now=NOW, settings=settings)
    assert current["plan_id"] == first.id
    listed = {v["work_order_id"] for r in current["routes"] for v in r["visits"]}
    assert listed == {o.id for o in orders}


def test_apply_refuses_a_plan_older_than_a_manual_assignment(
    db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings, n=3)
    plan = propose(session=db_session, now=NOW, settings=settings, time_limit_s=0.5, actor="d")
    assign(
        session=db_session,
        order=orders[0],
        crew=crew(db_session, "CREW-08"),
        lock=True,
        actor="other",
        now=NOW,
        settings=settings,
    )
    with pytest.raises(PlanConflict) as caught:
        apply_plan(session=db_session, settings=settings, plan_id=plan.id, now=NOW, actor="d")
    assert caught.value.current_version == state_version(session=db_session)
    assert plan.status == "conflict"


def test_no_crew_on_shift_is_a_clear_error(db_session: Session, settings: Settings) -> None:
    db_session.execute(update(Crew).values(shift_start=dt.time(6, 0), shift_end=dt.time(7, 0)))
    with pytest.raises(NothingToPlan, match="no crew is on shift"):
        build_problem(session=db_session, now=NOW, settings=settings)


def test_checker_agrees_with_the_solver_on_the_built_problem(
    db_session: Session, settings: Settings
) -> None:
    make_orders(db_session, settings)
    problem, _ = build_problem(session=db_session, now=NOW, settings=settings)
    result = solve_worker.submit(problem, time_limit_s=0.5).result()
    assert check_plan(problem, result.plan) == result.violations == []
