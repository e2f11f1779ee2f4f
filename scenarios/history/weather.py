"""Daily weather severity with a few typhoon days a year: what drives failure rates.

Severity 1 is an ordinary day. Summer storms (June to September) raise it a few-fold on
some days, and each year has a few typhoon days (July to October), usually in pairs, when
it is tens of times the ordinary: the days that should come out as major event days.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

TYPHOON_MONTHS = (7, 8, 9, 10)
STORM_MONTHS = (6, 7, 8, 9)


def daily_weather(
    rng: np.random.Generator,
    start: dt.date,
    days: int,
    *,
    typhoons_per_year: float,
    typhoon_severity: float,
) -> pd.DataFrame:
    """One row per day: ``day``, ``severity`` (failure-rate multiplier), ``typhoon``."""
    dates = pd.date_range(start, periods=days, freq="D")
    severity = rng.gamma(shape=8.0, scale=1.0 / 8.0, size=days)
    summer = dates.month.isin(STORM_MONTHS)
    storms = summer & (rng.random(days) < 0.08)
    severity[storms] *= rng.uniform(2.0, 5.0, size=int(storms.sum()))
    typhoon = np.zeros(days, dtype=bool)
    for year in sorted(set(dates.year)):
        season = np.flatnonzero((dates.year == year) & dates.month.isin(TYPHOON_MONTHS))
        # Landfalls last 1.5 days on average, so this many give ``typhoons_per_year`` days.
        landfalls = rng.poisson(typhoons_per_year / 1.5) if season.size else 0
        for first in rng.choice(season, size=min(landfalls, season.size), replace=False):
            # A typhoon lasts one or two days: landfall, then the day it moves through.
            span = int(rng.integers(1, 3))
            typhoon[first : min(first + span, days)] = True
    severity[typhoon] = typhoon_severity * rng.uniform(0.7, 1.4, size=int(typhoon.sum()))
    return pd.DataFrame({"day": dates, "severity": severity, "typhoon": typhoon})
