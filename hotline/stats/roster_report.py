"""The stored week plan against its forecast, as a report: per half hour the calls forecast,
the agents Erlang C requires and the agents rostered, what simulating the week said, and
what the IVR (storm mode's self-service) saves.

The saving is read off the plan itself: it keeps the requirement for the calls left after
the IVR's share and the requirement for every call, so the agent-hours between them are
what self-service takes off the roster. A week without a stored plan is a clear 404 that
says how to make one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session

from hotline.models import RosterPlan
from hotline.roster_plans import HALF_HOUR, latest_plans, week_start_at
from hotline.settings import HotlineSettings
from hotline.stats.daily import StatsReport
from hotline.stats.period import Period

SLOT_H = 0.5


def _required_hours(counts: Sequence[int]) -> float:
    return SLOT_H * float(sum(counts))


def _plan_row(code: str, plan: RosterPlan, zone: str) -> dict[str, object]:
    required = _required_hours(plan.required_agents)
    without_ivr = _required_hours(plan.required_agents_no_ivr)
    return {
        "region": code,
        "calls": round(sum(plan.calls_forecast), 1),
        "agent_hours": plan.agent_hours,
        "usual_agent_hours": plan.usual_agent_hours,
        "required_agent_hours": required,
        "service_level": round(plan.service_level, 4),
        "service_level_low": round(plan.service_level_low, 4),
        "service_level_high": round(plan.service_level_high, 4),
        "abandon_rate": round(plan.abandon_rate, 4),
        "abandon_low": round(plan.abandon_low, 4),
        "abandon_high": round(plan.abandon_high, 4),
        "ivr_share": round(plan.ivr_share, 4),
        "required_agent_hours_no_ivr": without_ivr,
        "agent_hours_saved": without_ivr - required,
        "replications": plan.replications,
        "forecast_model": plan.forecast_model,
        "roster_method": plan.roster_method,
        "solver_status": plan.solver_status,
        "created_at": pd.Timestamp(plan.created_at).tz_convert(zone).strftime("%Y-%m-%d %H:%M"),
        "created_by": plan.created_by,
    }


def _half_hours(code: str, plan: RosterPlan, zone: str) -> pd.DataFrame:
    times = pd.date_range(
        pd.Timestamp(plan.starts_at).tz_convert("UTC"),
        periods=len(plan.calls_forecast),
        freq=HALF_HOUR,
    ).tz_convert(zone)
    return pd.DataFrame(
        {
            "region": code,
            "time": times.strftime("%Y-%m-%d %H:%M"),
            "calls_forecast": [round(v, 2) for v in plan.calls_forecast],
            "calls_lo": [round(v, 2) for v in plan.calls_lo],
            "calls_hi": [round(v, 2) for v in plan.calls_hi],
            "calls_to_agents": [round(v * (1.0 - plan.ivr_share), 2) for v in plan.calls_forecast],
            "required_agents": plan.required_agents,
            "required_agents_no_ivr": plan.required_agents_no_ivr,
            "rostered_agents": plan.rostered_agents,
        }
    )


def _days(code: str, plan: RosterPlan) -> pd.DataFrame:
    frame = pd.DataFrame(plan.simulated_days)
    frame.insert(0, "region", code)
    frame["day"] = [str(plan.week_start + dt.timedelta(days=int(d))) for d in frame["day"]]
    return frame.round(4)


def _weighted(frame: pd.DataFrame, column: str) -> float | None:
    calls = frame["calls"].sum()
    return None if calls <= 0 else round(float((frame[column] * frame["calls"]).sum() / calls), 4)


def roster_report(
    *,
    session: Session,
    week: dt.date,
    now: dt.datetime,
    settings: HotlineSettings,
    region_codes: Sequence[str] | None = None,
) -> StatsReport:
    """The plans in force for ``week`` (every region's, or those named) against their forecast."""
    week_start_at(week, settings.timezone)  # a Monday, or a message naming the Monday
    plans = latest_plans(session=session, week=week, region_codes=region_codes)
    zone = settings.timezone
    summary = pd.DataFrame([_plan_row(code, plan, zone) for code, plan in plans])
    half_hours = pd.concat([_half_hours(c, p, zone) for c, p in plans], ignore_index=True)
    days = pd.concat([_days(c, p) for c, p in plans], ignore_index=True)
    short = int((half_hours["rostered_agents"] < half_hours["required_agents"]).sum())
    headline: dict[str, float | int | None] = {
        "calls": round(float(summary["calls"].sum()), 1),
        "agent_hours": round(float(summary["agent_hours"].sum()), 1),
        "usual_agent_hours": round(float(summary["usual_agent_hours"].sum()), 1),
        "required_agent_hours": round(float(summary["required_agent_hours"].sum()), 1),
        # Regions' intervals averaged by their calls: exact for one region, indicative for many.
        **{
            name: _weighted(summary, name)
            for name in (
                "service_level",
                "service_level_low",
                "service_level_high",
                "abandon_rate",
                "abandon_low",
                "abandon_high",
                "ivr_share",
            )
        },
        "agent_hours_saved": round(float(summary["agent_hours_saved"].sum()), 1),
        "half_hours_below_erlang_c": short,
    }
    period = Period(week, week + dt.timedelta(days=6), zone)
    sections = {"plans": summary, "simulated_days": days, "half_hours": half_hours}
    return StatsReport("roster", period, now, headline, sections)
