"""Re-solving regions never makes a plan worse and keeps every rule."""

from __future__ import annotations

import time

import numpy as np

from routing.decompose import improve_by_regions
from routing.model import LATENESS_COST_PER_S, SearchSettings, run_model
from routing.schedule import is_feasible, schedule_route

SETTINGS = SearchSettings(region_routes=2, region_step_s=0.15, region_dropped=5)


def rank(problem, orders) -> tuple[int, ...]:
    """What the solver minimises, lexicographically: drops by priority, then cost."""
    routes = [schedule_route(problem, c, order) for c, order in enumerate(orders)]
    assert all(route is not None for route in routes)
    served = {j for order in orders for j in order}
    drops = [
        sum(1 for j, job in enumerate(problem.jobs) if job.priority == p and j not in served)
        for p in (1, 2, 3, 4)
    ]
    cost = sum(
        route.cost
        + sum(
            v.lateness_s * LATENESS_COST_PER_S[problem.jobs[problem.job_index[v.job_id]].priority]
            for v in route.visits
        )
        for route in routes
        if route is not None
    )
    return (*drops, cost)


def test_regions_improve_a_poor_start_and_keep_it_feasible(random_problem) -> None:
    problem = random_problem(5)
    # A deliberately short global search leaves room for the regions to improve.
    start = run_model(
        problem,
        time_limit_s=0.3,
        settings=SearchSettings(first_solution="PATH_CHEAPEST_ARC", metaheuristic="GREEDY_DESCENT"),
    )
    assert start is not None
    orders = [list(order) for order in start[0]]
    before = rank(problem, orders)
    improved = improve_by_regions(
        problem,
        [list(order) for order in orders],
        deadline=time.monotonic() + 1.5,
        settings=SETTINGS,
        rng=np.random.default_rng(3),
    )
    for c, order in enumerate(improved):
        assert is_feasible(problem, c, order)
        frozen = list(problem.crews[c].frozen_job_ids)
        assert order[: len(frozen)] == [problem.job_index[j] for j in frozen]
    assert rank(problem, improved) < before


def test_regions_stop_at_the_deadline(random_problem) -> None:
    problem = random_problem(6)
    start = run_model(problem, time_limit_s=0.3, settings=SETTINGS)
    assert start is not None
    began = time.monotonic()
    improve_by_regions(
        problem,
        start[0],
        deadline=began + 0.5,
        settings=SETTINGS,
        rng=np.random.default_rng(0),
    )
    assert time.monotonic() - began < 0.5 + SETTINGS.region_step_s
