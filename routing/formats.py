"""Reading problems from files and writing problems and plans as JSON.

Three inputs: our JSON problem format (documented in routing/FORMAT.md), VRPLIB files (CVRP
and VRPTW) and Solomon-format VRPTW files; the ``vrplib`` package parses the last two. Pure
functions of file contents: no solver, no database.

Benchmark conventions, so figures compare with the literature and with other solvers run on
the same matrices: Solomon instances use the DIMACS rule (Euclidean distance times 10,
truncated to an integer; times scaled by 10 as well), VRPLIB instances the TSPLIB rule
(Euclidean distance rounded to the nearest integer). ``Instance.scale`` says how to get back
to the file's units.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import vrplib

from routing.plan import RoutePlan
from routing.problem import Crew, Job, Location, Problem, TimeWindow

FORMATS = ("json", "vrplib", "solomon")
SOLOMON_SCALE = 10
UNBOUNDED_SHIFT_S = 10**9
"""Shift end for instances without time (CVRP): long enough never to bind."""


class FormatError(ValueError):
    """A problem file that cannot be read; the message says what and where."""


@dataclass(frozen=True, eq=False)
class Instance:
    """A problem read from a file, with what is needed to report it in the file's terms.

    ``scale`` divides costs back into the file's units; ``numeric_ids`` says job ids are
    customer numbers (VRPLIB, Solomon) to print as integers.
    """

    name: str
    problem: Problem
    scale: int = 1
    numeric_ids: bool = False


def detect_format(path: Path) -> str:
    """Guess the format from the extension, then the first line (Solomon files start with a
    bare instance name, VRPLIB files with ``NAME :``)."""
    if path.suffix.lower() == ".json":
        return "json"
    if path.suffix.lower() in (".vrp", ".vrptw"):
        return "vrplib"
    with path.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(2000)
    if re.search(r"^\s*NAME\s*:", head, re.MULTILINE):
        return "vrplib"
    if re.search(r"^\s*VEHICLE\s*$", head, re.MULTILINE):
        return "solomon"
    if head.lstrip().startswith("{"):
        return "json"
    msg = f"{path}: cannot tell the format; pass --format json, vrplib or solomon"
    raise FormatError(msg)


def read_instance(path: Path | str, format: str | None = None) -> Instance:
    """Read a problem file in one of ``FORMATS`` (detected when ``format`` is None).

    Raises
    ------
    FormatError
        The file is missing, unreadable or describes an invalid problem; the message names
        the file and the bad value.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise FormatError(msg)
    chosen = format or detect_format(path)
    if chosen not in FORMATS:
        msg = f"unknown format {chosen!r}; use one of {', '.join(FORMATS)}"
        raise FormatError(msg)
    try:
        if chosen == "json":
            with path.open(encoding="utf-8") as handle:
                data = json.load(handle)
            return Instance(name=path.stem, problem=problem_from_json(data))
        raw = vrplib.read_instance(path, instance_format=chosen)
        return _from_vrplib(raw, solomon=chosen == "solomon", fallback_name=path.stem)
    except FormatError as error:
        msg = f"{path}: {error}"
        raise FormatError(msg) from None
    except (ValueError, KeyError, IndexError, TypeError, json.JSONDecodeError) as error:
        detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        msg = f"{path}: not a valid {chosen} problem: {detail}"
        raise FormatError(msg) from None


def _from_vrplib(raw: Mapping[str, Any], *, solomon: bool, fallback_name: str) -> Instance:
    name = str(raw.get("name", fallback_name))
    coords = np.asarray(raw["node_coord"], dtype=float) if "node_coord" in raw else None
    weights = np.asarray(raw["edge_weight"], dtype=float)
    n = weights.shape[0]
    depots = np.asarray(raw.get("depot", [0]), dtype=int).ravel()
    depot = int(depots[0])
    if solomon:
        scale = SOLOMON_SCALE
        matrix = np.floor(weights * SOLOMON_SCALE + 1e-9).astype(np.int64)
    else:
        scale = 1
        matrix = np.rint(weights).astype(np.int64)
    demand = np.asarray(raw.get("demand", np.zeros(n)), dtype=int).ravel()
    service = np.asarray(raw.get("service_time", np.zeros(n)), dtype=float).ravel()
    windows = raw.get("time_window")
    shift = TimeWindow(0, UNBOUNDED_SHIFT_S)
    if windows is not None:
        windows = np.asarray(windows, dtype=float)
        shift = TimeWindow(int(windows[depot, 0] * scale), int(windows[depot, 1] * scale))
    jobs = []
    for i in range(n):
        if i in depots:
            continue
        job_windows: tuple[TimeWindow, ...] = ()
        if windows is not None:
            job_windows = (TimeWindow(int(windows[i, 0] * scale), int(windows[i, 1] * scale)),)
        jobs.append(
            Job(
                id=str(i),
                location=i,
                service_s=round(service[i] * scale),
                time_windows=job_windows,
                demand=int(demand[i]),
            )
        )
    capacity = raw.get("capacity")
    n_vehicles = _fleet_size(raw, name, len(jobs))
    crews = [
        Crew(
            id=f"vehicle-{k + 1}",
            start_location=depot,
            end_location=depot,
            shift=shift,
            capacity=None if capacity is None else int(np.asarray(capacity).ravel()[0]),
        )
        for k in range(n_vehicles)
    ]
    locations = None
    if coords is not None:
        locations = tuple(Location(str(i), float(x), float(y)) for i, (x, y) in enumerate(coords))
    problem = Problem(travel_s=matrix, jobs=tuple(jobs), crews=tuple(crews), locations=locations)
    return Instance(name=name, problem=problem, scale=scale, numeric_ids=True)


