"""A week's roster plan per region, made and stored: forecast -> Erlang requirement ->
CP-SAT roster -> ciw simulation -> ``roster_plan`` row.

The forecast is the statsforecast baseline on the region's hourly calls of the weeks
before the plan is made (``hotline.forecast.baseline``), each hour's calls split evenly
over its two half hours. The IVR (storm mode's self-service) answers a share of the
calls without an agent; that share, read from the same weeks, is taken off before
staffing, and the requirement without it is kept beside, so the page can show what
self-service saves. The roster is the service roster of ``hotline.staffing.plan`` (Erlang
A and the day's 80/20 and abandonment targets), started from the usual minimum-cover
roster; both are judged by simulating the week, and the leaner of those meeting the targets
in every simulated day is stored (``roster_method`` says which).

The wallboard reads the plan in force now (``plan_in_force``): the latest plan of a
region whose week contains the instant.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session, load_only

from geo.exceptions import InvalidInput, NotFound
from geo.models import Region
from geo.types import EARLIEST, LATEST
from hotline.departments import region_id_of
from hotline.forecast.baseline import baseline_forecast
from hotline.models import WEEK_HALF_HOURS, Call, RosterPlan
from hotline.settings import HotlineSettings
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement, service_roster, usual_roster
from hotline.staffing.roster import Roster
from hotline.staffing.simulate import SimulationResult, simulate_week
from hotline.stats.staffing import hourly_calls

HISTORY_WEEKS = 8
MAX_WEEKS_AHEAD = 4
WEEK = dt.timedelta(days=7)
HALF_HOUR = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class PlanOptions:
    """How hard to work on a plan: CP-SAT seconds per solve, simulated weeks, the seed.

    ``work_limit``: CP-SAT's deterministic time per solve, which unlike ``time_limit_s``
    does not depend on how busy the machine is (the same plan each run, for tests).
    """

    time_limit_s: float = 30.0
    work_limit: float | None = None
    replications: int = 30
    seed: int = 1
    history_weeks: int = HISTORY_WEEKS

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            msg = f"the time limit must be positive, got {self.time_limit_s} s"
            raise InvalidInput(msg)
        if self.replications < 2:
            msg = f"a confidence interval needs at least 2 replications, got {self.replications}"
            raise InvalidInput(msg)


def week_start_at(week: dt.date, timezone: str) -> dt.datetime:
    """The local Monday 00:00 of ``week``; any other day is refused with what to give, and
    so is a week so far off that date arithmetic would overflow."""
    if week.weekday() != 0:
        monday = week - dt.timedelta(days=week.weekday())
        msg = f"a roster week starts on a Monday: {week} is a {week:%A}; give {monday}"
        raise InvalidInput(msg)
    starts_at = dt.datetime.combine(week, dt.time(), ZoneInfo(timezone))
    if not EARLIEST <= starts_at < LATEST:
        msg = f"a roster week lies between {EARLIEST.year} and {LATEST.year}, not {week}"
        raise InvalidInput(msg)
    return starts_at


def regions_with_calls(*, session: Session, start: dt.datetime, end: dt.datetime) -> list[str]:
    """Codes of the regions with calls in ``start <= t < end`` (the ones a plan can be made for)."""
    return list(
        session.scalars(
            select(Region.code)
            .join(Call, Call.region_id == Region.id)
            .where(Call.started_at >= start, Call.started_at < end)
            .group_by(Region.code)
            .order_by(Region.code)
        )
    )


def history_window(
    starts_at: dt.datetime, now: dt.datetime, weeks: int
) -> tuple[dt.datetime, dt.datetime]:
    """The weeks of calls a plan learns from: up to the week (or now, if it is later)."""
    now_hour = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    end = min(starts_at.astimezone(dt.UTC), now_hour)
    return end - dt.timedelta(weeks=weeks), end


def plan_week(
    *,
    session: Session,
    week: dt.date,
    region_code: str,
    settings: HotlineSettings,
    now: dt.datetime,
    actor: str,
    options: PlanOptions | None = None,
) -> RosterPlan:
    """Forecast, staff, roster and simulate ``week`` for one region; store the plan."""
    options = options or PlanOptions()
    starts_at = week_start_at(week, settings.timezone)
    if starts_at - now > MAX_WEEKS_AHEAD * WEEK:
        msg = f"{week} is more than {MAX_WEEKS_AHEAD} weeks ahead: no forecast reaches it"
        raise InvalidInput(msg)
    region_id = _region_id(session, region_code)
    start, end = history_window(starts_at, now, options.history_weeks)
    hourly = hourly_calls(session=session, start=start, end=end)
    hourly = hourly[hourly["region"] == region_code] if not hourly.empty else hourly
    if hourly.empty:
        msg = (
            f"no calls of region {region_code} in the {options.history_weeks} weeks before "
            f"{end.date()} to forecast from"
        )
        raise InvalidInput(msg)
    # The plan's week is 336 real half hours from the local Monday 00:00 (in a week that
    # changes the clocks, its last local hour moves by one).
    first = pd.Timestamp(starts_at).tz_convert("UTC")
    horizon_h = int((first - pd.Timestamp(end)).total_seconds() // 3600) + WEEK_HALF_HOURS // 2
    forecast = baseline_forecast(hourly, pd.Timestamp(end), horizon_h=horizon_h, level=80)
    forecast = forecast[pd.to_datetime(forecast["hour"], utc=True) >= first]
    mean, lo, hi = (_half_hours(forecast[c]) for c in ("mean", "lo", "hi"))
    ivr_share = _ivr_share(session, region_id, start, end)
    to_agents = [c * (1.0 - ivr_share) for c in mean]
    goal = ServiceGoal()
    aht_s, patience_s = settings.wallboard_aht_s, settings.wallboard_patience_s
    limit_s, work = options.time_limit_s, options.work_limit
    try:
        usual = usual_roster(
            to_agents, aht_s=aht_s, goal=goal, time_limit_s=limit_s, work_limit=work
        )
    except ValueError:
        msg = (
            f"CP-SAT found no roster for {region_code} within {options.time_limit_s:g} s: "
            "give it longer (--time-limit)"
        )
        raise InvalidInput(msg) from None
    rosters = [("usual", usual)]
    # The service roster starts from the usual one; if it finds nothing better in time,
    # the usual one stands alone.
    with contextlib.suppress(ValueError):
        lean = service_roster(
            to_agents,
            aht_s=aht_s,
            patience_s=patience_s,
            goal=goal,
            time_limit_s=limit_s,
            work_limit=work,
            hint=usual,
        )
        rosters.insert(0, ("service", lean))
    judged = [
        _judge(name, roster, to_agents, aht_s=aht_s, patience_s=patience_s, options=options)
        for name, roster in rosters
    ]
    method, roster, result = _choose(judged, goal)
    service, abandon = result.week()
    plan = RosterPlan(
        region_id=region_id,
        week_start=week,
        starts_at=starts_at,
        forecast_model=str(forecast["model"].iloc[0]),
        forecast_origin=end,
        calls_forecast=mean,
        calls_lo=lo,
        calls_hi=hi,
        ivr_share=ivr_share,
        required_agents=erlang_c_requirement(to_agents, aht_s=aht_s, goal=goal),
        required_agents_no_ivr=erlang_c_requirement(mean, aht_s=aht_s, goal=goal),
        rostered_agents=[int(a) for a in roster.on_phone],
        shifts=_shifts(roster.shifts),
        agent_hours=roster.agent_hours,
        usual_agent_hours=usual.agent_hours,
        roster_method=method,
        solver_status=roster.status,
        aht_s=aht_s,
        patience_s=patience_s,
        service_level=service.mean,
        service_level_low=service.low,
        service_level_high=service.high,
        abandon_rate=abandon.mean,
        abandon_low=abandon.low,
        abandon_high=abandon.high,
        replications=options.replications,
        simulated_days=[
            {
                "day": day,
                "service_level": result.service_level[day].mean,
                "service_level_low": result.service_level[day].low,
                "service_level_high": result.service_level[day].high,
                "abandon_rate": result.abandon_rate[day].mean,
                "abandon_low": result.abandon_rate[day].low,
                "abandon_high": result.abandon_rate[day].high,
            }
            for day in sorted(result.service_level)
        ],
        created_by=actor,
    )
    session.add(plan)
    session.flush()
    return plan


Judged = tuple[str, Roster, SimulationResult]


def _judge(
    name: str,
    roster: Roster,
    calls: Sequence[float],
    *,
    aht_s: float,
    patience_s: float,
    options: PlanOptions,
) -> Judged:
    """A roster with its simulated week (the same seeds for every roster judged)."""
    result = simulate_week(
        calls,
        [int(a) for a in roster.on_phone],
        aht_s=aht_s,
        patience_s=patience_s,
        replications=options.replications,
        seed=options.seed,
    )
    return name, roster, result


def _choose(judged: Sequence[Judged], goal: ServiceGoal) -> Judged:
    """The roster with the fewest agent-hours among those whose simulated days all meet the
    targets (95 % intervals); if none does, the one serving best.

    The service roster is usually the leaner; but its model keeps margins on the day's
    targets, and on a small region those can cost more hours than the minimum-cover
    roster, which the simulation may find meets the targets anyway.
    """
    meeting = [
        j
        for j in judged
        if j[2].meets(service_level=goal.service_level, max_abandon=goal.max_abandon)
    ]
    if meeting:
        return min(meeting, key=lambda j: j[1].agent_hours)
    return max(judged, key=lambda j: j[2].week()[0].mean)


def _region_id(session: Session, region_code: str) -> int:
    region_id = region_id_of(session=session, region_code=region_code)
    if region_id is None:  # only a missing code has no id; unknown ones raised
        msg = "a roster plan needs a region code"
        raise InvalidInput(msg)
    return region_id


def _half_hours(hourly: pd.Series) -> list[float]:
    values = [max(float(v), 0.0) / 2.0 for v in hourly for _ in range(2)]
    if len(values) != WEEK_HALF_HOURS:
        msg = f"the forecast covers {len(values)} half hours of the week, not {WEEK_HALF_HOURS}"
        raise ValueError(msg)
    return values


def _ivr_share(session: Session, region_id: int, start: dt.datetime, end: dt.datetime) -> float:
    """Share of the region's calls the IVR answered without an agent in the window."""
    ivr, total = session.execute(
        select(func.count().filter(Call.answered_by == "ivr"), func.count()).where(
            Call.region_id == region_id, Call.started_at >= start, Call.started_at < end
        )
    ).one()
    return float(ivr) / float(total) if total else 0.0


