"""The status memory alone: reload times, its size in memory, and how long a change takes to
show in it (NOTIFY, coalescing, reload) on the synthetic territory of ``bench.intake``.

Run from the repository root: ``.venv/bin/python -m bench.status_memory`` (``--premises``,
``--feeders`` as ``bench.intake``; the template database is shared with it). On a fresh copy
of the template with ``bench.intake``'s storm tripped, it

- loads the premises and the facts ``--repeats`` times on one connection (best and median),
  and measures the Python heap they hold (tracemalloc, the structures only);
- starts a ``dispatch.status_memory.StatusMemory`` (its listener thread, as a worker runs
  it), then ``--changes`` times each changes one outage's ETR in a transaction of its own,
  after a pause and right after the previous change showed, and times commit -> the
  memory's answer showing the new ETR; once, it adds a premise and times its account
  becoming known (the premises reload).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import psycopg

from bench.common import bench_cluster, conninfo, record
from bench.intake import fresh_copy, template_database, trip_devices
from dispatch.status_memory import StatusMemory, load_facts, load_premises
from outages.schemas import StatusAnswer
from scenarios.synth import generate_grid
from web.settings import Settings

DBNAME = "status_memory_run"
POLL_S = 0.001


def _loads(info: str, repeats: int) -> list[str]:
    premises_s, facts_s = [], []
    horizon = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
    with psycopg.connect(info, autocommit=True) as conn:
        for _ in range(repeats):
            premises_s.append(load_premises(conn).seconds)
            facts_s.append(load_facts(conn, horizon=horizon).seconds)
        tracemalloc.start()
        premises = load_premises(conn)
        premises_b = tracemalloc.get_traced_memory()[0]
        facts = load_facts(conn, horizon=horizon)
        facts_b = tracemalloc.get_traced_memory()[0] - premises_b
        tracemalloc.stop()

    def ms(values: list[float]) -> str:
        return (
            f"best {min(values) * 1000:,.0f} ms, median {statistics.median(values) * 1000:,.0f} ms"
        )

    return [
        f"- premises ({len(premises.ids):,}): {ms(premises_s)}; held {premises_b / 2**20:,.1f} MB "
        f"({premises_b / max(1, len(premises.ids)):,.0f} B per premise)",
        f"- facts ({len(facts.outage_of):,} premises out, {len(facts.outages):,} outages, "
        f"{len(facts.orders):,} orders, {len(facts.planned):,} premises with planned work): "
        f"{ms(facts_s)}; held {facts_b / 2**20:,.1f} MB",
    ]


def _wait(
    memory: StatusMemory, account: str, settings: Settings, check: Callable[[StatusAnswer], bool]
) -> float:
    started = time.perf_counter()
    while True:
        answer = memory.answer(account, settings=settings, now=dt.datetime.now(dt.UTC), staff=True)
        if answer is not None and check(answer):
            return time.perf_counter() - started
        if time.perf_counter() - started > 30:
            msg = "the change did not show within 30 s"
            raise RuntimeError(msg)
        time.sleep(POLL_S)


def _etr_is(etr: dt.datetime) -> Callable[[StatusAnswer], bool]:
    return lambda answer: answer.etr == etr


def _latencies(info: str, url: str, changes: int) -> list[str]:
    settings = Settings(DATABASE_URL=url)
    memory = StatusMemory(info)
    memory.start()
    try:
        if not memory.wait_live(60):
            return ["- the memory did not become live within 60 s"]
        with psycopg.connect(info, autocommit=True) as conn:
            row = conn.execute(
                "SELECT p.account, op.outage_id FROM outage_premise op "
                "JOIN premise p ON p.id = op.premise_id WHERE op.restored_at IS NULL LIMIT 1"
            ).fetchone()
            assert row is not None
            account, outage_id = row
            seen: dict[str, list[float]] = {"quiet": [], "busy": []}
            for n in range(2 * changes):
                # Quiet: a change after a pause longer than the reload interval (NOTIFY and
                # a reload); busy: one right after the previous showed (it waits out the
                # interval, as changes do in a storm).
                kind = "quiet" if n % 2 == 0 else "busy"
                if kind == "quiet":
                    time.sleep(memory.min_interval_s + 0.1)
                etr = dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
                conn.execute("UPDATE outage SET etr_at = %s WHERE id = %s", (etr, outage_id))
                seen[kind].append(_wait(memory, account, settings, _etr_is(etr)))
            conn.execute(
                "INSERT INTO premise (account, address, address_norm, street_norm, house_norm, "
                "region_id, geom) SELECT 'BENCH-NEW', address, address_norm, street_norm, "
                "house_norm, region_id, geom FROM premise ORDER BY id LIMIT 1"
            )
            added = _wait(memory, "BENCH-NEW", settings, lambda a: True)
    finally:
        memory.stop()
    lines = []
    for kind, what in (("quiet", "after a pause"), ("busy", "right after another showed")):
        ms = sorted(s * 1000 for s in seen[kind])
        lines.append(
            f"- an outage's ETR changed {what} ({changes} times), commit -> memory answer: "
            f"median {statistics.median(ms):,.0f} ms, max {ms[-1]:,.0f} ms"
        )
    return [
        *lines,
        f"- a premise added, commit -> its account answered from memory: {added * 1000:,.0f} ms",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=200_000)
    parser.add_argument("--feeders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    cluster = bench_cluster(fresh=False)
    template, territory, _ = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    url = fresh_copy(cluster, template, DBNAME)
    trip_devices(
        url, generate_grid(territory, seed=args.seed), np.random.default_rng(args.seed + 10)
    )
    info = conninfo(cluster, DBNAME)
    try:
        lines = [*_loads(info, args.repeats), *_latencies(info, url, args.changes)]
    finally:
        cluster.drop_database(DBNAME)
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record("Status memory", "bench.status_memory", report)


if __name__ == "__main__":
    main()
