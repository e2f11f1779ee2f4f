"""The daily report over five years of a province's history in the database.

Run from the repository root: ``.venv/bin/python -m bench.stats`` (``--quick`` for a 10x
smaller territory). It loads the synthetic province (1,000,000 premises on 5,000 feeders,
``bench.common``), gives each feeder a breaker, writes five years of generated history
into the database (``stormdesk history generate``'s writer: outages, restoration steps,
repair orders, fault reports, call records, by COPY) and times

- ``daily_report`` of the worst typhoon day and of an ordinary day (best of 3 each);
- the baseline of the same run: the same day's headline counted from ORM objects in a
  Python loop (contacts, orders, on-site clocks met), the way a first script would;
- the monthly indicator report of the last 12 months (informational);

and checks that report and baseline agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    best_of,
    loaded_territory,
    record,
    resolve_sizes,
)
from dispatch.models import WorkOrder
from geo.database import make_engine
from hotline.stats import daily_report, indicator_report
from outages.models import Report
from scenarios.history import HistoryConfig, generate_history
from scenarios.history.store import WriteCounts, load_territory, write_history
from web.settings import Settings

TZ = "Asia/Shanghai"
START = dt.date(2021, 1, 1)


def _breakers(session: Session) -> None:
    """One breaker at each feeder's head: the synthetic territory has no device tree."""
    session.execute(
        text(
            "INSERT INTO device (code, kind, feeder_id, normally_open, geom) "
            "SELECT 'BRK-' || f.code, 'breaker', f.id, false, ST_PointOnSurface(f.geom) "
            "FROM feeder f WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.feeder_id = f.id)"
        )
    )


def baseline(session: Session, day: dt.date) -> tuple[int, int, int]:
    """Contacts, orders and on-site clocks met of ``day``, one ORM object at a time."""
    zone = ZoneInfo(TZ)
    start = dt.datetime.combine(day, dt.time(), zone)
    end = start + dt.timedelta(days=1)
    contacts = 0
    for report in session.scalars(select(Report)):
        if start <= report.received_at < end:
            contacts += 1
    orders = met = 0
    for order in session.scalars(select(WorkOrder)):
        if start <= order.first_report_at < end and order.status != "cancelled":
            orders += 1
            met += order.on_site_at is not None and order.on_site_at <= order.onsite_due_at
    return contacts, orders, met


def _rows(counts: WriteCounts) -> int:
    """Every row the history wrote: the calls are most of them (10.6M of 12.4M at 1M x 5 y)."""
    return counts.outages + counts.steps + counts.work_orders + counts.reports + counts.calls


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, premises=1_000_000, feeders=5_000)
    parser.add_argument("--years", type=int, default=5)
    args = parser.parse_args(argv)
    resolve_sizes(args)
    cluster = bench_cluster(fresh=args.fresh)
    loaded = loaded_territory(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    settings = Settings(database_url=loaded.url, timezone=TZ)
    engine = make_engine(loaded.url)
    with Session(engine) as session, session.begin():
        _breakers(session)
        territory = load_territory(session=session)
    started = time.perf_counter()
    history = generate_history(
        territory.summary, HistoryConfig(start=START, years=args.years, seed=args.seed, tz=TZ)
    )
    generate_s = time.perf_counter() - started
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        counts = write_history(
            session=session, history=history, territory=territory, settings=settings, seed=1
        )
    write_s = time.perf_counter() - started
    per_day = history.work_orders.groupby(
        history.work_orders["created_at"].dt.tz_convert(TZ).dt.date
    ).size()
    worst = per_day.idxmax()
    ordinary = per_day.index[len(per_day) // 2]
    now = dt.datetime.combine(dt.date(START.year + args.years, 1, 1), dt.time(), ZoneInfo(TZ))
    lines = [
        f"Territory: {args.premises:,} premises, {args.feeders:,} feeders; history "
        f"{args.years} years: {counts.outages:,} outages, {counts.steps:,} restoration steps, "
        f"{counts.work_orders:,} work orders, {counts.reports:,} reports, {counts.calls:,} "
        f"calls; generated in {generate_s:.1f} s, written by COPY in {write_s:.1f} s "
        f"({_rows(counts) / write_s:,.0f} rows/s, calls included).",
        "",
        "| day | orders | contacts | daily_report (best of 3) | ORM loop baseline | ratio |",
        "|---|---|---|---|---|---|",
    ]
    with Session(engine) as session:
        for label, day in (("worst typhoon day", worst), ("ordinary day", ordinary)):
            report_s, result = best_of(
                3, lambda d=day: daily_report(session=session, day=d, now=now, settings=settings)
            )
            started = time.perf_counter()
            contacts, orders, met = baseline(session, day)
            baseline_s = time.perf_counter() - started
            head = result.headline  # type: ignore[attr-defined]
            assert (head["contacts"], head["orders"]) == (contacts, orders), (head, contacts)
            decided = result.sections["orders_by_region"]  # type: ignore[attr-defined]
            assert int(decided["onsite_met"].sum()) == met
            lines.append(
                f"| {label} {day} | {orders:,} | {contacts:,} | {report_s:.3f} s | "
                f"{baseline_s:.2f} s | {baseline_s / report_s:.0f}x |"
            )
        indicators_s, _ = best_of(
            1,
            lambda: indicator_report(
                session=session,
                last_month=dt.date(START.year + args.years - 1, 12, 1),
                months=12,
                now=now,
                settings=settings,
            ),
        )
    engine.dispose()
    lines += ["", f"Monthly indicators, 12 months (12 period reports): {indicators_s:.2f} s."]
    body = "\n".join(lines)
    print(body)
    if not args.no_record:
        record("Daily report over five years of history (issue 12)", "bench.stats", body)


if __name__ == "__main__":
    main()
