"""Ruin-and-recreate polish for plans that serve every job (SISR, ``routing.sisr_kernel``).

OR-Tools finds a good plan fast but stalls on few long routes with wide windows: its moves
keep the number of routes, and a region of five routes is the whole plan (bench/RESULTS.md,
section Routing). The polish takes the plan over for the rest of the time limit and searches
with string removals across routes and cheapest re-insertion, which opens and closes routes.

It runs only where it cannot break the dispatch rules:
- every job is served by the start plan, and only plans serving every job are accepted, so the
  strict urgency rule (never drop a more urgent job for a less urgent one) holds throughout
  (``routing.solver`` polishes a plan that leaves jobs out as the problem of the jobs it
  serves, so the served set stays the search's; the repair pass after it checks the rule);
- the kernel minimises what the OR-Tools model does: the cost matrix plus SLA lateness at
  ``routing.model.lateness_weight`` per second plus each job's ``wait_cost`` per second
  until its service starts;
- each job has at most one time window;
- frozen visits (in progress or locked by a dispatcher) stay first on their crew, in order.

The answer is checked with ``routing.schedule.is_feasible`` route by route and must cost no
more than the start; otherwise the start plan is returned unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from routing import sisr_kernel as kernel
from routing.model import lateness_weight, max_score, route_value
from routing.problem import Crew, Job, Problem, TimeWindow
from routing.schedule import can_serve, is_feasible

IntArray = npt.NDArray[np.int64]
Arrays = tuple[npt.NDArray[np.int64] | npt.NDArray[np.bool_], ...]


@dataclass(frozen=True)
class PolishSettings:
    """Annealing temperatures, as multiples of the start plan's mean leg cost.

    Measured at 5 s on Gehring-Homberger training instances outside the bench's 14
    (bench/RESULTS.md, section Routing).
    """

    temp_start: float = 0.3
    temp_end: float = 0.01
    chunk_s: float = 0.05


def applies(problem: Problem) -> bool:
    """Whether the polish may search this problem (see the module docstring)."""
    return bool(problem.jobs) and all(len(job.time_windows) <= 1 for job in problem.jobs)


@dataclass
class PolishStats:
    """What a polish did, for the bench and the logs."""

    iterations: int = 0
    failed: int = 0
    accepted: int = 0
    start_cost: int = 0
    best_cost: int = 0
    seconds: float = 0.0


def polish(
    problem: Problem,
    orders: Sequence[Sequence[int]],
    *,
    deadline: float,
    seed: int,
    settings: PolishSettings | None = None,
) -> tuple[list[list[int]], PolishStats]:
    """Improve a plan that serves every job until ``deadline`` (a ``time.monotonic`` value).

    Returns job indices per crew (a plan serving the same jobs at no higher cost, or
    ``orders`` unchanged when the polish does not apply) and what the search did.
    """
    start_orders = [list(order) for order in orders]
    served = sorted(j for order in orders for j in order)
    if not applies(problem) or served != list(range(len(problem.jobs))):
        return start_orders, PolishStats()
    settings = settings or PolishSettings()
    arrays = _Arrays.build(problem, start_orders)
    if arrays is None or not len(arrays.aux[2]):
        return start_orders, PolishStats()
    kernel.seed_random(seed)
    current = int(arrays.state[5].sum())
    best = start_cost = current
    stats = PolishStats()
    legs = len(problem.jobs) + sum(1 for order in orders if order)
    mean_leg = max(1.0, current / max(1, legs))
    t_start, t_end = settings.temp_start * mean_leg, settings.temp_end * mean_leg
    began = time.monotonic()
    span = max(1e-3, deadline - began)
    chunk = 50
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        done_from = (now - began) / span
        done_to = min(1.0, done_from + settings.chunk_s / span)
        temp_from = t_start * (t_end / t_start) ** done_from
        temp_to = t_start * (t_end / t_start) ** done_to
        current, best, failed, accepted = kernel.search(
            chunk,
            temp_from,
            temp_to,
            current,
            best,
            arrays.state,
            arrays.problem,
            arrays.aux,
            arrays.backup,
            arrays.best,
        )
        stats.iterations += chunk
        stats.failed += failed
        stats.accepted += accepted
        took = time.monotonic() - now
        per_iteration = took / chunk
        left = deadline - time.monotonic()
        chunk = max(10, int(min(settings.chunk_s, left) / max(per_iteration, 1e-7)))
    stats.start_cost, stats.best_cost = start_cost, best
    stats.seconds = time.monotonic() - began
    return _checked(problem, start_orders, arrays.best_orders()), stats


def _checked(problem: Problem, start: list[list[int]], found: list[list[int]]) -> list[list[int]]:
    """The polished plan if it is feasible, complete and no dearer than the start."""
    if sorted(j for order in found for j in order) != list(range(len(problem.jobs))):
        return start
    if not all(is_feasible(problem, c, order) for c, order in enumerate(found)):
        return start
    if plan_cost(problem, found) > plan_cost(problem, start):
        return start
    return found


def plan_cost(problem: Problem, orders: Sequence[Sequence[int]]) -> int:
    """Legs plus weighted lateness and wait, the objective the kernel minimises."""
    top = max_score(problem)
    total = 0
    for c, order in enumerate(orders):
        value = route_value(problem, c, order, top)
        assert value is not None  # callers pass feasible orders
        total += value
    return total


@dataclass
class _Arrays:
    """The kernel's inputs as tuples of arrays (numba takes tuples, not objects)."""

    problem: Arrays
    state: tuple[IntArray, ...]
    aux: tuple[IntArray, ...]
    backup: tuple[IntArray, ...]
    best: tuple[IntArray, ...]

    @classmethod
    def build(cls, problem: Problem, orders: list[list[int]]) -> _Arrays | None:
        """Arrays for ``problem`` holding ``orders``; None if the kernel finds them
        infeasible (they come from a checked plan, so that would be a bug upstream)."""
        n, m = len(problem.jobs), len(problem.crews)
        frozen = problem.frozen_owner
        windows = [_window(job, j in frozen) for j, job in enumerate(problem.jobs)]
        locations = np.array([job.location for job in problem.jobs], dtype=np.int64)
        cost = np.array(problem.cost, dtype=np.int64)
        top = max_score(problem)
        weights = [
            0 if job.sla_deadline_s is None or j in frozen else lateness_weight(job, top)
            for j, job in enumerate(problem.jobs)
        ]
        compat = np.array(
            [[can_serve(problem, c, j) for j in range(n)] for c in range(m)], dtype=np.bool_
        ).reshape(m, n)
        arrays_problem = (
            locations,
            np.array([job.service_s for job in problem.jobs], dtype=np.int64),
            np.array([w.start_s for w in windows], dtype=np.int64),
            np.array([w.end_s for w in windows], dtype=np.int64),
            np.array([job.demand for job in problem.jobs], dtype=np.int64),
            np.array([crew.start_location for crew in problem.crews], dtype=np.int64),
            np.array([_end(crew) for crew in problem.crews], dtype=np.int64),
            np.array([crew.shift.start_s for crew in problem.crews], dtype=np.int64),
            np.array([crew.shift.end_s for crew in problem.crews], dtype=np.int64),
            np.array([_capacity(crew) for crew in problem.crews], dtype=np.int64),
            np.array(problem.travel_s, dtype=np.int64),
            cost,
            compat,
            np.array([_deadline(job, j in frozen) for j, job in enumerate(problem.jobs)]),
            np.array([weights[j] for j in range(n)], dtype=np.int64),
            np.array(
                [0 if j in frozen else job.wait_cost for j, job in enumerate(problem.jobs)],
                dtype=np.int64,
            ),
        )
        between = cost[np.ix_(locations, locations)].astype(np.float64)
        np.fill_diagonal(between, np.inf)
        adjacent = np.argsort(between, axis=1, kind="stable")[:, : max(0, n - 1)]
        nfz = np.array([len(crew.frozen_job_ids) for crew in problem.crews], dtype=np.int64)
        route_of = np.full(n, -1, dtype=np.int64)
        for c, order in enumerate(orders):
            route_of[order] = c
        aux = (
            nfz,
            np.ascontiguousarray(adjacent, dtype=np.int64),
            np.array([j for j in range(n) if j not in frozen], dtype=np.int64),
            route_of,
            cost[problem.crews[0].start_location, locations].astype(np.int64),
            _crew_classes(problem, compat),
            np.array(
                [int(any(weights) or any(job.wait_cost for job in problem.jobs))], dtype=np.int64
            ),
        )
        routes = np.full((m, n + 1), -1, dtype=np.int64)
        lengths = np.zeros(m, dtype=np.int64)
        for c, order in enumerate(orders):
            routes[c, : len(order)] = order
            lengths[c] = len(order)
        state = (
            routes,
            lengths,
            np.zeros((m, n + 1), dtype=np.int64),
            np.zeros((m, n + 1), dtype=np.int64),
            np.zeros(m, dtype=np.int64),
            np.zeros(m, dtype=np.int64),
        )
        if not all(kernel.recompute(c, state, arrays_problem) for c in range(m)):
            return None
        backup = (routes.copy(), lengths.copy(), state[5].copy())
        return cls(arrays_problem, state, aux, backup, (routes.copy(), lengths.copy()))

    def best_orders(self) -> list[list[int]]:
        routes, lengths = self.best
        return [[int(j) for j in routes[c, : lengths[c]]] for c in range(len(lengths))]


