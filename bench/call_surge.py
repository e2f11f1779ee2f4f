"""A storm in one region's calls: region shares against one FIFO queue, same agents.

Run from the repository root: ``.venv/bin/python -m bench.call_surge`` (``--replications``,
``--hours``, ``--no-record``). Five regions A-E with a forecast of 60, 50, 40, 30 and 20
calls per half hour, the agents Erlang C needs for that forecast at 80 % in 20 s; then
region A rings at ``--surge`` times its forecast while B-E ring as forecast, with the same
agents. Each policy runs the same seeded arrivals (``hotline.staffing.region_queue``):

- ``fifo``: one queue, the oldest call first (the baseline);
- ``fair``: the shared region rule, every idle agent lendable, borrowing unlimited (A may
  use every idle agent);
- ``fair`` with borrowing capped at half a region's nominal agents, all or half lendable.

Per region: service level (answered within 20 s of all offered), abandonment, mean wait,
agents used against the guaranteed share, the share of time a region had calls waiting
while holding fewer agents than its nominal; for A, the agent time left idle while it had
calls waiting. Then the storm again with 2, 4, 6 and 8 agents more than the forecast
needs. Means with 95 % confidence intervals over the replications.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence

import numpy as np
from scipy import stats

from bench.common import record
from hotline.region_shares import OTHER, Share, plan_shares
from hotline.staffing import required_agents
from hotline.staffing.region_queue import Policy, QueueRun, simulate_regions

FORECAST_PER_30MIN = {"A": 60.0, "B": 50.0, "C": 40.0, "D": 30.0, "E": 20.0}
AHT_S = 180.0
PATIENCE_S = 180.0
TARGET_S = 20.0
# (label, policy, lendable share, borrowing share): borrowing as a multiple of nominal.
POLICIES: tuple[tuple[str, Policy, float, float], ...] = (
    ("fifo", "fifo", 1.0, 24.0),
    ("fair, all lendable, borrowing unlimited", "fair", 1.0, 24.0),
    ("fair, all lendable, borrowing 0.5x nominal", "fair", 1.0, 0.5),
    ("fair, half lendable, borrowing 0.5x nominal", "fair", 0.5, 0.5),
)


def ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % confidence interval (Student's t)."""
    array = np.asarray(values, dtype=np.float64)
    mean = float(array.mean())
    if array.size < 2:
        return mean, 0.0
    sem = float(array.std(ddof=1)) / math.sqrt(array.size)
    return mean, float(stats.t.ppf(0.975, array.size - 1)) * sem


def fmt(values: Sequence[float], *, pct: bool = True, digits: int = 1) -> str:
    mean, half = ci(values)
    scale = 100.0 if pct else 1.0
    unit = "%" if pct else ""
    return f"{mean * scale:.{digits}f} ± {half * scale:.{digits}f}{unit}"


def shares_for(agents: int, lendable_share: float, borrowing_share: float) -> dict[str, Share]:
    """Nominal agents by forecast; ``other`` (no calls here) gets the one seat it must."""
    weights = {**FORECAST_PER_30MIN, OTHER: 1e-6}
    return plan_shares(
        agents, weights, lendable_share=lendable_share, borrowing_share=borrowing_share
    )


def runs(
    rates: dict[str, float],
    shares: dict[str, Share],
    policy: Policy,
    replications: int,
    hours: float,
) -> list[QueueRun]:
    return [
        simulate_regions(
            rates,
            shares,
            policy=policy,
            aht_s=AHT_S,
            patience_s=PATIENCE_S,
            duration_s=hours * 3600.0,
            target_s=TARGET_S,
            seed=1000 + rep,
        )
        for rep in range(replications)
    ]


def table(results: list[QueueRun], rates: dict[str, float]) -> list[str]:
    shares = results[0].nominal
    lines = [
        "| region | calls/h | nominal agents | offered Erlangs | agents used | "
        "answered in 20 s | abandoned | mean wait s | time short of its share |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for region, per_hour in rates.items():
        tallies = [run.regions[region] for run in results]
        waits = [t.wait_s / t.answered if t.answered else 0.0 for t in tallies]
        lines.append(
            f"| {region} | {per_hour:,.0f} | {shares[region]} | {per_hour * AHT_S / 3600:.1f} | "
            f"{fmt([run.mean_agents(region) for run in results], pct=False)} | "
            f"{fmt([t.service_level for t in tallies])} | "
            f"{fmt([t.abandon_rate for t in tallies])} | {fmt(waits, pct=False)} | "
            f"{fmt([t.short_s / run.span_s for t, run in zip(tallies, results, strict=True)])} |"
        )
    idle = [run.regions["A"].idle_agent_s_waiting / (run.span_s * run.agents) for run in results]
    lines.append("")
    lines.append(f"Agent time idle while A had calls waiting: {fmt(idle, digits=2)}.")
    return lines


def sweep(surge: dict[str, float], agents: int, replications: int, hours: float) -> list[str]:
    """The storm with more agents than the forecast needs: what each policy does with them."""
    lines = [
        "| agents | policy | worst of B-E in 20 s | worst of B-E abandoned | A's agents |",
        "|---:|---|---:|---:|---:|",
    ]
    for extra in range(0, 9, 2):
        for label, policy, lendable, borrowing in POLICIES[:3]:
            shares = shares_for(agents + extra, lendable, borrowing)
            results = runs(surge, shares, policy, replications, hours)
            others = ("B", "C", "D", "E")
            worst_sl = min(
                others, key=lambda r: np.mean([x.regions[r].service_level for x in results])
            )
            worst_ab = max(
                others, key=lambda r: np.mean([x.regions[r].abandon_rate for x in results])
            )
            lines.append(
                f"| {agents + extra} | {label} | "
                f"{worst_sl} {fmt([x.regions[worst_sl].service_level for x in results])} | "
                f"{worst_ab} {fmt([x.regions[worst_ab].abandon_rate for x in results])} | "
                f"{fmt([x.mean_agents('A') for x in results], pct=False)} |"
            )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--surge", type=float, default=10.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)

    total = sum(FORECAST_PER_30MIN.values())
    agents = required_agents(total, aht_s=AHT_S).agents
    forecast = {r: 2 * c for r, c in FORECAST_PER_30MIN.items()}
    surge = {**forecast, "A": forecast["A"] * args.surge}
    body = [
        f"{args.replications} replications of {args.hours:g} h each; {agents} agents (Erlang C "
        f"for {total:.0f} calls per 30 min, AHT {AHT_S:.0f} s, 80 % in {TARGET_S:.0f} s); "
        f"patience {PATIENCE_S:.0f} s (exponential). Region A at {args.surge:g}x its forecast, "
        "B-E as forecast. ± is the 95 % confidence interval over replications.",
        "",
    ]
    started = time.perf_counter()
    for scenario, rates in (("normal day", forecast), (f"A at {args.surge:g}x", surge)):
        for label, policy, lendable, borrowing in POLICIES:
            shares = shares_for(agents, lendable, borrowing)
            results = runs(rates, shares, policy, args.replications, args.hours)
            body += [f"### {scenario}, {label}", "", *table(results, rates), ""]
    body += [
        f"### A at {args.surge:g}x with more agents than the forecast needs",
        "",
        *sweep(surge, agents, args.replications, args.hours),
        "",
    ]
    body.append(f"Simulated in {time.perf_counter() - started:.1f} s.")
    text = "\n".join(body)
    print(text)
    if not args.no_record:
        record("Call surge: region shares on the call queue (issue 12 item 6)", __spec__.name, text)


if __name__ == "__main__":
    main()
