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

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.plan import DroppedJob, Route, RoutePlan
from routing.problem import Problem
from routing.schedule import can_serve, drop_reason, find_priority_swap, schedule_route

LATENESS_COST_PER_S = {1: 8, 2: 4, 3: 2, 4: 1}
"""Cost of one second past the SLA deadline, by priority, in units of the cost matrix."""

_MAX_TOTAL_PENALTY = 2**61
"""Keeps the sum of all drop penalties clear of int64 overflow inside OR-Tools."""

_FINISH_MARGIN_S = 0.05
"""Time kept back from the limit for reading the solution and building the plan."""


@dataclass(frozen=True)
class SearchSettings:
    """How OR-Tools searches; the defaults are the measured best (bench/routing.py).

    Parameters
    ----------
    first_solution
        Name of a ``FirstSolutionStrategy``. Parallel cheapest insertion builds all routes at
        once and inserts by cost against each job's penalty, so urgent jobs go in first.
    metaheuristic
        Name of a ``LocalSearchMetaheuristic``, or ``"ITERATED_LOCAL_SEARCH"`` for OR-Tools'
        ruin-and-recreate iterated local search.
    neighbors_ratio
        Fraction of nearest neighbours the local search operators consider; below 1 it
        speeds up large instances at a small loss in depth.
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    neighbors_ratio: float = 1.0
    min_neighbors: int = 40


@dataclass(frozen=True)
class _Model:
    """Node layout: jobs first, then one start and one end node per crew."""

    job_of_node: npt.NDArray[np.int64]
    modelled_jobs: list[int]
    unmodelled_jobs: list[int]


def solve(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int = 0,
    settings: SearchSettings | None = None,
) -> RoutePlan:
    """Plan routes for the crews, serving the most urgent work first.

    Parameters
    ----------
    problem
        Jobs, crews and travel times.
    time_limit_s
        Wall time for the whole call, model building included.
    seed
        Shuffles the order in which jobs enter the model; OR-Tools breaks ties by that order,
        so different seeds give different (equally valid) plans. 0 keeps the given order.
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
    settings = settings or SearchSettings()
    orders, first_solution_s, objective = _search(problem, time_limit_s, seed, settings, started)
    served = {j for order in orders for j in order}
    dropped = [j for j in range(len(problem.jobs)) if j not in served]
    _enforce_priority(problem, orders, dropped)
    return _build_plan(problem, orders, dropped, objective, started, first_solution_s)


def _search(
    problem: Problem,
    time_limit_s: float,
    seed: int,
    settings: SearchSettings,
    started: float,
) -> tuple[list[list[int]], float, int]:
    """Run OR-Tools; return job orders per crew, time to the first solution and objective."""
    frozen_orders = [[problem.job_index[j] for j in crew.frozen_job_ids] for crew in problem.crews]
    model = _layout(problem, seed)
    if not model.modelled_jobs:
        return frozen_orders, 0.0, 0
    routing, manager = _build_routing_model(problem, model)
    parameters = _search_parameters(settings)
    remaining_s = time_limit_s - (time.monotonic() - started) - _FINISH_MARGIN_S
    parameters.time_limit.FromMilliseconds(max(10, int(remaining_s * 1000)))
    first_found: list[float] = []

    def on_solution() -> None:
        if not first_found:
            first_found.append(time.monotonic() - started)

    routing.AddAtSolutionCallback(on_solution)
    solution = routing.SolveWithParameters(parameters)
    if solution is None:
        return frozen_orders, 0.0, 0
    orders: list[list[int]] = []
    for v in range(len(problem.crews)):
        order: list[int] = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            order.append(int(model.job_of_node[manager.IndexToNode(index)]))
            index = solution.Value(routing.NextVar(index))
        orders.append(order)
    first_s = first_found[0] if first_found else time.monotonic() - started
    return orders, first_s, int(solution.ObjectiveValue())


def _layout(problem: Problem, seed: int) -> _Model:
    """Choose which jobs enter the model and in which order.

    Jobs no crew could ever serve (skills missing, windows outside every shift) stay out: they
    would only slow the search, and their drop reason is known without it.
    """
    horizon_s = max(crew.shift.end_s for crew in problem.crews)
    frozen = problem.frozen_owner
    modelled: list[int] = []
    unmodelled: list[int] = []
    for j, job in enumerate(problem.jobs):
        eligible = any(can_serve(problem, c, j) for c in range(len(problem.crews)))
        windows_open = not job.time_windows or job.time_windows[0].start_s <= horizon_s
        (modelled if j in frozen or (eligible and windows_open) else unmodelled).append(j)
    if seed:
        rng = np.random.default_rng(seed)
        modelled = [modelled[i] for i in rng.permutation(len(modelled))]
    return _Model(
        job_of_node=np.array(modelled, dtype=np.int64),
        modelled_jobs=modelled,
        unmodelled_jobs=unmodelled,
    )


