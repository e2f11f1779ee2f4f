"""The OR-Tools model: one routing model per (sub)problem, built from numpy slices.

Urgency is lexicographic: the penalty for dropping a job exceeds the whole penalty of every
less urgent job plus any route cost it could save, so no amount of saved driving or lower
priority work buys leaving an urgent job out. Inside a priority class penalties and lateness
weights grow with the job's urgency score.

The model does not price the customers' wait (``Job.wait_cost``). A second time dimension
carrying it (OR-Tools allows one soft bound per cumul, and the time dimension's is the SLA
deadline) was tried: on the 300- and 1,000-job dispatch storms at 5 s its plans were no
better on the wait, within the run-to-run noise of a time-limited search, while the polish
pricing it cut the priority-1 jobs' mean start from hours to minutes. So the wait is priced
by the polish (``routing.sisr``, also run on the served jobs of a plan that leaves some out)
and by the idle crew pass (``routing.idle``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from routing.plan import Visit
from routing.problem import Job, Problem
from routing.schedule import can_serve, schedule_route

LATENESS_COST_PER_S = {1: 8, 2: 4, 3: 2, 4: 1}
"""Cost of one second past the SLA deadline, by priority, in units of the cost matrix."""

_MAX_TOTAL_PENALTY = 2**61
"""Keeps the sum of all drop penalties clear of int64 overflow inside OR-Tools."""


@dataclass(frozen=True)
class SearchSettings:
    """How OR-Tools searches; the defaults are the measured best (bench/routing.py).

    Parameters
    ----------
    first_solution
        Name of a ``FirstSolutionStrategy``, or None to choose by the problem (measured):
        with several priority classes, local cheapest insertion, which inserts jobs in
        order of drop penalty, urgent first (on the 1,000-job storm: first plan in about
        1.2-2 s with 1-2 priority-2 jobs dropped, against 1.7-2.3 s and 4-6 for parallel
        cheapest insertion); with one class (VRPTW benchmarks), parallel cheapest
        insertion, which builds all routes at once (R201: 1,219 against 1,292 at 5 s).
    metaheuristic
        Name of a ``LocalSearchMetaheuristic``, or ``"ITERATED_LOCAL_SEARCH"`` for OR-Tools'
        ruin-and-recreate iterated local search.
    neighbors_ratio, min_neighbors
        Fraction of nearest neighbours the local search operators consider (at least
        ``min_neighbors``); below 1 it speeds up large instances at a small loss in depth.
    insertion_neighbors_ratio, insertion_min_neighbors
        Candidate positions the cheapest-insertion first solution looks at per job; the
        nearest 10% (at least 30) keeps the first plan of 1,000 jobs well under 2 s.
    sisr_max_sequence, sisr_avg_removed
        Ruin sizes of the iterated local search (string removals).
    global_share
        Share of the time given to the search over the whole problem; the rest goes to
        re-solving regions (``routing.decompose``). 1 turns decomposition off.
    region_routes, region_dropped, region_step_s, region_metaheuristic
        Routes and nearby dropped jobs per region, seconds spent on each region, and the
        metaheuristic used there.
    long_routes, long_route_first_solution, long_route_metaheuristic
        Few long routes (Solomon type 2): a region of ``region_routes`` would be the whole
        plan, and parallel cheapest insertion opens fewer routes (5 to 9) than the best plans
        have (9 to 12). The long-route search gives the whole time to one search from path
        cheapest arc (more, shorter routes). None turns it on by ``routes_lower_bound`` (at
        most ``region_routes`` + 1 routes) for problems with one priority class. Off by
        default: at 5 s it helps RC2 and R2 instances (RC2_2_1 1.06 -> 1.03 of PyVRP) but some
        seeds of clustered ones start so badly that they never recover (C2_2_1 up to 1.47),
        and with OR-Tools' SISR iterated local search instead of GLS it is worse still
        (bench/RESULTS.md, section Routing).
    polish, polish_share
        Hand the plan to the SISR ruin-and-recreate polish (``routing.sisr``) after
        ``polish_share`` of the time when the problem allows it (at most one window per job;
        SLA lateness is priced as in the model) and the OR-Tools plan serves every job; the
        regions run otherwise. It
        closes most of the gap on long routes (R2_2_1 1.08 -> 1.02-1.04 of PyVRP at 5 s).
    served_polish_share
        When the plan leaves jobs out and some job's wait is priced (dispatch), the share of
        the time after the global search that the polish gets on the jobs the regions serve,
        after them: the only search that prices the wait. Measured on the 300- and 1,000-job
        dispatch storms at 5 s (bench/RESULTS.md, section Dispatch): priority-1 jobs start
        after 5-58 min on average instead of 92-224, with as many jobs served. 0 turns it off.
    """

    first_solution: str | None = None
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    neighbors_ratio: float = 1.0
    min_neighbors: int = 40
    insertion_neighbors_ratio: float = 0.1
    insertion_min_neighbors: int = 30
    sisr_max_sequence: int = 10
    sisr_avg_removed: int = 10
    global_share: float = 0.4
    region_routes: int = 5
    region_dropped: int = 10
    region_step_s: float = 0.8
    region_metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    long_routes: bool | None = False
    long_route_first_solution: str = "PATH_CHEAPEST_ARC"
    long_route_metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    polish: bool = True
    polish_share: float = 0.3
    served_polish_share: float = 0.5


def routes_lower_bound(problem: Problem) -> int:
    """Crews needed at least, by time and by load, ignoring windows.

    Time: the service of every job plus the drive from its nearest other job, over the
    longest shift. Cheap, and far enough apart on the benchmarks (2-6 on Solomon type 2,
    8 and more on type 1) to tell long routes from short ones.
    """
    if not problem.jobs:
        return 0
    locations = np.array([job.location for job in problem.jobs], dtype=np.int64)
    between = problem.travel_s[np.ix_(locations, locations)].astype(float)
    np.fill_diagonal(between, np.inf)
    nearest = between.min(axis=1) if len(locations) > 1 else np.zeros(1)
    work_s = sum(job.service_s for job in problem.jobs) + float(nearest.sum())
    shift_s = max(1, max(crew.shift.end_s - crew.shift.start_s for crew in problem.crews))
    capacity = max((crew.capacity or 0) for crew in problem.crews)
    by_load = sum(job.demand for job in problem.jobs) / capacity if capacity else 0.0
    return int(max(work_s / shift_s, by_load)) + 1


def long_route_settings(problem: Problem, settings: SearchSettings) -> SearchSettings:
    """The settings to search with: the long-route ones when the plan has few long routes."""
    long = settings.long_routes
    if long is None:
        one_class = len({job.priority for job in problem.jobs}) <= 1
        long = one_class and routes_lower_bound(problem) <= settings.region_routes + 1
    if not long:
        return settings
    return dataclasses.replace(
        settings,
        first_solution=settings.long_route_first_solution,
        metaheuristic=settings.long_route_metaheuristic,
        global_share=1.0,
    )


@dataclass(frozen=True)
class Layout:
    """Node layout: jobs first, then one start and one end node per crew."""

    job_of_node: npt.NDArray[np.int64]
    modelled_jobs: list[int]
    unmodelled_jobs: list[int]


def run_model(
    problem: Problem,
    *,
    time_limit_s: float,
    settings: SearchSettings,
    seed: int = 0,
    initial_orders: Sequence[Sequence[int]] | None = None,
    on_first_solution: Callable[[], None] | None = None,
    soft_limit_s: float | None = None,
) -> tuple[list[list[int]], int] | None:
    """Solve ``problem`` with OR-Tools; job orders per crew and the objective, or None.

    With ``initial_orders`` the search starts from them (they must be feasible), so the
    answer is never worse than the start under the model's objective. ``soft_limit_s`` ends
    the search at the first solution found after that many seconds: unlike the hard
    ``time_limit_s`` it never ends a search that has no solution yet.
    """
    model = layout(problem, seed)
    if not model.modelled_jobs:
        return [[problem.job_index[j] for j in crew.frozen_job_ids] for crew in problem.crews], 0
    started = time.monotonic()
    routing, manager = build_routing_model(problem, model)
    parameters = _search_parameters(settings, problem)
    remaining_s = time_limit_s - (time.monotonic() - started)
    parameters.time_limit.FromMilliseconds(max(10, int(remaining_s * 1000)))
    found: list[bool] = []

    def on_solution() -> None:
        if not found:
            found.append(True)
            if on_first_solution is not None:
                on_first_solution()

    routing.AddAtSolutionCallback(on_solution)
    if soft_limit_s is not None:
        soft_deadline = started + soft_limit_s
        # Checked by OR-Tools between moves, so the search stops on time, but only once it
        # has a solution to return.
        routing.AddSearchMonitor(
            routing.solver().CustomLimit(lambda: bool(found) and time.monotonic() > soft_deadline)
        )
    if initial_orders is None:
        solution = routing.SolveWithParameters(parameters)
    else:
        routing.CloseModelWithParameters(parameters)
        node_of_job = {j: node for node, j in enumerate(model.modelled_jobs)}
        routes = [[manager.NodeToIndex(node_of_job[j]) for j in order] for order in initial_orders]
        initial = routing.ReadAssignmentFromRoutes(routes, True)
        if initial is None:
            return None
        solution = routing.SolveFromAssignmentWithParameters(initial, parameters)
    if solution is None:
        return None
    orders: list[list[int]] = []
    for v in range(len(problem.crews)):
        order: list[int] = []
        index = solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(index):
            order.append(int(model.job_of_node[manager.IndexToNode(index)]))
            index = solution.Value(routing.NextVar(index))
        orders.append(order)
    return orders, int(solution.ObjectiveValue())


def layout(problem: Problem, seed: int) -> Layout:
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
    return Layout(
        job_of_node=np.array(modelled, dtype=np.int64),
        modelled_jobs=modelled,
        unmodelled_jobs=unmodelled,
    )


def build_routing_model(
    problem: Problem, model: Layout, *, penalties: dict[int, int] | None = None
) -> tuple[pywrapcp.RoutingModel, pywrapcp.RoutingIndexManager]:
    """The OR-Tools model of the jobs in ``model``; ``penalties`` overrides the drop
    penalties by job index (the benchmark's baseline uses this)."""
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
    if penalties is None:
        penalties = _drop_penalties(problem, jobs, int(cost.max(initial=0)), horizon_s)
    top_score = max_score(problem)
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
                index, job.sla_deadline_s, lateness_weight(job, top_score)
            )
        allowed = [v for v in range(n_crews) if can_serve(problem, v, j)]
        if len(allowed) < n_crews:
            # -1 is the vehicle of an unperformed (dropped) visit.
            routing.VehicleVar(index).SetValues([-1, *allowed])
        routing.AddDisjunction([index], penalties[j])
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


