"""Report intake through HTTP in a storm: reports/s and latency, status lookups, batch intake.

Run from the repository root: ``.venv/bin/python -m bench.intake`` (``--quick`` for a 10x
smaller run, under a minute). It loads a synthetic territory with device trees
(``scenarios.synth.generate_grid``) into a template database of the bench cluster under
``var/bench-pg`` (reused by later runs), and for each run of ``--apps`` (the app as
shipped, and behind the admission gate this benchmark proposes, see ``gated_app``; with
1 or 2 uvicorn workers):

- copies the template into a fresh database and trips a few devices (breakers and
  reclosers, opened as confirmed outages through ``outages.service.open_outage``), so
  most callers sit below a known outage, as in a storm;
- starts the real app (``web.main:create_app``, or it wrapped by ``gated_app``) under
  uvicorn on 127.0.0.1 in a subprocess;
- drives it with a bounded asyncio load generator (aiohttp, ``--clients`` concurrent
  clients, a fixed number of requests and a time cap per phase):

  - ``GET /healthz`` (one trivial database round trip): the ceiling of this stack on
    this machine, measured in the same run, against which the other phases are ratios;
  - ``POST /api/v1/reports``: a storm mix of callers by account, address text and GPS
    point, mostly below the tripped devices (``known``), some elsewhere (``new``, which
    opens outages and runs the roll-up), some calling again (``duplicate``); stored
    reports are counted in the database afterwards;
  - ``GET /api/v1/status?account=`` at the same concurrency and with one client;
  - ``POST /api/v1/reports/batch`` when the app has it (feature-detected in
    ``/openapi.json``): throughput, and answers compared with the single path on two
    fresh copies fed the same reports in the same order.

``--phases`` runs some of the phases after the healthz baseline (``--phases status`` for the
lookup rate alone; ``--apps memory-off:1,shipped:1 --phases status`` compares the status
memory off and on in one run, with the server's RSS and the memory's reload times).
``--profile N`` instead files N reports in-process with ``file_report`` under cProfile and
prints the statements per report by classification and the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    conninfo,
    record,
    resolve_sizes,
)
from geo import migrate
from geo.cluster import Cluster
from geo.database import make_engine
from geo.settings import REPO_ROOT
from outages.service import open_outage
from scenarios.synth import (
    SynthGrid,
    SynthTerritory,
    generate_grid,
    generate_territory,
    write_territory,
)
from web.main import create_app
from web.settings import Settings

HOST = "127.0.0.1"
SHIPPED = "web.main:create_app"
GATED = "bench.intake:gated_app"
# Requests let into the gated app at once per worker: below the engine's pool (10 + 20)
# and anyio's 40 threads, so no thread ever waits for a connection (see gated_app).
GATE = 24
BATCH_PATH = "/api/v1/reports/batch"
# ``ungrouped``: the shipped app with group commit and region quotas off, the baseline of
# what they change (every report then files alone, in its request's transaction).
# ``memory-off``: the shipped app with the status memory off (dispatch/status_memory.py), so
# every status lookup is the one statement: ``--apps memory-off:1,shipped:1`` is the A/B.
APP_ENV = {
    "ungrouped": {
        "STORMDESK_INTAKE_GROUP_COMMIT": "false",
        "STORMDESK_REGION_QUOTAS": "false",
    },
    "memory-off": {"STORMDESK_STATUS_MEMORY": "false"},
}
# ``worker-timers``: the shipped app with the dispatch cycle and hotline timers inside each
# worker, as before ``stormdesk serve`` gave them a process of their own (web/timers.py).
APP_SERVE_ARGS = {"worker-timers": ["--timers", "worker"]}
TIME_CAP_S = 60.0
SHIPPED_TIME_CAP_S = 20.0
# The pool's own checkout timeout: an answer later than this is a failure anyway.
REQUEST_TIMEOUT_S = 30.0
# The storm: share of breakers and of reclosers (on other feeders) tripped before the load.
TRIPPED_BREAKER_SHARE = 0.04
TRIPPED_RECLOSER_SHARE = 0.08
# Who calls: below a tripped device, anywhere else, or a caller calling again.
CALLER_MIX = {"below_tripped": 0.75, "elsewhere": 0.15, "again": 0.10}
# How callers say where they are.
LOCATE_MIX = {"account": 0.80, "address": 0.12, "point": 0.08}
CATEGORY_MIX = {
    "no_power": 0.82,
    "partial_power": 0.05,
    "flicker": 0.06,
    "wire_down": 0.03,
    "other": 0.04,
}
CHANNELS = ("web", "app", "sms", "phone")
# About 3 m: a phone's GPS fix next to the house.
POINT_JITTER_DEG = 3e-5
BATCH_SIZE = 500
BATCH_CLIENTS = 4
IDENTITY_REPORTS = 1_000
LOW_CONCURRENCY_LOOKUPS = 1_000
# Enough to open every worker's connections and fill the caches, without queueing.
WARMUP_CLIENTS = 16
# What a run measures after its healthz baseline (``--phases`` picks some).
PHASES = ("reports", "status", "batch")


@dataclass(frozen=True)
class Call:
    """One HTTP request of a phase: method, path and JSON body (None for GET)."""

    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass
class PhaseResult:
    """What a phase measured: latencies of answered requests, failures, answers' classes."""

    name: str
    app: str
    workers: int
    clients: int
    sent: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    client_cpu_s: float = 0.0
    unsent: int = 0
    stored: int | None = None
    items_per_request: int = 1
    server_rss_mb: float | None = None
    """The serving process's resident memory after the phase (one worker: the worker)."""

    @property
    def ok(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        """Answered requests per second (times items per request for batches)."""
        return self.ok * self.items_per_request / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


@dataclass(frozen=True)
class Storm:
    """The prepared state of a run: which premises sit below a tripped device."""

    tripped: list[str]
    affected: npt.NDArray[np.int64]


def template_database(
    cluster: Cluster, *, seed: int, n_feeders: int, n_premises: int
) -> tuple[str, SynthTerritory, float | None]:
    """The template database holding the territory and its device trees, loaded once.

    Generation is deterministic and takes seconds; a database that already holds the same
    counts (loading is one transaction) is reused, else it is dropped and loaded again.
    Returns the name, the territory and the load time (None when reused).
    """
    name = f"intake_s{seed}_f{n_feeders}_p{n_premises}"
    territory = generate_territory(seed=seed, n_feeders=n_feeders, n_premises=n_premises)
    grid = generate_grid(territory, seed=seed)
    if not cluster.create_database(name):
        with psycopg.connect(conninfo(cluster, name)) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM device), "
                "(SELECT count(*) FROM premise WHERE transformer_id IS NOT NULL)"
            ).fetchone()
        if counts == (grid.n_devices, n_premises):
            return name, territory, None
        cluster.drop_database(name)
        cluster.create_database(name)
    url = cluster.url(name)
    migrate.upgrade(url)
    started = time.perf_counter()
    write_territory(url=url, territory=territory, grid=grid)
    return name, territory, time.perf_counter() - started