def _build_routing_model(
    problem: Problem, model: _Model
) -> tuple[pywrapcp.RoutingModel, pywrapcp.RoutingIndexManager]:
    jobs = model.modelled_jobs
    n_jobs, n_crews = len(jobs), len(problem.crews)
    starts = list(range(n_jobs, n_jobs + n_crews))
    ends = list(range(n_jobs + n_crews, n_jobs + 2 * n_crews))
    job_locations = np.array([problem.jobs[j].location for j in jobs], dtype=np.int64)
    start_locations = np.array([c.start_location for c in problem.crews], dtype=np.int64)
    end_locations = np.array(
        [c.start_location if c.end_location is None else c.end_location for c in problem.crews],
        dtype=np.int64,
    )
    node_location = np.concatenate([job_locations, start_locations, end_locations])
    open_end = np.array([c.end_location is None for c in problem.crews])
    travel = problem.travel_s[np.ix_(node_location, node_location)].copy()
    assert problem.cost is not None  # filled in by Problem.__post_init__
    cost = problem.cost[np.ix_(node_location, node_location)].copy()
    # A crew without a depot ends where its last job ends: driving to its end node is free.
    travel[:, ends] = np.where(open_end[None, :], 0, travel[:, ends])
    cost[:, ends] = np.where(open_end[None, :], 0, cost[:, ends])
    service = np.zeros(len(node_location), dtype=np.int64)
    service[:n_jobs] = [problem.jobs[j].service_s for j in jobs]

    manager = pywrapcp.RoutingIndexManager(len(node_location), n_crews, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    cost_callback = routing.RegisterTransitMatrix(cost.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_callback)
    horizon_s = max(crew.shift.end_s for crew in problem.crews)
    time_callback = routing.RegisterTransitMatrix((travel + service[:, None]).tolist())
    routing.AddDimension(time_callback, horizon_s, horizon_s, False, "time")
    time_dimension = routing.GetDimensionOrDie("time")
    for v, crew in enumerate(problem.crews):
        time_dimension.CumulVar(routing.Start(v)).SetRange(crew.shift.start_s, crew.shift.end_s)
        time_dimension.CumulVar(routing.End(v)).SetRange(crew.shift.start_s, crew.shift.end_s)
    _add_capacity(problem, routing, manager, jobs, n_jobs)

    frozen = problem.frozen_owner
    penalties = _drop_penalties(problem, jobs, int(cost.max(initial=0)), horizon_s)
    node_of_job = {j: node for node, j in enumerate(jobs)}
    for node, j in enumerate(jobs):
        job = problem.jobs[j]
        index = manager.NodeToIndex(node)
        if j in frozen:
            continue  # frozen visits are pinned below and keep no windows or penalty
        cumul = time_dimension.CumulVar(index)
        if job.time_windows:
            cumul.SetRange(job.time_windows[0].start_s, min(job.time_windows[-1].end_s, horizon_s))
            for before, after in zip(job.time_windows, job.time_windows[1:], strict=False):
                cumul.RemoveInterval(before.end_s + 1, after.start_s - 1)
        if job.sla_deadline_s is not None:
            time_dimension.SetCumulVarSoftUpperBound(
                index, job.sla_deadline_s, LATENESS_COST_PER_S[job.priority]
            )
        allowed = [v for v in range(n_crews) if can_serve(problem, v, j)]
        if len(allowed) < n_crews:
            # -1 is the vehicle of an unperformed (dropped) visit.
            routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddDisjunction([index], penalties[job.priority])
    for v, crew in enumerate(problem.crews):
        previous = routing.Start(v)
        for job_id in crew.frozen_job_ids:
            index = manager.NodeToIndex(node_of_job[problem.job_index[job_id]])
            routing.NextVar(previous).SetValue(index)
            routing.VehicleVar(index).SetValue(v)
            previous = index
    return routing, manager


def _add_capacity(
    problem: Problem,
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    jobs: list[int],
    n_jobs: int,
) -> None:
    """Add a load dimension when some crew has a capacity and some job a demand."""
    demands = [problem.jobs[j].demand for j in jobs]
    if not any(demands) or all(crew.capacity is None for crew in problem.crews):
        return
    total = sum(demands)
    node_demand = demands + [0] * (manager.GetNumberOfNodes() - n_jobs)
    callback = routing.RegisterUnaryTransitVector(node_demand)
    capacities = [total if c.capacity is None else c.capacity for c in problem.crews]
    routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, True, "load")


