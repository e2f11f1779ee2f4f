"""The wait cost: an idle crew goes to a waiting job rather than another crew after its work
(routing.idle, and the polish, which prices it too).

The situation of the demo's storm: crew A is near a long storm job and could reach the
hospital outage after it, well inside the hospital's on-site deadline; crew B stands idle
further away. Priced by driving and lateness alone, the chain is cheaper (900 s of driving
against 2,100 s); priced with the customers' wait, B goes to the hospital at once.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from routing import sisr
from routing.idle import use_idle_crews
from routing.model import SearchSettings, lateness_weight, run_model
from routing.problem import Crew, Job, Problem, TimeWindow
from routing.schedule import schedule_route
from routing.solver import solve

# Locations: 0 crew A, 1 crew B, 2 the storm job, 3 the hospital.
TRAVEL = np.array(
    [
        [0, 3000, 600, 900],
        [3000, 0, 3000, 1500],
        [600, 3000, 0, 300],
        [900, 1500, 300, 0],
    ]
)
CREWS = (Crew("A", 0, TimeWindow(0, 12 * 3600)), Crew("B", 1, TimeWindow(0, 12 * 3600)))


def storm_night(hospital_wait_cost: int) -> Problem:
    storm = Job("storm", 2, service_s=3600, priority=1, score=1552, sla_deadline_s=2700)
    hospital = Job(
        "hospital",
        3,
        service_s=5400,
        priority=1,
        score=470,
        sla_deadline_s=3 * 3600,
        wait_cost=hospital_wait_cost,
    )
    return Problem(travel_s=TRAVEL, jobs=(storm, hospital), crews=CREWS)


def crew_of(plan_orders: list[list[int]], problem: Problem, job_id: str) -> str:
    j = problem.job_index[job_id]
    return next(problem.crews[c].id for c, order in enumerate(plan_orders) if j in order)


@pytest.mark.parametrize(("wait_cost", "expected"), [(0, "A"), (5, "B")])
def test_the_solver_sends_the_idle_crew_to_the_hospital_once_its_wait_is_priced(
    wait_cost: int, expected: str
) -> None:
    problem = storm_night(wait_cost)
    plan = solve(problem, time_limit_s=1.0)
    assert not plan.dropped
    hospital = next(v for r in plan.routes for v in r.visits if v.job_id == "hospital")
    owner = next(r.crew_id for r in plan.routes if hospital in r.visits)
    assert owner == expected
    # Either way the hospital is reached inside its deadline: only the wait tells them apart.
    assert hospital.lateness_s == 0
    assert hospital.start_s == (1500 if expected == "B" else 4500)


def test_the_or_tools_model_alone_leaves_the_wait_to_the_passes_after_it() -> None:
    """The model prices driving and lateness only (routing.model says why): it chains."""
    problem = storm_night(5)
    result = run_model(problem, time_limit_s=1.0, settings=SearchSettings(polish=False))
    assert result is not None
    orders, objective = result
    assert crew_of(orders, problem, "hospital") == "A"
    assert objective == 900


@pytest.mark.parametrize(("wait_cost", "expected"), [(0, "A"), (5, "B")])
def test_the_idle_crew_pass_moves_the_hospital_once_its_wait_is_priced(
    wait_cost: int, expected: str
) -> None:
    problem = storm_night(wait_cost)
    orders = [[0, 1], []]
    moved = use_idle_crews(problem, orders)
    assert crew_of(orders, problem, "hospital") == expected
    assert moved == (1 if expected == "B" else 0)
    assert orders == ([[0], [1]] if expected == "B" else [[0, 1], []])


def test_the_idle_crew_pass_moves_no_frozen_visit_and_no_job_the_crew_may_not_take() -> None:
    problem = storm_night(5)
    only_a = dataclasses.replace(
        problem, jobs=tuple(dataclasses.replace(j, crews=frozenset({"A"})) for j in problem.jobs)
    )
    orders = [[0, 1], []]
    assert use_idle_crews(only_a, orders) == 0 and orders == [[0, 1], []]
    pinned = dataclasses.replace(
        problem,
        crews=(dataclasses.replace(CREWS[0], frozen_job_ids=("storm", "hospital")), CREWS[1]),
    )
    orders = [[0, 1], []]
    assert use_idle_crews(pinned, orders) == 0 and orders == [[0, 1], []]
    # Only A holds the skill both jobs need.
    skilled = dataclasses.replace(
        problem,
        jobs=tuple(dataclasses.replace(j, skills=frozenset({"hv"})) for j in problem.jobs),
        crews=(dataclasses.replace(CREWS[0], skills=frozenset({"hv"})), CREWS[1]),
    )
    orders = [[0, 1], []]
    assert use_idle_crews(skilled, orders) == 0


def test_every_idle_crew_takes_one_job_and_no_job_waits_behind_another() -> None:
    """Three jobs queued on one crew, two idle crews: two move, one to each."""
    travel = np.full((6, 6), 60)
    np.fill_diagonal(travel, 0)
    crews = tuple(Crew(f"c{k}", k, TimeWindow(0, 12 * 3600)) for k in range(3))
    jobs = tuple(Job(f"j{i}", 3 + i, service_s=3600, wait_cost=2) for i in range(3))
    problem = Problem(travel_s=travel, jobs=jobs, crews=crews)
    orders = [[0, 1, 2], [], []]
    assert use_idle_crews(problem, orders) == 2
    assert sorted(map(len, orders)) == [1, 1, 1]
    # Nobody waits behind anybody: every job starts after one 60 s drive.
    starts = [schedule_route(problem, c, o).visits[0].start_s for c, o in enumerate(orders)]  # type: ignore[union-attr]
    assert starts == [60, 60, 60]


@pytest.mark.parametrize(("wait_cost", "expected"), [(0, "A"), (5, "B")])
def test_the_polish_moves_the_hospital_to_the_idle_crew_once_its_wait_is_priced(
    wait_cost: int, expected: str
) -> None:
    problem = storm_night(wait_cost)
    chained = [[0, 1], []]
    polished, stats = sisr.polish(problem, chained, deadline=time.monotonic() + 0.3, seed=0)
    assert crew_of(polished, problem, "hospital") == expected
    if expected == "B":
        # The kernel's own price of the chain: legs 900 + the hospital's wait 5 x 4,500.
        assert stats.start_cost == 900 + 5 * 4500
        assert stats.best_cost == 600 + 1500 + 5 * 1500


def test_the_kernel_prices_a_plan_as_the_plan_is_timed() -> None:
    """The kernel's route costs equal legs + lateness + wait of ``schedule_route``'s times,
    on a plan with windows, deadlines and pushes (a wrong sign or a missed push fails it)."""
    rng = np.random.default_rng(4)
    n = 12
    xy = rng.uniform(0, 10_000, (n + 2, 2))
    travel = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 10)
    jobs = tuple(
        Job(
            f"j{i}",
            2 + i,
            service_s=600,
            priority=1 + i % 4,
            score=float(10 * i),
            sla_deadline_s=1800 * (1 + i % 3),
            time_windows=(TimeWindow(3600, 20_000),) if i % 5 == 0 else (),
            wait_cost=i % 4,
        )
        for i in range(n)
    )
    crews = tuple(Crew(f"c{k}", k, TimeWindow(0, 40_000)) for k in range(2))
    problem = Problem(travel_s=travel, jobs=jobs, crews=crews)
    orders = [list(range(0, n, 2)), list(range(1, n, 2))]
    _, stats = sisr.polish(problem, orders, deadline=time.monotonic() + 0.05, seed=1)
    assert stats.start_cost == sisr.plan_cost(problem, orders)
    by_hand = 0
    for c, order in enumerate(orders):
        route = schedule_route(problem, c, order)
        assert route is not None
        by_hand += route.cost
        for visit in route.visits:
            job = problem.jobs[problem.job_index[visit.job_id]]
            by_hand += job.wait_cost * visit.start_s
            if visit.lateness_s:
                by_hand += visit.lateness_s * lateness_weight(job, 110.0)
    assert stats.start_cost == by_hand


def test_a_wait_cost_out_of_range_names_the_job() -> None:
    with pytest.raises(ValueError, match=r"job 'h': wait_cost=-1 must be 0\.\.1000"):
        Job("h", 0, wait_cost=-1)
    with pytest.raises(ValueError, match=r"wait_cost=1001"):
        dataclasses.replace(Job("h", 0), wait_cost=1001)


@pytest.mark.parametrize(("share", "p1_first"), [(0.5, True), (0.0, False)])
def test_a_plan_that_leaves_jobs_out_is_polished_on_the_jobs_it_serves(
    share: float, p1_first: bool
) -> None:
    """One crew, three small outages on a street and a hospital at its far end, and a job
    too far to reach in the shift (so the plan leaves a job out and the whole-plan polish
    does not apply). By driving, the street comes first and the hospital last; with its wait
    priced, the polish of the served jobs sends the crew to the hospital first."""
    positions = np.array([0, 100, 200, 300, 400, -5000])
    travel = np.abs(positions[:, None] - positions[None, :])
    street = tuple(
        Job(f"s{i}", i, service_s=300, priority=3, score=150, wait_cost=1) for i in (1, 2, 3)
    )
    hospital = Job("hospital", 4, service_s=300, priority=1, score=1000, wait_cost=10)
    far = Job("far", 5, service_s=300, priority=4)
    crew = Crew("c", 0, TimeWindow(0, 3000))
    problem = Problem(travel_s=travel, jobs=(*street, hospital, far), crews=(crew,))
    plan = solve(problem, time_limit_s=1.0, settings=SearchSettings(served_polish_share=share))
    assert [d.job_id for d in plan.dropped] == ["far"]
    visits = [v.job_id for v in plan.routes[0].visits]
    assert sorted(visits) == ["hospital", "s1", "s2", "s3"]
    assert (visits[0] == "hospital") is p1_first, visits
