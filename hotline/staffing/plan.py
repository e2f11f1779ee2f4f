"""Two ways from a forecast to a roster, so they can be compared on the same week.

The usual pipeline: agents per half hour by Erlang C for 80 % in 20 s in *every* interval,
then the roster with the fewest agent-hours that covers those counts. It ignores that
callers hang up (Erlang C overstates the queue) and that the target is the day's, not each
half hour's, so it overstaffs the quiet hours, where 80/20 costs the most per call.

The service pipeline: the same roster model, told each day's target instead (answered
within 20 s over the day, abandonment over the day), with Erlang A figures per half hour
and staffing level, a margin for what a stationary formula misses, and a floor of half the
Erlang C count so no half hour is left to starve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hotline.staffing.erlang import erlang_a, offered_load
from hotline.staffing.requirements import Target, required_agents
from hotline.staffing.roster import (
    SLOTS_PER_DAY,
    AgentPool,
    Cover,
    Roster,
    Service,
    ShiftRules,
    solve_roster,
)

SLOT_S = 1800.0
# Bilingual agents needed on the phones from 08:00 to 22:00 (the English line's hours).
EN_HOURS = (16, 44)


@dataclass(frozen=True)
class ServiceGoal:
    """The day's targets and the margins the roster keeps from them."""

    service_level: float = 0.8
    target_s: float = 20.0
    max_abandon: float = 0.05
    service_margin: float = 0.03
    abandon_margin: float = 0.01
    floor_share: float = 0.5


def erlang_c_requirement(calls: Sequence[float], *, aht_s: float, goal: ServiceGoal) -> list[int]:
    """Agents per slot for ``goal`` in every slot by Erlang C (the usual requirement)."""
    target = Target(service_level=goal.service_level, target_s=goal.target_s)
    return [required_agents(c, interval_s=SLOT_S, aht_s=aht_s, target=target).agents for c in calls]


def en_requirement(slots: int) -> list[int]:
    return [int(EN_HOURS[0] <= t % SLOTS_PER_DAY < EN_HOURS[1]) for t in range(slots)]


def usual_roster(
    calls: Sequence[float],
    *,
    aht_s: float,
    goal: ServiceGoal | None = None,
    pool: AgentPool | None = None,
    rules: ShiftRules | None = None,
    time_limit_s: float = 30.0,
    work_limit: float | None = None,
) -> Roster:
    """Erlang C per interval, then the minimum-cover roster."""
    goal = goal or ServiceGoal()
    requirement = erlang_c_requirement(calls, aht_s=aht_s, goal=goal)
    demand = Cover(requirement, en_requirement(len(calls)))
    roster = solve_roster(
        demand, pool, rules=rules, time_limit_s=time_limit_s, work_limit=work_limit
    )
    roster.extra["required_agent_hours"] = 0.5 * sum(requirement)
    return roster


def service_tables(
    calls: Sequence[float], *, aht_s: float, patience_s: float, goal: ServiceGoal
) -> Service:
    """Erlang A answered-in-time and abandoned calls per slot and staffing level."""
    erlang_c_counts = erlang_c_requirement(calls, aht_s=aht_s, goal=goal)
    answered, abandoned, floors = [], [], []
    for count, need in zip(calls, erlang_c_counts, strict=True):
        floor = math.ceil(goal.floor_share * need)
        load = offered_load(count, SLOT_S, aht_s)
        got, lost = [], []
        for agents in range(floor, need + 2):
            if agents == 0 or count == 0:
                # No agent answers nobody in time; no call loses nobody.
                got.append(0.0)
                lost.append(float(count) if agents == 0 else 0.0)
                continue
            figures = erlang_a(
                agents, load, aht_s=aht_s, target_s=goal.target_s, patience_s=patience_s
            )
            got.append(count * figures.service_level)
            lost.append(count * figures.abandon_probability)
        answered.append(got)
        abandoned.append(lost)
        floors.append(floor)
    return Service(
        calls=list(calls),
        answered=answered,
        abandoned=abandoned,
        floor=floors,
        service_level=goal.service_level + goal.service_margin,
        max_abandon=goal.max_abandon - goal.abandon_margin,
        en=en_requirement(len(calls)),
    )


def service_roster(
    calls: Sequence[float],
    *,
    aht_s: float,
    patience_s: float,
    goal: ServiceGoal | None = None,
    pool: AgentPool | None = None,
    rules: ShiftRules | None = None,
    time_limit_s: float = 30.0,
    work_limit: float | None = None,
    hint: Roster | None = None,
) -> Roster:
    """Erlang A tables and the day's targets, solved in one roster model.

    ``hint``: the usual roster of the same week, if at hand, to start the search from.
    """
    goal = goal or ServiceGoal()
    demand = service_tables(calls, aht_s=aht_s, patience_s=patience_s, goal=goal)
    return solve_roster(
        demand, pool, rules=rules, time_limit_s=time_limit_s, work_limit=work_limit, hint=hint
    )
