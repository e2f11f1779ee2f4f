"""The plan the solver returns: ordered visits per crew with times, and the dropped jobs.

Plans are values: dispatch stores them, the map draws them and ``check_plan`` audits them. They
validate their own arithmetic when built so a broken plan is caught where it is made.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Visit:
    """One job on a crew's route, with the times of the earliest schedule for the order.

    ``travel_s`` is the drive from the previous stop; ``straight_line`` flags a leg whose time
    is an estimate because one end is off the road network.
    """

    job_id: str
    location: int
    arrival_s: int
    start_s: int
    end_s: int
    travel_s: int
    lateness_s: int = 0
    straight_line: bool = False

    def __post_init__(self) -> None:
        for name in ("arrival_s", "travel_s", "lateness_s"):
            if getattr(self, name) < 0:
                msg = f"visit {self.job_id!r}: {name}={getattr(self, name)} is negative"
                raise ValueError(msg)
        if self.start_s < self.arrival_s:
            msg = (
                f"visit {self.job_id!r}: start_s={self.start_s} is before "
                f"arrival_s={self.arrival_s}; service cannot start before the crew arrives"
            )
            raise ValueError(msg)
        if self.end_s < self.start_s:
            msg = f"visit {self.job_id!r}: end_s={self.end_s} is before start_s={self.start_s}"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Route:
    """A crew's day: departure, visits in order, and return (or the last visit's end)."""

    crew_id: str
    departure_s: int
    visits: tuple[Visit, ...]
    return_s: int
    return_travel_s: int
    cost: int

    def __post_init__(self) -> None:
        if self.departure_s < 0 or self.return_travel_s < 0 or self.cost < 0:
            msg = (
                f"route {self.crew_id!r}: departure_s={self.departure_s}, "
                f"return_travel_s={self.return_travel_s} and cost={self.cost} must be >= 0"
            )
            raise ValueError(msg)
        last = self.visits[-1].end_s if self.visits else self.departure_s
        if self.return_s < last:
            msg = f"route {self.crew_id!r}: return_s={self.return_s} is before the last stop"
            raise ValueError(msg)

    @property
    def job_ids(self) -> list[str]:
        """Job ids in visiting order."""
        return [visit.job_id for visit in self.visits]

    @property
    def travel_s(self) -> int:
        """Driving time of the whole route, including the return to the depot."""
        return sum(visit.travel_s for visit in self.visits) + self.return_travel_s

    @property
    def lateness_s(self) -> int:
        """Sum of SLA lateness over the route's visits."""
        return sum(visit.lateness_s for visit in self.visits)


@dataclass(frozen=True, slots=True)
class DroppedJob:
    """A job left out of the plan, with the reason a dispatcher can act on."""

    job_id: str
    priority: int
    reason: str


@dataclass(frozen=True)
class RoutePlan:
    """The solver's answer.

    Parameters
    ----------
    routes
        One route per crew, in the problem's crew order (empty routes included).
    dropped
        Jobs not served, most urgent first.
    cost
        Sum of the problem's cost matrix over the routes (travel seconds by default).
    objective
        What the solver minimised: cost, SLA lateness costs and drop penalties.
    solve_time_s, first_solution_s
        Wall time of the whole solve and until the first complete plan.
    """

    routes: tuple[Route, ...]
    dropped: tuple[DroppedJob, ...]
    cost: int
    objective: int
    solve_time_s: float = 0.0
    first_solution_s: float = 0.0

    def __post_init__(self) -> None:
        if self.cost < 0:
            msg = f"plan cost={self.cost} is negative"
            raise ValueError(msg)
        if self.solve_time_s < 0 or self.first_solution_s < 0:
            msg = (
                f"solve_time_s={self.solve_time_s} and first_solution_s="
                f"{self.first_solution_s} must be >= 0"
            )
            raise ValueError(msg)
        seen: set[str] = set()
        for job_id in [v.job_id for r in self.routes for v in r.visits] + [
            d.job_id for d in self.dropped
        ]:
            if job_id in seen:
                msg = f"job {job_id!r} appears twice in the plan"
                raise ValueError(msg)
            seen.add(job_id)

    @property
    def travel_s(self) -> int:
        """Total driving time over all crews."""
        return sum(route.travel_s for route in self.routes)

    @property
    def lateness_s(self) -> int:
        """Total SLA lateness over all visits."""
        return sum(route.lateness_s for route in self.routes)

    @property
    def vehicles_used(self) -> int:
        """Crews with at least one visit."""
        return sum(1 for route in self.routes if route.visits)

    def dropped_by_priority(self) -> dict[int, int]:
        """Count of dropped jobs per priority class (1..4)."""
        counts = dict.fromkeys((1, 2, 3, 4), 0)
        for job in self.dropped:
            counts[job.priority] += 1
        return counts
