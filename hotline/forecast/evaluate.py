"""How forecasts are scored: WAPE, interval coverage, and which weeks are storm weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd


def wape(actual: pd.Series | np.ndarray, predicted: pd.Series | np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - predicted| / sum actual."""
    a, p = np.asarray(actual, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    total = a.sum()
    if total <= 0:
        msg = "WAPE is undefined when the actual calls add up to zero"
        raise ValueError(msg)
    return float(np.abs(a - p).sum() / total)


def coverage(
    actual: pd.Series | np.ndarray, lo: pd.Series | np.ndarray, hi: pd.Series | np.ndarray
) -> float:
    """Share of hours whose actual calls fall inside [lo, hi]."""
    a = np.asarray(actual, dtype=np.float64)
    inside = (a >= np.asarray(lo, dtype=np.float64)) & (a <= np.asarray(hi, dtype=np.float64))
    return float(inside.mean())


def storm_weeks(typhoon_days: list[pd.Timestamp], tz: str) -> list[pd.Timestamp]:
    """The Monday 00:00 of each week with a typhoon day, as forecast origins."""
    mondays = {(d - pd.Timedelta(days=d.dayofweek)).normalize() for d in typhoon_days}
    return [m.tz_localize(tz) for m in sorted(mondays)]
