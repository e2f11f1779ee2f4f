"""The solve, run in a separate worker process so the web server keeps answering.

This module imports only ``routing`` (pure: numpy, scipy, OR-Tools), so a fresh worker
process starts without SQLAlchemy, FastAPI or a database connection. The solver itself
(OR-Tools and the numba polish, about 170 MB) is imported in the worker only: the web
process that submits the solves never loads it. The pool is created on
first use with the ``spawn`` start method: forking a server that holds database connections
and threads would copy both into the child (see ``bench/RESULTS.md``, section Dispatch, for the
start-up cost measured).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from routing.check import check_plan
from routing.plan import RoutePlan
from routing.problem import Problem

START_METHOD = "spawn"

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


@dataclass(frozen=True)
class SolveResult:
    """The plan, the auditor's verdict on it, and the worker's own wall time."""

    plan: RoutePlan
    violations: list[str]
    worker_s: float


def solve_and_check(problem: Problem, time_limit_s: float, seed: int) -> SolveResult:
    """Solve, then audit with ``routing.check.check_plan`` (one checker everywhere)."""
    from routing.solver import solve  # in the worker process only, see the module docstring

    started = time.perf_counter()
    plan = solve(problem, time_limit_s=time_limit_s, seed=seed)
    violations = check_plan(problem, plan)
    return SolveResult(plan, violations, time.perf_counter() - started)


def _warm() -> float:
    """Load the solver in the worker, so the first plan does not pay for its import."""
    import routing.solver  # noqa: F401

    return time.perf_counter()


def pool() -> ProcessPoolExecutor:
    """The process-wide pool (one worker: solves queue rather than share two cores)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context(START_METHOD)
            )
        return _pool


def submit(problem: Problem, *, time_limit_s: float, seed: int = 0) -> Future[SolveResult]:
    """Start a solve in the worker; a pool broken by a crashed worker is replaced once."""
    global _pool
    try:
        return pool().submit(solve_and_check, problem, time_limit_s, seed)
    except BrokenProcessPool:
        with _pool_lock:
            _pool = None
        return pool().submit(solve_and_check, problem, time_limit_s, seed)


def warm_up() -> float:
    """Start the worker now (it imports the solver); returns the seconds it took."""
    started = time.perf_counter()
    pool().submit(_warm).result()
    return time.perf_counter() - started


def start_in_background() -> None:
    """Start the worker without waiting, so the first plan does not pay its start-up."""
    pool().submit(_warm)


def shutdown() -> None:
    """Stop the worker (tests and the benchmark call this at the end)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None
