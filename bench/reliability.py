"""Reliability indices over five years of a province's history: the whole report in seconds.

Run from the repository root: ``.venv/bin/python -m bench.reliability`` (``--quick`` for a
10x smaller territory). It generates the synthetic province of ``data.synth`` (1,000,000
premises on 5,000 feeders in 8 regions), takes its feeder summary, generates five years
of outage history on it (``scenarios.history``), and times

- ``reliability_report``: every IEEE 1366 index and the DL/T 836 figures, for all, normal
  and major event days, per system, region, feeder and cause, with the 2.5-beta major
  event days (best of 3);
- the baseline of the same run: system SAIFI, SAIDI and CAIDI alone, summed row by row in
  plain Python, the way a first script over the outage table would;

and checks that the two agree on the three indices they share.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import pandas as pd

from bench.common import best_of, record
from data.synth import generate_territory
from outages.reliability import reliability_report
from scenarios.history import HistoryConfig, TerritorySummary, generate_history

TZ = "Asia/Shanghai"


def province_summary(seed: int, n_feeders: int, n_premises: int) -> TerritorySummary:
    """The feeder summary of a ``data.synth`` territory: customers per feeder, its region."""
    territory = generate_territory(seed=seed, n_feeders=n_feeders, n_premises=n_premises)
    customers = np.bincount(territory.premise_feeder, minlength=n_feeders)
    frame = pd.DataFrame(
        {
            "feeder": [f"F{i + 1:05d}" for i in range(n_feeders)],
            "region": [territory.region_names[r] for r in territory.feeder_region],
            "customers": customers,
        }
    )
    return TerritorySummary.from_frame(frame, urban=territory.region_names[:2])


def loop_baseline(rows: pd.DataFrame, customers: int) -> tuple[float, float, float]:
    """System SAIFI, SAIDI (min) and CAIDI (min), one Python step per interruption row."""
    interrupted = 0
    minutes = 0.0
    for count, start, end in zip(
        rows["customers"].tolist(),
        rows["started_at"].tolist(),
        rows["restored_at"].tolist(),
        strict=True,
    ):
        duration = (end - start).total_seconds() / 60.0
        if duration > 5.0:
            interrupted += count
            minutes += count * duration
    return interrupted / customers, minutes / customers, minutes / interrupted


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=None, help="default 1,000,000")
    parser.add_argument("--feeders", type=int, default=None, help="default 5,000")
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--quick", action="store_true", help="10x smaller, under a minute")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    premises = args.premises or (100_000 if args.quick else 1_000_000)
    feeders = args.feeders or (500 if args.quick else 5_000)

    started = time.perf_counter()
    territory = province_summary(args.seed, feeders, premises)
    territory_s = time.perf_counter() - started
    config = HistoryConfig(years=args.years, seed=args.seed)
    started = time.perf_counter()
    history = generate_history(territory, config)
    history_s = time.perf_counter() - started
    start = config.start
    end = dt.date(start.year + args.years, start.month, start.day)

    def run() -> object:
        return reliability_report(
            history.interruptions, history.served, start=start, end=end, tz=TZ
        )

    report_s, report = best_of(3, run)
    started = time.perf_counter()
    total = int(history.served["customers"].sum())
    saifi, saidi, caidi = loop_baseline(history.interruptions, total)
    loop_s = time.perf_counter() - started
    system = report.row("system", "system")  # type: ignore[attr-defined]
    agree = np.allclose(
        [saifi, saidi, caidi], system[["saifi", "saidi_min", "caidi_min"]].astype(float)
    )
    daily = report.daily  # type: ignore[attr-defined]
    majors = set(daily.index[daily["major_event_day"]])
    typhoons = set(history.typhoon_days)
    table = report.table  # type: ignore[attr-defined]
    scopes = f"system + {len(territory.regions)} regions + {feeders:,} feeders + causes"
    figures = len(table) * 19
    lines = [
        f"Territory: `data.synth` seed {args.seed}, {feeders:,} feeders, {premises:,} "
        f"premises in {len(territory.regions)} regions (summary in {territory_s:.1f} s); "
        f"history: {args.years} years, seed {args.seed}, {len(history.events):,} outage "
        f"events, {len(history.interruptions):,} interruption rows (generated in "
        f"{history_s:.1f} s).",
        "",
        "| computation | seconds | ratio |",
        "|---|---:|---:|",
        f"| reliability_report: 14 IEEE 1366 indices + 5 DL/T 836 figures, all/normal/major "
        f"days, {scopes} ({len(table):,} rows, {figures:,} figures), best of 3 "
        f"| {report_s:.2f} | 1.00 |",
        f"| baseline: system SAIFI/SAIDI/CAIDI only (3 figures), a Python loop over the rows "
        f"| {loop_s:.2f} | {loop_s / report_s:.2f} |",
        "",
        f"System, all days: SAIFI {system['saifi']:.3f}, SAIDI {system['saidi_min']:.1f} min, "
        f"CAIDI {system['caidi_min']:.1f} min, MAIFI_E {system['maifi_e']:.3f}, "
        f"RS-1 {system['rs1_pct']:.4f} %; the loop agrees on SAIFI/SAIDI/CAIDI: {agree}.",
        f"Major event days: {len(majors)}; typhoon days {len(typhoons)}, of which major "
        f"event days {len(typhoons & majors)}.",
    ]
    body = "\n".join(lines) + "\n"
    print(body)
    if not args.no_record:
        record("Reliability indices", "bench.reliability", body)


if __name__ == "__main__":
    main()
