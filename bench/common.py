"""What the benchmarks share: their own PostgreSQL cluster, a loaded territory, timing, notes.

The cluster lives under ``var/bench-pg`` with durability off (``FAST_UNSAFE_OPTIONS``),
separate from the demo's ``var/pg`` and from the tests', so a benchmark can neither harm
nor be slowed by them. A loaded territory is kept as a database named after its
generator parameters and reused by later runs (``--fresh`` starts over).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from geo import migrate
from geo.cluster import FAST_UNSAFE_OPTIONS, Cluster
from geo.settings import REPO_ROOT
from scenarios.synth import SynthTerritory, generate_territory, write_territory

BENCH_DIR = REPO_ROOT / "var" / "bench-pg"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = "# Benchmark results\n"
# Memory for sorts and index builds; the rest stays as the tests' and the demo's settings.
SERVER_OPTIONS = (
    *FAST_UNSAFE_OPTIONS,
    "shared_buffers=512MB",
    "maintenance_work_mem=512MB",
    "work_mem=64MB",
    "max_wal_size=4GB",
)
QUICK_FACTOR = 10


def bench_cluster(*, fresh: bool) -> Cluster:
    """The benchmark cluster, started; ``fresh`` deletes any previous one first."""
    cluster = Cluster(
        data_dir=BENCH_DIR / "data", socket_dir=BENCH_DIR / "run", server_options=SERVER_OPTIONS
    )
    if fresh:
        cluster.destroy()
    cluster.start()
    return cluster


def add_common_options(parser: argparse.ArgumentParser, **defaults: int) -> None:
    """Options every bench takes; ``--quick`` divides the sizes left at their defaults by 10."""
    for name, default in defaults.items():
        parser.add_argument(f"--{name}", type=int, default=None, help=f"default {default:,}")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller, under a minute")
    parser.add_argument("--fresh", action="store_true", help="recreate the bench cluster")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.set_defaults(_size_defaults=defaults)


def resolve_sizes(args: argparse.Namespace) -> None:
    for name, default in args._size_defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, default // QUICK_FACTOR if args.quick else default)


@dataclass(frozen=True)
class Loaded:
    territory: SynthTerritory
    url: str
    dbname: str
    generate_s: float
    load_s: float | None


def conninfo(cluster: Cluster, dbname: str) -> str:
    return f"host={cluster.socket_dir} user=stormdesk dbname={dbname}"


def loaded_territory(cluster: Cluster, *, seed: int, n_feeders: int, n_premises: int) -> Loaded:
    """Generate the territory and make sure a database holds exactly it.

    Generation is deterministic and takes seconds, so it always runs; loading takes about
    a minute at a million premises, so a database that already holds the same counts (a
    load is one transaction, so it holds all or nothing) is reused.
    """
    dbname = f"synth_s{seed}_f{n_feeders}_p{n_premises}"
    started = time.perf_counter()
    territory = generate_territory(seed=seed, n_feeders=n_feeders, n_premises=n_premises)
    generate_s = time.perf_counter() - started
    url = cluster.url(dbname)
    if not cluster.create_database(dbname):
        with psycopg.connect(conninfo(cluster, dbname)) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM feeder), (SELECT count(*) FROM premise)"
            ).fetchone()
        if counts == (n_feeders, n_premises):
            return Loaded(territory, url, dbname, generate_s, None)
        cluster.drop_database(dbname)
        cluster.create_database(dbname)
    migrate.upgrade(url)
    started = time.perf_counter()
    write_territory(url=url, territory=territory)
    return Loaded(territory, url, dbname, generate_s, time.perf_counter() - started)


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, object]:
    """The shortest wall time of ``runs`` calls and the last result: noise only adds time."""
    best = float("inf")
    result: object = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def machine_note() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), shared with "
        f"other engineers' work during the run (load average {load[0]:.1f} at the end); "
        f"Python {platform.python_version()}, PostgreSQL 15 + PostGIS 3.3 in var/bench-pg "
        "with fsync off"
    )


def revision() -> str:
    """The commit the code under test is at; dirty if geo/, scenarios/synth/ or bench/ differ."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "geo", "scenarios/synth", "bench/common.py")
    return git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if dirty else "")


def today() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="minutes")


def record(title: str, module: str, body: str) -> None:
    """Append one section to bench/RESULTS.md in a single write; others append theirs too.

    The section says when, at which commit, with which command and on what machine.
    """
    command = " ".join([f".venv/bin/python -m {module}", *sys.argv[1:]])
    section = (
        f"## {title}\n\n{today()}, commit {revision()}; `{command}`\n\n"
        f"Machine: {machine_note()}.\n\n{body.rstrip()}\n"
    )
    exists = RESULTS.exists()
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(("" if exists else RESULTS_HEADER) + "\n" + section)