def fresh_copy(cluster: Cluster, template: str, name: str) -> str:
    """A new database copied from the template (a file copy: seconds, not a reload).

    The copy is migrated to head: a template reused from an earlier run may predate
    migrations added since, and the app (its dispatch loop, say) expects every table.
    """
    cluster.drop_database(name)
    cluster.create_database(name, template=template)
    url = cluster.url(name)
    migrate.upgrade(url)
    return url


def trip_devices(url: str, grid: SynthGrid, rng: np.random.Generator) -> Storm:
    """Open confirmed outages on a few breakers and reclosers, as SCADA would report them.

    Goes through ``open_outage`` so the outages, their premises and the outbox are the
    product's own; reclosers are taken on feeders whose breaker did not trip.
    """
    breakers = np.flatnonzero(grid.device_kind == "breaker")
    reclosers = np.flatnonzero(grid.device_kind == "recloser")
    hit = rng.choice(breakers, max(1, round(len(breakers) * TRIPPED_BREAKER_SHARE)), False)
    spared = reclosers[~np.isin(grid.device_feeder[reclosers], grid.device_feeder[hit])]
    n_reclosers = min(len(spared), round(len(reclosers) * TRIPPED_RECLOSER_SHARE))
    hit = np.concatenate([hit, rng.choice(spared, n_reclosers, replace=False)])
    codes = [grid.device_code[d] for d in hit.tolist()]
    settings = Settings(DATABASE_URL=url)
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    try:
        with Session(engine) as session, session.begin():
            for code in codes:
                open_outage(
                    session=session,
                    device_code=code,
                    cause="weather",
                    confirmed=True,
                    settings=settings,
                    now=now,
                    actor="bench",
                )
        with engine.connect() as conn:
            affected = conn.exec_driver_sql(
                "SELECT DISTINCT premise_id FROM outage_premise ORDER BY 1"
            ).all()
    finally:
        engine.dispose()
    return Storm(codes, np.array([r[0] - 1 for r in affected], dtype=np.int64))


