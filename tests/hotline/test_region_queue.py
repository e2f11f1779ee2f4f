"""The call-queue simulation under a regional surge: the shared rule against FIFO."""

from __future__ import annotations

from typing import cast

import pytest

from hotline.region_shares import OTHER, plan_shares
from hotline.staffing.region_queue import Policy, QueueRun, simulate_regions

FORECAST = {"A": 120.0, "B": 100.0, "C": 80.0}


def _run(policy: Policy, rates: dict[str, float], lendable: float = 1.0, seed: int = 3) -> QueueRun:
    shares = plan_shares(
        20, {**FORECAST, OTHER: 1e-6}, lendable_share=lendable, borrowing_share=20.0
    )
    return simulate_regions(
        rates,
        shares,
        policy=policy,
        aht_s=180.0,
        patience_s=180.0,
        duration_s=2 * 3600.0,
        seed=seed,
    )


def test_every_call_is_answered_or_abandoned_and_agents_never_exceed_the_pool() -> None:
    surge = {**FORECAST, "A": 1200.0}
    policies: tuple[Policy, ...] = ("fair", "fifo")
    for policy in policies:
        run = _run(policy, surge)
        total_busy = sum(t.busy_agent_s for t in run.regions.values())
        assert total_busy <= run.agents * run.span_s + 1e-6
        for tally in run.regions.values():
            assert tally.offered == tally.answered + tally.abandoned
            assert 0 <= tally.in_time <= tally.answered
    # The same seed rings the same calls for both policies.
    assert _run("fair", surge).regions["B"].offered == _run("fifo", surge).regions["B"].offered


def test_a_surge_starves_the_others_under_fifo_but_not_under_the_rule() -> None:
    surge = {**FORECAST, "A": 1200.0}
    fair, fifo = _run("fair", surge), _run("fifo", surge)
    for region in ("B", "C"):
        assert fifo.regions[region].service_level < 0.1
        assert fifo.regions[region].abandon_rate > 0.4
        assert fair.regions[region].service_level > 0.5
        assert fair.regions[region].abandon_rate < 0.2
        # Time waiting while holding fewer agents than the guaranteed share: far less.
        assert fair.regions[region].short_s < fifo.regions[region].short_s / 3
    # With everything lendable A still finds no agent idle while its calls wait.
    assert fair.regions["A"].idle_agent_s_waiting == pytest.approx(0.0)
    assert fair.mean_agents("A") > fair.nominal["A"]


def test_unlendable_agents_stay_idle_for_their_region() -> None:
    """Half lendable: A may not take B's and C's unlendable agents even while it waits."""
    run = _run("fair", {"A": 1200.0, "B": 0.0, "C": 0.0}, lendable=0.5)
    shares = plan_shares(20, {**FORECAST, OTHER: 1e-6}, lendable_share=0.5)
    reserved = sum(s.nominal - s.lendable for r, s in shares.items() if r != "A")
    assert reserved > 0
    assert run.mean_agents("A") == pytest.approx(run.agents - reserved, abs=0.3)
    assert run.regions["A"].idle_agent_s_waiting > 0


def test_a_bad_policy_or_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="policy must be"):
        _run(cast(Policy, "lifo"), FORECAST)
    with pytest.raises(ValueError, match="calls per hour must be >= 0"):
        _run("fair", {"A": -1.0})
