"""A week's roster: the service pipeline against the usual one, judged by simulation.

Run from the repository root: ``.venv/bin/python -m bench.roster`` (``--quick`` for 5
replications and shorter solves). It takes a calm week (the first full week of March) of
generated call history on a 1,000,000-customer territory, pooled over its regions, as the
forecast per half hour, and builds two rosters under the same rules (``ShiftRules``):

- the usual pipeline: Erlang C agents per half hour for 80 % in 20 s in every half hour,
  then the minimum-cover roster (CP-SAT);
- the service pipeline: Erlang A (patience) tables and each day's 80/20 and abandonment
  targets with margins, in the same CP-SAT model, started from the usual roster;

then simulates the week against each with ``ciw`` (Poisson arrivals at the forecast,
exponential handle times and patience, 30 replications) and reports each day's service
level and abandonment with 95 % confidence intervals.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from bench.common import record
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement, service_roster, usual_roster
from hotline.staffing.roster import check_roster
from hotline.staffing.simulate import SimulationResult, simulate_week
from scenarios.history import HistoryConfig, generate_history, synthetic_summary

AHT_S, PATIENCE_S = 240.0, 200.0


def forecast_week(customers: int, seed: int) -> list[float]:
    territory = synthetic_summary(n_customers=customers, n_feeders=customers // 200)
    history = generate_history(territory, HistoryConfig(years=1, seed=seed))
    monday = pd.Timestamp("2021-03-01", tz="Asia/Shanghai")
    week = history.hourly[
        (history.hourly["hour"] >= monday)
        & (history.hourly["hour"] < monday + pd.Timedelta(days=7))
    ]
    per_hour = week.groupby("hour")[["expected_ordinary", "expected_outage"]].sum().sum(axis=1)
    return list(np.repeat(per_hour.to_numpy() / 2.0, 2))


def describe(name: str, hours: float, result: SimulationResult, seconds: float) -> str:
    worst_sl = min(result.service_level.values(), key=lambda ci: ci.low)
    worst_ab = max(result.abandon_rate.values(), key=lambda ci: ci.high)
    meets = result.meets(service_level=0.8, max_abandon=0.05)
    sl = f"{worst_sl.mean:.3f} [{worst_sl.low:.3f}, {worst_sl.high:.3f}]"
    ab = f"{worst_ab.mean:.3f} [{worst_ab.low:.3f}, {worst_ab.high:.3f}]"
    return f"| {name} | {hours:,.0f} | {sl} | {ab} | {meets} | {seconds:.0f} |"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=None, help="CP-SAT seconds")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="5 replications, 10 s solves")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args(argv)
    limit = args.time_limit or (10.0 if args.quick else 60.0)
    replications = args.replications or (5 if args.quick else 30)
    calls = forecast_week(args.customers, args.seed)
    requirement = erlang_c_requirement(calls, aht_s=AHT_S, goal=ServiceGoal())
    started = time.perf_counter()
    usual = usual_roster(calls, aht_s=AHT_S, time_limit_s=limit)
    usual_s = time.perf_counter() - started
    started = time.perf_counter()
    lean = service_roster(calls, aht_s=AHT_S, patience_s=PATIENCE_S, time_limit_s=limit, hint=usual)
    lean_s = time.perf_counter() - started
    rows = []
    for name, roster, seconds in (
        ("usual: Erlang C per half hour + minimum cover", usual, usual_s),
        ("service: Erlang A + day targets, CP-SAT", lean, lean_s),
    ):
        broken = check_roster(roster.shifts)
        if broken:
            msg = f"{name} breaks rules: {broken[:3]}"
            raise SystemExit(msg)
        result = simulate_week(
            calls,
            list(roster.on_phone),
            aht_s=AHT_S,
            patience_s=PATIENCE_S,
            replications=replications,
        )
        rows.append(describe(name, roster.agent_hours, result, seconds))
    saving = 1.0 - lean.agent_hours / usual.agent_hours
    agents = lambda r: r.shifts["agent"].nunique()  # noqa: E731
    body = "\n".join(
        [
            f"Week: {sum(calls):,.0f} calls (peak {max(calls):.0f} per half hour), "
            f"AHT {AHT_S:.0f} s, mean patience {PATIENCE_S:.0f} s; Erlang C requirement "
            f"{0.5 * sum(requirement):,.0f} agent-hours on the phones. Rules: 8 h full-time "
            "shifts with a 1 h break, 4 h part-time shifts, >= 11 h rest, no night -> "
            "morning, <= 5 days, 32-40 h / <= 20 h, "
            "bilingual agents 08:00-22:00 (checked by `check_roster` on both rosters). "
            f"CP-SAT: {limit:.0f} s per roster, 2 workers; ciw: {replications} replications.",
            "",
            "| roster | agent-hours | worst day's service level (20 s), mean [95 % CI] "
            "| worst day's abandonment, mean [95 % CI] | every day meets 80/20 and <= 5 % "
            "| seconds to build |",
            "|---|---:|---:|---:|---|---:|",
            *rows,
            "",
            f"Agents: usual {agents(usual)}, service {agents(lean)}; CP-SAT status usual "
            f"{usual.status} (bound {usual.extra['bound_agent_hours']:,.0f} h), service "
            f"{lean.status} (bound {lean.extra['bound_agent_hours']:,.0f} h).",
            f"Agent-hours saved by the service pipeline: **{saving:.1%}** (target >= 5 %).",
        ]
    )
    print(body)
    if not args.no_record:
        record("Roster", "bench.roster", body + "\n")


if __name__ == "__main__":
    main()
