"""Improvement by decomposition: re-solve small regions of the plan, one at a time.

OR-Tools' local search slows down as instances grow (each move is checked against every time
window on the routes it touches, and guided local search spreads its effort over the whole
plan). A region of a few neighbouring routes, with the dropped jobs near it, is small enough
for the same search to go deep in a fraction of a second. Each region starts from its current
routes, so a region can only get better, and the whole plan improves monotonically.
Measured in bench/RESULTS.md (section Routing).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

import numpy as np

from routing.model import SearchSettings, run_model
from routing.problem import Problem


def improve_by_regions(
    problem: Problem,
    orders: list[list[int]],
    *,
    deadline: float,
    settings: SearchSettings,
    rng: np.random.Generator,
) -> list[list[int]]:
    """Re-solve random regions of the plan until ``deadline`` (a ``time.monotonic`` value).

    Parameters
    ----------
    orders
        Job indices per crew; a feasible plan, improved in place and returned.
    settings
        ``region_routes`` routes per region, ``region_step_s`` seconds per region.
    rng
        Chooses the regions (seeded by the caller, so runs can be repeated).
    """
    job_locations = np.array([job.location for job in problem.jobs], dtype=np.int64)
    frozen = problem.frozen_owner
    while True:
        remaining_s = deadline - time.monotonic()
        if remaining_s < settings.region_step_s / 2:
            return orders
        served = [j for order in orders for j in order if j not in frozen]
        if not served:
            return orders
        crew_of = {j: c for c, order in enumerate(orders) for j in order}
        dropped = np.array([j for j in range(len(problem.jobs)) if j not in crew_of])
        seed_job = int(rng.choice(served))
        crews = _region_crews(problem, orders, crew_of, job_locations, seed_job, settings)
        near_dropped = _nearest(problem, job_locations, seed_job, dropped, settings.region_dropped)
        _resolve_region(
            problem,
            orders,
            crews,
            near_dropped,
            time_limit_s=min(settings.region_step_s, remaining_s),
            settings=settings,
        )


def _nearest(
    problem: Problem,
    job_locations: np.ndarray,
    seed_job: int,
    candidates: np.ndarray,
    count: int,
) -> list[int]:
    """The ``count`` candidate jobs closest to the seed job by travel time (either way)."""
    if not len(candidates) or count <= 0:
        return []
    here = problem.jobs[seed_job].location
    there = job_locations[candidates]
    closeness = problem.travel_s[here, there] + problem.travel_s[there, here]
    nearest = np.argsort(closeness, kind="stable")[:count]
    return [int(j) for j in candidates[nearest]]


def _region_crews(
    problem: Problem,
    orders: Sequence[Sequence[int]],
    crew_of: dict[int, int],
    job_locations: np.ndarray,
    seed_job: int,
    settings: SearchSettings,
) -> list[int]:
    """Crews of the routes nearest the seed job, plus the nearest idle crew.

    An idle crew lets the region open a route; without it the number of routes could only
    shrink.
    """
    served = np.array(list(crew_of), dtype=np.int64)
    crews: list[int] = []
    for j in _nearest(problem, job_locations, seed_job, served, len(served)):
        if crew_of[j] not in crews:
            crews.append(crew_of[j])
            if len(crews) == settings.region_routes:
                break
    idle = [c for c, order in enumerate(orders) if not order]
    if idle:
        here = problem.jobs[seed_job].location
        starts = [problem.crews[c].start_location for c in idle]
        crews.append(idle[int(np.argmin(problem.travel_s[starts, here]))])
    return crews


def _resolve_region(
    problem: Problem,
    orders: list[list[int]],
    crews: list[int],
    extra_jobs: list[int],
    *,
    time_limit_s: float,
    settings: SearchSettings,
) -> None:
    """Solve the region's sub-problem from its current routes and write the result back."""
    jobs = [j for c in crews for j in orders[c]] + extra_jobs
    local_of = {j: i for i, j in enumerate(jobs)}
    sub = Problem(
        travel_s=problem.travel_s,
        jobs=tuple(problem.jobs[j] for j in jobs),
        crews=tuple(problem.crews[c] for c in crews),
        cost=problem.cost,
    )
    initial = [[local_of[j] for j in orders[c]] for c in crews]
    region_settings = dataclasses.replace(settings, metaheuristic=settings.region_metaheuristic)
    result = run_model(
        sub, time_limit_s=time_limit_s, settings=region_settings, initial_orders=initial
    )
    if result is None:
        return
    sub_orders, _ = result
    for c, sub_order in zip(crews, sub_orders, strict=True):
        orders[c] = [jobs[i] for i in sub_order]
