"""Batch intake: reports/s of ``file_batch`` by batch size, ``file_report`` as the baseline.

Run from the repository root: ``.venv/bin/python -m bench.intake_batch`` (``--quick`` for
a smaller run). For the synthetic territory (``scenarios.synth``, device trees, the template
database of ``bench.intake``) and for the demo city, each phase gets a fresh copy of the
database with a few breakers and reclosers tripped (confirmed outages), then files the
same gateway mix of reports (accounts and GPS points; ``--addresses`` adds address text
as ``bench.intake`` does):

- ``single``: ``file_report`` one by one, one transaction each (as the route commits);
- ``batch N``: ``file_batch`` in batches of N, one transaction each, as a served worker
  files them: from the group writer's trees (a ``TopologyCache`` warmed over every feeder
  by ``warm_topology``) and with the start-up heap frozen (``web.heap``); ``--cold`` loads
  each batch's trees and leaves the collector as it is, the figures before 2026-12-05;
- ``http 10000``: the same batches through ``POST /api/v1/reports/batch`` of the app
  (in-process ``TestClient``: JSON parsing, validation and serialization included).

``--profile`` files one batch of 10,000 under cProfile and prints the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import pstats
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.common import bench_cluster, machine_note, revision
from bench.intake import fresh_copy, report_bodies, template_database, trip_devices
from geo import migrate
from geo.cluster import Cluster
from geo.database import make_engine
from outages.intake.batch import file_batch
from outages.intake.group_commit import warm_topology
from outages.intake.single import file_report
from outages.intake.topology_cache import TopologyCache
from outages.schemas import BatchReport, ReportCreate
from outages.service import open_outage
from scenarios.demo_city import build_demo_city
from scenarios.demo_city.loader import load_demo_city
from scenarios.synth import generate_grid
from web.heap import freeze_now
from web.main import create_app
from web.settings import Settings

DEMO_TEMPLATE = "batchbench_demo"
WARMUP = 200
POINT_SHARE = 0.3
POINT_JITTER_DEG = 3e-5


def _demo_template(cluster: Cluster) -> str:
    if cluster.create_database(DEMO_TEMPLATE):
        url = cluster.url(DEMO_TEMPLATE)
        migrate.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            load_demo_city(session=session, city=build_demo_city())
        engine.dispose()
    return DEMO_TEMPLATE


def _trip_demo(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session, session.begin():
        codes = session.execute(
            text("SELECT code FROM device WHERE kind = 'recloser' ORDER BY id LIMIT 2")
        ).scalars()
        for code in list(codes):
            open_outage(
                session=session,
                device_code=code,
                cause="weather",
                confirmed=True,
                settings=settings,
                now=dt.datetime.now(dt.UTC),
                actor="bench",
            )


def _gateway_bodies(
    engine: Engine, n: int, rng: np.random.Generator, *, uniform: bool
) -> list[dict[str, Any]]:
    """Accounts and GPS points: 75% of callers below a tripped device, 15% elsewhere, 10%
    calling again (as ``bench.intake``); ``uniform`` draws callers anywhere instead, a
    storm where most calls open or roll up outages (the expensive case)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT account, ST_X(geom), ST_Y(geom) FROM premise ORDER BY id")
        ).all()
        index = {
            int(i): k
            for k, i in enumerate(
                conn.execute(text("SELECT id FROM premise ORDER BY id")).scalars()
            )
        }
        dark = [
            index[int(i)]
            for i in conn.execute(text("SELECT DISTINCT premise_id FROM outage_premise")).scalars()
        ]
    categories = ["no_power"] * 16 + ["partial_power", "flicker", "wire_down", "other"]
    picks: list[int] = []
    bodies = []
    for _ in range(n):
        draw = rng.random()
        if picks and draw < 0.1:
            k = picks[int(rng.integers(0, len(picks)))]
        elif not uniform and dark and draw < 0.85:
            k = dark[int(rng.integers(0, len(dark)))]
        else:
            k = int(rng.integers(0, len(rows)))
        picks.append(k)
        account, lon, lat = rows[k]
        body: dict[str, Any] = {"category": categories[int(rng.integers(0, len(categories)))]}
        if rng.random() < POINT_SHARE:
            body["lon"] = float(lon + rng.normal(0, POINT_JITTER_DEG))
            body["lat"] = float(lat + rng.normal(0, POINT_JITTER_DEG))
        else:
            body["account"] = account
        body["channel"] = "sms"
        bodies.append(body)
    return bodies


