"""Agents required per interval for a service level, by Erlang C or Erlang A.

The usual target of a 95598 centre is 80 % of calls answered within 20 s; Erlang A can also
hold abandonment under a ceiling. Shrinkage (breaks, training, absence) turns the agents
on the phones into the agents to schedule: positions = ceil(agents / (1 - shrinkage)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from hotline.staffing.erlang import QueueFigures, erlang_a, erlang_c, offered_load

MAX_AGENTS = 5000


@dataclass(frozen=True)
class Target:
    """What one interval must achieve; ``patience_s`` set means Erlang A, else Erlang C."""

    service_level: float = 0.8
    target_s: float = 20.0
    max_abandon: float | None = None
    max_occupancy: float | None = None
    patience_s: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.service_level < 1.0:
            msg = f"service_level must be between 0 and 1, got {self.service_level}"
            raise ValueError(msg)
        if self.target_s < 0:
            msg = f"target_s must not be negative, got {self.target_s}"
            raise ValueError(msg)

    def figures(self, agents: int, load: float, aht_s: float) -> QueueFigures:
        """Erlang A when callers' patience is known, Erlang C otherwise."""
        if self.patience_s is None:
            return erlang_c(agents, load, aht_s=aht_s, target_s=self.target_s)
        return erlang_a(
            agents, load, aht_s=aht_s, target_s=self.target_s, patience_s=self.patience_s
        )

    def met_by(self, figures: QueueFigures) -> bool:
        """Whether the figures meet every part of the target."""
        if figures.service_level < self.service_level:
            return False
        if self.max_abandon is not None and figures.abandon_probability > self.max_abandon:
            return False
        return not (self.max_occupancy is not None and figures.occupancy > self.max_occupancy)


def required_agents(
    calls: float, *, interval_s: float = 1800.0, aht_s: float, target: Target | None = None
) -> QueueFigures:
    """The fewest agents on the phones whose figures meet ``target`` (0 calls need 0)."""
    target = target or Target()
    load = offered_load(calls, interval_s, aht_s)
    if calls == 0:
        return QueueFigures(0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    # Erlang C needs more agents than the load; Erlang A, with callers hanging up, can
    # meet a target with fewer, so its search starts lower.
    floor = math.floor(load) + 1 if target.patience_s is None else math.floor(load * 0.5)
    agents = max(1, floor)
    while agents <= MAX_AGENTS:
        figures = target.figures(agents, load, aht_s)
        if target.met_by(figures):
            return figures
        agents += 1
    msg = f"no staffing up to {MAX_AGENTS} agents meets {target} for {calls} calls"
    raise ValueError(msg)


def positions(agents: int, shrinkage: float) -> int:
    """Agents to schedule so that ``agents`` are on the phones after shrinkage."""
    if not 0.0 <= shrinkage < 1.0:
        msg = f"shrinkage must be in [0, 1), got {shrinkage}"
        raise ValueError(msg)
    return math.ceil(agents / (1.0 - shrinkage) - 1e-9)


def staffing_plan(
    calls: Sequence[float],
    *,
    aht_s: float | Sequence[float],
    interval_s: float = 1800.0,
    target: Target | None = None,
    shrinkage: float = 0.0,
) -> pd.DataFrame:
    """Agents and positions per interval, with the figures each staffing level gives."""
    ahts = [aht_s] * len(calls) if isinstance(aht_s, float | int) else list(aht_s)
    if len(ahts) != len(calls):
        msg = f"aht_s has {len(ahts)} values for {len(calls)} intervals"
        raise ValueError(msg)
    rows = []
    for count, aht in zip(calls, ahts, strict=True):
        figures = required_agents(count, interval_s=interval_s, aht_s=aht, target=target)
        rows.append(
            {
                "calls": count,
                "load_erlangs": figures.load_erlangs,
                "agents": figures.agents,
                "positions": positions(figures.agents, shrinkage),
                "service_level": figures.service_level,
                "abandon_probability": figures.abandon_probability,
                "asa_s": figures.asa_s,
                "occupancy": figures.occupancy,
            }
        )
    return pd.DataFrame(rows)