def _shifts(shifts: pd.DataFrame) -> list[dict[str, object]]:
    """The agents' shifts as JSON rows (no NaN: a part-timer's missing break is null)."""
    rows = []
    for row in shifts.itertuples(index=False):
        brk = None if pd.isna(row.break_slot) else int(row.break_slot)
        rows.append(
            {
                "agent": str(row.agent),
                "part_time": bool(row.part_time),
                "en": bool(row.en),
                "day": int(row.day),
                "start_slot": int(row.start_slot),
                "length_slots": int(row.length_slots),
                "break_slot": brk,
            }
        )
    return rows


def latest_plans(
    *, session: Session, week: dt.date, region_codes: Sequence[str] | None = None
) -> list[tuple[str, RosterPlan]]:
    """The plan in force for ``week`` per region (the latest made), by region code."""
    query = (
        select(Region.code, RosterPlan)
        .join(Region, Region.id == RosterPlan.region_id)
        .where(RosterPlan.week_start == week)
        .order_by(Region.code, RosterPlan.created_at.desc(), RosterPlan.id.desc())
    )
    if region_codes:
        query = query.where(Region.code.in_(list(region_codes)))
    seen: dict[str, RosterPlan] = {}
    for code, plan in session.execute(query).all():
        seen.setdefault(code, plan)
    if not seen:
        where = f" of region {', '.join(region_codes)}" if region_codes else ""
        msg = (
            f"no roster plan stored for the week of {week}{where}: "
            f"make one with `stormdesk roster plan --week {week}`"
        )
        raise NotFound(msg)
    return list(seen.items())


def plan_in_force(*, session: Session, now: dt.datetime) -> dict[str, RosterPlan]:
    """Per region code, the latest plan whose week contains ``now``.

    The wallboard asks every 2 seconds per open stream: one row per region (DISTINCT ON),
    and only the columns a prediction reads (not the shifts or the simulation).
    """
    rows = session.execute(
        select(Region.code, RosterPlan)
        .join(Region, Region.id == RosterPlan.region_id)
        .where(RosterPlan.starts_at <= now, RosterPlan.starts_at > now - WEEK)
        .ext(distinct_on(RosterPlan.region_id))
        .order_by(RosterPlan.region_id, RosterPlan.created_at.desc(), RosterPlan.id.desc())
        .options(
            load_only(
                RosterPlan.starts_at,
                RosterPlan.calls_forecast,
                RosterPlan.ivr_share,
                RosterPlan.rostered_agents,
            )
        )
    ).all()
    return {str(code): plan for code, plan in rows}