def lateness_weight(job: Job, max_score: float) -> int:
    """Cost of one second late for ``job``: by its class, and up to twice that by its score."""
    base = LATENESS_COST_PER_S[job.priority]
    share = job.score / max_score if max_score > 0 else 0.0
    return max(1, round(base * (1 + share)))


def max_score(problem: Problem) -> float:
    return max((job.score for job in problem.jobs), default=0.0)


def timing_cost(job: Job, visit: Visit, top_score: float) -> int:
    """What the timing of one visit adds to the objective: its SLA lateness and its wait."""
    return visit.lateness_s * lateness_weight(job, top_score) + job.wait_cost * visit.start_s


def route_value(problem: Problem, crew: int, order: Sequence[int], top_score: float) -> int | None:
    """Legs, lateness and wait of one crew's route, frozen visits not priced (as in the
    model, which pins them without windows or deadlines); None when it cannot be timed.
    What the polish and the idle-crew pass minimise, route by route."""
    route = schedule_route(problem, crew, order)
    if route is None:
        return None
    n_frozen = len(problem.crews[crew].frozen_job_ids)
    return route.cost + sum(
        timing_cost(problem.jobs[problem.job_index[visit.job_id]], visit, top_score)
        for visit in route.visits[n_frozen:]
    )


def _drop_penalties(
    problem: Problem, jobs: list[int], max_arc_cost: int, horizon_s: int
) -> dict[int, int]:
    """Drop penalties per job: lexicographic by priority, growing with the score inside one.

    The least urgent class pays more than any detour and lateness one job can cause; each
    more urgent class pays more than all less urgent jobs together, so the search prefers one
    urgent job to any number of less urgent ones. Inside a class a job's penalty grows with
    its score up to twice the class's base, so a one-customer fault is not worth as much as
    the hospital feeder of the same class.
    """
    top = max_score(problem)
    base = 2 * max_arc_cost + 2 * max(LATENESS_COST_PER_S.values()) * horizon_s + 1
    by_class: dict[int, list[int]] = {p: [] for p in LATENESS_COST_PER_S}
    for j in jobs:
        by_class[problem.jobs[j].priority].append(j)
    penalties: dict[int, int] = {}
    below = 0
    for priority in sorted(by_class, reverse=True):
        floor = base + below
        for j in by_class[priority]:
            share = problem.jobs[j].score / top if top > 0 else 0.0
            penalties[j] = floor + int(floor * share)
        below += sum(penalties[j] for j in by_class[priority])
    if below > _MAX_TOTAL_PENALTY:
        # Too many jobs for exact lexicographic weights in int64: keep the order (classes a
        # factor of 4 apart, scores inside), and rely on the repair pass for the strict rule.
        cap = _MAX_TOTAL_PENALTY // max(1, 3 * len(jobs))
        for j in jobs:
            job = problem.jobs[j]
            floor = max(base, cap >> (2 * (job.priority - 1)))
            share = job.score / top if top > 0 else 0.0
            penalties[j] = floor + int(floor * share * 0.5)
    return penalties


