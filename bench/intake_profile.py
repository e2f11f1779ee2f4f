"""In-process profiles of the intake paths for ``bench.intake --profile N [--group]``.

Counting statements per report (a cursor event) says where the round trips go, which a
wall-clock rate on a shared machine cannot: the figures in bench/RESULTS.md come from here.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import time
from collections import Counter

import numpy as np
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bench.intake import GATE, fresh_copy, report_bodies, trip_devices
from geo.cluster import Cluster
from geo.database import make_engine, make_sessionmaker
from outages.intake.group_commit import GroupWriter, Pending
from outages.intake.single import file_report
from outages.models import Report
from outages.schemas import ReportCreate
from scenarios.synth import SynthTerritory, generate_grid
from web.settings import Settings


def profile_single_path(
    cluster: Cluster, template: str, territory: SynthTerritory, args: argparse.Namespace
) -> str:
    """File ``--profile`` reports in-process, one transaction each, under cProfile.

    Counts the SQL statements each report sends (by classification) with a cursor event,
    so the cost can be read as round trips as well as functions.
    """
    dbname = "intake_profile"
    url = fresh_copy(cluster, template, dbname)
    storm = trip_devices(url, generate_grid(territory, seed=args.seed), np.random.default_rng(1))
    bodies = report_bodies(territory, storm, np.random.default_rng(args.seed + 30), args.profile)
    settings = Settings(DATABASE_URL=url)
    engine = make_engine(url)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    per_class: dict[str, list[int]] = {}
    times: dict[str, list[float]] = {}
    profiler = cProfile.Profile()
    started = time.perf_counter()
    for body in bodies:
        before, t0 = statements, time.perf_counter()
        profiler.enable()
        with Session(engine, expire_on_commit=False) as session, session.begin():
            answer = file_report(
                session=session,
                data=ReportCreate.model_validate(body),
                settings=settings,
                now=dt.datetime.now(dt.UTC),
                actor="public",
                is_agent=False,
            )
        profiler.disable()
        per_class.setdefault(answer.classification, []).append(statements - before)
        times.setdefault(answer.classification, []).append((time.perf_counter() - t0) * 1000)
    wall = time.perf_counter() - started
    with Session(engine) as session:
        stored = len(session.scalars(select(Report.id)).all())
    engine.dispose()
    cluster.drop_database(dbname)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
    lines = [
        f"{len(bodies):,} reports in-process, one client: {len(bodies) / wall:,.0f} reports/s, "
        f"{stored:,} stored",
    ]
    for name, counts in sorted(per_class.items()):
        lines.append(
            f"- {name}: {len(counts):,} reports, {np.mean(counts):.1f} statements each "
            f"(max {max(counts)}), {np.median(times[name]):.2f} ms p50, "
            f"{np.percentile(times[name], 99):.2f} ms p99"
        )
    return "\n".join(lines) + "\n\n" + out.getvalue()


def profile_group_path(
    cluster: Cluster, template: str, territory: SynthTerritory, args: argparse.Namespace
) -> str:
    """File the same storm mix through ``GroupWriter.write_group`` in groups of ``GATE``
    (as many as one worker lets in at once) and count the statements per report."""
    dbname = "intake_profile"
    url = fresh_copy(cluster, template, dbname)
    storm = trip_devices(url, generate_grid(territory, seed=args.seed), np.random.default_rng(1))
    bodies = report_bodies(territory, storm, np.random.default_rng(args.seed + 30), args.profile)
    settings = Settings(DATABASE_URL=url)
    engine = make_engine(url, pool_size=1)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    writer = GroupWriter(make_sessionmaker(engine), settings)
    now = dt.datetime.now(dt.UTC)
    pending = [Pending(ReportCreate.model_validate(b), None, "public", False, now) for b in bodies]
    started = time.perf_counter()
    for i in range(0, len(pending), GATE):
        writer.write_group(pending[i : i + GATE])
    wall = time.perf_counter() - started
    answers = [p.future.result(timeout=0) for p in pending]
    engine.dispose()
    cluster.drop_database(dbname)
    classes = Counter(a.classification for a in answers if a is not None)
    # COPY sends its rows in one statement each; psycopg's copy is not a cursor execute.
    return (
        f"{len(bodies):,} reports in-process in groups of {GATE}: "
        f"{len(bodies) / wall:,.0f} reports/s; {statements / len(bodies):.2f} statements "
        f"per report ({statements / writer.stats.groups:.1f} per group, COPY not counted); "
        f"handed back {writer.stats.handed_back}; answers {dict(classes)}"
    )