def _draw(rng: np.random.Generator, mix: dict[str, float], n: int) -> list[str]:
    names = list(mix)
    return [names[i] for i in rng.choice(len(names), n, p=list(mix.values()))]


def report_bodies(
    territory: SynthTerritory, storm: Storm, rng: np.random.Generator, n: int
) -> list[dict[str, Any]]:
    """``n`` report bodies in arrival order, the storm mix of callers, places and categories."""
    callers = _draw(rng, CALLER_MIX, n)
    located = _draw(rng, LOCATE_MIX, n)
    categories = _draw(rng, CATEGORY_MIX, n)
    unaffected = np.setdiff1d(np.arange(territory.n_premises), storm.affected)
    premises: list[int] = []
    bodies = []
    for i in range(n):
        if callers[i] == "again" and premises:
            premise = premises[int(rng.integers(0, len(premises)))]
        elif callers[i] == "below_tripped" and len(storm.affected):
            premise = int(rng.choice(storm.affected))
        else:
            premise = int(rng.choice(unaffected))
        premises.append(premise)
        body: dict[str, Any] = {
            "category": categories[i],
            "channel": CHANNELS[int(rng.integers(0, len(CHANNELS)))],
        }
        if located[i] == "account":
            body["account"] = f"A{premise + 1:09d}"
        elif located[i] == "address":
            body["address"] = territory.address(premise)
        else:
            body["lon"] = float(territory.premise_lon[premise] + rng.normal(0, POINT_JITTER_DEG))
            body["lat"] = float(territory.premise_lat[premise] + rng.normal(0, POINT_JITTER_DEG))
        bodies.append(body)
    return bodies


def status_calls(
    territory: SynthTerritory, storm: Storm, rng: np.random.Generator, n: int
) -> list[Call]:
    """Status lookups by account: half below the tripped devices, half anywhere."""
    anywhere = rng.integers(0, territory.n_premises, n)
    if len(storm.affected):
        below = rng.choice(storm.affected, n)
        anywhere = np.where(rng.random(n) < 0.5, below, anywhere)
    return [Call("GET", f"/api/v1/status?account=A{p + 1:09d}") for p in anywhere.tolist()]


