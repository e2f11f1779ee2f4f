"""The reports a supervisor asks for: a day's, a period's, the monthly indicators, the
reported (上报) form. Each reads its records once and computes over them in pandas."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from hotline.settings import HotlineSettings
from hotline.stats import sources
from hotline.stats.calls_source import call_records
from hotline.stats.daily import Frames, StatsReport, build_report
from hotline.stats.indicators import INDICATORS, indicator_table
from hotline.stats.period import InvalidPeriod, Period


def read_frames(
    *, session: Session, period: Period, now: dt.datetime, settings: HotlineSettings
) -> Frames:
    start, end = period.start, period.end
    return Frames(
        reports=sources.reports(session=session, start=start, end=end),
        orders=sources.work_orders(session=session, start=start, end=end),
        tickets=sources.tickets(session=session, start=start, end=end, now=now, settings=settings),
        return_calls=sources.return_calls(session=session, start=start, end=end),
        ticket_satisfaction=sources.ticket_satisfaction(session=session, start=start, end=end),
        calls=call_records(session=session, start=start, end=end),
    )


def period_report(
    *,
    session: Session,
    period: Period,
    now: dt.datetime,
    settings: HotlineSettings,
    kind: str = "daily",
) -> StatsReport:
    """Every table of the daily report over ``period`` (clocks judged as of ``now``)."""
    frames = read_frames(session=session, period=period, now=now, settings=settings)
    return build_report(kind, period, frames, min(now, period.end))


def daily_report(
    *, session: Session, day: dt.date, now: dt.datetime, settings: HotlineSettings
) -> StatsReport:
    """The daily report of one local day."""
    return period_report(
        session=session, period=Period.day(day, settings.timezone), now=now, settings=settings
    )


def indicator_report(
    *,
    session: Session,
    last_month: dt.date,
    months: int,
    now: dt.datetime,
    settings: HotlineSettings,
) -> StatsReport:
    """Monthly indicators for ``months`` months up to the month of ``last_month``, with
    their targets, whether each month met them, and the change from the month before."""
    if not 1 <= months <= 60:
        msg = f"months must be between 1 and 60, got {months}"
        raise InvalidPeriod(msg)
    periods = []
    year, month = last_month.year, last_month.month
    for _ in range(months):
        periods.append(Period.month(year, month, settings.timezone))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    periods.reverse()
    monthly = [
        (
            p.first.strftime("%Y-%m"),
            period_report(session=session, period=p, now=now, settings=settings).headline,
        )
        for p in periods
    ]
    whole = Period(periods[0].first, periods[-1].last, settings.timezone)
    table = indicator_table(monthly)
    headline = {name: monthly[-1][1].get(name) for name in INDICATORS}
    return StatsReport("indicators", whole, min(now, whole.end), headline, {"indicators": table})


def reported_form(
    *, session: Session, day: dt.date, now: dt.datetime, settings: HotlineSettings
) -> StatsReport:
    """The reported (上报) form for a superior: the day's headline figures as one line per
    item, the fault orders by region, and the tickets by type; a fixed layout."""
    daily = daily_report(session=session, day=day, now=now, settings=settings)
    items = pd.DataFrame(
        [(name, value) for name, value in daily.headline.items()], columns=["item", "value"]
    )
    sections = {
        "items": items,
        "orders_by_region": daily.sections["orders_by_region"],
        "tickets_by_type": daily.sections["tickets_by_type"],
    }
    return StatsReport("reported", daily.period, daily.as_of, daily.headline, sections)
