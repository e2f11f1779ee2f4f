"""Dispatch benchmark: request to proposal for 1,000 open orders and 50 crews.

Not a test: it prints figures for bench/RESULTS.md (section Dispatch).

Territory: ``scenarios/synth/`` premises, feeders and device trees generated over the bounding
box of the OSM Gothenburg road network (``test/large-network.json`` of the npm package
``geojson-path-finder``, fetched by ``bench.routing.fetch_gothenburg``), which is loaded into
``road_node`` / ``road_edge``. Orders: one outage order on each of 1,000 distinct
transformers and fuses drawn with the seed, 4 priority classes (5/15/40/40 %), skills, repair
30-150 min, on-site deadlines 45-240 min away, an appointment window for 10 % of the
priority-4 orders. Crews: 50 on shift (35 day shift 07-19, 15 on 06-22) plus 10 night crews
off shift; skills drawn from line/cable/transformer/hv, half at a live position, half at
their depot. About twice more work than crew time, as in the routing bench.

Measured: ``dispatch.planning.propose`` from its call to the stored proposal (database reads,
travel-time matrix on the stored roads, solve in the worker process, leg geometry, insert),
cold (first request of the process: network build and worker start included) and warm.
Baselines on the same problem: our solver with the customers' wait unpriced (every job's
``wait_cost`` 0, as before it existed), the usual OR-Tools set-up (``bench.routing``), and our
solver given straight-line times (routes then timed on the road matrix). Besides drops and
clocks, each row gives the mean start of the priority-1 jobs and the score-weighted mean start
of all served jobs: how long the customers wait.

Usage::

    .venv/bin/python -m bench.dispatch                      # 1,000 orders, 50 crews, 5 s
    .venv/bin/python -m bench.dispatch --quick --no-record  # 100 orders, 5 crews
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from sqlalchemy import create_engine, insert, text
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    conninfo,
    machine_note,
    record,
    resolve_sizes,
)
from bench.routing import fetch_gothenburg, plan_from_orders, solve_usual_ortools
from dispatch import planning, solve_worker
from dispatch.models import Crew, WorkOrder
from geo import migrate
from geo.models import point
from outages.models import Outage
from routing.check import check_plan
from routing.network import ROAD_CLASS_SPEED_KMH, _parse_maxspeed, _project
from routing.plan import RoutePlan
from routing.problem import PRIORITIES, Problem, haversine_matrix_m
from routing.schedule import schedule_route
from routing.solver import solve
from scenarios.synth import generate_grid, generate_territory, write_territory
from web.settings import Settings

TIMEZONE = "Europe/Stockholm"
LOCAL_NOW = dt.datetime(2026, 11, 24, 10, 0)
SKILLS = ("line", "cable", "transformer", "hv")
PRIORITY_SHARE = (0.05, 0.15, 0.40, 0.40)
SCORE_RANGE = {1: (450.0, 1500.0), 2: (200.0, 450.0), 3: (110.0, 200.0), 4: (20.0, 60.0)}
"""Urgency scores drawn per class, in the ranges ``dispatch.urgency`` gives (a hazard or a
hospital in class 1, a flicker in class 4): they set the drop penalties, lateness weights
and wait costs inside a class."""


def load_roads(url: str, conninfo_: str) -> tuple[int, tuple[float, float, float, float]]:
    """Gothenburg's drivable ways into road_node / road_edge; returns edges and the bbox."""
    with open(fetch_gothenburg(), encoding="utf-8") as source:
        collection = json.load(source)
    wanted = frozenset(ROAD_CLASS_SPEED_KMH)
    node_ids: dict[tuple[float, float], int] = {}
    edges: list[tuple[int, int, bool, str, float]] = []
    for feature in collection["features"]:
        geometry = feature.get("geometry") or {}
        properties = feature.get("properties") or {}
        if geometry.get("type") != "LineString" or properties.get("highway") not in wanted:
            continue
        ids = [
            node_ids.setdefault((c[0], c[1]), len(node_ids) + 1) for c in geometry["coordinates"]
        ]
        if properties.get("oneway") == "-1":
            ids.reverse()
        oneway = properties.get("oneway") in ("yes", "true", "1", "-1")
        maxspeed = _parse_maxspeed(properties.get("maxspeed"))
        speed = maxspeed if maxspeed > 0 else ROAD_CLASS_SPEED_KMH[properties["highway"]]
        edges.extend(
            (a, b, oneway, properties["highway"], speed) for a, b in itertools.pairwise(ids)
        )
    coords = np.array(list(node_ids), dtype=float)
    x_m, y_m = _project(coords[:, 0], coords[:, 1])
    with psycopg.connect(conninfo_) as conn, conn.cursor() as cur:
        if cur.execute("SELECT count(*) FROM road_edge").fetchone() == (len(edges),):
            return len(edges), _bbox(coords)
        cur.execute("TRUNCATE road_edge, road_node CASCADE")
        buffer = io.StringIO()
        for i, (lon, lat) in enumerate(coords, start=1):
            buffer.write(f"{i}\tSRID=4326;POINT({lon} {lat})\n")
        with cur.copy("COPY road_node (id, geom) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        buffer = io.StringIO()
        for k, (a, b, oneway, highway, speed) in enumerate(edges, start=1):
            length = float(np.hypot(x_m[a - 1] - x_m[b - 1], y_m[a - 1] - y_m[b - 1]))
            (lon_a, lat_a), (lon_b, lat_b) = coords[a - 1], coords[b - 1]
            buffer.write(
                f"{k}\t{a}\t{b}\t{length}\t{'t' if oneway else 'f'}\t{speed}\t{highway}\t"
                f"SRID=4326;LINESTRING({lon_a} {lat_a},{lon_b} {lat_b})\n"
            )
        with cur.copy(
            "COPY road_edge (id, from_node_id, to_node_id, length_m, oneway, speed_kmh, "
            "highway, geom) FROM STDIN"
        ) as copy:
            copy.write(buffer.getvalue())
    return len(edges), _bbox(coords)


def _bbox(coords: np.ndarray) -> tuple[float, float, float, float]:
    # The inner 90 %: the network's edges are sparse at the rim of the extract.
    lo = np.percentile(coords, 5, axis=0)
    hi = np.percentile(coords, 95, axis=0)
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def seed_work(
    session: Session, *, seed: int, n_orders: int, n_crews: int, now: dt.datetime
) -> None:
    """Outages, their orders and the crews, replacing any previous ones."""
    rng = np.random.default_rng(seed)
    session.execute(text("TRUNCATE dispatch_plan, work_order, outage CASCADE"))
    session.execute(text("DELETE FROM crew"))
    session.execute(text("UPDATE dispatch_state SET version = 0"))
    devices = session.execute(
        text(
            "SELECT id, feeder_id, kind, ST_X(geom), ST_Y(geom) FROM device "
            "WHERE kind IN ('transformer', 'fuse') ORDER BY id"
        )
    ).all()
    chosen = rng.choice(len(devices), size=n_orders, replace=False)
    outages = []
    for i in chosen.tolist():
        device_id, feeder_id, _, _, _ = devices[i]
        outages.append(
            {
                "status": "confirmed",
                "device_id": device_id,
                "feeder_id": feeder_id,
                "started_at": now - dt.timedelta(minutes=10),
                "updated_at": now,
            }
        )
    outage_ids = session.scalars(insert(Outage).returning(Outage.id), outages).all()
    priorities = rng.choice([1, 2, 3, 4], size=n_orders, p=PRIORITY_SHARE)
    orders = []
    for k, (i, outage_id) in enumerate(zip(chosen.tolist(), outage_ids, strict=True)):
        _, feeder_id, kind, lon, lat = devices[i]
        priority = int(priorities[k])
        score = float(rng.uniform(*SCORE_RANGE[priority]))
        skill = "transformer" if kind == "transformer" else "line"
        skills = [skill, "hv"] if rng.random() < 0.05 else [skill]
        onsite = now + dt.timedelta(minutes=float(rng.uniform(45, 240)))
        appointment = priority == 4 and rng.random() < 0.10
        start = now + dt.timedelta(hours=float(rng.integers(1, 7)))
        orders.append(
            {
                "kind": "outage",
                "status": "new",
                "outage_id": outage_id,
                "priority": priority,
                "urgency_score": round(score, 1),
                "feeder_id": feeder_id,
                "required_skills": skills,
                "repair_s": int(rng.integers(30, 151)) * 60,
                "first_report_at": now - dt.timedelta(minutes=10),
                "onsite_due_at": onsite,
                "restore_due_at": onsite + dt.timedelta(hours=3),
                "appointment_start_at": start if appointment else None,
                "appointment_end_at": start + dt.timedelta(hours=2) if appointment else None,
                "created_at": now,
                "updated_at": now,
                "geom": point(lon, lat),
            }
        )
    session.execute(insert(WorkOrder), orders)
    nodes = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM road_node ORDER BY id")).all()
    crews = []
    for c in range(n_crews + max(1, n_crews // 5)):
        if c < n_crews * 7 // 10:
            shift = (dt.time(7, 0), dt.time(19, 0))
        elif c < n_crews:
            shift = (dt.time(6, 0), dt.time(22, 0))
        else:
            shift = (dt.time(19, 0), dt.time(7, 0))  # off shift at 10:00
        held = {("line", "transformer")[c % 2]} | {s for s in SKILLS if rng.random() < 0.4}
        depot = nodes[int(rng.integers(len(nodes)))]
        live = nodes[int(rng.integers(len(nodes)))] if c % 2 else None
        crews.append(
            {
                "code": f"CREW-{c + 1:03d}",
                "name": f"Crew {c + 1}",
                "skills": sorted(held),
                "shift_start": shift[0],
                "shift_end": shift[1],
                "status": "available",
                "depot_geom": point(*depot),
                "geom": point(*live) if live else None,
                "position_at": now if live else None,
            }
        )
    session.execute(insert(Crew), crews)
    session.flush()


def _onsite(problem: Problem, plan: RoutePlan) -> tuple[int, int]:
    met = sum(1 for r in plan.routes for v in r.visits if v.lateness_s == 0)
    return met, len(problem.jobs)


def _onsite_by_class(problem: Problem, plan: RoutePlan) -> str:
    """On-site clocks met per priority class, of the class's orders: "P1 / P2 / P3 / P4"."""
    met = dict.fromkeys(PRIORITIES, 0)
    for route in plan.routes:
        for visit in route.visits:
            if visit.lateness_s == 0:
                met[problem.jobs[problem.job_index[visit.job_id]].priority] += 1
    of = {p: sum(1 for job in problem.jobs if job.priority == p) for p in PRIORITIES}
    return " / ".join(f"{met[p]}/{of[p]}" for p in PRIORITIES)


def _waits(problem: Problem, plan: RoutePlan) -> tuple[float, float]:
    """Mean start of service of the served priority-1 jobs, and of all served jobs weighted
    by urgency score (the customers' wait the wait cost prices), in minutes from now."""
    starts = [
        (problem.jobs[problem.job_index[v.job_id]], v.start_s)
        for r in plan.routes
        for v in r.visits
    ]
    p1 = [start for job, start in starts if job.priority == 1]
    weight = sum(job.score for job, _ in starts)
    weighted = sum(job.score * start for job, start in starts) / weight if weight else 0.0
    return (sum(p1) / len(p1) / 60 if p1 else 0.0), weighted / 60


def _line(name: str, problem: Problem, plan: RoutePlan, violations: list[str]) -> str:
    met, total = _onsite(problem, plan)
    dropped = plan.dropped_by_priority()
    served = sum(len(r.visits) for r in plan.routes)
    p1_wait, weighted_wait = _waits(problem, plan)
    return (
        f"| {name} | {served} | {dropped[1]} / {dropped[2]} / {dropped[3]} / {dropped[4]} | "
        f"{met} ({met / total:.0%}) | {_onsite_by_class(problem, plan)} | "
        f"{p1_wait:.0f} | {weighted_wait:.0f} | "
        f"{plan.travel_s / 3600:.0f} | "
        f"{'ok' if not violations else f'{len(violations)} violations'} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(parser, orders=1000, crews=50)
    parser.add_argument("--time-limit", type=float, default=5.0, help="solver seconds")
    args = parser.parse_args(argv)
    resolve_sizes(args)
    cluster = bench_cluster(fresh=args.fresh)
    dbname = f"dispatch_s{args.seed}"
    url = cluster.url(dbname)
    if cluster.create_database(dbname):
        migrate.upgrade(url)
    migrate.upgrade(url)
    started = time.perf_counter()
    n_edges, bbox = load_roads(url, conninfo(cluster, dbname))
    with psycopg.connect(conninfo(cluster, dbname)) as conn:
        has_grid = conn.execute("SELECT count(*) FROM device").fetchone() != (0,)
    if not has_grid:
        territory = generate_territory(
            seed=args.seed, n_feeders=200, n_premises=50_000, bbox=bbox, n_regions=4
        )
        write_territory(url=url, territory=territory, grid=generate_grid(territory, seed=args.seed))
    setup_s = time.perf_counter() - started
    settings = Settings(DATABASE_URL=url, timezone=TIMEZONE)
    now = LOCAL_NOW.replace(tzinfo=ZoneInfo(TIMEZONE)).astimezone(dt.UTC)
    engine = create_engine(url)
    runs: list[dict[str, Any]] = []
    # The worker starts once per server process (it imports OR-Tools); timed on its own.
    worker_start_s = solve_worker.warm_up()
    with Session(engine) as session, session.begin():
        seed_work(session, seed=args.seed, n_orders=args.orders, n_crews=args.crews, now=now)
        for label in ("first (network built)", "cached network", "cached network"):
            t0 = time.perf_counter()
            plan = planning.propose(
                session=session,
                now=now,
                settings=settings,
                time_limit_s=args.time_limit,
                actor="bench",
                seed=args.seed,
            )
            total_s = time.perf_counter() - t0
            runs.append({"label": label, "total_s": total_s, "doc": plan.proposal})
        prepared = planning.prepare(session=session, now=now, settings=settings)
        problem, context = prepared.problem, prepared.context
        session.rollback()
    engine.dispose()
    solve_worker.shutdown()

    # Baselines on the same problem, solved here (one process, same time limit).
    t0 = time.perf_counter()
    ours = solve(problem, time_limit_s=args.time_limit, seed=args.seed)
    ours_s = time.perf_counter() - t0
    # The wait unpriced (wait_cost_per_point = 0): what the wait cost changes.
    unpriced_problem = dataclasses.replace(
        problem, jobs=tuple(dataclasses.replace(job, wait_cost=0) for job in problem.jobs)
    )
    unpriced = solve(unpriced_problem, time_limit_s=args.time_limit, seed=args.seed)
    usual_orders, _ = solve_usual_ortools(problem, args.time_limit)
    usual, usual_issues = plan_from_orders(problem, usual_orders)
    lon, lat = np.array(context.lon), np.array(context.lat)
    straight_travel = np.rint(haversine_matrix_m(lon, lat) * 1.3 / 8.0).astype(np.int64)
    straight_problem = Problem(travel_s=straight_travel, jobs=problem.jobs, crews=problem.crews)
    straight_plan = solve(straight_problem, time_limit_s=args.time_limit, seed=args.seed)
    # Timed on the roads: a route that no longer fits its shift keeps the jobs that do.
    orders = []
    for c, route in enumerate(straight_plan.routes):
        order = [problem.job_index[v.job_id] for v in route.visits]
        while order and schedule_route(problem, c, order) is None:
            order.pop()
        orders.append(order)
    straight_on_roads, straight_issues = plan_from_orders(problem, orders)

    doc = runs[-1]["doc"]
    summary = doc["summary"]
    p1 = sum(1 for j in problem.jobs if j.priority == 1)
    lines = [
        f"{args.orders:,} open orders, {args.crews} crews on shift "
        f"({len(problem.crews)} in the problem) on the OSM Gothenburg roads ({n_edges:,} edges "
        f"loaded into road_edge) with a `scenarios/synth/` territory and device trees over it; "
        f"{p1} priority-1 orders; solver time limit {args.time_limit:g} s, seed {args.seed}; "
        f"{summary['straight_line_points']} of {len(context.lon)} points off the roads "
        f"(straight-line times, flagged). Set-up (roads, territory) {setup_s:.0f} s, not timed.",
        "",
        "Request to stored proposal (`dispatch.planning.propose`: DB reads, matrix, solve in "
        "the worker process, leg geometry, insert). The worker process is started once per "
        f"server process (spawn, imports OR-Tools): {worker_start_s:.1f} s here, not included:",
        "",
        "| run | total s | roads s | matrix s | build s | solve s (worker) | rest s |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        timings = run["doc"]["timings_s"]
        rest = run["total_s"] - timings["build"] - timings["solve"]
        lines.append(
            f"| {run['label']} | {run['total_s']:.1f} | {timings['roads']:.2f} | "
            f"{timings['matrix']:.2f} | {timings['build']:.2f} | {timings['solve']:.2f} | "
            f"{rest:.2f} |"
        )
    met, missed = summary["onsite_met"], summary["onsite_missed"]
    lines += [
        "",
        f"Proposal (last run): served {summary['served']}, dropped by priority "
        f"{summary['dropped_by_priority']}; on-site clock met by {met} orders = "
        f"{met / max(1, met + missed):.0%} of those served, {met / args.orders:.0%} of all; "
        f"checker: {'ok' if not doc['check'] else doc['check'][:3]}.",
        "",
        "Same problem, baselines solved in this process with the same time limit "
        f"(ours again here: {ours_s:.1f} s):",
        "",
        "| solver | served | dropped P1 / P2 / P3 / P4 | on-site clock met (of all) "
        "| met P1 / P2 / P3 / P4 | P1 mean start (min) | score-weighted mean start (min) "
        "| travel h | check_plan |",
        "|---|---|---|---|---|---|---|---|---|",
        _line("ours (road matrix)", problem, ours, check_plan(problem, ours)),
        _line(
            "ours, wait unpriced",
            problem,
            unpriced,
            check_plan(unpriced_problem, unpriced),
        ),
        _line("usual OR-Tools (PATH_CHEAPEST_ARC + GLS)", problem, usual, usual_issues),
        _line(
            "ours on straight-line times, timed on roads",
            problem,
            straight_on_roads,
            straight_issues,
        ),
    ]
    body = "\n".join(lines)
    print(body)
    print(machine_note())
    if not args.no_record:
        record("Dispatch", "bench.dispatch", body)


if __name__ == "__main__":
    main()
