"""The solver: OR-Tools routing with time windows, skills, frozen prefixes and optional jobs.

Urgency is lexicographic: the penalty for dropping a job exceeds the whole penalty of every
less urgent job plus any route cost it could save, so no amount of saved driving or lower
priority work buys leaving an urgent job out. A repair pass after the search then enforces the
rule exactly (swapping in place where the search left a violation), because a time-limited
local search does not promise an optimum.

The search parameters are chosen from the measurements in bench/RESULTS.md (section Routing),
not OR-Tools' defaults: see ``SearchSettings``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import numpy as np

from routing import sisr
from routing.decompose import improve_by_regions
from routing.idle import use_idle_crews
from routing.model import (
    SearchSettings,
    long_route_settings,
    max_score,
    problem_penalties,
    run_model,
    timing_cost,
)
from routing.plan import DroppedJob, Route, RoutePlan
from routing.problem import Problem, TimeWindow
from routing.schedule import (
    drop_reason,
    find_insertion,
    find_priority_swap,
    free_time_s,
    is_feasible,
    schedule_route,
)

__all__ = ["SearchSettings", "solve"]

_FINISH_MARGIN_S = 0.05
_FINISH_MARGIN_PER_JOB_S = 0.0002
"""Time kept back from the limit for the repair pass and building the plan (measured: about
0.15 s for 1,000 jobs on an idle core)."""


def solve(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int = 0,
    settings: SearchSettings | None = None,
) -> RoutePlan:
    """Plan routes for the crews, serving the most urgent work first.

    A global OR-Tools search builds the first plan and improves it for a share of the time;
    then, when that plan serves every job and no job has two time windows, the SISR polish
    (``routing.sisr``) searches across routes until the deadline; otherwise regions of a few
    neighbouring routes are re-solved one at a time (see ``routing.decompose``) and, when the
    customers' wait is priced, the polish reorders the jobs they serve at the end. Then crews
    left idle take jobs that wait behind other work where the customers' wait makes it worth
    it (``routing.idle``). Last, a repair pass enforces the strict urgency rule exactly.

    Parameters
    ----------
    problem
        Jobs, crews and travel times.
    time_limit_s
        Wall time for the whole call, model building included.
    seed
        Shuffles the order in which jobs enter the model (OR-Tools breaks ties by that order)
        and chooses the regions; 0 keeps the given order. Same seed, same time: same plan, up
        to timing.
    settings
        Search parameters; the measured defaults when omitted.

    Returns
    -------
    RoutePlan
        Routes for every crew in problem order and the dropped jobs with reasons.
    """
    if time_limit_s <= 0:
        msg = f"time_limit_s={time_limit_s} must be positive"
        raise ValueError(msg)
    started = time.monotonic()
    margin_s = _FINISH_MARGIN_S + _FINISH_MARGIN_PER_JOB_S * len(problem.jobs)
    deadline = started + time_limit_s - min(margin_s, time_limit_s / 4)
    settings = settings or SearchSettings()
    first_found: list[float] = []

    def on_solution() -> None:
        if not first_found:
            first_found.append(time.monotonic() - started)

    frozen_orders = [[problem.job_index[j] for j in crew.frozen_job_ids] for crew in problem.crews]
    # A crew whose locked visits alone overrun its shift keeps just those: left in the model
    # it would make the whole model infeasible and leave every other crew idle.
    overrun = {c for c, order in enumerate(frozen_orders) if not is_feasible(problem, c, order)}
    orders = [list(order) for order in frozen_orders]
    workable = [c for c in range(len(problem.crews)) if c not in overrun]
    if workable:
        jobs = [j for j in range(len(problem.jobs)) if problem.frozen_owner.get(j) not in overrun]
        sub = problem if not overrun else _restrict(problem, jobs, workable)
        sub_orders = _search(sub, deadline, seed, settings, on_solution)
        for c, sub_order in zip(workable, sub_orders, strict=True):
            orders[c] = [jobs[i] for i in sub_order] if overrun else sub_order
    if any(job.wait_cost for job in problem.jobs):
        use_idle_crews(problem, orders)
    served = {j for order in orders for j in order}
    dropped = [j for j in range(len(problem.jobs)) if j not in served]
    _enforce_priority(problem, orders, dropped)
    first_s = first_found[0] if first_found else time.monotonic() - started
    return _build_plan(problem, orders, dropped, started, first_s)


def _search(
    problem: Problem,
    deadline: float,
    seed: int,
    settings: SearchSettings,
    on_solution: Callable[[], None],
) -> list[list[int]]:
    """Global search for a share of the time, then the polish or regions until the deadline.

    The polish needs a plan that serves every job; when the global search leaves some out
    (an oversubscribed storm), the regions, which can bring dropped jobs in, take over, and
    when the customers' wait is priced the polish then reorders the jobs they serve for the
    last ``served_polish_share`` of the time.
    """
    settings = long_route_settings(problem, settings)
    polishing = settings.polish and sisr.applies(problem)
    remaining_s = deadline - time.monotonic()
    result = run_model(
        problem,
        time_limit_s=remaining_s,
        settings=settings,
        seed=seed,
        on_first_solution=on_solution,
        soft_limit_s=remaining_s * (settings.polish_share if polishing else settings.global_share),
    )
    if result is None:
        return [[problem.job_index[j] for j in crew.frozen_job_ids] for crew in problem.crews]
    if polishing and sum(len(order) for order in result[0]) == len(problem.jobs):
        return sisr.polish(problem, result[0], deadline=deadline, seed=seed)[0]
    wait_priced = any(job.wait_cost for job in problem.jobs)
    if not (polishing and wait_priced and settings.served_polish_share > 0):
        return improve_by_regions(
            problem,
            result[0],
            deadline=deadline,
            settings=settings,
            rng=np.random.default_rng(seed),
        )
    # Regions first, to bring dropped jobs in; then the polish on the jobs served, the only
    # search that prices the customers' wait.
    polish_from = deadline - (deadline - time.monotonic()) * settings.served_polish_share
    orders = improve_by_regions(
        problem, result[0], deadline=polish_from, settings=settings, rng=np.random.default_rng(seed)
    )
    return _polish_served(problem, orders, deadline=deadline, seed=seed)


def _polish_served(
    problem: Problem, orders: list[list[int]], *, deadline: float, seed: int
) -> list[list[int]]:
    """The polish on the problem of the jobs ``orders`` serve: the served set stays as the
    search chose it (so the strict urgency rule is untouched), their order and crews change."""
    served = sorted(j for order in orders for j in order)
    sub = _restrict(problem, served, list(range(len(problem.crews))))
    position = {j: i for i, j in enumerate(served)}
    polished, _ = sisr.polish(
        sub, [[position[j] for j in order] for order in orders], deadline=deadline, seed=seed
    )
    return [[served[i] for i in order] for order in polished]


def _restrict(problem: Problem, jobs: list[int], crews: list[int]) -> Problem:
    """The same problem with only some jobs and crews (indices renumbered in list order)."""
    return Problem(
        travel_s=problem.travel_s,
        jobs=tuple(problem.jobs[j] for j in jobs),
        crews=tuple(problem.crews[c] for c in crews),
        cost=problem.cost,
        straight_line_locations=problem.straight_line_locations,
    )


def _enforce_priority(problem: Problem, orders: list[list[int]], dropped: list[int]) -> None:
    """Make the strict urgency rule hold: insert dropped jobs where they fit, most urgent
    first, then swap dropped jobs in place of less urgent served ones.

    Passes repeat until one changes nothing: a swap changes the timing of its route, which
    can make room for a job that found none before. Each insertion serves one more job and
    each swap serves a more urgent job instead of a less urgent one, so the served set
    improves lexicographically by (priority, score) and the loop ends.
    """
    frozen = problem.frozen_owner
    changed = True
    while changed:
        changed = False
        free = [free_time_s(problem, c, order) for c, order in enumerate(orders)]
        for j in sorted(
            (k for k in dropped if k not in frozen), key=lambda k: problem.jobs[k].rank
        ):
            place = find_insertion(problem, orders, j, free)
            if place is not None:
                c, position = place
                orders[c].insert(position, j)
                free[c] = free_time_s(problem, c, orders[c])
                dropped.remove(j)
                changed = True
                continue
            swap = find_priority_swap(problem, orders, j)
            if swap is None:
                continue
            c, position = swap
            dropped.remove(j)
            dropped.append(orders[c][position])
            orders[c][position] = j
            free[c] = free_time_s(problem, c, orders[c])
            changed = True


def _build_plan(
    problem: Problem,
    orders: list[list[int]],
    dropped: list[int],
    started: float,
    first_solution_s: float,
) -> RoutePlan:
    routes: list[Route] = []
    for c, order in enumerate(orders):
        route = schedule_route(problem, c, order)
        if route is None:
            # Only a crew whose frozen visits overrun its shift gets here: keep them, timed
            # as they will happen; check_plan reports the overrun for the dispatcher.
            n_frozen = len(problem.crews[c].frozen_job_ids)
            dropped.extend(order[n_frozen:])
            route = _frozen_only(problem, c, order[:n_frozen])
        routes.append(route)
    dropped_jobs = sorted(
        (
            DroppedJob(
                problem.jobs[j].id, problem.jobs[j].priority, drop_reason(problem, j, orders)
            )
            for j in dropped
        ),
        key=lambda d: (d.priority, d.job_id),
    )
    penalties = problem_penalties(problem)
    top = max_score(problem)
    timing = sum(
        timing_cost(problem.jobs[problem.job_index[visit.job_id]], visit, top)
        for route in routes
        for visit in route.visits
    )
    cost = sum(route.cost for route in routes)
    return RoutePlan(
        routes=tuple(routes),
        dropped=tuple(dropped_jobs),
        cost=cost,
        objective=cost + timing + sum(penalties[problem.job_index[d.job_id]] for d in dropped_jobs),
        solve_time_s=time.monotonic() - started,
        first_solution_s=first_solution_s,
    )


def _frozen_only(problem: Problem, crew_index: int, order: list[int]) -> Route:
    """A route of the frozen visits alone, timed even if it overruns the shift."""
    crew = problem.crews[crew_index]
    unbounded = dataclasses.replace(
        crew, shift=TimeWindow(crew.shift.start_s, 2**62), capacity=None
    )
    relaxed = dataclasses.replace(
        problem, crews=(*problem.crews[:crew_index], unbounded, *problem.crews[crew_index + 1 :])
    )
    route = schedule_route(relaxed, crew_index, order)
    assert route is not None  # no shift end and no capacity: always schedulable
    return route
