"""The solver on instances whose answer is known, and every plan audited by check_plan."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from routing.check import check_plan
from routing.model import SearchSettings, long_route_settings, routes_lower_bound
from routing.problem import Crew, Job, Problem, TimeWindow
from routing.schedule import schedule_route
from routing.solver import solve


def line_matrix(positions_s: list[int]) -> np.ndarray:
    """Travel times between points on a line: |a - b| seconds."""
    p = np.array(positions_s)
    return np.abs(p[:, None] - p[None, :])


def brute_force_cost(problem: Problem) -> int:
    """Cheapest feasible order of all jobs on the single crew, by enumeration."""
    best = None
    for order in itertools.permutations(range(len(problem.jobs))):
        route = schedule_route(problem, 0, order)
        if route is not None and (best is None or route.cost < best):
            best = route.cost
    assert best is not None
    return best


def test_tiny_instance_reaches_the_known_optimum() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 1000, (7, 2))
    travel = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    jobs = tuple(
        Job(f"j{i}", i, service_s=30, time_windows=(TimeWindow(0, 2000 + 400 * i),))
        for i in range(1, 7)
    )
    problem = Problem(travel_s=travel, jobs=jobs, crews=(Crew("c", 0, TimeWindow(0, 9000), 0),))
    plan = solve(problem, time_limit_s=1.0)
    assert check_plan(problem, plan) == []
    assert not plan.dropped
    assert plan.cost == brute_force_cost(problem)


def test_two_crews_split_a_line_at_the_depot() -> None:
    # Jobs at -300, -100, 200, 400 s from a depot in the middle: the optimum sends one crew
    # each way, 2 * 300 + 2 * 400 = 1400 s of driving.
    travel = line_matrix([0, -300, -100, 200, 400])
    jobs = tuple(Job(f"j{i}", i) for i in range(1, 5))
    crews = tuple(Crew(f"c{k}", 0, TimeWindow(0, 1000), end_location=0) for k in range(2))
    plan = solve(Problem(travel_s=travel, jobs=jobs, crews=crews), time_limit_s=0.5)
    assert plan.cost == 1400
    assert sorted(sorted(r.job_ids) for r in plan.routes) == [["j1", "j2"], ["j3", "j4"]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plans_respect_windows_skills_shifts_capacity_and_frozen_prefixes(
    random_problem, seed: int
) -> None:
    problem = random_problem(seed)
    plan = solve(problem, time_limit_s=1.0, seed=seed)
    assert check_plan(problem, plan) == []
    assert plan.routes[2].job_ids[:2] == ["j5", "j2"]
    served = {v.job_id for r in plan.routes for v in r.visits}
    assert len(served) >= 20
    for route in plan.routes:
        crew = problem.crews[problem.crew_index[route.crew_id]]
        for visit in route.visits:
            job = problem.jobs[problem.job_index[visit.job_id]]
            assert job.skills <= crew.skills
    assert plan.solve_time_s < 1.5


def test_an_urgent_job_is_never_dropped_for_a_less_urgent_one() -> None:
    # One crew, 10 minutes of shift: either the near low-priority job or the far critical
    # one fits, not both. The critical one must be served, whatever the driving cost.
    travel = line_matrix([0, 60, -200])
    for low_first in (True, False):
        jobs = [
            Job("low", 1, service_s=300, priority=4),
            Job("critical", 2, service_s=300, priority=1),
        ]
        if not low_first:
            jobs.reverse()
        problem = Problem(
            travel_s=travel, jobs=tuple(jobs), crews=(Crew("c", 0, TimeWindow(0, 600)),)
        )
        plan = solve(problem, time_limit_s=0.5)
        assert check_plan(problem, plan) == []
        assert plan.routes[0].job_ids == ["critical"]
        assert [d.job_id for d in plan.dropped] == ["low"]
        assert "not enough crew time" in plan.dropped[0].reason


def test_many_low_priority_jobs_do_not_outweigh_one_urgent_job() -> None:
    # Five cheap priority-3 jobs next door or one far priority-2 job: lexicographic urgency
    # takes the single urgent job.
    travel = line_matrix([0, 10, 11, 12, 13, 14, 500])
    jobs = (
        *(Job(f"low{i}", i, service_s=100, priority=3) for i in range(1, 6)),
        Job("urgent", 6, service_s=100, priority=2),
    )
    problem = Problem(travel_s=travel, jobs=jobs, crews=(Crew("c", 0, TimeWindow(0, 620)),))
    plan = solve(problem, time_limit_s=0.5)
    assert check_plan(problem, plan) == []
    assert "urgent" in plan.routes[0].job_ids


def test_infeasible_jobs_are_dropped_with_the_reason() -> None:
    travel = line_matrix([0, 100, 200, 300])
    jobs = (
        Job("needs-cable", 1, skills=frozenset({"cable"})),
        Job("too-early", 2, time_windows=(TimeWindow(0, 50),)),
        Job("too-heavy", 3, demand=9),
        Job("fine", 1, demand=1),
    )
    crews = (Crew("c", 0, TimeWindow(0, 3600), capacity=5),)
    problem = Problem(travel_s=travel, jobs=jobs, crews=crews)
    plan = solve(problem, time_limit_s=0.5)
    assert check_plan(problem, plan) == []
    assert plan.routes[0].job_ids == ["fine"]
    reasons = {d.job_id: d.reason for d in plan.dropped}
    assert "no crew has the skills ['cable']" in reasons["needs-cable"]
    assert "within its time windows" in reasons["too-early"]
    assert "exceeds the capacity" in reasons["too-heavy"]


def test_frozen_prefix_stays_first_in_order_even_when_late() -> None:
    travel = line_matrix([0, 500, 100, 50])
    jobs = (
        Job("locked-far", 1, time_windows=(TimeWindow(0, 10),)),  # cannot be met: kept anyway
        Job("near", 2),
        Job("nearest", 3),
    )
    crews = (
        Crew("a", 0, TimeWindow(0, 5000), frozen_job_ids=("near", "locked-far")),
        Crew("b", 0, TimeWindow(0, 5000)),
    )
    problem = Problem(travel_s=travel, jobs=jobs, crews=crews)
    plan = solve(problem, time_limit_s=0.5)
    assert check_plan(problem, plan) == []
    assert plan.routes[0].job_ids[:2] == ["near", "locked-far"]
    assert plan.routes[0].visits[1].start_s == 100 + 400


def test_multiple_windows_use_the_later_one_when_the_first_is_missed() -> None:
    travel = line_matrix([0, 1000])
    job = Job("two-slots", 1, time_windows=(TimeWindow(0, 500), TimeWindow(2000, 2500)))
    problem = Problem(travel_s=travel, jobs=(job,), crews=(Crew("c", 0, TimeWindow(0, 9000)),))
    plan = solve(problem, time_limit_s=0.5)
    visit = plan.routes[0].visits[0]
    assert (visit.arrival_s, visit.start_s) == (1000, 2000)
    assert check_plan(problem, plan) == []


def test_sla_deadline_sends_the_critical_job_first() -> None:
    # Symmetric line: either order drives 300 s, only lateness tells them apart.
    travel = line_matrix([0, 100, -100])
    jobs = (
        Job("routine", 1, priority=4, sla_deadline_s=10_000),
        Job("hospital", 2, priority=1, sla_deadline_s=150),
    )
    problem = Problem(travel_s=travel, jobs=jobs, crews=(Crew("c", 0, TimeWindow(0, 9000)),))
    plan = solve(problem, time_limit_s=0.5)
    assert plan.routes[0].job_ids == ["hospital", "routine"]
    assert plan.lateness_s == 0


def test_open_ended_crew_does_not_pay_for_a_return() -> None:
    travel = line_matrix([0, 100, 200])
    problem = Problem(
        travel_s=travel, jobs=(Job("a", 1), Job("b", 2)), crews=(Crew("c", 0, TimeWindow(0, 900)),)
    )
    plan = solve(problem, time_limit_s=0.5)
    assert plan.cost == 200
    assert plan.routes[0].return_travel_s == 0


def test_time_limit_must_be_positive() -> None:
    problem = Problem(travel_s=line_matrix([0]), jobs=(), crews=(Crew("c", 0, TimeWindow(0, 1)),))
    with pytest.raises(ValueError, match="time_limit_s=0"):
        solve(problem, time_limit_s=0)


def test_seed_changes_nothing_about_validity(random_problem) -> None:
    problem = random_problem(4)
    plans = [solve(problem, time_limit_s=0.5, seed=s) for s in (0, 11)]
    for plan in plans:
        assert check_plan(problem, plan) == []


def test_a_crew_whose_locked_visits_overrun_keeps_them_and_others_work_on() -> None:
    travel = line_matrix([0, 100, 200, 300])
    jobs = (Job("locked", 3, service_s=2000), Job("a", 1), Job("b", 2))
    crews = (
        Crew("stuck", 0, TimeWindow(0, 1000), frozen_job_ids=("locked",)),
        Crew("free", 0, TimeWindow(0, 1000)),
    )
    problem = Problem(travel_s=travel, jobs=jobs, crews=crews)
    plan = solve(problem, time_limit_s=0.5)
    assert plan.routes[0].job_ids == ["locked"]
    assert sorted(plan.routes[1].job_ids) == ["a", "b"]
    assert plan.dropped == ()
    # The overrun is real, so the checker reports it for the dispatcher.
    assert check_plan(problem, plan) == [
        "crew 'stuck': works until 2300, after its shift ends at 1000"
    ]


def _one_class_problem(shift_s: int, service_s: int) -> Problem:
    """20 jobs on a line, 10 crews; the shift length decides how long routes can be."""
    n_jobs = 20
    positions = np.arange(n_jobs + 1) * 60
    travel = np.abs(positions[:, None] - positions[None, :])
    jobs = tuple(Job(id=f"j{i}", location=i + 1, service_s=service_s) for i in range(n_jobs))
    crews = tuple(
        Crew(id=f"c{k}", start_location=0, end_location=0, shift=TimeWindow(0, shift_s))
        for k in range(10)
    )
    return Problem(travel_s=travel, jobs=jobs, crews=crews)


def test_few_long_routes_switch_to_the_long_route_search() -> None:
    settings = SearchSettings(long_routes=None)
    long_problem = _one_class_problem(shift_s=20_000, service_s=300)
    short_problem = _one_class_problem(shift_s=1_500, service_s=600)
    assert routes_lower_bound(long_problem) <= settings.region_routes + 1
    assert routes_lower_bound(short_problem) > settings.region_routes + 1
    chosen = long_route_settings(long_problem, settings)
    assert chosen.first_solution == settings.long_route_first_solution
    assert chosen.metaheuristic == settings.long_route_metaheuristic
    assert chosen.global_share == 1.0
    assert long_route_settings(short_problem, settings) == settings
    mixed = dataclasses.replace(
        long_problem,
        jobs=tuple(
            dataclasses.replace(j, priority=1 + i % 2) for i, j in enumerate(long_problem.jobs)
        ),
    )
    # Several priority classes keep urgent-first insertion, whatever the route lengths.
    assert long_route_settings(mixed, settings) == settings
    assert long_route_settings(long_problem, SearchSettings()) == SearchSettings()
    plan = solve(long_problem, time_limit_s=1.0, settings=settings)
    assert check_plan(long_problem, plan) == []
    assert not plan.dropped