def count_reports(cluster: Cluster, dbname: str) -> int:
    with psycopg.connect(conninfo(cluster, dbname)) as conn:
        row = conn.execute("SELECT count(*) FROM report").fetchone()
    assert row is not None
    return int(row[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def gated_app() -> Callable[..., Awaitable[None]]:
    """The app behind an admission gate: the fix this benchmark proposes for a deadlock.

    As shipped, a sync route holds its pooled connection from its first query until the
    response is validated and the session closed, and both of those steps need a thread of
    anyio's 40; under 200 clients every thread can be a route waiting for a connection
    while all 30 connections wait for a thread, until the pool's 30 s timeout breaks it
    (HTTP 500) or the client gives up. Letting at most ``GATE`` requests in at once
    (the rest wait in the event loop, holding nothing) makes that impossible.
    """
    app = create_app()
    gate = asyncio.Semaphore(GATE)

    async def gated(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        async with gate:
            await app(scope, receive, send)

    return gated


@contextmanager
def app_server(
    url: str,
    workers: int,
    factory: str = SHIPPED,
    extra_env: dict[str, str] | None = None,
    serve_args: list[str] | None = None,
) -> Iterator[str]:
    """The real app in a subprocess on 127.0.0.1; yields its base URL.

    The shipped app runs under ``stormdesk serve`` (its timers process included, plus
    ``serve_args``), another factory under plain uvicorn; ``create_app()`` reads
    ``DATABASE_URL`` from the environment. Access logging is off, as in production behind
    a proxy that logs.
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, **(extra_env or {})}
    where = ["--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log"]
    if factory == SHIPPED:
        command = [sys.executable, "-c", "from web.cli import main; main()", "serve"]
        command += where + (serve_args or [])
    else:
        command = [sys.executable, "-m", "uvicorn", factory, "--factory", *where]
        command += ["--log-level", "warning"]
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    base = f"http://{HOST}:{port}"
    try:
        asyncio.run(_wait_ready(base, server))
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    """Wait until every worker could answer: /healthz succeeds a few times in a row."""
    deadline = time.monotonic() + 180  # a loaded machine starts workers slowly
    async with aiohttp.ClientSession() as session:
        streak = 0
        while streak < 5:
            if server.poll() is not None or time.monotonic() > deadline:
                msg = f"uvicorn did not come up on {base} (exit code {server.poll()})"
                raise RuntimeError(msg)
            try:
                async with session.get(base + "/healthz") as response:
                    streak = streak + 1 if response.status == 200 else 0
            except aiohttp.ClientError:
                streak = 0
                await asyncio.sleep(0.2)


async def drive(
    base: str, calls: Sequence[Call], *, clients: int, time_cap_s: float = TIME_CAP_S
) -> tuple[float, list[float], Counter[str], list[Any], float]:
    """Send ``calls`` from ``clients`` concurrent clients until done or the time cap.

    Each client takes the next call as soon as its previous one is answered (a closed
    loop, so the server is never offered more than ``clients`` requests at once). Returns
    wall seconds, latencies of successful calls (ms), failures by kind, the JSON answers
    in call order (None where failed or not sent), and the client's CPU seconds.
    """
    answers: list[Any] = [None] * len(calls)
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    next_call = 0
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=clients)
    cpu_started = time.process_time()
    started = time.perf_counter()
    deadline = started + time_cap_s

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal next_call
        while next_call < len(calls) and time.perf_counter() < deadline:
            i = next_call
            next_call += 1
            call = calls[i]
            sent = time.perf_counter()
            try:
                async with session.request(call.method, base + call.path, json=call.body) as r:
                    if r.status >= 400:
                        await r.read()
                        errors[f"HTTP {r.status}"] += 1
                        continue
                    payload = await r.json()
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors[type(exc).__name__] += 1
                continue
            latencies.append((time.perf_counter() - sent) * 1000)
            answers[i] = payload

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    seconds = time.perf_counter() - started
    return seconds, latencies, errors, answers, time.process_time() - cpu_started


def run_phase(
    name: str,
    base: str,
    calls: Sequence[Call],
    *,
    app: str,
    workers: int,
    clients: int,
    time_cap_s: float = TIME_CAP_S,
    items_per_request: int = 1,
) -> tuple[PhaseResult, list[Any]]:
    seconds, latencies, errors, answers, cpu = asyncio.run(
        drive(base, calls, clients=clients, time_cap_s=time_cap_s)
    )
    result = PhaseResult(
        name=name,
        app=app,
        workers=workers,
        clients=clients,
        sent=len(calls),
        seconds=seconds,
        latencies_ms=latencies,
        errors=errors,
        client_cpu_s=cpu,
        items_per_request=items_per_request,
    )
    result.unsent = len(calls) - len(latencies) - sum(errors.values())
    for answer in answers:
        for item in answer if isinstance(answer, list) else [answer]:
            if isinstance(item, dict) and "classification" in item:
                result.classes[item["classification"]] += 1
    return result, answers


def batch_request_shape(openapi: dict[str, Any]) -> str | None:
    """How the batch endpoint takes its reports: a bare JSON array, or the name of the
    one array property of an object body; None when the endpoint does not exist yet."""
    operation = openapi.get("paths", {}).get(BATCH_PATH, {}).get("post")
    if operation is None:
        return None
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        return ""
    arrays = [k for k, v in schema.get("properties", {}).items() if v.get("type") == "array"]
    if len(arrays) != 1:
        msg = f"{BATCH_PATH} takes an object without one array of reports: {schema}"
        raise RuntimeError(msg)
    return arrays[0]


def batch_calls(bodies: list[dict[str, Any]], shape: str, size: int) -> list[Call]:
    chunks = [bodies[i : i + size] for i in range(0, len(bodies), size)]
    return [
        Call("POST", BATCH_PATH, chunk if shape == "" else {shape: chunk})  # type: ignore[arg-type]
        for chunk in chunks
    ]


def batch_answers(answer: Any) -> list[dict[str, Any]]:
    """The per-report answers of a batch response: the array itself, or its one array."""
    if isinstance(answer, list):
        return answer
    if isinstance(answer, dict):
        arrays = [v for v in answer.values() if isinstance(v, list)]
        if len(arrays) == 1:
            return arrays[0]
    msg = f"cannot find the per-report answers in a batch response: {str(answer)[:200]}"
    raise RuntimeError(msg)


def canonical(answers: Sequence[dict[str, Any]]) -> list[tuple[object, ...]]:
    """Answers with database ids replaced by order of first appearance, so two runs on two
    fresh databases can be compared: same classification, outage, duplicate, feeder, ETR."""
    labels: dict[tuple[str, object], int] = {}

    def label(kind: str, value: object) -> int | None:
        if value is None:
            return None
        return labels.setdefault((kind, value), len(labels))

    report_label = {a["id"]: i for i, a in enumerate(answers)}
    return [
        (
            a["classification"],
            label("outage", a.get("outage_id")),
            label("planned", a.get("planned_outage_id")),
            report_label.get(a.get("duplicate_of")),
            a.get("region"),
            a.get("feeder"),
            a.get("hazard"),
            a.get("etr") is not None,
        )
        for a in answers
    ]


def compare_batch_with_single(
    cluster: Cluster, template: str, territory: SynthTerritory, seed: int, shape: str
) -> str:
    """Feed the same reports in the same order to the single path (one client) and to the
    batch path, each on its own fresh copy with the same storm; count differing answers."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for path in ("single", "batch"):
        dbname = f"intake_identity_{path}"
        url = fresh_copy(cluster, template, dbname)
        grid = generate_grid(territory, seed=seed)
        storm = trip_devices(url, grid, np.random.default_rng(seed + 10))
        bodies = report_bodies(territory, storm, np.random.default_rng(seed + 11), IDENTITY_REPORTS)
        with app_server(url, workers=1) as base:
            if path == "single":
                calls = [Call("POST", "/api/v1/reports", b) for b in bodies]
                _, _, errors, answers, _ = asyncio.run(drive(base, calls, clients=1))
                runs[path] = [a for a in answers if a is not None]
            else:
                calls = batch_calls(bodies, shape, BATCH_SIZE)
                _, _, errors, answers, _ = asyncio.run(drive(base, calls, clients=1))
                runs[path] = [x for a in answers if a is not None for x in batch_answers(a)]
        cluster.drop_database(dbname)
        if errors:
            return f"{path} path failed during the comparison: {dict(errors)}"
    single, batch = canonical(runs["single"]), canonical(runs["batch"])
    if len(single) != len(batch):
        return f"single path answered {len(single)} reports, batch {len(batch)}"
    differ = sum(a != b for a, b in zip(single, batch, strict=True))
    return f"{differ} of {len(single):,} answers differ from the single path's"


def fetch_openapi(base: str) -> dict[str, Any]:
    async def get() -> dict[str, Any]:
        async with aiohttp.ClientSession() as session, session.get(base + "/openapi.json") as r:
            document: dict[str, Any] = await r.json()
            return document

    return asyncio.run(get())


def run_workers(
    cluster: Cluster,
    template: str,
    territory: SynthTerritory,
    args: argparse.Namespace,
    app: str,
    workers: int,
) -> tuple[list[PhaseResult], Storm, str | None]:
    """All phases against one server (``app`` as shipped or gated, ``workers`` uvicorn
    workers) on a fresh copy; the shipped app gets a shorter time cap, as it deadlocks."""
    cap = TIME_CAP_S if app == "gated" else SHIPPED_TIME_CAP_S
    phases = set(args.phases.split(","))
    on = {"app": app, "workers": workers, "time_cap_s": cap}
    dbname = "intake_run"
    url = fresh_copy(cluster, template, dbname)
    grid = generate_grid(territory, seed=args.seed)
    storm = trip_devices(url, grid, np.random.default_rng(args.seed + 10))
    rng = np.random.default_rng(args.seed + 20)
    reports = [
        Call("POST", "/api/v1/reports", b)
        for b in report_bodies(territory, storm, rng, args.requests)
    ]
    lookups = status_calls(territory, storm, rng, args.lookups)
    results: list[PhaseResult] = []
    factory = GATED if app == "gated" else SHIPPED
    with app_server(url, workers, factory, APP_ENV.get(app), APP_SERVE_ARGS.get(app)) as base:
        shape = batch_request_shape(fetch_openapi(base))
        warmup = [Call("GET", "/healthz")] * 400 + status_calls(territory, storm, rng, 400)
        run_phase("warm-up", base, warmup, clients=WARMUP_CLIENTS, **on)
        health = [Call("GET", "/healthz")] * args.requests
        results.append(run_phase("healthz", base, health, clients=args.clients, **on)[0])
        if "reports" in phases:
            before = count_reports(cluster, dbname)
            intake, _ = run_phase("reports", base, reports, clients=args.clients, **on)
            intake.stored = count_reports(cluster, dbname) - before
            results.append(intake)
        if "status" in phases:
            lookup, _ = run_phase("status", base, lookups, clients=args.clients, **on)
            lookup.server_rss_mb = serving_rss_mb(base)
            results.append(lookup)
            low = lookups[: min(LOW_CONCURRENCY_LOOKUPS, len(lookups))]
            results.append(run_phase("status", base, low, clients=1, **on)[0])
        if shape is not None and "batch" in phases:
            bodies = report_bodies(territory, storm, rng, args.requests)
            calls = batch_calls(bodies, shape, args.batch_size)
            before = count_reports(cluster, dbname)
            batch, _ = run_phase(
                "reports/batch",
                base,
                calls,
                clients=BATCH_CLIENTS,
                items_per_request=args.batch_size,
                **on,
            )
            batch.stored = count_reports(cluster, dbname) - before
            results.append(batch)
    if "status" in phases and app == "shipped":
        STATUS_NOTES.append(status_memory_loads(conninfo(cluster, dbname)))
    cluster.drop_database(dbname)
    return results, storm, shape


# What the status memory's reloads cost on the run's database (printed after the summary).
STATUS_NOTES: list[str] = []


def serving_rss_mb(base: str) -> float:
    """Resident memory of the server process serving ``base`` (with one worker, the worker:
    the timers process and the workers of several are its children, not counted)."""
    from bench.soak import uvicorn_pid  # bench.soak builds on this module

    pid = uvicorn_pid(base.rsplit(":", 1)[1])
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def status_memory_loads(info: str, repeats: int = 3) -> str:
    """The status memory's two loads timed in this process on the run's database: what a
    worker spends on a reload (the premises only when the premise table changed)."""
    from dispatch.status_memory import load_facts, load_premises

    premises_s, facts_s = [], []
    with psycopg.connect(info, autocommit=True) as conn:
        horizon = dt.datetime.now(dt.UTC) - dt.timedelta(hours=24)
        for _ in range(repeats):
            premises = load_premises(conn)
            premises_s.append(premises.seconds)
            facts = load_facts(conn, horizon=horizon)
            facts_s.append(facts.seconds)
    return (
        f"Status memory reloads on this database (best of {repeats}, in the bench process): "
        f"premises {min(premises_s) * 1000:,.0f} ms ({len(premises.ids):,} premises), facts "
        f"{min(facts_s) * 1000:,.0f} ms ({len(facts.outage_of):,} premises out, "
        f"{len(facts.outages):,} outages, {len(facts.orders):,} orders)."
    )


def table(results: Sequence[PhaseResult]) -> list[str]:
    lines = [
        "| app | workers | phase | clients | sent | ok | errors | unsent (time cap) | s "
        "| per s | p50 ms | p95 ms | p99 ms | client CPU |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        unit = " reports" if r.items_per_request > 1 else ""
        lines.append(
            f"| {r.app} | {r.workers} | {r.name} | {r.clients} | {r.sent - r.unsent:,} | "
            f"{r.ok:,} | {sum(r.errors.values()):,} | {r.unsent:,} | {r.seconds:.1f} | "
            f"{r.rate:,.0f}{unit} | "
            f"{r.percentile(50):.1f} | {r.percentile(95):.1f} | {r.percentile(99):.1f} | "
            f"{r.client_cpu_s / r.seconds:.0%} |"
        )
    return lines


def summary(results: Sequence[PhaseResult]) -> list[str]:
    """Per worker count: stored rate, ratios to the same run's healthz, mixes, errors."""
    lines = []
    for app, workers in dict.fromkeys((r.app, r.workers) for r in results):
        mine = [r for r in results if (r.app, r.workers) == (app, workers)]
        health = next(r for r in mine if r.name == "healthz")
        for r in mine:
            if r.name == "healthz":
                continue
            ratio = r.rate / health.rate if health.rate else float("nan")
            line = (
                f"- {app}, {workers} worker(s), {r.name} ({r.clients} clients): {r.rate:,.0f}/s = "
                f"**{ratio:.2f}x** healthz"
            )
            if r.stored is not None:
                per_s = r.stored / r.seconds
                line += f"; {r.stored:,} reports stored = **{per_s:,.0f} stored/s**"
            if r.classes:
                total = sum(r.classes.values())
                mix = ", ".join(f"{k} {v / total:.0%}" for k, v in r.classes.most_common())
                line += f"; answers: {mix}"
            if r.errors:
                line += f"; errors: {dict(r.errors)}"
            if r.server_rss_mb is not None:
                line += f"; server RSS after it {r.server_rss_mb:,.0f} MB"
            lines.append(line)
    return lines + STATUS_NOTES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Only the load shrinks with --quick: the territory stays province-like (100k+ premises).
    add_common_options(parser, requests=10_000, lookups=3_000)
    parser.add_argument("--premises", type=int, default=200_000)
    parser.add_argument("--feeders", type=int, default=500)
    parser.add_argument("--clients", type=int, default=200, help="concurrent clients")
    parser.add_argument(
        "--apps",
        default="shipped:1,gated:1,gated:2",
        help="app:workers runs, comma-separated; app is shipped (stormdesk serve), "
        "ungrouped, worker-timers (the timers inside each worker), memory-off (the status "
        "memory off: --apps memory-off:1,shipped:1 is its A/B) or gated",
    )
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help="phases to run after healthz (the baseline, always run), comma-separated: "
        "reports, status, batch; e.g. status alone for the lookup rate",
    )
    parser.add_argument(
        "--profile", type=int, default=0, help="profile N in-process reports instead"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH_SIZE,
        help="reports per batch request in the batch phase (a gateway flushing every second "
        "in a storm sends thousands)",
    )
    parser.add_argument(
        "--skip-identity",
        action="store_true",
        help="skip comparing batch answers with the single path (tests/outages prove it)",
    )
    parser.add_argument(
        "--group", action="store_true", help="with --profile: the group-commit path instead"
    )
    args = parser.parse_args(argv)
    resolve_sizes(args)
    cluster = bench_cluster(fresh=args.fresh)
    template, territory, load_s = template_database(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    if args.profile:
        # Imported here: bench.intake_profile builds on this module's storm helpers.
        from bench.intake_profile import profile_group_path, profile_single_path

        if args.group:
            print(profile_group_path(cluster, template, territory, args))
        else:
            print(profile_single_path(cluster, template, territory, args))
        return
    results: list[PhaseResult] = []
    storm: Storm | None = None
    shape: str | None = None
    for run in args.apps.split(","):
        app, workers = run.split(":")
        mine, storm, shape = run_workers(cluster, template, territory, args, app, int(workers))
        results += mine
    assert storm is not None
    batch_note = "`POST /api/v1/reports/batch`: **not built** (absent from /openapi.json)."
    if "batch" not in args.phases.split(","):
        batch_note = f"Phases run: healthz, {args.phases} (`--phases`)."
    elif shape is not None and args.skip_identity:
        batch_note = "`POST /api/v1/reports/batch`: identity with the single path not checked here."
    elif shape is not None:
        identity = compare_batch_with_single(cluster, template, territory, args.seed, shape)
        batch_note = f"`POST /api/v1/reports/batch` (batches of {args.batch_size}): {identity}."
    grid = generate_grid(territory, seed=args.seed)
    load_note = f"loaded in {load_s:.1f} s" if load_s is not None else "reused"
    lines = [
        f"Territory: seed {args.seed}, {args.feeders:,} feeders, {args.premises:,} premises, "
        f"{grid.n_devices:,} devices ({Counter(grid.device_kind.tolist())['transformer']:,} "
        f"transformers; template database {load_note}). Storm: {len(storm.tripped)} "
        f"devices tripped before the load (breakers and reclosers), "
        f"{len(storm.affected):,} premises below them. Callers "
        f"{', '.join(f'{k} {v:.0%}' for k, v in CALLER_MIX.items())}; located by "
        f"{', '.join(f'{k} {v:.0%}' for k, v in LOCATE_MIX.items())}.",
        "",
        *table(results),
        "",
        *summary(results),
        "",
        batch_note,
    ]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        record(
            "Intake",
            "bench.intake",
            "The load generator (aiohttp, closed loop) runs on the same 2 cores as uvicorn and "
            "PostgreSQL: its CPU share is in the table. `shipped` is `web.main:create_app` as "
            f"it is; `gated` is the same app behind an admission gate of {GATE} requests per "
            "worker (`bench.intake.gated_app`), the fix proposed for the deadlock between the "
            "connection pool (10 + 20) and anyio's 40 threads that the shipped app hits under "
            "200 clients (pool timeouts after 30 s, then a wedged server). Figures are noisy: "
            "other work shared the machine, hence the same-run healthz baseline and ratios.\n\n"
            + report,
        )


if __name__ == "__main__":
    main()
