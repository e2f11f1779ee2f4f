"""The reliability indices as a report: per system, region, feeder and cause for all,
normal and major event days, the daily SAIDI with its major event days marked, and each
year's threshold; the tables a page draws and a spreadsheet holds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from hotline.stats.daily import StatsReport
from hotline.stats.period import InvalidPeriod, Period
from outages.reliability import InvalidInterruptions
from outages.reliability.store import report_from_db

SHOWN = (
    "scope",
    "group",
    "day_class",
    "customers_served",
    "saifi",
    "saidi_min",
    "caidi_min",
    "asai",
    "maifi_e",
    "caifi",
    "ctaidi_min",
    "rs1_pct",
    "aihc1_h",
    "aitc1",
)


def reliability_stats(
    *, session: Session, period: Period, now: dt.datetime, scopes: tuple[str, ...]
) -> StatsReport:
    """The indices of ``period`` as a ``StatsReport`` (sections: one per scope, ``daily``,
    ``thresholds``); the headline holds the system's all-day and normal-day figures."""
    try:
        found = report_from_db(
            session=session, first=period.first, last=period.last, tz=period.tz, as_of=now
        )
    except InvalidInterruptions as exc:
        raise InvalidPeriod(str(exc)) from exc
    table = found.table
    columns = [c for c in SHOWN if c in table.columns]
    sections: dict[str, pd.DataFrame] = {}
    for scope in scopes:
        part = table[table["scope"] == scope][columns].reset_index(drop=True)
        part["group"] = part["group"].astype(str)
        sections[f"reliability_{scope}"] = part
    daily = found.daily.reset_index(names="day")
    daily["day"] = daily["day"].dt.date.astype(str)
    sections["daily_saidi"] = daily[["day", "saidi_min", "major_event_day"]]
    sections["thresholds"] = pd.DataFrame(
        [
            (year, None if pd.isna(t.t_med_min) else t.t_med_min, t.days_used)
            for year, t in sorted(found.thresholds.items())
        ],
        columns=["year", "t_med_min", "days_used"],
    )
    headline: dict[str, float | int | None] = {
        "major_event_days": int(daily["major_event_day"].sum()),
    }
    for day_class in ("all", "normal"):
        row = found.row("system", "system", day_class)
        for name in ("saifi", "saidi_min", "caidi_min", "asai", "rs1_pct"):
            value = row.get(name)
            headline[f"{name}_{day_class}"] = None if pd.isna(value) else round(float(value), 6)
    return StatsReport("reliability", period, min(now, period.end), headline, sections)
