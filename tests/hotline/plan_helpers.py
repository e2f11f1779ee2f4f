"""Roster plans written directly, with the forecast and the agents a test chooses, for the
pages and the wallboard that read stored plans (``stormdesk roster plan`` makes real ones:
tests/web/test_cli_roster.py and tests/hotline/test_roster_plans.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline.models import WEEK_HALF_HOURS, RosterPlan
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement

AHT_S, PATIENCE_S = 180.0, 120.0


def peak_week(peak_slot: int, peak_calls: float, base_calls: float = 2.0) -> list[float]:
    """A quiet week (``base_calls`` a half hour) with a two-hour peak from ``peak_slot``."""
    return [
        peak_calls if peak_slot <= t < peak_slot + 4 else base_calls for t in range(WEEK_HALF_HOURS)
    ]


def store_plan(
    session: Session,
    *,
    region: str,
    week: dt.date,
    calls: Sequence[float],
    agents: Sequence[int],
    timezone: str = "Europe/Helsinki",
    ivr_share: float = 0.0,
) -> RosterPlan:
    """A plan of ``week`` for ``region`` whose forecast is ``calls`` and roster ``agents``."""
    region_id = session.scalar(select(Region.id).where(Region.code == region))
    starts_at = dt.datetime.combine(week, dt.time(), ZoneInfo(timezone))
    to_agents = [c * (1.0 - ivr_share) for c in calls]
    goal = ServiceGoal()
    plan = RosterPlan(
        region_id=region_id,
        week_start=week,
        starts_at=starts_at,
        forecast_model="mstl",
        forecast_origin=starts_at - dt.timedelta(days=3),
        calls_forecast=list(calls),
        calls_lo=[0.8 * c for c in calls],
        calls_hi=[1.2 * c for c in calls],
        ivr_share=ivr_share,
        required_agents=erlang_c_requirement(to_agents, aht_s=AHT_S, goal=goal),
        required_agents_no_ivr=erlang_c_requirement(list(calls), aht_s=AHT_S, goal=goal),
        rostered_agents=list(agents),
        shifts=[],
        agent_hours=0.5 * sum(agents),
        usual_agent_hours=0.5 * sum(agents) + 10,
        roster_method="service",
        solver_status="FEASIBLE",
        aht_s=AHT_S,
        patience_s=PATIENCE_S,
        service_level=0.86,
        service_level_low=0.84,
        service_level_high=0.88,
        abandon_rate=0.021,
        abandon_low=0.018,
        abandon_high=0.024,
        replications=30,
        simulated_days=[
            {
                "day": d,
                "service_level": 0.86,
                "service_level_low": 0.84,
                "service_level_high": 0.88,
                "abandon_rate": 0.021,
                "abandon_low": 0.018,
                "abandon_high": 0.024,
            }
            for d in range(7)
        ],
        created_by="test",
    )
    session.add(plan)
    session.flush()
    return plan
