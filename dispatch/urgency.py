"""How urgent a work order is, as a score with its breakdown, and its routing priority 1-4.

The score is a sum of terms, each shown with its points so a dispatcher can see why one job
comes before another (weights: ``geo.settings.UrgencyWeights``):

- ``hazard``: a live wire, a broken pole, fire or smoke. Outweighs everything else.
- ``life_support`` / ``hospital`` / ``other_critical``: critical premises still without
  power, per premise up to ``critical_cap`` each.
- ``supply_lost``: an outage (premises without power) against a fault where power is on.
- ``customers``: ``customers_log10 * log10(1 + customers affected)``; log-scaled so a
  thousand dark homes count more than ten, but not a hundred times more.
- ``waiting``: minutes since the first report times ``waiting_per_min``, capped.
- ``sla``: grows linearly from 0 when the on-site deadline is ``sla_horizon_min`` away to
  ``sla`` at the deadline, and on to twice that a horizon past it.

Priority (the routing classes of ``routing.problem.Job``, 1 most urgent; the solver never
drops a job to serve a lower class):

1. a hazard, or a life-support or hospital premise without power;
2. other critical premises, an outage of at least ``big_outage_customers``, or any order
   past its on-site deadline;
3. every other outage;
4. a fault without supply loss (bookable by appointment).

Example, an urban outage of 250 customers with one hospital, reported 30 minutes ago
(15 minutes left to the on-site deadline): hospital 300 + supply_lost 100 + customers
40*log10(251) = 96.0 + waiting 6.0 + sla 75.0 = 577.0, priority 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dispatch.settings import UrgencyWeights


@dataclass(frozen=True)
class Urgency:
    """A score, its routing priority and the points of each term (they sum to the score)."""

    score: float
    priority: int
    breakdown: list[dict[str, Any]]


def score(
    *,
    hazard: bool,
    supply_lost: bool,
    life_support: int,
    hospital: int,
    other_critical: int,
    customers_affected: int,
    waiting_min: float,
    sla_slack_min: float | None,
    weights: UrgencyWeights,
    big_outage_customers: int,
) -> Urgency:
    """Score one order; see the module docstring for the rule.

    Parameters
    ----------
    sla_slack_min
        Minutes left to the on-site deadline (negative when past it); None once the crew
        is on site, when the on-site clock no longer runs.
    """
    cap = weights.critical_cap
    terms: list[tuple[str, float, float]] = []  # (term, value, points)
    if hazard:
        terms.append(("hazard", 1, weights.hazard))
    if life_support:
        terms.append(("life_support", life_support, weights.life_support * min(life_support, cap)))
    if hospital:
        terms.append(("hospital", hospital, weights.hospital * min(hospital, cap)))
    if other_critical:
        terms.append(
            ("other_critical", other_critical, weights.other_critical * min(other_critical, cap))
        )
    if supply_lost:
        terms.append(("supply_lost", 1, weights.supply_lost))
    customers = max(customers_affected, 0)
    if customers:
        terms.append(("customers", customers, weights.customers_log10 * math.log10(1 + customers)))
    waiting = max(waiting_min, 0.0)
    terms.append(
        ("waiting_min", waiting, min(weights.waiting_per_min * waiting, weights.waiting_max))
    )
    if sla_slack_min is not None:
        horizon = max(weights.sla_horizon_min, 1.0)
        share = min(max((horizon - sla_slack_min) / horizon, 0.0), 2.0)
        terms.append(("sla_slack_min", sla_slack_min, weights.sla * share))
    # Rounded per term first, so the breakdown shown adds up exactly to the score.
    breakdown: list[dict[str, Any]] = [
        {"term": term, "value": round(value, 1), "points": round(points, 1)}
        for term, value, points in terms
    ]
    total = round(sum(item["points"] for item in breakdown), 1)
    if hazard or life_support or hospital:
        priority = 1
    elif (
        other_critical
        or (supply_lost and customers >= big_outage_customers)
        or (sla_slack_min is not None and sla_slack_min < 0)
    ):
        priority = 2
    elif supply_lost:
        priority = 3
    else:
        priority = 4
    return Urgency(score=total, priority=priority, breakdown=breakdown)
