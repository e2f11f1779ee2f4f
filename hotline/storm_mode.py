"""Storm mode: a centre-wide switch (a supervisor's, or the automatic trigger's) under which
the IVR answers known outages before an agent and the desk leads with the top outage scripts.

The state is the latest ``storm_mode_switch`` row (none: off); each switch is also an
audit event. The automatic trigger counts each region's calls in the last
``storm_auto_window_min`` minutes against the same window of the day on each of the previous
``storm_auto_baseline_days`` days (their mean is the baseline "forecast") and turns storm mode
on when a region reaches ``storm_auto_factor`` times it, with at least
``storm_auto_min_calls`` calls. It never turns storm mode off (a supervisor does), and it
holds off for ``storm_auto_hold_min`` minutes after a supervisor turned it off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.audit import record
from geo.models import Feeder, Region
from hotline.call_schemas import StormModeRead, TopOutage
from hotline.models import StormModeSwitch
from hotline.scripts import crew_state, outage_script, planned_script
from hotline.settings import HotlineSettings
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage, PlannedOutage

AUTO_ACTOR = "storm-mode trigger"


def current_switch(*, session: Session) -> StormModeSwitch | None:
    """The switch appended last. The log is append-only, so insertion order is the order of
    decisions; ordering by ``at`` would let a row stamped by a clock running ahead (a frozen
    scenario clock beside a live one) outvote the supervisor's newer decision."""
    return session.scalar(select(StormModeSwitch).order_by(StormModeSwitch.id.desc()))


def is_on(*, session: Session) -> bool:
    switch = current_switch(session=session)
    return bool(switch and switch.on)


def set_storm_mode(
    *,
    session: Session,
    on: bool,
    reason: str,
    actor: str,
    now: dt.datetime,
    source: str = "supervisor",
    region_id: int | None = None,
) -> StormModeSwitch:
    """Switch storm mode; switching to the state it is in changes nothing (no new row)."""
    current = current_switch(session=session)
    if current is not None and current.on == on:
        return current
    if current is None and not on:  # never switched on: off already, nothing to store
        return StormModeSwitch(on=False, source=source, reason=reason, actor=actor, at=now)
    switch = StormModeSwitch(
        on=on, source=source, region_id=region_id, reason=reason, actor=actor, at=now
    )
    session.add(switch)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="storm_mode.on" if on else "storm_mode.off",
        object_type="storm_mode",
        object_id=switch.id,
        detail={"source": source, "reason": reason, "region_id": region_id},
        at=now,
    )
    return switch


@dataclass(frozen=True)
class RegionLoad:
    region_id: int
    calls: int
    baseline: float


def region_loads(
    *, session: Session, now: dt.datetime, settings: HotlineSettings
) -> list[RegionLoad]:
    """Calls per region in the last window and the mean of the same window on earlier days."""
    rows = session.execute(
        text(
            "SELECT c.region_id, s.k, count(*) AS n FROM generate_series(0, :days) AS s(k) "
            "JOIN call c ON c.started_at >= :now - make_interval(days => s.k, mins => :w) "
            "AND c.started_at < :now - make_interval(days => s.k) "
            "WHERE c.region_id IS NOT NULL GROUP BY c.region_id, s.k"
        ),
        {
            "days": settings.storm_auto_baseline_days,
            "now": now,
            "w": settings.storm_auto_window_min,
        },
    ).all()
    recent: dict[int, int] = {}
    earlier: dict[int, int] = {}
    for region_id, k, n in rows:
        target = recent if k == 0 else earlier
        target[region_id] = target.get(region_id, 0) + int(n)
    days = settings.storm_auto_baseline_days
    return [
        RegionLoad(region_id=r, calls=n, baseline=earlier.get(r, 0) / days)
        for r, n in sorted(recent.items())
    ]


