"""Urgency: the ordering the rule promises, the breakdown adding up, the priority mapping."""

from __future__ import annotations

import pytest

from dispatch.urgency import Urgency, score
from web.settings import Settings


def _score(settings: Settings, **terms: object) -> Urgency:
    values: dict[str, object] = {
        "hazard": False,
        "supply_lost": True,
        "life_support": 0,
        "hospital": 0,
        "other_critical": 0,
        "customers_affected": 0,
        "waiting_min": 5.0,
        "sla_slack_min": 40.0,
    }
    values.update(terms)
    return score(
        weights=settings.urgency,
        big_outage_customers=settings.big_outage_customers,
        **values,  # type: ignore[arg-type]
    )


def test_ordering_and_priorities(settings: Settings) -> None:
    ranked = {
        "hazard": _score(settings, hazard=True, supply_lost=False),
        "hospital outage": _score(settings, hospital=1, customers_affected=20),
        "big outage": _score(settings, customers_affected=500),
        "small outage": _score(settings, customers_affected=3),
        "old small fault": _score(
            settings, supply_lost=False, customers_affected=1, waiting_min=300, sla_slack_min=1140
        ),
    }
    scores = [u.score for u in ranked.values()]
    assert scores == sorted(scores, reverse=True), ranked
    assert len(set(scores)) == len(scores)
    assert [u.priority for u in ranked.values()] == [1, 1, 2, 3, 4]
    for urgency in ranked.values():
        assert round(sum(t["points"] for t in urgency.breakdown), 1) == urgency.score


def test_life_support_is_priority_one_and_overdue_is_at_least_two(settings: Settings) -> None:
    assert _score(settings, life_support=1, customers_affected=2).priority == 1
    assert _score(settings, customers_affected=2, sla_slack_min=-1).priority == 2
    assert _score(settings, supply_lost=False, sla_slack_min=-5).priority == 2


def test_the_documented_example(settings: Settings) -> None:
    urgency = _score(settings, hospital=1, customers_affected=250, waiting_min=30, sla_slack_min=15)
    points = {t["term"]: t["points"] for t in urgency.breakdown}
    assert points == {
        "hospital": 300.0,
        "supply_lost": 100.0,
        "customers": 96.0,
        "waiting_min": 6.0,
        "sla_slack_min": 75.0,
    }
    assert urgency.score == 577.0 and urgency.priority == 1


@pytest.mark.parametrize(("slack", "points"), [(120, 0.0), (60, 0.0), (0, 100.0), (-60, 200.0)])
def test_sla_term_rises_towards_the_deadline(
    settings: Settings, slack: float, points: float
) -> None:
    urgency = _score(settings, sla_slack_min=slack)
    assert {t["term"]: t["points"] for t in urgency.breakdown}["sla_slack_min"] == points


def test_weights_are_configurable(settings: Settings) -> None:
    heavy = settings.model_copy(
        update={"urgency": settings.urgency.model_copy(update={"supply_lost": 5000.0})}
    )
    outage = _score(heavy, customers_affected=1)
    hazard = _score(heavy, hazard=True, supply_lost=False)
    assert outage.score > hazard.score
