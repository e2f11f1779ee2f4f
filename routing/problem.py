"""The routing problem: locations, travel times, jobs and crews.

Everything here is plain numbers and frozen dataclasses, validated when built, so a bad input
fails at the boundary with a message that names the bad value instead of deep inside the
solver. Times are integer seconds on one clock chosen by the caller (for example seconds since
the start of the storm shift); locations are indices into the travel time matrix.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PRIORITIES = (1, 2, 3, 4)
"""1 = critical (hazard, hospital, life support) ... 4 = low."""

EARTH_RADIUS_M = 6_371_008.8

MAX_WAIT_COST = 1_000
"""A bound on ``Job.wait_cost`` that keeps a day's wait of every job clear of int64 sums."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An interval of allowed times, both ends included.

    For a job it bounds the start of service; for a crew it is the shift, bounding both the
    departure from the start location and the arrival at the end location.
    """

    start_s: int
    end_s: int

    def __post_init__(self) -> None:
        if self.start_s < 0:
            msg = f"time window start_s={self.start_s} is negative; times are seconds >= 0"
            raise ValueError(msg)
        if self.end_s < self.start_s:
            msg = (
                f"time window end_s={self.end_s} is before start_s={self.start_s}; "
                "give the window as (start, end) with start <= end"
            )
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class Location:
    """A named point, kept so plans can be drawn on the map and files can name places."""

    id: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Job:
    """One visit to make: a repair, a patrol, a switching order.

    Parameters
    ----------
    id
        Unique name, echoed in the plan.
    location
        Index into the travel time matrix.
    service_s
        Time on site.
    time_windows
        Allowed intervals for the start of service; several are allowed (an appointment in the
        morning or the afternoon). Empty means any time within the crew's shift.
    priority
        1 = critical ... 4 = low. Strict: a job is never dropped to serve a lower priority one.
    score
        Urgency within the priority class (customers out, critical customers, hazard,
        waiting): of two jobs of one class the higher score is served first, and the same
        strict rule holds on ``(priority, score)``. Drop penalties and lateness weights
        grow with it.
    skills
        Every one of these must be held by the crew that serves the job.
    sla_deadline_s
        Soft latest start of service; lateness costs more the more urgent the job.
    demand
        Load taken from the crew's capacity (materials, for example transformers).
    crews
        Only these crews (by id) may serve the job, for example the crew a dispatcher locked
        it to; empty means any crew with the skills.
    wait_cost
        Cost of each second from the plan's start (second 0) to the start of service, in
        units of the cost matrix: the customers' wait (customer-minutes without power)
        priced against driving. Without it only lateness past ``sla_deadline_s`` counts, and
        a job due in two hours may wait behind another crew's work while a qualified crew
        stands idle. 0 (the default, and the VRPTW benchmarks') leaves the wait unpriced.
    """

    id: str
    location: int
    service_s: int = 0
    time_windows: tuple[TimeWindow, ...] = ()
    priority: int = 3
    skills: frozenset[str] = frozenset()
    sla_deadline_s: int | None = None
    demand: int = 0
    score: float = 0.0
    crews: frozenset[str] = frozenset()
    wait_cost: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.score) and self.score >= 0):
            msg = f"job {self.id!r}: score={self.score} must be a finite number >= 0"
            raise ValueError(msg)
        if self.location < 0:
            msg = f"job {self.id!r}: location={self.location} is negative; use a matrix index"
            raise ValueError(msg)
        if self.service_s < 0:
            msg = f"job {self.id!r}: service_s={self.service_s} is negative"
            raise ValueError(msg)
        if self.priority not in PRIORITIES:
            msg = f"job {self.id!r}: priority={self.priority} must be one of {PRIORITIES}"
            raise ValueError(msg)
        if self.sla_deadline_s is not None and self.sla_deadline_s < 0:
            msg = f"job {self.id!r}: sla_deadline_s={self.sla_deadline_s} is negative"
            raise ValueError(msg)
        if self.demand < 0:
            msg = f"job {self.id!r}: demand={self.demand} is negative"
            raise ValueError(msg)
        if not 0 <= self.wait_cost <= MAX_WAIT_COST:
            msg = f"job {self.id!r}: wait_cost={self.wait_cost} must be 0..{MAX_WAIT_COST}"
            raise ValueError(msg)
        windows = sorted(self.time_windows, key=lambda w: w.start_s)
        for before, after in itertools.pairwise(windows):
            if after.start_s <= before.end_s:
                msg = (
                    f"job {self.id!r}: time windows {before} and {after} overlap; "
                    "merge them into one window"
                )
                raise ValueError(msg)
        object.__setattr__(self, "time_windows", tuple(windows))
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "crews", frozenset(self.crews))

    @property
    def rank(self) -> tuple[int, float]:
        """Sort key, most urgent first: the priority class, then the score within it."""
        return (self.priority, -self.score)


@dataclass(frozen=True, slots=True)
class Crew:
    """A crew (vehicle) available for the plan.

    Parameters
    ----------
    start_location
        Where the crew is now (matrix index).
    end_location
        Depot to return to, or None to end the route at the last job.
    shift
        Earliest departure and latest return.
    skills
        Skills held by the crew.
    capacity
        Load the crew can carry, or None when load does not limit it.
    frozen_job_ids
        Visits in progress or locked by the dispatcher: they stay first, in this order, on this
        crew, whatever their time windows say.
    """

    id: str
    start_location: int
    shift: TimeWindow
    end_location: int | None = None
    skills: frozenset[str] = frozenset()
    capacity: int | None = None
    frozen_job_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.start_location < 0:
            msg = f"crew {self.id!r}: start_location={self.start_location} is negative"
            raise ValueError(msg)
        if self.end_location is not None and self.end_location < 0:
            msg = f"crew {self.id!r}: end_location={self.end_location} is negative"
            raise ValueError(msg)
        if self.capacity is not None and self.capacity < 0:
            msg = f"crew {self.id!r}: capacity={self.capacity} is negative"
            raise ValueError(msg)
        if len(set(self.frozen_job_ids)) != len(self.frozen_job_ids):
            msg = f"crew {self.id!r}: frozen_job_ids {self.frozen_job_ids} repeat a job"
            raise ValueError(msg)
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "frozen_job_ids", tuple(self.frozen_job_ids))


@dataclass(frozen=True, eq=False)
class Problem:
    """Jobs, crews and the travel times between their locations.

    Parameters
    ----------
    travel_s
        Square matrix of travel times between locations (row = from), integer seconds.
    jobs, crews
        The work and the crews to do it.
    cost
        Matrix minimised by the solver (for example distance_m on benchmark instances);
        travel_s when omitted, so by default the solver minimises driving time.
    skills
        The skill catalogue; when given, a skill outside it is a typing mistake and is
        rejected. When omitted the catalogue is every skill mentioned.
    locations
        Optional names and coordinates of the matrix rows, for maps and files.
    straight_line_locations
        Locations whose travel times are straight-line estimates (off the road network); legs
        touching them are flagged in the plan.
    """

    travel_s: npt.NDArray[np.int64]
    jobs: tuple[Job, ...]
    crews: tuple[Crew, ...]
    cost: npt.NDArray[np.int64] | None = None
    skills: frozenset[str] | None = None
    locations: tuple[Location, ...] | None = None
    straight_line_locations: frozenset[int] = frozenset()
    job_index: dict[str, int] = field(init=False, repr=False, compare=False)
    crew_index: dict[str, int] = field(init=False, repr=False, compare=False)
    frozen_owner: dict[int, int] = field(init=False, repr=False, compare=False)
    """Job index -> crew index for every frozen job."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "jobs", tuple(self.jobs))
        object.__setattr__(self, "crews", tuple(self.crews))
        travel = _integer_matrix(self.travel_s, "travel_s")
        object.__setattr__(self, "travel_s", travel)
        n = travel.shape[0]
        cost = travel if self.cost is None else _integer_matrix(self.cost, "cost")
        if cost.shape != travel.shape:
            msg = f"cost matrix shape {cost.shape} differs from travel_s shape {travel.shape}"
            raise ValueError(msg)
        object.__setattr__(self, "cost", cost)
        if self.locations is not None and len(self.locations) != n:
            msg = f"{len(self.locations)} locations given for a {n} x {n} matrix"
            raise ValueError(msg)
        if not self.crews:
            msg = "no crews: give at least one crew to plan for"
            raise ValueError(msg)
        self._check_ids_and_locations(n)
        self._check_skills()
        self._check_frozen()

    def _check_ids_and_locations(self, n: int) -> None:
        job_index: dict[str, int] = {}
        for i, job in enumerate(self.jobs):
            if job.id in job_index:
                msg = f"job id {job.id!r} is used twice; job ids must be unique"
                raise ValueError(msg)
            job_index[job.id] = i
            if job.location >= n:
                msg = f"job {job.id!r}: location={job.location} is outside the {n} x {n} matrix"
                raise ValueError(msg)
        crew_index: dict[str, int] = {}
        for i, crew in enumerate(self.crews):
            if crew.id in crew_index:
                msg = f"crew id {crew.id!r} is used twice; crew ids must be unique"
                raise ValueError(msg)
            crew_index[crew.id] = i
            for name, loc in (
                ("start_location", crew.start_location),
                ("end_location", crew.end_location),
            ):
                if loc is not None and loc >= n:
                    msg = f"crew {crew.id!r}: {name}={loc} is outside the {n} x {n} matrix"
                    raise ValueError(msg)
        object.__setattr__(self, "job_index", job_index)
        object.__setattr__(self, "crew_index", crew_index)

    def _check_skills(self) -> None:
        if self.skills is None:
            return
        catalogue = frozenset(self.skills)
        object.__setattr__(self, "skills", catalogue)
        owners: Iterable[tuple[str, frozenset[str]]] = [
            *((f"job {j.id!r}", j.skills) for j in self.jobs),
            *((f"crew {c.id!r}", c.skills) for c in self.crews),
        ]
        for owner, skills in owners:
            unknown = skills - catalogue
            if unknown:
                msg = (
                    f"{owner}: unknown skill {sorted(unknown)[0]!r}; "
                    f"known skills are {sorted(catalogue)}"
                )
                raise ValueError(msg)

    def _check_frozen(self) -> None:
        owner: dict[str, str] = {}
        frozen_owner: dict[int, int] = {}
        for c, crew in enumerate(self.crews):
            for job_id in crew.frozen_job_ids:
                if job_id not in self.job_index:
                    msg = f"crew {crew.id!r}: frozen job {job_id!r} is not among the jobs"
                    raise ValueError(msg)
                if job_id in owner:
                    msg = f"job {job_id!r} is frozen on both {owner[job_id]!r} and {crew.id!r}"
                    raise ValueError(msg)
                owner[job_id] = crew.id
                frozen_owner[self.job_index[job_id]] = c
                missing = self.jobs[self.job_index[job_id]].skills - crew.skills
                if missing:
                    msg = (
                        f"crew {crew.id!r}: frozen job {job_id!r} needs skills "
                        f"{sorted(missing)} the crew lacks"
                    )
                    raise ValueError(msg)
        object.__setattr__(self, "frozen_owner", frozen_owner)

    @classmethod
    def from_coordinates(
        cls,
        locations: Sequence[Location],
        jobs: Sequence[Job],
        crews: Sequence[Crew],
        *,
        speed_mps: float = 10.0,
        detour_factor: float = 1.3,
        skills: frozenset[str] | None = None,
    ) -> Problem:
        """Build a problem from lon/lat points when no road network is at hand.

        Travel times are great-circle distances stretched by ``detour_factor`` (roads are not
        straight) at ``speed_mps``; every location is flagged as a straight-line estimate.
        """
        if speed_mps <= 0:
            msg = f"speed_mps={speed_mps} must be positive"
            raise ValueError(msg)
        lon = np.array([loc.lon for loc in locations], dtype=float)
        lat = np.array([loc.lat for loc in locations], dtype=float)
        distance_m = haversine_matrix_m(lon, lat) * detour_factor
        travel = np.rint(distance_m / speed_mps).astype(np.int64)
        return cls(
            travel_s=travel,
            jobs=tuple(jobs),
            crews=tuple(crews),
            skills=skills,
            locations=tuple(locations),
            straight_line_locations=frozenset(range(len(locations))),
        )


def haversine_matrix_m(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Great-circle distances between all pairs of lon/lat points, in metres."""
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    dlat = lat_r[None, :] - lat_r[:, None]
    dlon = lon_r[None, :] - lon_r[:, None]
    a = (
        np.sin(dlat / 2) ** 2
        + np.cos(lat_r)[:, None] * np.cos(lat_r)[None, :] * np.sin(dlon / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _integer_matrix(values: object, name: str) -> npt.NDArray[np.int64]:
    matrix = np.asarray(values)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        msg = f"{name} matrix is not square: shape {matrix.shape}; give an n x n matrix"
        raise ValueError(msg)
    if matrix.size and not np.all(np.isfinite(matrix)):
        i, j = np.argwhere(~np.isfinite(matrix))[0]
        msg = f"{name}[{i}][{j}]={matrix[i, j]} is not finite; use a large number for no road"
        raise ValueError(msg)
    if matrix.size and matrix.min() < 0:
        i, j = np.argwhere(matrix < 0)[0]
        msg = f"{name}[{i}][{j}]={matrix[i, j]} is negative"
        raise ValueError(msg)
    if matrix.dtype == np.int64 and not matrix.flags.writeable:
        return matrix  # shared, not copied: sub-problems reuse their parent's matrix
    if np.issubdtype(matrix.dtype, np.floating):
        matrix = np.rint(matrix)
    result = matrix.astype(np.int64)
    result.setflags(write=False)
    return result


def is_straight_line(problem: Problem, from_location: int, to_location: int) -> bool:
    """Whether the leg between two locations is a straight-line estimate."""
    flagged = problem.straight_line_locations
    return from_location in flagged or to_location in flagged