def _drop_penalties(
    problem: Problem, jobs: list[int], max_arc_cost: int, horizon_s: int
) -> dict[int, int]:
    """Lexicographic drop penalties by priority.

    The least urgent class pays more than any detour and lateness one job can cause; each
    more urgent class pays more than all less urgent jobs together, so the search prefers one
    urgent job to any number of less urgent ones.
    """
    base = 2 * max_arc_cost + max(LATENESS_COST_PER_S.values()) * horizon_s + 1
    counts = dict.fromkeys(LATENESS_COST_PER_S, 0)
    for j in jobs:
        counts[problem.jobs[j].priority] += 1
    penalties: dict[int, int] = {}
    below = 0
    for priority in sorted(counts, reverse=True):
        penalties[priority] = base + below
        below += counts[priority] * penalties[priority]
    cap = _MAX_TOTAL_PENALTY // max(1, len(jobs))
    if below > _MAX_TOTAL_PENALTY:
        # Too many jobs for exact lexicographic weights in int64: keep the order and a
        # ratio of at least 2, and rely on the repair pass for the strict rule.
        for priority in sorted(penalties):
            penalties[priority] = max(base, cap >> (2 * (priority - 1)))
    return penalties


def _search_parameters(settings: SearchSettings) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, settings.first_solution
    )
    if settings.metaheuristic == "ITERATED_LOCAL_SEARCH":
        parameters.use_iterated_local_search = True
    else:
        parameters.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, settings.metaheuristic
        )
    parameters.ls_operator_neighbors_ratio = settings.neighbors_ratio
    parameters.ls_operator_min_neighbors = settings.min_neighbors
    return parameters


def _enforce_priority(problem: Problem, orders: list[list[int]], dropped: list[int]) -> None:
    """Swap dropped jobs in place of less urgent served ones until the strict rule holds.

    Each swap serves a more urgent job and drops a less urgent one, so the sequence of served
    priorities improves lexicographically and the loop ends.
    """
    frozen = problem.frozen_owner
    pending = sorted(
        (j for j in dropped if j not in frozen), key=lambda j: problem.jobs[j].priority
    )
    while pending:
        j = pending.pop(0)
        swap = find_priority_swap(problem, orders, j)
        if swap is None:
            continue
        c, position = swap
        replaced = orders[c][position]
        orders[c][position] = j
        dropped.remove(j)
        dropped.append(replaced)
        pending.append(replaced)
        pending.sort(key=lambda k: problem.jobs[k].priority)


def _build_plan(
    problem: Problem,
    orders: list[list[int]],
    dropped: list[int],
    objective: int,
    started: float,
    first_solution_s: float,
) -> RoutePlan:
    routes: list[Route] = []
    for c, order in enumerate(orders):
        route = schedule_route(problem, c, order)
        if route is None:
            # Only a frozen prefix that cannot fit the shift gets here: keep the prefix and
            # report the rest of this route as dropped rather than return a false schedule.
            n_frozen = len(problem.crews[c].frozen_job_ids)
            dropped.extend(order[n_frozen:])
            route = _frozen_only(problem, c, order[:n_frozen])
        routes.append(route)
    dropped_jobs = sorted(
        (
            DroppedJob(problem.jobs[j].id, problem.jobs[j].priority, drop_reason(problem, j))
            for j in dropped
        ),
        key=lambda d: (d.priority, d.job_id),
    )
    return RoutePlan(
        routes=tuple(routes),
        dropped=tuple(dropped_jobs),
        cost=sum(route.cost for route in routes),
        objective=objective,
        solve_time_s=time.monotonic() - started,
        first_solution_s=first_solution_s,
    )


def _frozen_only(problem: Problem, crew_index: int, order: list[int]) -> Route:
    """A route of the frozen visits alone, timed even if it overruns the shift."""
    crew = problem.crews[crew_index]
    relaxed = Problem(
        travel_s=problem.travel_s,
        jobs=problem.jobs,
        crews=(
            *problem.crews[:crew_index],
            type(crew)(
                id=crew.id,
                start_location=crew.start_location,
                shift=type(crew.shift)(crew.shift.start_s, 2**62),
                end_location=crew.end_location,
                skills=crew.skills,
                frozen_job_ids=crew.frozen_job_ids,
            ),
            *problem.crews[crew_index + 1 :],
        ),
        cost=problem.cost,
    )
    route = schedule_route(relaxed, crew_index, order)
    assert route is not None  # no shift end and no capacity: always schedulable
    return route
