"""Erlang C and Erlang A against published figures, and Erlang A against a simulation."""

from __future__ import annotations

import pytest

from hotline.staffing import (
    Target,
    erlang_a,
    erlang_c,
    positions,
    required_agents,
    staffing_plan,
)
from hotline.staffing.simulate import simulate_week

# The published check (pyworkforce's README, the textbook Erlang C example): 100 calls per
# 30 minutes, 3 minutes average handle time, 80 % answered within 20 s, shrinkage 0.3.
CALLS, AHT_S = 100, 180.0


def test_erlang_c_published_example() -> None:
    """Load = 100 / 1,800 s x 180 s = 10 Erlangs. 13 agents give 79.6 % (short of 80),
    14 give 88.8 % at occupancy 10 / 14 = 0.714; with shrinkage 0.3, ceil(14 / 0.7) = 20."""
    figures = required_agents(CALLS, aht_s=AHT_S)
    assert figures.load_erlangs == pytest.approx(10.0)
    assert figures.agents == 14
    assert figures.service_level == pytest.approx(0.888, abs=5e-4)
    assert figures.occupancy == pytest.approx(0.714, abs=5e-4)
    assert positions(figures.agents, 0.3) == 20
    assert erlang_c(13, 10.0, aht_s=AHT_S, target_s=20).service_level < 0.8


def test_erlang_a_reference_values() -> None:
    """pyworkforce 0.5.4's exact M/M/n+M snapshot (100 calls / 30 min, AHT 3 min, mean
    patience 5 min, 14 agents): P(wait) 0.14526, P(abandon) 0.013984, occupancy 0.704297,
    ASA 0.069919 min, service level (20 s) 0.916792."""
    figures = erlang_a(14, 10.0, aht_s=AHT_S, target_s=20, patience_s=300)
    assert figures.wait_probability == pytest.approx(0.14526, abs=5e-6)
    assert figures.abandon_probability == pytest.approx(0.013984, abs=5e-7)
    assert figures.occupancy == pytest.approx(0.704297, abs=5e-7)
    assert figures.asa_s / 60 == pytest.approx(0.069919, abs=5e-7)
    assert figures.service_level == pytest.approx(0.916792, abs=5e-7)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    for agents in (12, 14, 18):
        c = erlang_c(agents, 10.0, aht_s=AHT_S, target_s=20)
        a = erlang_a(agents, 10.0, aht_s=AHT_S, target_s=20, patience_s=1e7)
        assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-4)
        assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
        assert a.asa_s == pytest.approx(c.asa_s, rel=1e-3)


def test_erlang_a_stays_finite_past_capacity_and_predicts_abandonment() -> None:
    """A storm hour: 20 Erlangs on 12 agents. Erlang C has no steady state (SL 0, wait
    certain); Erlang A settles where the lost callers balance the excess: throughput =
    12 busy agents at most, so at least 8 / 20 = 40 % hang up."""
    c = erlang_c(12, 20.0, aht_s=AHT_S, target_s=20)
    a = erlang_a(12, 20.0, aht_s=AHT_S, target_s=20, patience_s=120)
    assert c.service_level == 0.0
    assert a.abandon_probability >= 0.40
    assert a.occupancy <= 1.0
    assert 0.0 < a.service_level < 0.5
    impatient = erlang_a(12, 20.0, aht_s=AHT_S, target_s=20, patience_s=30)
    assert impatient.abandon_probability > a.abandon_probability


def test_erlang_a_agrees_with_the_ciw_simulation() -> None:
    """14 agents on 100 calls per half hour for a day, eight replications (~38,000 calls):
    the simulated service level and abandonment fall within 0.02 and 0.01 of the
    formula's."""
    result = simulate_week(
        [100.0] * 48, [14] * 48, aht_s=AHT_S, patience_s=300, replications=8, seed=7
    )
    figures = erlang_a(14, 10.0, aht_s=AHT_S, target_s=20, patience_s=300)
    assert result.service_level[0].mean == pytest.approx(figures.service_level, abs=0.02)
    assert result.abandon_rate[0].mean == pytest.approx(figures.abandon_probability, abs=0.01)


def test_required_agents_with_abandonment_and_occupancy_ceilings() -> None:
    """Erlang A with patience needs no more agents than Erlang C for the same 80/20; a
    ceiling on occupancy of 0.7 forces ceil(10 / 0.7) = 15."""
    with_patience = required_agents(CALLS, aht_s=AHT_S, target=Target(patience_s=300))
    assert with_patience.agents <= 14
    assert with_patience.service_level >= 0.8
    capped = required_agents(CALLS, aht_s=AHT_S, target=Target(max_occupancy=0.7))
    assert capped.agents == 15
    strict = Target(patience_s=60, max_abandon=0.01)
    assert required_agents(CALLS, aht_s=AHT_S, target=strict).abandon_probability <= 0.01
    assert required_agents(0, aht_s=AHT_S).agents == 0


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="agents"):
        erlang_c(0, 1.0, aht_s=AHT_S, target_s=20)
    with pytest.raises(ValueError, match="service_level"):
        Target(service_level=1.5)
    with pytest.raises(ValueError, match="shrinkage"):
        positions(10, 1.0)


def test_staffing_plan_per_half_hour() -> None:
    """100 calls need 14 agents (20 positions at shrinkage 0.3), none need none; with
    mean patience 300 s the same half hour needs 13 by Erlang A."""
    plan = staffing_plan([100, 0, 50], aht_s=AHT_S, shrinkage=0.3)
    assert list(plan["agents"]) == [14, 0, 8]
    assert list(plan["positions"]) == [20, 0, 12]
    assert (plan["service_level"] >= 0.8).all()
    patient = staffing_plan([100], aht_s=[AHT_S], target=Target(patience_s=300))
    assert patient["agents"].iloc[0] == 13
    assert patient["abandon_probability"].iloc[0] > 0
    with pytest.raises(ValueError, match="2 intervals"):
        staffing_plan([1, 2], aht_s=[AHT_S])
