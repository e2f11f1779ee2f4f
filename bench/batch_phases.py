"""Where a storm batch's time goes: consecutive batches of 10,000, timed phase by phase.

Run from the repository root: ``.venv/bin/python -m bench.batch_phases`` (``--quick`` for
two batches of 2,000). On a fresh copy of ``bench.intake``'s template territory with a few
devices tripped, it files consecutive batches of the gateway mix of ``bench.intake_batch``
(accounts and GPS points) through ``file_batch`` as a served worker does (the group writer's
warm trees, the heap frozen; ``--cold`` without either), and prints each batch's wall time
and what its phases took: the batch modules' functions and each COPY, wrapped with a timer
(the wrapping costs a few percent; the totals are the batches' own), and the CPU time the
batch took in this process and in the cluster's processes: on a shared machine wall times
of the same code vary by a third between runs, CPU times much less.

Consecutive batches matter: the first batch's COPYs leave the statistics PostgreSQL plans
on stale, and later batches meet the outages earlier ones opened. Two switches are for
measuring only, never for production: ``--no-autovacuum`` analyzes once and then turns
autovacuum off on the copy (the worst case of stale statistics), ``--no-fk-triggers`` files
with ``session_replication_role = replica`` (no foreign-key checks: what they cost).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gc
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.common import BENCH_DIR, bench_cluster, machine_note, revision
from bench.intake import fresh_copy, template_database, trip_devices
from bench.intake_batch import WARMUP, _gateway_bodies
from geo.database import make_engine
from outages.intake import batch, batch_store, batch_write, locate_bulk, rules
from outages.intake.group_commit import warm_topology
from outages.intake.topology_cache import TopologyCache
from outages.schemas import BatchReport
from scenarios.synth import generate_grid
from web.heap import freeze_now
from web.settings import Settings

TIMES: defaultdict[str, float] = defaultdict(float)
CALLS: defaultdict[str, int] = defaultdict(int)
CPU: dict[str, float] = {}
PHASES: list[tuple[Any, str]] = [
    (batch, "locate_many"),
    (batch, "_new_reports"),
    (batch, "write_batch"),
    (batch_store.BatchStore, "load"),
    (batch_store.BatchStore, "rows_of"),
    (batch_store.BatchStore, "mark_affected"),
    (batch_store.BatchStore, "plan_rollups"),
    (batch.rules, "file_located"),
    (rules, "build_answer"),
    (locate_bulk, "_locate_points"),
    (batch_write, "_write_hulls"),
    (batch_write, "_update_outages"),
]


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            TIMES[label] += time.perf_counter() - started
            CALLS[label] += 1

    return timed


def instrument() -> None:
    """Wrap the phases, and every COPY under the name of its table."""
    for owner, name in PHASES:
        setattr(owner, name, _timed(name, getattr(owner, name)))
    plain_copy = psycopg.Cursor.copy

    @contextmanager
    def copy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        with plain_copy(self, statement, *args, **kwargs) as running:
            yield running
        label = f"COPY {str(statement).split()[1]}"
        TIMES[label] += time.perf_counter() - started
        CALLS[label] += 1

    psycopg.Cursor.copy = copy  # type: ignore[method-assign]


def _server_cpu_s() -> float:
    """CPU seconds used so far by the bench cluster: the postmaster, the children it has
    reaped (an autovacuum worker that ended during the batch) and those still running (the
    backend filing, autovacuum, the WAL writer), from /proc."""
    postmaster = int((BENCH_DIR / "data" / "postmaster.pid").read_text().split()[0])
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        if pid == postmaster:  # its own, and its reaped children's (cutime, cstime)
            ticks += sum(int(f) for f in fields[11:15])
        elif int(fields[1]) == postmaster:  # ppid: utime + stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _file(
    engine: Engine,
    settings: Settings,
    bodies: list[dict[str, Any]],
    topology: TopologyCache | None,
    *,
    no_fk: bool,
) -> float:
    items = [BatchReport.model_validate(b) for b in bodies]
    CPU.clear()
    server, client = _server_cpu_s(), time.process_time()
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        if no_fk:
            session.execute(text("SET LOCAL session_replication_role = replica"))
        batch.file_batch(
            session=session,
            items=items,
            settings=settings,
            now=dt.datetime.now(dt.UTC),
            actor="bench",
            is_agent=True,
            topology=topology,
        )
    elapsed = time.perf_counter() - started
    CPU.update(python=time.process_time() - client, server=_server_cpu_s() - server)
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=200_000)
    parser.add_argument("--feeders", type=int, default=500)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cold", action="store_true", help="batches load their own trees")
    parser.add_argument("--no-autovacuum", action="store_true", help="measuring only")
    parser.add_argument("--no-fk-triggers", action="store_true", help="measuring only")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.size = 2, 2_000
    cluster = bench_cluster(fresh=False)
    template, territory, _ = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    url = fresh_copy(cluster, template, "batchphases_run")
    settings = Settings(DATABASE_URL=url)
    engine = make_engine(url)
    trip_devices(url, generate_grid(territory, seed=args.seed), np.random.default_rng(52))
    if args.no_autovacuum:
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            for (table,) in tables.all():
                conn.execute(text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = false)'))
            conn.execute(text("ANALYZE"))
    rng = np.random.default_rng(53)
    bodies = _gateway_bodies(engine, WARMUP + args.batches * args.size, rng, uniform=False)
    topology = None if args.cold else TopologyCache()
    _file(engine, settings, bodies[:WARMUP], topology, no_fk=False)
    if topology is not None:
        with Session(engine) as session, session.begin():
            warm_topology(session, topology, settings)
        freeze_now()
    instrument()
    print(f"{machine_note()}; {revision()}")
    print(
        f"{args.premises:,} premises, {args.feeders} feeders; {args.batches} batches of "
        f"{args.size:,}; {'cold' if args.cold else 'as served'}"
        f"{'; autovacuum off' if args.no_autovacuum else ''}"
        f"{'; foreign-key triggers off' if args.no_fk_triggers else ''}"
    )
    total = 0.0
    for n in range(args.batches):
        TIMES.clear()
        CALLS.clear()
        chunk = bodies[WARMUP + n * args.size : WARMUP + (n + 1) * args.size]
        elapsed = _file(engine, settings, chunk, topology, no_fk=args.no_fk_triggers)
        total += elapsed
        print(
            f"batch {n + 1}: {elapsed:.2f} s, {len(chunk) / elapsed:,.0f} reports/s; CPU: "
            f"Python {CPU['python']:.2f} s, PostgreSQL {CPU['server']:.2f} s"
        )
        for label, seconds in sorted(TIMES.items(), key=lambda kv: -kv[1]):
            print(f"  {label:<20} {seconds * 1000:8.1f} ms  x{CALLS[label]:,}")
    print(f"all: {total:.2f} s, {args.batches * args.size / total:,.0f} reports/s")
    gc.unfreeze()
    engine.dispose()
    cluster.drop_database("batchphases_run")


if __name__ == "__main__":
    main()
