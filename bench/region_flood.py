"""One region floods the intake while the others report normally: per-region p99 and rate.

Run from the repository root: ``.venv/bin/python -m bench.region_flood`` (``--seconds``
per phase). On the template territory of ``bench.intake`` (200k premises, 8 regions, a
few devices tripped), for the app with region quotas (``web.region_quota``, as shipped)
and without them (``STORMDESK_REGION_QUOTAS=false``: one first-come slot pool), two phases:

- ``normal``: every region but the first has ``--normal-clients`` callers, each filing a
  report by account and waiting ``--think-s`` after each answer;
- ``flood``: the same, plus ``--flood-clients`` callers of the first region filing as
  fast as answers come (closed loop).

For each region: answered reports per second, p50/p99 latency, refusals (429) and other
errors. The others should keep their rate and p99 in the flood with quotas; the flooding
region should still get what the others leave idle.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np

from bench.common import bench_cluster, record
from bench.intake import app_server, fresh_copy, template_database, trip_devices
from scenarios.synth import generate_grid

CATEGORIES = ("no_power", "no_power", "no_power", "partial_power", "flicker", "other")


@dataclass
class RegionLoad:
    """What one region's callers got in one phase."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def row(self, seconds: float) -> str:
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        return (
            f"{len(self.latencies_ms) / seconds:,.1f} | {np.percentile(lat, 50):.0f} | "
            f"{np.percentile(lat, 99):.0f} | {self.errors.get('HTTP 429', 0):,} | "
            f"{sum(v for k, v in self.errors.items() if k != 'HTTP 429'):,}"
        )


async def caller(
    session: aiohttp.ClientSession,
    base: str,
    accounts: np.ndarray[Any, Any],
    load: RegionLoad,
    rng: np.random.Generator,
    *,
    think_s: float,
    until: float,
) -> None:
    while time.perf_counter() < until:
        body = {
            "account": f"A{int(rng.choice(accounts)) + 1:09d}",
            "category": CATEGORIES[int(rng.integers(0, len(CATEGORIES)))],
        }
        sent = time.perf_counter()
        try:
            async with session.post(f"{base}/api/v1/reports", json=body) as r:
                await r.read()
                if r.status >= 400:
                    load.errors[f"HTTP {r.status}"] += 1
                else:
                    load.latencies_ms.append((time.perf_counter() - sent) * 1000)
        except (aiohttp.ClientError, TimeoutError) as exc:
            load.errors[type(exc).__name__] += 1
        if think_s:
            await asyncio.sleep(think_s * (0.5 + rng.random()))


async def phase(
    base: str,
    by_region: list[np.ndarray[Any, Any]],
    args: argparse.Namespace,
    *,
    flood: bool,
) -> list[RegionLoad]:
    loads = [RegionLoad() for _ in by_region]
    until = time.perf_counter() + args.seconds
    rng = np.random.default_rng(args.seed)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        tasks = []
        for region, accounts in enumerate(by_region):
            if region == 0:
                if flood:
                    tasks += [
                        caller(session, base, accounts, loads[0], rng, think_s=0, until=until)
                        for _ in range(args.flood_clients)
                    ]
                continue
            tasks += [
                caller(
                    session, base, accounts, loads[region], rng, think_s=args.think_s, until=until
                )
                for _ in range(args.normal_clients)
            ]
        await asyncio.gather(*tasks)
    return loads


def _others(loads: list[RegionLoad], others: range, seconds: float) -> tuple[float, float]:
    """The non-flooding regions together: reports/s and p99 ms."""
    lat = [x for r in others for x in loads[r].latencies_ms]
    p99 = float(np.percentile(lat, 99)) if lat else float("nan")
    return len(lat) / seconds, p99


def main(argv: list[str] | None = None) -> None:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=200_000)
    parser.add_argument("--feeders", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--normal-clients", type=int, default=3)
    parser.add_argument("--think-s", type=float, default=0.25)
    parser.add_argument("--flood-clients", type=int, default=150)
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    cluster = bench_cluster(fresh=args.fresh)
    template, territory, _ = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    region_of = territory.premise_region
    by_region = [np.flatnonzero(region_of == r) for r in range(int(region_of.max()) + 1)]
    lines = [
        f"Territory: {args.premises:,} premises, {len(by_region)} regions; region 1 floods "
        f"with {args.flood_clients} closed-loop callers, the other regions have "
        f"{args.normal_clients} callers each thinking ~{args.think_s} s between reports; "
        f"{args.seconds:.0f} s per phase, 1 worker.",
        "",
        "| app | phase | region | reports/s | p50 ms | p99 ms | 429 | other errors |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    summary = []
    for app, env in (
        ("quotas", {}),
        ("no quotas", {"STORMDESK_REGION_QUOTAS": "false"}),
    ):
        url = fresh_copy(cluster, template, "region_flood")
        trip_devices(url, generate_grid(territory, seed=args.seed), np.random.default_rng(7))
        results = {}
        with app_server(url, 1, extra_env=env) as base:
            for name, flood in (("normal", False), ("flood", True)):
                loads = asyncio.run(phase(base, by_region, args, flood=flood))
                results[name] = loads
                for region, load in enumerate(loads):
                    if region == 0 and not flood:
                        continue
                    lines.append(f"| {app} | {name} | {region + 1} | {load.row(args.seconds)} |")
        cluster.drop_database("region_flood")
        others = range(1, len(by_region))
        rate, p99 = _others(results["normal"], others, args.seconds)
        frate, fp99 = _others(results["flood"], others, args.seconds)
        summary.append(
            f"- {app}: the other regions together {rate:,.1f}/s "
            f"(p99 {p99:.0f} ms) without the flood, "
            f"{frate:,.1f}/s (p99 {fp99:.0f} ms) during it; "
            f"the flooding region got {len(results['flood'][0].latencies_ms) / args.seconds:,.0f}"
            f"/s ({results['flood'][0].errors.get('HTTP 429', 0):,} refused with 429)"
        )
    report = "\n".join([*lines, "", *summary])
    print(report)
    if not args.no_record:
        record(
            "Region quotas under one region's flood",
            "bench.region_flood",
            "Intake admission with region quotas (web/region_quota.py) against the plain "
            "first-come slot pool, the same app otherwise (group commit on in both). "
            "Load generator on the same 2 cores.\n\n" + report,
        )


if __name__ == "__main__":
    main()
