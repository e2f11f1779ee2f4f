"""Route planning for crews: problems and plans as dataclasses, OR-Tools underneath.

Pure by design (DESIGN.md section 1): numbers and dataclasses in, a plan out; no database and
no web, so it runs in a worker process and on benchmark instances alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from routing.check import check_plan
from routing.plan import DroppedJob, Route, RoutePlan, Visit
from routing.problem import Crew, Job, Location, Problem, TimeWindow

if TYPE_CHECKING:
    from routing.solver import SearchSettings, solve


def __getattr__(name: str) -> Any:
    """``solve`` and ``SearchSettings`` load the solver (OR-Tools, and the numba polish with
    its LLVM) on first use only: every process that imports any part of ``routing`` ran this
    module, and the web workers, the timers and the CLI, which never solve, carried about
    170 MB each for it (bench/RESULTS.md, soak)."""
    if name in ("solve", "SearchSettings"):
        from routing import solver

        return getattr(solver, name)
    msg = f"module 'routing' has no attribute {name!r}"
    raise AttributeError(msg)


__all__ = [
    "Crew",
    "DroppedJob",
    "Job",
    "Location",
    "Problem",
    "Route",
    "RoutePlan",
    "SearchSettings",
    "TimeWindow",
    "Visit",
    "check_plan",
    "solve",
]
