"""check_plan catches each kind of broken plan, so a test that trusts it can trust a pass."""

from __future__ import annotations

import dataclasses

import numpy as np

from routing.check import check_plan
from routing.plan import DroppedJob, Route, RoutePlan
from routing.problem import Crew, Job, Problem, TimeWindow
from routing.schedule import schedule_route

TRAVEL = np.abs(np.subtract.outer([0, 100, 200, 300], [0, 100, 200, 300]))


def problem_with(**crew_changes: object) -> Problem:
    jobs = (
        Job("a", 1, service_s=50, time_windows=(TimeWindow(0, 500),), priority=2),
        Job("b", 2, service_s=50, skills=frozenset({"line"}), demand=3),
        Job("c", 3, service_s=50, priority=1),
    )
    crew = Crew("c1", 0, TimeWindow(0, 2000), skills=frozenset({"line"}), capacity=5)
    return Problem(travel_s=TRAVEL, jobs=jobs, crews=(dataclasses.replace(crew, **crew_changes),))


def plan_of(problem: Problem, order: list[int], dropped: list[str] = ()) -> RoutePlan:  # type: ignore[assignment]
    route = schedule_route(problem, 0, order)
    assert route is not None
    return RoutePlan(
        routes=(route,),
        dropped=tuple(
            DroppedJob(j, problem.jobs[problem.job_index[j]].priority, "x") for j in dropped
        ),
        cost=route.cost,
        objective=route.cost,
    )


def test_a_valid_plan_passes() -> None:
    problem = problem_with()
    assert check_plan(problem, plan_of(problem, [0, 1, 2])) == []


def test_missing_and_duplicated_jobs_are_reported() -> None:
    problem = problem_with()
    plan = plan_of(problem, [0, 1])
    assert check_plan(problem, plan) == ["job 'c' is neither served nor dropped"]
    doubled = dataclasses.replace(plan, dropped=(DroppedJob("z", 4, "x"),))
    assert "plan names job 'z' that is not in the problem" in check_plan(problem, doubled)


def test_service_outside_its_window_is_reported() -> None:
    problem = problem_with()
    plan = plan_of(problem, [0, 1, 2])
    route = plan.routes[0]
    late = dataclasses.replace(route.visits[0], arrival_s=600, start_s=600, end_s=650)
    bad = dataclasses.replace(
        plan, routes=(dataclasses.replace(route, visits=(late, *route.visits[1:])),)
    )
    assert any("outside its windows" in v for v in check_plan(problem, bad))


def test_missing_skill_is_reported() -> None:
    problem = problem_with(skills=frozenset())
    violations = check_plan(problem, plan_of(problem, [0, 1, 2]))
    assert "crew 'c1', job 'b': crew lacks skills ['line']" in violations


def test_shift_overrun_and_capacity_are_reported() -> None:
    roomy = problem_with(capacity=None)
    plan = plan_of(roomy, [0, 1, 2])
    tight = problem_with(capacity=2, shift=TimeWindow(0, 400))
    violations = check_plan(tight, plan)
    assert any("after its shift ends at 400" in v for v in violations)
    assert "crew 'c1': load 3 exceeds capacity 2" in violations


def test_frozen_prefix_out_of_order_is_reported() -> None:
    problem = problem_with(frozen_job_ids=("c", "a"))
    violations = check_plan(problem, plan_of(problem_with(), [0, 2, 1]))
    assert any("not with its frozen prefix ['c', 'a']" in v for v in violations)


def test_urgent_job_dropped_for_a_less_urgent_one_is_reported() -> None:
    # 'c' (priority 1) could take the place of 'a' (priority 2) or 'b' (priority 3): a broken
    # urgency rule, reported against the least urgent job it could replace. (With its load,
    # 'c' does not fit beside both.)
    roomy = problem_with()
    heavy_c = dataclasses.replace(roomy.jobs[2], demand=3)
    problem = dataclasses.replace(roomy, jobs=(*roomy.jobs[:2], heavy_c))
    violations = check_plan(problem, plan_of(problem, [0, 1], dropped=["c"]))
    assert violations == [
        "job 'c' (priority 1) is dropped while 'b' (priority 3) is served on crew 'c1' where "
        "it could have been"
    ]


def test_a_dropped_job_that_fits_as_the_route_is_is_reported() -> None:
    problem = problem_with()
    violations = check_plan(problem, plan_of(problem, [0, 1], dropped=["c"]))
    assert violations == [
        "job 'c' (priority 1) is dropped though it fits on crew 'c1' at stop 3 as the route is"
    ]


def test_the_urgency_rule_holds_on_the_score_inside_a_priority_class() -> None:
    roomy = problem_with()
    a, b, c = roomy.jobs
    same_class = (
        dataclasses.replace(a, priority=1, score=100.0),
        dataclasses.replace(b, priority=1, score=5.0),
        dataclasses.replace(c, priority=1, score=900.0, demand=3),
    )
    problem = dataclasses.replace(roomy, jobs=same_class)
    violations = check_plan(problem, plan_of(problem, [0, 1], dropped=["c"]))
    assert violations == [
        "job 'c' (priority 1, score 900) is dropped while 'b' (priority 1, score 5) is served "
        "on crew 'c1' where it could have been"
    ]


def test_wrong_cost_is_reported() -> None:
    problem = problem_with()
    plan = plan_of(problem, [0, 1, 2])
    assert check_plan(problem, dataclasses.replace(plan, cost=plan.cost + 1)) == [
        f"plan cost {plan.cost + 1} differs from the recomputed {plan.cost}"
    ]


def test_route_cost_and_times_are_recomputed() -> None:
    problem = problem_with()
    plan = plan_of(problem, [0, 1, 2])
    route: Route = plan.routes[0]
    early = dataclasses.replace(route.visits[1], arrival_s=150, start_s=150, end_s=200)
    bad_route = dataclasses.replace(route, visits=(route.visits[0], early, route.visits[2]))
    violations = check_plan(problem, dataclasses.replace(plan, routes=(bad_route,)))
    assert any("arrives at 150, but cannot be there before 250" in v for v in violations)