def _fleet_size(raw: Mapping[str, Any], name: str, n_customers: int) -> int:
    """Vehicles of the file; else the k of an ``-kN`` name; else one per customer."""
    if "vehicles" in raw:
        return int(raw["vehicles"])
    match = re.search(r"-k(\d+)", name)
    return int(match.group(1)) if match else max(1, n_customers)


def problem_from_json(data: Mapping[str, Any]) -> Problem:
    """Build a problem from our JSON format (routing/FORMAT.md)."""
    if not isinstance(data, Mapping):
        msg = "the top level must be an object with jobs and crews"
        raise FormatError(msg)
    raw_locations = data.get("locations")
    locations = None
    location_ids: dict[str, int] = {}
    if raw_locations is not None:
        locations = tuple(
            Location(str(loc["id"]), float(loc["lon"]), float(loc["lat"])) for loc in raw_locations
        )
        location_ids = {loc.id: i for i, loc in enumerate(locations)}

    def where(value: object, owner: str) -> int:
        if isinstance(value, bool):
            msg = f"{owner}: location {value!r} must be an index or a location id"
            raise FormatError(msg)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value in location_ids:
            return location_ids[value]
        msg = f"{owner}: location {value!r} is neither an index nor a known location id"
        raise FormatError(msg)

    jobs = [
        Job(
            id=str(job["id"]),
            location=where(job["location"], f"job {job['id']!r}"),
            service_s=int(job.get("service_s", 0)),
            time_windows=tuple(_window(w) for w in job.get("time_windows", [])),
            priority=int(job.get("priority", 3)),
            skills=frozenset(job.get("skills", [])),
            sla_deadline_s=_optional_int(job.get("sla_deadline_s")),
            demand=int(job.get("demand", 0)),
            score=float(job.get("score", 0.0)),
            crews=frozenset(str(c) for c in job.get("crews", [])),
            wait_cost=int(job.get("wait_cost", 0)),
        )
        for job in data["jobs"]
    ]
    crews = [
        Crew(
            id=str(crew["id"]),
            start_location=where(crew["start_location"], f"crew {crew['id']!r}"),
            end_location=None
            if crew.get("end_location") is None
            else where(crew["end_location"], f"crew {crew['id']!r}"),
            shift=_window(crew["shift"]),
            skills=frozenset(crew.get("skills", [])),
            capacity=_optional_int(crew.get("capacity")),
            frozen_job_ids=tuple(str(j) for j in crew.get("frozen_job_ids", [])),
        )
        for crew in data["crews"]
    ]
    skills = None if data.get("skills") is None else frozenset(data["skills"])
    if "travel_s" in data:
        return Problem(
            travel_s=np.asarray(data["travel_s"]),
            jobs=tuple(jobs),
            crews=tuple(crews),
            cost=None if data.get("cost") is None else np.asarray(data["cost"]),
            skills=skills,
            locations=locations,
        )
    if locations is None:
        msg = "give either travel_s (a matrix) or locations with lon/lat"
        raise FormatError(msg)
    return Problem.from_coordinates(
        locations,
        jobs,
        crews,
        speed_mps=float(data.get("straight_line_speed_mps", 10.0)),
        skills=skills,
    )


def _window(value: Any) -> TimeWindow:
    if not isinstance(value, list | tuple) or len(value) != 2:
        msg = f"time window {value!r} must be a pair [start_s, end_s]"
        raise FormatError(msg)
    return TimeWindow(int(value[0]), int(value[1]))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON form of a problem; ``problem_from_json`` reads it back unchanged."""
    data: dict[str, Any] = {
        "travel_s": problem.travel_s.tolist(),
        "jobs": [
            {
                "id": job.id,
                "location": job.location,
                "service_s": job.service_s,
                "time_windows": [[w.start_s, w.end_s] for w in job.time_windows],
                "priority": job.priority,
                "skills": sorted(job.skills),
                "sla_deadline_s": job.sla_deadline_s,
                "demand": job.demand,
                "score": job.score,
                "crews": sorted(job.crews),
                "wait_cost": job.wait_cost,
            }
            for job in problem.jobs
        ],
        "crews": [
            {
                "id": crew.id,
                "start_location": crew.start_location,
                "end_location": crew.end_location,
                "shift": [crew.shift.start_s, crew.shift.end_s],
                "skills": sorted(crew.skills),
                "capacity": crew.capacity,
                "frozen_job_ids": list(crew.frozen_job_ids),
            }
            for crew in problem.crews
        ],
    }
    if problem.cost is not None and problem.cost is not problem.travel_s:
        data["cost"] = problem.cost.tolist()
    if problem.skills is not None:
        data["skills"] = sorted(problem.skills)
    if problem.locations is not None:
        data["locations"] = [
            {"id": loc.id, "lon": loc.lon, "lat": loc.lat} for loc in problem.locations
        ]
    return data


def plan_summary(instance: Instance, plan: RoutePlan) -> dict[str, Any]:
    """``{"cost", "routes", "vehicles", "dropped"}``: the CLI's ``--json`` answer.

    Cost is in the file's units (divided by ``scale``); routes list job ids in order, one
    list per crew that has work.
    """

    def job_id(value: str) -> str | int:
        return int(value) if instance.numeric_ids else value

    cost: float = plan.cost / instance.scale
    return {
        "cost": int(cost) if instance.scale == 1 else round(cost, 1),
        "routes": [[job_id(v.job_id) for v in r.visits] for r in plan.routes if r.visits],
        "vehicles": plan.vehicles_used,
        "dropped": [
            {"id": job_id(d.job_id), "priority": d.priority, "reason": d.reason}
            for d in plan.dropped
        ],
    }
