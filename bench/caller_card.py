"""Caller recognition at scale: the caller card for a calling number at a million premises.

Run from the repository root: ``.venv/bin/python -m bench.caller_card`` (``--quick`` for a
10x smaller run). The synthetic province (``scenarios.synth``) gets phone numbers written as
people type them (``+86 138 0000 0049``; every 50th premise shares its neighbour's, so some
cards have two premises), customer names, and a call history (three calls per hundred
premises over the last 90 days, numbers stored in E.164). Queries send the bare digits, as a
telephony system does, for random premises plus one unknown number in ten (a new caller);
they are parsed in region CN (``phone_region``).

Measured: the whole card (``hotline.caller_card.caller_card``, one SQL statement: premises,
status per premise, open tickets, 90 days of calls, reports and tickets) and, as the
baseline in the same run, the phone-to-premises step without migration 0013's digit index
(a sequential scan: the query the card would run without the index; on a subsample),
against the same step with it.
Reports and tickets are empty in this database: their lookups are the same kind of index
scans as the calls'.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.common import (
    add_common_options,
    bench_cluster,
    conninfo,
    loaded_territory,
    record,
    resolve_sizes,
)
from geo.database import make_engine
from geo.models import Premise
from geo.phones import phone_matches
from hotline.caller_card import caller_card
from hotline.settings import HotlineSettings
from hotline.visibility import Viewer

PHONE_SQL = "'+86 138 ' || to_char(CASE WHEN id % 50 = 0 THEN id - 1 ELSE id END, 'FM0000 0000')"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def _digits(premise_id: int) -> str:
    key = premise_id - 1 if premise_id % 50 == 0 else premise_id
    return f"86138{key:08d}"


def prepare(conn: psycopg.Connection[tuple[object, ...]], n_premises: int) -> float | None:
    """Phones, names and calls on the territory, once (kept with the database); seconds."""
    done = conn.execute("SELECT count(*) FROM premise WHERE phone IS NOT NULL").fetchone()
    if done and done[0] == n_premises:
        return None
    started = time.perf_counter()
    conn.execute(f"UPDATE premise SET phone = {PHONE_SQL}, customer_name = 'Customer ' || id")
    conn.execute("TRUNCATE call")
    conn.execute(
        "INSERT INTO call (channel, status, caller_number, premise_id, region_id, started_at, "
        "answered_at, ended_at, wrapped_at, queue_wait_s, answered_by, disposition, created_by) "
        "SELECT 'phone', 'wrapped', '+' || regexp_replace(p.phone, '[^0-9]', '', 'g'), p.id, "
        "p.region_id, t, t + interval '40 s', t + interval '4 min', t + interval '5 min', 40, "
        "'agent', 'kb_answered', 'bench' FROM premise p, "
        "LATERAL (SELECT %s::timestamptz - (random() * interval '90 days') AS t) s "
        "WHERE p.id %% 33 = 0",
        (NOW,),
    )
    conn.execute("ANALYZE premise")
    conn.execute("ANALYZE call")
    conn.commit()
    return time.perf_counter() - started


def percentiles(ms: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.asarray(ms), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def _seq_scan_lookup(
    conn: psycopg.Connection[tuple[object, ...]], digits: list[str]
) -> list[float]:
    """The phone step without the digit index: the planner may not use it in this session."""
    out = []
    conn.execute("SET enable_indexscan = off")
    conn.execute("SET enable_bitmapscan = off")
    for d in digits:
        started = time.perf_counter()
        conn.execute(
            "SELECT id FROM premise WHERE regexp_replace(phone, '[^0-9]', '', 'g') = %s", (d,)
        ).fetchall()
        out.append((time.perf_counter() - started) * 1000)
    conn.execute("RESET enable_indexscan")
    conn.execute("RESET enable_bitmapscan")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(parser, feeders=5_000, premises=1_000_000, queries=2_000)
    args = parser.parse_args(argv)
    resolve_sizes(args)
    cluster = bench_cluster(fresh=args.fresh)
    loaded = loaded_territory(
        cluster, seed=args.seed, n_feeders=args.feeders, n_premises=args.premises
    )
    with psycopg.connect(conninfo(cluster, loaded.dbname)) as conn:
        prepare_s = prepare(conn, args.premises)
    rng = np.random.default_rng(args.seed)
    ids = rng.integers(1, args.premises + 1, size=args.queries)
    numbers = [
        "86139" + f"{int(i):08d}" if k % 10 == 9 else _digits(int(i)) for k, i in enumerate(ids)
    ]
    # The province's numbers are Chinese (+86): bare digits are read in that region.
    settings = HotlineSettings(phone_region="CN")
    viewer = Viewer(username="bench", role="agent", department_id=None)
    engine = make_engine(loaded.url)
    card_ms: list[float] = []
    step_ms: list[float] = []
    premises_seen = 0
    with Session(engine) as session:
        for number in numbers[:50]:  # warm-up: caches, prepared plans
            caller_card(session=session, viewer=viewer, now=NOW, settings=settings, phone=number)
        for number in numbers:
            started = time.perf_counter()
            card = caller_card(
                session=session, viewer=viewer, now=NOW, settings=settings, phone=number
            )
            card_ms.append((time.perf_counter() - started) * 1000)
            premises_seen += len(card.premises)
            started = time.perf_counter()
            by_phone = phone_matches(Premise.phone, "+" + number, region="CN")
            session.scalars(select(Premise.id).where(by_phone)).all()
            step_ms.append((time.perf_counter() - started) * 1000)
            session.rollback()
    n_seq = max(10, args.queries // 100)
    with psycopg.connect(conninfo(cluster, loaded.dbname)) as conn:
        seq_ms = _seq_scan_lookup(conn, numbers[:n_seq])
    engine.dispose()
    c50, c95, c99 = percentiles(card_ms)
    s50, s95, s99 = percentiles(step_ms)
    q50, q95, q99 = percentiles(seq_ms)
    body = "\n".join(
        [
            f"{args.premises:,} premises, {args.queries:,} lookups (one in ten a new caller), "
            f"{premises_seen / len(numbers):.2f} premises per card"
            + (f"; phones and calls written in {prepare_s:.0f} s" if prepare_s else "")
            + ".",
            "",
            "| what | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|",
            f"| caller card (whole) | {c50:.2f} | {c95:.2f} | {c99:.2f} |",
            f"| phone -> premises, digit index | {s50:.2f} | {s95:.2f} | {s99:.2f} |",
            f"| phone -> premises, no index (baseline, {n_seq} lookups) | {q50:.1f} | {q95:.1f} "
            f"| {q99:.1f} |",
            "",
            f"Index vs sequential scan, p50: {q50 / s50:.0f}x faster. Target p99 <= 20 ms for "
            f"the card: {'met' if c99 <= 20 else 'NOT met'} ({c99:.1f} ms).",
        ]
    )
    print(body)
    if not args.no_record:
        record("Caller card", "bench.caller_card", body)


if __name__ == "__main__":
    main()
