"""Soak: reports at twice the storm peak for a long time, a database restart in the middle.

Run from the repository root: ``.venv/bin/python -m bench.soak`` (30 minutes;
``--minutes 4`` for a shortened run). On the template territory of ``bench.intake``, with
the app as shipped (group commit and region quotas on) under ``--workers`` uvicorn workers:

- the rate: the storm simulator (``scenarios.storm``) files its calls over an hour at
  ``60 min * u ** 1.8`` (u uniform), so its peak minute holds (1/60) ** (1/1.8) = 10.3%
  of the calls; a storm whose tripped devices leave ``N`` premises dark and 70% of them
  call peaks at ``0.7 N * 0.103 / 60`` reports/s. The soak sends twice that, open loop
  (arrivals at a fixed rate, whatever the answers), each report with its own
  ``Idempotency-Key``;
- halfway, the benchmark cluster is restarted (stopped, ``--down-s`` seconds, started);
  ``--restarts N`` restarts it N times, evenly spaced (two restarts tell a step that
  repeats at every restart from one that happens once);
- every 10 s the resident memory of the server's processes is sampled;
- ``--batch-rate R`` also sends R reports/s as gateway batches of ``--batch-size`` to
  ``POST /api/v1/reports/batch``, one batch in flight at a time, each item with its own
  key: batches then overlap the group writer's groups, the case in which the collector's
  pause during batches (``outages/intake/gc_pause.py``) has to collect by itself.

Checked at the end: every report answered 2xx is stored exactly once (by key), no answer
is a 5xx other than 503 (and 503s only around the restart), and memory is flat (the last
minute against the first minute after warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
import psycopg

from bench.common import bench_cluster, conninfo, record
from bench.intake import app_server, fresh_copy, report_bodies, template_database, trip_devices
from scenarios.synth import generate_grid

PEAK_MINUTE_SHARE = (1 / 60) ** (1 / 1.8)
FIRST_CALLERS = 0.7
SAMPLE_S = 10.0


@dataclass
class Soak:
    statuses: Counter[str] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    errors_at: list[tuple[float, str]] = field(default_factory=list)
    memory: list[tuple[float, int]] = field(default_factory=list)


def server_rss_kb(parent: int) -> int:
    """Resident memory of uvicorn's process tree (the parent and its workers)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(proc.name), int(fields.get("PPid", "0").strip())
        if pid == parent or ppid == parent:
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def uvicorn_pid(port: str) -> int:
    """The server process serving ``port`` (our child: ``stormdesk serve`` or uvicorn)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        serving = b"uvicorn" in cmd or b"serve" in cmd
        if serving and port.encode() in cmd and int(proc.name) != os.getpid():
            status = (proc / "status").read_text()
            ppid = int(status.split("PPid:")[1].split()[0])
            if ppid == os.getpid():
                return int(proc.name)
    msg = f"no server child serving port {port}"
    raise RuntimeError(msg)


KEEPALIVE_S = 3.0


async def drive(
    base: str, bodies: list[dict[str, object]], rate: float, seconds: float, soak: Soak
) -> None:
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=30)
    inflight = asyncio.Semaphore(1000)
    # Idle connections are dropped before the server's keep-alive (5 s) would close them:
    # aiohttp keeps them 15 s by default, and reusing one the server closes at that moment
    # is a transport error no request caused (the likely source of 74 such errors in a soak
    # at load 7; the soaks at load 1.4-1.6 had none).
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(i: int) -> None:
            key = f"soak-{i}"
            sent = time.perf_counter()
            try:
                async with session.post(
                    f"{base}/api/v1/reports",
                    json=bodies[i % len(bodies)],
                    headers={"Idempotency-Key": key},
                ) as r:
                    await r.read()
                    soak.statuses[str(r.status)] += 1
                    if 200 <= r.status < 300:
                        soak.accepted.add(key)
                        soak.latencies_ms.append((time.perf_counter() - sent) * 1000)
                    elif r.status >= 500:
                        soak.errors_at.append((sent - started, str(r.status)))
            except (aiohttp.ClientError, TimeoutError) as exc:
                soak.statuses[type(exc).__name__] += 1
                soak.errors_at.append((sent - started, type(exc).__name__))
            finally:
                inflight.release()

        tasks = []
        i = 0
        while (elapsed := time.perf_counter() - started) < seconds:
            due = int(elapsed * rate)
            while i < due:
                await inflight.acquire()
                tasks.append(asyncio.create_task(one(i)))
                i += 1
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)


async def drive_batches(
    base: str,
    bodies: list[dict[str, object]],
    rate: float,
    size: int,
    seconds: float,
    soak: Soak,
) -> None:
    """Batches of ``size`` at ``rate`` reports/s, one in flight; items keyed ``soak-b-N``."""
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=KEEPALIVE_S)
    sent = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        while (elapsed := time.perf_counter() - started) < seconds:
            if sent + size > elapsed * rate:
                await asyncio.sleep(0.05)
                continue
            keys = [f"soak-b-{sent + j}" for j in range(size)]
            items = [
                {**bodies[(sent + j) % len(bodies)], "idempotency_key": key}
                for j, key in enumerate(keys)
            ]
            posted = time.perf_counter()
            try:
                async with session.post(
                    f"{base}/api/v1/reports/batch", json={"reports": items}
                ) as r:
                    answers = await r.json(content_type=None)
                    soak.statuses[f"batch {r.status}"] += 1
                    if r.status == 200:
                        soak.accepted.update(
                            k for k, a in zip(keys, answers, strict=True) if "status_code" not in a
                        )
                    elif r.status >= 500:
                        soak.errors_at.append((posted - started, str(r.status)))
            except (aiohttp.ClientError, TimeoutError) as exc:
                soak.statuses[f"batch {type(exc).__name__}"] += 1
                soak.errors_at.append((posted - started, type(exc).__name__))
            sent += size


async def sample_memory(pid: int, seconds: float, soak: Soak) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        soak.memory.append((time.perf_counter() - started, server_rss_kb(pid)))
        await asyncio.sleep(SAMPLE_S)


async def restart_at(
    cluster: object, at_s: Sequence[float], down_s: float, started: float
) -> list[tuple[float, float]]:
    """Stop and start the cluster at each of these times (s from ``started``); returns
    when each stop began and each start ended, in s from ``started``."""
    windows = []
    for at in at_s:
        await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
        stopped = time.perf_counter()
        await asyncio.to_thread(cluster.stop)  # type: ignore[attr-defined]
        await asyncio.sleep(down_s)
        await asyncio.to_thread(cluster.start)  # type: ignore[attr-defined]
        windows.append((stopped - started, time.perf_counter() - started))
    return windows


async def run(
    base: str, pid: int, cluster: object, bodies: list[dict[str, object]], args: argparse.Namespace
) -> tuple[Soak, list[tuple[float, float]]]:
    soak = Soak()
    seconds = args.minutes * 60
    started = time.perf_counter()
    at = [seconds * (k + 1) / (args.restarts + 1) for k in range(args.restarts)]
    batches = (
        [drive_batches(base, bodies, args.batch_rate, args.batch_size, seconds, soak)]
        if args.batch_rate
        else []
    )
    _, windows, *_ = await asyncio.gather(
        drive(base, bodies, args.rate, seconds, soak),
        restart_at(cluster, at, args.down_s, started),
        sample_memory(pid, seconds, soak),
        *batches,
    )
    return soak, windows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=200_000)
    parser.add_argument("--feeders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--down-s", type=float, default=5.0)
    parser.add_argument("--restarts", type=int, default=1, help="database restarts, evenly spaced")
    parser.add_argument("--rate", type=float, default=None, help="reports/s (default 2x peak)")
    parser.add_argument("--batch-rate", type=float, default=0.0, help="reports/s in batches")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    cluster = bench_cluster(fresh=args.fresh)
    template, territory, _ = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    url = fresh_copy(cluster, template, "soak")
    storm = trip_devices(url, generate_grid(territory, seed=args.seed), np.random.default_rng(3))
    peak = FIRST_CALLERS * len(storm.affected) * PEAK_MINUTE_SHARE / 60
    if args.rate is None:
        args.rate = 2 * peak
    bodies = report_bodies(territory, storm, np.random.default_rng(args.seed + 40), 20_000)
    with app_server(url, args.workers) as base:
        pid = uvicorn_pid(base.rsplit(":", 1)[1])
        soak, windows = asyncio.run(run(base, pid, cluster, bodies, args))
    with psycopg.connect(conninfo(cluster, "soak")) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, count(*) FROM report WHERE idempotency_key LIKE 'soak-%' "
            "GROUP BY 1"
        ).fetchall()
    cluster.drop_database("soak")
    stored: dict[str, int] = dict(rows)
    lost = len(soak.accepted - set(stored))
    doubled = sum(1 for n in stored.values() if n > 1)
    bad_5xx = [(t, s) for t, s in soak.errors_at if s not in ("503",)]
    near = [(t, s) for t, s in bad_5xx if not any(a - 1 <= t <= b + 30 for a, b in windows)]
    warm = [kb for t, kb in soak.memory if t >= 60] or [kb for _, kb in soak.memory]
    first, last = warm[: max(1, len(warm) // 5)], warm[-max(1, len(warm) // 5) :]
    lat = np.array(soak.latencies_ms) if soak.latencies_ms else np.array([np.nan])
    report = "\n".join(
        [
            f"{args.minutes:g} min at {args.rate:,.1f} reports/s (2x the simulator's peak "
            f"minute for a storm leaving {len(storm.affected):,} premises dark: "
            f"{peak:,.1f}/s), "
            + (
                f"and {args.batch_rate:,.0f} reports/s in batches of {args.batch_size}, "
                if args.batch_rate
                else ""
            )
            + f"{args.workers} workers, database stopped for "
            f"{args.down_s:g} s at "
            + ", ".join(f"{a:.0f} s (back at {b:.0f} s)" for a, b in windows)
            + ".",
            "",
            f"- answers: {dict(soak.statuses.most_common())}",
            f"- accepted (2xx) {len(soak.accepted):,}, stored {len(stored):,} keys; accepted "
            f"but not stored: **{lost}**; stored twice: **{doubled}**",
            f"- 5xx other than 503 (and transport errors): {len(bad_5xx)}, of them away from the "
            f"restart: **{len(near)}**",
            f"- latency of accepted reports: p50 {np.percentile(lat, 50):.0f} ms, "
            f"p99 {np.percentile(lat, 99):.0f} ms",
            f"- server memory (RSS, all processes): first fifth {np.mean(first) / 1024:,.0f} MB, "
            f"last fifth {np.mean(last) / 1024:,.0f} MB "
            f"(min {min(warm) / 1024:,.0f}, max {max(warm) / 1024:,.0f}); "
            f"trend over the second half {_slope_mb_per_10min(soak.memory):+,.1f} MB per 10 min",
            f"- server memory every 5 minutes (MB): {_every_5min(soak.memory)}",
        ]
    )
    print(report)
    if not args.no_record:
        record("Soak with a database restart", "bench.soak", report)


def _slope_mb_per_10min(samples: list[tuple[float, int]]) -> float:
    """The least-squares trend of RSS over the run's second half, after the restart too:
    "flat" is a slope near zero there, which first and last fifths alone cannot show."""
    if not samples:
        return float("nan")
    half = [(t, kb) for t, kb in samples if t >= samples[-1][0] / 2]
    if len(half) < 2:
        return float("nan")
    times, kbs = np.array([t for t, _ in half]), np.array([kb for _, kb in half])
    slope_kb_per_s = float(np.polyfit(times, kbs, 1)[0])
    return slope_kb_per_s * 600 / 1024


def _every_5min(samples: list[tuple[float, int]]) -> str:
    """RSS at each 5-minute mark, to see when memory moved (a step at the restart is not a
    leak; a steady climb is)."""
    marks = []
    for minute in range(0, int(samples[-1][0] // 60) + 1, 5) if samples else []:
        t, kb = min(samples, key=lambda sample: abs(sample[0] - minute * 60))
        marks.append(f"{t / 60:.0f} min {kb / 1024:,.0f}")
    return ", ".join(marks)


if __name__ == "__main__":
    main()
