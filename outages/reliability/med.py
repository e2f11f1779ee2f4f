"""Major event days by the IEEE 1366-2012 2.5-beta method.

Each reporting (calendar) year gets one threshold, computed from the daily SAIDI of up to
the five years before it: alpha and beta are the mean and the sample standard deviation of
ln(daily SAIDI) over the days with any sustained customer-minutes (a day without any has no
logarithm, and the standard excludes it), and T_MED = exp(alpha + 2.5 beta). A day of the
year whose SAIDI exceeds its year's T_MED is a major event day.

The first year of a history has no year before it: its threshold comes from its own days,
and ``Threshold.source_years`` says so. A utility with no history does the same until it
has one, which is the standard's "use as many years as are available" taken one step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

BETA_MULTIPLIER = 2.5
LOOKBACK_YEARS = 5


@dataclass(frozen=True)
class Threshold:
    """The T_MED of one reporting year and what it was computed from."""

    year: int
    alpha: float
    beta: float
    t_med_min: float
    source_years: tuple[int, ...]
    days_used: int


def daily_saidi(prepared: pd.DataFrame, customers_served: float) -> pd.Series:
    """System SAIDI (minutes) per day an interruption began; momentary rows excluded.

    Days without any interruption are absent (their SAIDI is zero).
    """
    if customers_served <= 0:
        msg = f"customers_served must be positive, got {customers_served}"
        raise ValueError(msg)
    sustained = prepared[~prepared["momentary"]]
    minutes = (sustained["customers"] * sustained["duration_min"]).groupby(sustained["day"]).sum()
    minutes.index.name = "day"
    return (minutes / customers_served).rename("saidi_min")


def thresholds(
    daily: pd.Series, years: list[int] | None = None, *, lookback_years: int = LOOKBACK_YEARS
) -> dict[int, Threshold]:
    """T_MED for each reporting year (by default every year that ``daily`` covers)."""
    positive = daily[daily > 0]
    day_years = pd.DatetimeIndex(positive.index).year
    if years is None:
        years = sorted({int(y) for y in day_years})
    out: dict[int, Threshold] = {}
    for year in years:
        source = tuple(y for y in range(year - lookback_years, year) if (day_years == y).any())
        if not source:
            source = (year,) if (day_years == year).any() else ()
        values = np.log(positive.to_numpy()[np.isin(day_years, source)])
        if values.size < 2:
            # One day or none: no spread to measure, so no day can stand out.
            out[year] = Threshold(year, math.nan, math.nan, math.inf, source, int(values.size))
            continue
        alpha, beta = float(values.mean()), float(values.std(ddof=1))
        t_med = math.exp(alpha + BETA_MULTIPLIER * beta)
        out[year] = Threshold(year, alpha, beta, t_med, source, int(values.size))
    return out


def major_event_days(daily: pd.Series, by_year: dict[int, Threshold]) -> pd.Series:
    """Boolean per day of ``daily``: its SAIDI exceeds its year's T_MED."""
    years = pd.DatetimeIndex(daily.index).year
    limits = np.array([by_year[int(y)].t_med_min if int(y) in by_year else math.inf for y in years])
    return pd.Series(daily.to_numpy() > limits, index=daily.index, name="major_event_day")
