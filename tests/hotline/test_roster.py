"""Rosters from CP-SAT: the rules hold, the demand is met, and the service roster is leaner."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hotline.staffing.plan import (
    ServiceGoal,
    erlang_c_requirement,
    service_roster,
    usual_roster,
)
from hotline.staffing.roster import (
    WEEK_SLOTS,
    AgentPool,
    Cover,
    ShiftRules,
    check_roster,
    solve_roster,
)
from hotline.staffing.simulate import _ci, simulate_week

AHT_S, PATIENCE_S = 240.0, 200.0


def small_week() -> list[float]:
    """About 600 calls a day: quiet nights, busy mornings and evenings, a busier Monday."""
    hours = np.arange(WEEK_SLOTS) / 2.0 % 24
    day = np.arange(WEEK_SLOTS) // 48
    shape = (
        0.15 + np.exp(-(((hours - 10.5) / 3.0) ** 2)) + 0.8 * np.exp(-(((hours - 19) / 2.5) ** 2))
    )
    return list(12.0 * shape * np.where(day == 0, 1.15, 1.0))


@pytest.fixture(scope="module")
def usual():
    # A work limit, not a wall-clock one: the same search however busy the machine is.
    return usual_roster(small_week(), aht_s=AHT_S, time_limit_s=60, work_limit=3)


def test_minimum_cover_roster_keeps_every_rule_and_covers_every_half_hour(usual) -> None:
    calls = small_week()
    requirement = erlang_c_requirement(calls, aht_s=AHT_S, goal=ServiceGoal())
    roster = usual
    assert (roster.on_phone >= np.array(requirement)).all()
    assert check_roster(roster.shifts) == []
    daytime = [t for t in range(WEEK_SLOTS) if 16 <= t % 48 < 44]
    assert (roster.en_on_phone[daytime] >= 1).all()
    # Paid hours are the shifts' hours; covering costs something over the bare requirement.
    assert roster.agent_hours == pytest.approx(roster.shifts["length_slots"].sum() / 2)
    assert roster.agent_hours >= 0.5 * sum(requirement)
    assert roster.extra["bound_agent_hours"] <= roster.agent_hours + 1e-6


def test_service_roster_needs_fewer_hours_and_still_meets_the_day_in_simulation(usual) -> None:
    """Same week, same rules: Erlang A and the day's targets instead of Erlang C per half
    hour. Judged by simulating the week (5 replications here; the bench runs 30)."""
    calls = small_week()
    lean = service_roster(
        calls, aht_s=AHT_S, patience_s=PATIENCE_S, time_limit_s=60, work_limit=3, hint=usual
    )
    assert check_roster(lean.shifts) == []
    assert lean.agent_hours < usual.agent_hours
    result = simulate_week(
        calls, list(lean.on_phone), aht_s=AHT_S, patience_s=PATIENCE_S, replications=5
    )
    days = result.days.groupby("day")[["calls", "in_time", "abandoned"]].sum()
    assert (days["in_time"] / days["calls"] >= 0.8).all()
    assert (days["abandoned"] / days["calls"] <= 0.05).all()


def test_check_roster_names_broken_rules() -> None:
    shifts = pd.DataFrame(
        [
            # Night 22:00 on Monday, then 06:00 Tuesday: 0 h rest and night-to-morning.
            {
                "agent": "FT001",
                "part_time": False,
                "en": False,
                "day": 0,
                "start_slot": 44,
                "length_slots": 16,
                "break_slot": 50,
            },
            {
                "agent": "FT001",
                "part_time": False,
                "en": False,
                "day": 1,
                "start_slot": 12,
                "length_slots": 16,
                "break_slot": 18,
            },
            # A part-timer on six days, 24 h, with a break it should not have.
            *[
                {
                    "agent": "PT001",
                    "part_time": True,
                    "en": True,
                    "day": d,
                    "start_slot": 20,
                    "length_slots": 8,
                    "break_slot": 24 if d == 0 else None,
                }
                for d in range(6)
            ],
        ]
    )
    problems = " | ".join(check_roster(shifts))
    assert "FT001 rests" in problems
    assert "FT001 goes from a night shift to a morning one" in problems
    assert "FT001 works 16 h" in problems
    assert "PT001 works 6 days" in problems
    assert "PT001 works 24 h" in problems
    assert "PT001 has a misplaced break on day 0" in problems


def test_infeasible_pool_and_bad_demand_are_refused() -> None:
    demand = Cover([3] * WEEK_SLOTS)
    with pytest.raises(ValueError, match="allow more agents"):
        solve_roster(demand, AgentPool(full_time=2, part_time=0), time_limit_s=5)
    with pytest.raises(ValueError, match="a week has 336"):
        solve_roster(Cover([1] * 48), time_limit_s=5)


def test_rules_shape_the_shifts() -> None:
    """Only part-timers (4 h, 06:00-20:00 starts) for a daytime-only demand."""
    need = [1 if 20 <= t % 48 < 28 else 0 for t in range(WEEK_SLOTS)]
    rules = ShiftRules(full_time_runs=())
    roster = solve_roster(Cover(need), rules=rules, time_limit_s=5)
    assert set(roster.shifts["part_time"]) == {True}
    assert roster.agent_hours == pytest.approx(7 * 4)
    assert math.isclose(roster.on_phone.sum(), 7 * 8)
    assert check_roster(roster.shifts, rules) == []


def test_a_share_interval_stays_between_nought_and_one() -> None:
    """Five replications of a service level near 100 %: t's interval would pass 100 %."""
    near_full = _ci(pd.Series([0.99, 1.0, 0.93, 1.0, 1.0]))
    assert near_full.mean + near_full.half_width > 1.0
    assert near_full.high == 1.0 and 0.9 < near_full.low < near_full.mean
    none_lost = _ci(pd.Series([0.0, 0.04, 0.0, 0.0, 0.0]))
    assert none_lost.low == 0.0 and none_lost.high > 0.0