def _window(job: Job, frozen: bool) -> TimeWindow:
    """The job's one window; none for frozen visits, which keep their place whatever the
    clock says (as ``routing.schedule`` times them)."""
    if frozen or not job.time_windows:
        return TimeWindow(0, kernel.BIG)
    return job.time_windows[0]


def _deadline(job: Job, frozen: bool) -> int:
    """The SLA deadline, priced as in ``routing.model`` (frozen visits are not priced)."""
    return kernel.BIG if frozen or job.sla_deadline_s is None else job.sla_deadline_s


def _end(crew: Crew) -> int:
    return -1 if crew.end_location is None else crew.end_location


def _capacity(crew: Crew) -> int:
    return kernel.BIG if crew.capacity is None else crew.capacity


def _crew_classes(problem: Problem, compat: npt.NDArray[np.bool_]) -> IntArray:
    """Crews that are interchangeable share a class: an empty one of each is enough to try."""
    classes: dict[tuple[object, ...], int] = {}
    out = np.zeros(len(problem.crews), dtype=np.int64)
    for c, crew in enumerate(problem.crews):
        key = (
            crew.start_location,
            crew.end_location,
            crew.shift,
            crew.capacity,
            crew.frozen_job_ids,
            compat[c].tobytes(),
        )
        out[c] = classes.setdefault(key, len(classes))
    return out


def _warm_up() -> None:
    """Compile the kernel (or load it from numba's on-disk cache) on a two-job problem.

    Run at import, so the first plan's time limit is not spent compiling: a cold compile
    takes about 20 s once per machine and version, a load from the cache well under 1 s.
    """
    jobs = (Job("a", 1, time_windows=(TimeWindow(0, 100),)), Job("b", 2))
    crew = Crew("c", 0, TimeWindow(0, 1_000), end_location=0, capacity=5)
    travel = np.array([[0, 3, 4], [3, 0, 5], [4, 5, 0]], dtype=np.int64)
    problem = Problem(travel_s=travel, jobs=jobs, crews=(crew, crew.__class__("d", 0, crew.shift)))
    arrays = _Arrays.build(problem, [[0, 1], []])
    assert arrays is not None
    kernel.seed_random(0)
    cost = int(arrays.state[5].sum())
    kernel.search(
        2,
        1.0,
        0.1,
        cost,
        cost,
        arrays.state,
        arrays.problem,
        arrays.aux,
        arrays.backup,
        arrays.best,
    )


_warm_up()