def _run_single(engine: Engine, settings: Settings, bodies: list[dict[str, Any]]) -> float:
    items = [ReportCreate.model_validate(b) for b in bodies]
    started = time.perf_counter()
    for item in items:
        with Session(engine) as session, session.begin():
            try:
                file_report(
                    session=session,
                    data=item,
                    settings=settings,
                    now=dt.datetime.now(dt.UTC),
                    actor="bench",
                    is_agent=True,
                )
            except Exception:  # an unlocatable report is an answer too
                session.rollback()
    return time.perf_counter() - started


def _run_batches(
    engine: Engine,
    settings: Settings,
    bodies: list[dict[str, Any]],
    size: int,
    topology: TopologyCache | None = None,
) -> tuple[float, Counter[str]]:
    chunks = [
        [BatchReport.model_validate(b) for b in bodies[i : i + size]]
        for i in range(0, len(bodies), size)
    ]
    kinds: Counter[str] = Counter()
    started = time.perf_counter()
    for chunk in chunks:
        with Session(engine) as session, session.begin():
            answers = file_batch(
                session=session,
                items=chunk,
                settings=settings,
                now=dt.datetime.now(dt.UTC),
                actor="bench",
                is_agent=True,
                topology=topology,
            )
        kinds.update(getattr(a, "classification", "error") for a in answers)
    return time.perf_counter() - started, kinds


def _run_http(settings: Settings, bodies: list[dict[str, Any]], size: int) -> float:
    app = create_app(settings)
    with TestClient(app) as client:
        started = time.perf_counter()
        for i in range(0, len(bodies), size):
            response = client.post("/api/v1/reports/batch", json={"reports": bodies[i : i + size]})
            assert response.status_code == 200, response.text[:300]
        return time.perf_counter() - started


def _phase(
    cluster: Cluster,
    template: str,
    prepare: Callable[[str, Engine, Settings], list[dict[str, Any]]],
    run: Callable[[Engine, Settings, list[dict[str, Any]]], tuple[float, str]],
    name: str,
) -> tuple[float, str, int]:
    url = fresh_copy(cluster, template, "batchbench_run")
    settings = Settings(DATABASE_URL=url)
    engine = make_engine(url)
    try:
        bodies = prepare(url, engine, settings)
        warm, bodies = bodies[:WARMUP], bodies[WARMUP:]
        _run_batches(engine, settings, warm, WARMUP)  # locator, street names, plans
        elapsed, note = run(engine, settings, bodies)
    finally:
        engine.dispose()
    rate = len(bodies) / elapsed
    print(f"  {name:<12} {len(bodies):>7,} reports {elapsed:7.2f} s {rate:9,.0f} reports/s {note}")
    return rate, note, len(bodies)


def _served(engine: Engine, settings: Settings, *, cold: bool) -> TopologyCache | None:
    """What a served worker files batches with: the group writer's trees, every feeder's
    (``warm_topology``), and the heap frozen once they are loaded (``web.heap``)."""
    if cold:
        return None
    topology = TopologyCache()
    with Session(engine) as session, session.begin():
        warm_topology(session, topology, settings)
    freeze_now()
    return topology


