"""Next week's calls per region and the agents they need, from the centre's call records.

The hourly calls of the last weeks (the ``call`` table, zero hours filled) go to the
``statsforecast`` MSTL baseline (``hotline.forecast.baseline``: 80% intervals; a seasonal
naive forecast for a short history); each hour's mean is split into two half hours and
staffed for 80% within 20 s by Erlang C (``hotline.staffing.plan``). What storm mode saves is
read from the records too: the calls the IVR answered without an agent, in agent-hours at
the settings' handle time. The CP-SAT roster (``hotline.staffing.roster``) takes tens of
seconds per region and week, so the page shows the requirement it would cover, not a roster.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline.forecast.baseline import baseline_forecast
from hotline.models import Call
from hotline.settings import HotlineSettings
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement
from hotline.stats.daily import StatsReport
from hotline.stats.period import InvalidPeriod, Period

HISTORY_WEEKS = 8
HORIZON_H = 168


def hourly_calls(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Calls per region and hour in ``start <= t < end``, hours without calls as 0."""
    hour = func.date_trunc("hour", Call.started_at)
    rows = session.execute(
        select(func.coalesce(Region.code, "unknown"), hour, func.count())
        .outerjoin(Region, Region.id == Call.region_id)
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Region.code, hour)
    ).all()
    found = pd.DataFrame(rows, columns=["region", "hour", "calls"])
    if found.empty:
        return found
    found["hour"] = pd.to_datetime(found["hour"], utc=True)
    hours = pd.date_range(
        pd.Timestamp(start).floor("h"), pd.Timestamp(end), freq="h", inclusive="left"
    )
    grid = pd.MultiIndex.from_product([sorted(set(found["region"])), hours.tz_convert("UTC")])
    filled = found.set_index(["region", "hour"])["calls"].reindex(grid, fill_value=0)
    return filled.rename_axis(["region", "hour"]).reset_index()


def staffing_stats(*, session: Session, now: dt.datetime, settings: HotlineSettings) -> StatsReport:
    """Next week's forecast per region and hour, the agents it needs, and the IVR's saving."""
    zone = Period.day(now.date(), settings.timezone).zone
    origin = pd.Timestamp(
        dt.datetime.combine(now.astimezone(zone).date() + dt.timedelta(days=1), dt.time(), zone)
    )
    start = origin - pd.Timedelta(weeks=HISTORY_WEEKS)
    hourly = hourly_calls(session=session, start=start.to_pydatetime(), end=origin.to_pydatetime())
    if hourly.empty:
        msg = f"no calls in the {HISTORY_WEEKS} weeks before {origin.date()} to forecast from"
        raise InvalidPeriod(msg)
    forecast = baseline_forecast(hourly, origin.tz_convert("UTC"), horizon_h=HORIZON_H, level=80)
    goal = ServiceGoal()
    agents = []
    for mean in forecast["mean"].clip(lower=0.0):
        agents.append(
            max(
                erlang_c_requirement(
                    [mean / 2, mean / 2], aht_s=settings.wallboard_aht_s, goal=goal
                )
            )
        )
    forecast = forecast.assign(agents_required=agents)
    forecast["hour"] = pd.to_datetime(forecast["hour"], utc=True).dt.tz_convert(settings.timezone)
    table = forecast[["region", "hour", "mean", "lo", "hi", "agents_required", "model"]].copy()
    table["hour"] = table["hour"].dt.strftime("%Y-%m-%d %H:%M")
    summary = (
        forecast.groupby("region")
        .agg(
            calls=("mean", "sum"),
            peak_agents=("agents_required", "max"),
            agent_hours=("agents_required", "sum"),
        )
        .reset_index()
    )
    saved = _self_service(session, start.to_pydatetime(), origin.to_pydatetime(), settings)
    last = origin.date() + dt.timedelta(days=6)
    period = Period(origin.date(), last, settings.timezone)
    headline: dict[str, float | int | None] = {
        "calls_next_week": round(float(forecast["mean"].sum()), 1),
        "agent_hours_next_week": int(summary["agent_hours"].sum()),
        "ivr_answered": int(saved["ivr_answered"].sum()),
        "agent_hours_saved": round(float(saved["agent_hours_saved"].sum()), 1),
    }
    sections = {
        "staffing_by_region": summary.round(1),
        "forecast": table.round(1),
        "self_service": saved,
    }
    return StatsReport("staffing", period, now, headline, sections)


def _self_service(
    session: Session, start: dt.datetime, end: dt.datetime, settings: HotlineSettings
) -> pd.DataFrame:
    rows = session.execute(
        select(
            func.coalesce(Region.code, "unknown"),
            func.count().filter(Call.answered_by == "ivr"),
            func.count().filter(Call.answered_at.is_not(None)),
        )
        .outerjoin(Region, Region.id == Call.region_id)
        .where(Call.started_at >= start, Call.started_at < end)
        .group_by(Region.code)
    ).all()
    frame = pd.DataFrame(rows, columns=["region", "ivr_answered", "answered"])
    frame["ivr_share"] = (
        frame["ivr_answered"] / frame["answered"].where(frame["answered"] > 0)
    ).round(4)
    frame["agent_hours_saved"] = (frame["ivr_answered"] * settings.wallboard_aht_s / 3600).round(1)
    return frame