def problem_penalties(problem: Problem) -> dict[int, int]:
    """The drop penalty of every job (by index) that the solver uses on the whole problem."""
    cost = problem.cost if problem.cost is not None else problem.travel_s
    horizon_s = max(crew.shift.end_s for crew in problem.crews)
    return _drop_penalties(
        problem, list(range(len(problem.jobs))), int(cost.max(initial=0)), horizon_s
    )


def _search_parameters(settings: SearchSettings, problem: Problem) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    first_solution = settings.first_solution
    if first_solution is None:
        several_classes = len({job.priority for job in problem.jobs}) > 1
        first_solution = (
            "LOCAL_CHEAPEST_INSERTION" if several_classes else "PARALLEL_CHEAPEST_INSERTION"
        )
    parameters.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution
    )
    if settings.metaheuristic == "ITERATED_LOCAL_SEARCH":
        parameters.use_iterated_local_search = True
        ils = parameters.iterated_local_search_parameters
        ruin_recreate = ils.ruin_recreate_parameters
        # SISR (string removals, Christiaens and Vanden Berghe) is the ruin that works on
        # VRPTW; the values are the paper's.
        sisr = ruin_recreate.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size = settings.sisr_max_sequence
        sisr.avg_num_removed_visits = settings.sisr_avg_removed
        sisr.bypass_factor = 0.01
        ruin_recreate.ruin_composition_strategy = (
            routing_ils_pb2.RuinCompositionStrategy.RUN_ALL_SEQUENTIALLY
        )
        annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
        annealing.automatic_temperatures = True
    else:
        parameters.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, settings.metaheuristic
        )
    insertion = parameters.global_cheapest_insertion_first_solution_parameters
    insertion.neighbors_ratio = settings.insertion_neighbors_ratio
    insertion.min_neighbors = settings.insertion_min_neighbors
    parameters.ls_operator_neighbors_ratio = settings.neighbors_ratio
    parameters.ls_operator_min_neighbors = settings.min_neighbors
    return parameters