def bench_territory(
    cluster: Cluster,
    template: str,
    prepare: Callable[[str, Engine, Settings], list[dict[str, Any]]],
    sizes: list[int],
    n: int,
    n_single: int,
    *,
    cold: bool = False,
) -> list[tuple[str, float, int]]:
    rows = []

    def single(engine: Engine, settings: Settings, bodies: list[dict[str, Any]]) -> Any:
        return _run_single(engine, settings, bodies[:n_single]), ""

    rate, _, count = _phase(
        cluster, template, lambda u, e, s: prepare(u, e, s)[: WARMUP + n_single], single, "single"
    )
    rows.append(("single (file_report, commit each)", rate, count))
    for size in sizes:

        def batch(
            engine: Engine, settings: Settings, bodies: list[dict[str, Any]], size: int = size
        ) -> Any:
            topology = _served(engine, settings, cold=cold)
            try:
                elapsed, kinds = _run_batches(engine, settings, bodies, size, topology)
            finally:
                gc.unfreeze()
            return elapsed, dict(kinds.most_common())

        rate, _, count = _phase(cluster, template, prepare, batch, f"batch {size}")
        rows.append((f"file_batch, batches of {size:,}", rate, count))

    def http(engine: Engine, settings: Settings, bodies: list[dict[str, Any]]) -> Any:
        return _run_http(settings, bodies, sizes[-1]), ""

    rate, _, count = _phase(cluster, template, prepare, http, f"http {sizes[-1]}")
    rows.append((f"POST /api/v1/reports/batch of {sizes[-1]:,} (TestClient)", rate, count))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=100_000)
    parser.add_argument("--feeders", type=int, default=250)
    parser.add_argument("--reports", type=int, default=30_000)
    parser.add_argument("--single", type=int, default=1_500, help="reports on the single path")
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--addresses", action="store_true", help="bench.intake's mix instead")
    parser.add_argument("--uniform", action="store_true", help="callers anywhere (worst case)")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cold", action="store_true", help="batches load their own trees")
    args = parser.parse_args(argv)
    if args.quick:
        args.reports, args.single = 10_000, 500
    sizes = [int(s) for s in args.sizes.split(",")]
    cluster = bench_cluster(fresh=False)
    template, territory, _ = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    grid = generate_grid(territory, seed=args.seed)

    def synth_bodies(url: str, engine: Engine, settings: Settings) -> list[dict[str, Any]]:
        storm = trip_devices(url, grid, np.random.default_rng(args.seed + 10))
        rng = np.random.default_rng(args.seed + 11)
        if args.addresses:
            return report_bodies(territory, storm, rng, args.reports + WARMUP)
        return _gateway_bodies(engine, args.reports + WARMUP, rng, uniform=args.uniform)

    if args.profile:
        url = fresh_copy(cluster, template, "batchbench_run")
        settings = Settings(DATABASE_URL=url)
        engine = make_engine(url)
        bodies = synth_bodies(url, engine, settings)
        _run_batches(engine, settings, bodies[:WARMUP], WARMUP)
        profile = cProfile.Profile()
        profile.enable()
        _run_batches(engine, settings, bodies[WARMUP : WARMUP + 10_000], 10_000)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(45)
        print(out.getvalue())
        engine.dispose()
        return
    print(f"{machine_note()}; {revision()}")
    print(f"synthetic territory: {args.premises:,} premises, {args.feeders} feeders")
    served = "as served (warm trees, frozen heap)"
    print(f"batches {'loading their own trees' if args.cold else served}")
    results = bench_territory(
        cluster, template, synth_bodies, sizes, args.reports, args.single, cold=args.cold
    )
    if not args.skip_demo:
        demo = _demo_template(cluster)

        def demo_bodies(url: str, engine: Engine, settings: Settings) -> list[dict[str, Any]]:
            _trip_demo(engine, settings)
            rng = np.random.default_rng(7)
            return _gateway_bodies(engine, args.reports + WARMUP, rng, uniform=args.uniform)

        print("demo city (Helsinki, 1,449 addresses)")
        results += [
            (f"demo: {name}", rate, n)
            for name, rate, n in bench_territory(
                cluster, demo, demo_bodies, sizes, args.reports, args.single, cold=args.cold
            )
        ]
    print()
    print("| path | reports | reports/s |")
    print("|---|---:|---:|")
    for name, rate, n in results:
        print(f"| {name} | {n:,} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
