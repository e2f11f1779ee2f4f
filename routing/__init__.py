"""Route planning for crews: problems and plans as dataclasses, OR-Tools underneath.

Pure by design (DESIGN.md section 1): numbers and dataclasses in, a plan out; no database and
no web, so it runs in a worker process and on benchmark instances alike.
"""

from routing.check import check_plan
from routing.plan import DroppedJob, Route, RoutePlan, Visit
from routing.problem import Crew, Job, Location, Problem, TimeWindow
from routing.solver import SearchSettings, solve

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
