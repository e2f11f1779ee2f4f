"""A week of calls simulated with ``ciw``: the judge of a roster, not its author.

Erlang formulas assume a steady state inside each half hour; a roster changes agents every
half hour, queues carry over, and a storm peak comes and goes. So a roster is judged by a
discrete-event simulation: Poisson arrivals at each interval's forecast rate, exponential
handle times and patience (callers hang up), the agents on the phones per interval as
ciw's server schedule, repeated over independent replications for a 95 % confidence
interval. Times inside ciw are minutes.

The schedule pre-empts and resumes: at each interval boundary ciw replaces its servers,
and without pre-emption the outgoing ones would finish their calls while the new ones
take others, an extra agent or more in every half hour that no roster pays for. With
"resume", a call in hand passes to the next interval's agents with its remaining (and,
being exponential, equally distributed) handle time, so capacity is exactly the roster's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import ciw
import numpy as np
import pandas as pd
from scipy import stats

DAY_MIN = 1440.0


@dataclass(frozen=True)
class Interval:
    """A share's mean with the half-width of its 95 % confidence interval (Student's t).

    The ends are cut to 0..1: with few replications t's interval of a service level near
    100 % reached past it, and a supervisor was shown "94.2%-102.7%".
    """

    mean: float
    half_width: float

    @property
    def low(self) -> float:
        return max(0.0, self.mean - self.half_width)

    @property
    def high(self) -> float:
        return min(1.0, self.mean + self.half_width)


@dataclass(frozen=True)
class SimulationResult:
    """Per replication and day: calls, answered in time, abandoned; and their summaries."""

    days: pd.DataFrame
    service_level: dict[int, Interval]
    abandon_rate: dict[int, Interval]
    replications: int

    def meets(self, *, service_level: float, max_abandon: float) -> bool:
        """Every day's confidence interval clears both targets (its worse end does)."""
        return all(ci.low >= service_level for ci in self.service_level.values()) and all(
            ci.high <= max_abandon for ci in self.abandon_rate.values()
        )

    def week(self) -> tuple[Interval, Interval]:
        """The whole week's service level and abandonment, each replication's calls summed
        first (a busy day weighs more than a quiet night's)."""
        reps = self.days.groupby("replication")[["calls", "in_time", "abandoned"]].sum()
        offered = reps["calls"].where(reps["calls"] > 0)
        service = (reps["in_time"] / offered).fillna(1.0)
        abandon = (reps["abandoned"] / offered).fillna(0.0)
        return _ci(service), _ci(abandon)


def simulate_week(
    calls: Sequence[float],
    agents: Sequence[int],
    *,
    interval_min: float = 30.0,
    aht_s: float,
    patience_s: float,
    target_s: float = 20.0,
    replications: int = 30,
    seed: int = 1,
) -> SimulationResult:
    """Simulate the intervals' calls against the agents on the phones per interval.

    Parameters
    ----------
    calls
        Expected calls per interval (the forecast).
    agents
        Agents on the phones per interval (after breaks and shrinkage).
    """
    if len(calls) != len(agents):
        msg = f"calls has {len(calls)} intervals, agents {len(agents)}"
        raise ValueError(msg)
    if replications < 2:
        msg = f"a confidence interval needs at least 2 replications, got {replications}"
        raise ValueError(msg)
    horizon = len(calls) * interval_min
    frames = []
    for rep in range(replications):
        records = _replicate(calls, agents, interval_min, aht_s, patience_s, seed + rep)
        frames.append(_daily(records, target_s / 60.0, horizon).assign(replication=rep))
    days = pd.concat(frames, ignore_index=True)
    service = {int(d): _ci(g["service_level"]) for d, g in days.groupby("day")}
    abandon = {int(d): _ci(g["abandon_rate"]) for d, g in days.groupby("day")}
    return SimulationResult(days, service, abandon, replications)


def _replicate(
    calls: Sequence[float],
    agents: Sequence[int],
    interval_min: float,
    aht_s: float,
    patience_s: float,
    seed: int,
) -> pd.DataFrame:
    ciw.seed(seed)
    horizon = len(calls) * interval_min
    ends = [interval_min * (i + 1) for i in range(len(calls))]
    rates = [max(float(c), 0.0) / interval_min for c in calls]
    schedule = ciw.Schedule(
        numbers_of_servers=[int(a) for a in agents], shift_end_dates=ends, preemption="resume"
    )
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.PoissonIntervals(rates, ends, horizon)],
        service_distributions=[ciw.dists.Exponential(60.0 / aht_s)],
        number_of_servers=[schedule],
        reneging_time_distributions=[ciw.dists.Exponential(60.0 / patience_s)],
    )
    simulation = ciw.Simulation(network)
    # Run past the last arrival so calls still queued at the end are decided.
    simulation.simulate_until_max_time(horizon + 60.0)
    records = pd.DataFrame(simulation.get_all_records())
    if records.empty:
        return pd.DataFrame(columns=["arrival_date", "waiting_time", "record_type"])
    records = records[records["arrival_date"] < horizon]
    # A call passed on at a boundary has a record per agent: its wait is the first's,
    # whether it was answered or abandoned is the last's.
    by_call = records.sort_values("exit_date").groupby("id_number")
    first = by_call[["arrival_date", "waiting_time"]].first()
    first["record_type"] = by_call["record_type"].last()
    return first.reset_index(drop=True)


def _daily(records: pd.DataFrame, target_min: float, horizon: float) -> pd.DataFrame:
    days = np.arange(math.ceil(horizon / DAY_MIN))
    if records.empty:
        return pd.DataFrame({"day": days, "calls": 0, "in_time": 0, "abandoned": 0}).assign(
            service_level=1.0, abandon_rate=0.0
        )
    day = (records["arrival_date"] // DAY_MIN).astype(int)
    served = records["record_type"] == "service"
    in_time = served & (records["waiting_time"] <= target_min)
    grouped = (
        pd.DataFrame({"day": day, "calls": 1, "in_time": in_time, "abandoned": ~served})
        .groupby("day")[["calls", "in_time", "abandoned"]]
        .sum()
    )
    grouped = grouped.reindex(days, fill_value=0).rename_axis("day").reset_index()
    offered = grouped["calls"].where(grouped["calls"] > 0)
    grouped["service_level"] = (grouped["in_time"] / offered).fillna(1.0)
    grouped["abandon_rate"] = (grouped["abandoned"] / offered).fillna(0.0)
    return grouped


def _ci(values: pd.Series) -> Interval:
    array = values.to_numpy(dtype=np.float64)
    mean = float(array.mean())
    if array.size < 2 or float(array.std(ddof=1)) == 0.0:
        return Interval(mean, 0.0)
    sem = float(array.std(ddof=1)) / math.sqrt(array.size)
    return Interval(mean, float(stats.t.ppf(0.975, array.size - 1)) * sem)
