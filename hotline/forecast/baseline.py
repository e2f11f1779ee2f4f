"""The statistical baseline: hourly calls per region for the next 7 days, 80 % intervals.

statsforecast's MSTL takes out the daily (24 h) and weekly (168 h) seasons and forecasts
the rest with AutoETS; it is the forecast a supervisor plans next week's roster on, and the
fallback when there is no live outage state. It cannot see a storm coming, which is what
the nowcast is for. With less than two weeks of history MSTL has no weekly season to fit,
so a seasonal naive forecast (the same hour of the last day) with empirical intervals
stands in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import MSTL, AutoETS

DAY_H, WEEK_H = 24, 168
TRAIN_WEEKS = 8
FORECAST_COLUMNS = ("region", "hour", "mean", "lo", "hi", "model")


def baseline_forecast(
    hourly: pd.DataFrame,
    origin: pd.Timestamp,
    *,
    horizon_h: int = WEEK_H,
    level: int = 80,
    train_weeks: int = TRAIN_WEEKS,
) -> pd.DataFrame:
    """Forecast ``horizon_h`` hours from ``origin`` for each region of ``hourly``.

    Parameters
    ----------
    hourly
        Columns ``region``, ``hour`` (tz-aware hour starts) and ``calls``; only the hours
        before ``origin`` are used.
    """
    seen = hourly[hourly["hour"] < origin]
    if seen.empty:
        msg = f"no call history before {origin.isoformat()} to forecast from"
        raise ValueError(msg)
    seen = seen.groupby("region", group_keys=False).tail(train_weeks * WEEK_H)
    long_enough = seen.groupby("region")["calls"].size() >= 2 * WEEK_H
    frames = []
    if long_enough.any():
        chosen = seen[seen["region"].isin(long_enough.index[long_enough])]
        frames.append(_mstl(chosen, horizon_h, level))
    if (~long_enough).any():
        chosen = seen[seen["region"].isin(long_enough.index[~long_enough])]
        frames.append(_seasonal_naive(chosen, horizon_h, level))
    out = pd.concat(frames, ignore_index=True)
    out["hour"] = out["hour"].dt.tz_localize(origin.tz) if origin.tz else out["hour"]
    return out[list(FORECAST_COLUMNS)]


def _mstl(seen: pd.DataFrame, horizon_h: int, level: int) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unique_id": seen["region"].to_numpy(),
            "ds": pd.DatetimeIndex(seen["hour"]).tz_localize(None),
            "y": seen["calls"].to_numpy(dtype=np.float64),
        }
    )
    model = MSTL(season_length=[DAY_H, WEEK_H], trend_forecaster=AutoETS(model="ZZN"))
    forecast = StatsForecast(models=[model], freq="h", n_jobs=1).forecast(
        df=frame, h=horizon_h, level=[level]
    )
    return pd.DataFrame(
        {
            "region": forecast["unique_id"].to_numpy(),
            "hour": pd.DatetimeIndex(forecast["ds"]),
            # Calls are counts: a negative mean or bound is clipped, not believed.
            "mean": forecast["MSTL"].clip(lower=0.0).to_numpy(),
            "lo": forecast[f"MSTL-lo-{level}"].clip(lower=0.0).to_numpy(),
            "hi": forecast[f"MSTL-hi-{level}"].clip(lower=0.0).to_numpy(),
            "model": "mstl",
        }
    )


def _seasonal_naive(seen: pd.DataFrame, horizon_h: int, level: int) -> pd.DataFrame:
    frames = []
    tail = (1.0 - level / 100.0) / 2.0
    for region, group in seen.groupby("region"):
        values = group["calls"].to_numpy(dtype=np.float64)
        season = min(DAY_H, values.size)
        pattern = values[-season:]
        mean = np.resize(pattern, horizon_h)
        errors = values[season:] - values[:-season] if values.size > season else np.zeros(1)
        lo_q, hi_q = np.quantile(errors, [tail, 1.0 - tail])
        last = pd.DatetimeIndex(group["hour"]).tz_localize(None).max()
        hours = pd.date_range(last + pd.Timedelta(hours=1), periods=horizon_h, freq="h")
        frames.append(
            pd.DataFrame(
                {
                    "region": region,
                    "hour": hours,
                    "mean": mean,
                    "lo": np.clip(mean + lo_q, 0.0, None),
                    "hi": np.clip(mean + hi_q, 0.0, None),
                    "model": "seasonal_naive",
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