def check_auto_trigger(
    *, session: Session, now: dt.datetime, settings: HotlineSettings
) -> StormModeSwitch | None:
    """Turn storm mode on when a region's calls reach the trigger; the new switch or None."""
    if not settings.storm_auto:
        return None
    current = current_switch(session=session)
    if current is not None and current.on:
        return None
    hold = dt.timedelta(minutes=settings.storm_auto_hold_min)
    if current is not None and current.source == "supervisor" and now - current.at < hold:
        return None
    for load in region_loads(session=session, now=now, settings=settings):
        threshold = max(settings.storm_auto_min_calls, settings.storm_auto_factor * load.baseline)
        if load.calls >= threshold:
            code = session.scalar(select(Region.code).where(Region.id == load.region_id))
            reason = (
                f"{load.calls} calls in {code} in the last {settings.storm_auto_window_min} min, "
                f"baseline {load.baseline:.1f} (trigger at {threshold:.0f})"
            )
            return set_storm_mode(
                session=session,
                on=True,
                reason=reason,
                actor=AUTO_ACTOR,
                now=now,
                source="auto",
                region_id=load.region_id,
            )
    return None


def _calls_last_hour(session: Session, outage_id: int, now: dt.datetime) -> int:
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM call c "
                "JOIN outage_premise op ON op.premise_id = c.premise_id "
                "WHERE op.outage_id = :o AND c.started_at >= :since"
            ),
            {"o": outage_id, "since": now - dt.timedelta(hours=1)},
        ).scalar_one()
    )


def top_outages(
    *, session: Session, now: dt.datetime, settings: HotlineSettings
) -> list[TopOutage]:
    """Active outages and planned work in progress with their scripts, most called first."""
    codes: dict[int, str] = {r.id: r.code for r in session.execute(select(Region.id, Region.code))}
    out: list[TopOutage] = []
    outages = session.scalars(
        select(Outage)
        .where(Outage.status.in_(ACTIVE_OUTAGE_STATUSES), Outage.merged_into_id.is_(None))
        .order_by(Outage.customers_affected.desc(), Outage.id)
        .limit(50)
    )
    for outage in outages:
        crew = crew_state(session=session, outage_id=outage.id)
        out.append(
            TopOutage(
                outage_id=outage.id,
                planned_outage_id=None,
                region=codes.get(outage.region_id) if outage.region_id else None,
                feeder=session.scalar(select(Feeder.code).where(Feeder.id == outage.feeder_id)),
                customers_affected=outage.customers_affected,
                etr_at=outage.etr_at,
                calls_last_hour=_calls_last_hour(session, outage.id, now),
                script=outage_script(outage=outage, crew=crew, now=now, timezone=settings.timezone),
            )
        )
    planned = session.scalars(
        select(PlannedOutage).where(
            PlannedOutage.status == "scheduled",
            PlannedOutage.starts_at <= now,
            PlannedOutage.ends_at > now,
        )
    )
    for work in planned:
        out.append(
            TopOutage(
                outage_id=None,
                planned_outage_id=work.id,
                region=None,
                feeder=None,
                customers_affected=work.customers_affected,
                etr_at=work.ends_at,
                calls_last_hour=0,
                script=planned_script(planned=work, now=now, timezone=settings.timezone),
            )
        )
    out.sort(key=lambda t: (-t.calls_last_hour, -t.customers_affected))
    return out[: settings.storm_top_outages]


def storm_mode_read(
    *, session: Session, now: dt.datetime, settings: HotlineSettings
) -> StormModeRead:
    """The switch, its recent history and the top outage scripts (given whether on or off:
    the desk shows them first only in storm mode)."""
    rows = list(
        session.scalars(select(StormModeSwitch).order_by(StormModeSwitch.id.desc()).limit(10))
    )
    codes: dict[int, str] = {r.id: r.code for r in session.execute(select(Region.id, Region.code))}
    current = rows[0] if rows else None
    on = bool(current and current.on)
    return StormModeRead(
        on=on,
        since=current.at if current else None,
        source=current.source if current else None,
        region=codes.get(current.region_id) if current and current.region_id else None,
        reason=current.reason if current else None,
        actor=current.actor if current else None,
        top_outages=top_outages(session=session, now=now, settings=settings),
        history=[
            {
                "on": r.on,
                "at": r.at,
                "source": r.source,
                "actor": r.actor,
                "reason": r.reason,
                "region": codes.get(r.region_id) if r.region_id else None,
            }
            for r in rows
        ],
    )
