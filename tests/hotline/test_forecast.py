"""Call forecasts: the MSTL baseline and its fallback, and the nowcast from outage state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hotline.forecast import (
    LiveState,
    baseline_forecast,
    coverage,
    fit_nowcast,
    live_state,
    storm_weeks,
    wape,
)
from scenarios.history import HistoryConfig, generate_history, synthetic_summary

TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def history():
    territory = synthetic_summary(n_customers=100_000, n_feeders=400, n_regions=2, seed=2)
    return generate_history(territory, HistoryConfig(years=2, seed=5))


def test_baseline_forecasts_a_week_with_intervals_around_the_mean(history) -> None:
    origin = pd.Timestamp("2022-03-07", tz=TZ)
    forecast = baseline_forecast(history.hourly, origin)
    assert set(forecast["region"]) == {"R1", "R2"}
    assert len(forecast) == 2 * 168
    assert forecast["hour"].min() == origin
    assert (forecast["lo"] <= forecast["mean"]).all() and (forecast["mean"] <= forecast["hi"]).all()
    assert set(forecast["model"]) == {"mstl"}
    actual = history.hourly.merge(forecast, on=["region", "hour"])
    # A calm March week: the daily and weekly seasons carry it, so MSTL beats the flat
    # mean of the eight weeks it was fitted on by a wide margin.
    seen = history.hourly[
        (history.hourly["hour"] < origin)
        & (history.hourly["hour"] >= origin - pd.Timedelta(weeks=8))
    ]
    flat = actual["region"].map(seen.groupby("region")["calls"].mean())
    assert wape(actual["calls"], actual["mean"]) < 0.7 * wape(actual["calls"], flat)


def test_short_history_falls_back_to_seasonal_naive(history) -> None:
    start = history.hourly["hour"].min()
    short = history.hourly[history.hourly["hour"] < start + pd.Timedelta(days=5)]
    forecast = baseline_forecast(short, start + pd.Timedelta(days=5), horizon_h=48)
    assert set(forecast["model"]) == {"seasonal_naive"}
    assert len(forecast) == 2 * 48
    with pytest.raises(ValueError, match="no call history"):
        baseline_forecast(history.hourly, start)


def test_nowcast_sees_a_storm_the_baseline_cannot(history) -> None:
    """In the first typhoon week of the second year, the next-hour nowcast's error on
    the hours with many customers out is well under the week-ahead MSTL's."""
    week = next(w for w in storm_weeks(history.typhoon_days, TZ) if w.year == 2022)
    hourly = history.hourly
    model = fit_nowcast(hourly, week, horizon_h=1)
    base = baseline_forecast(hourly, week)
    predictions = pd.concat(
        [
            model.predict(origin, live_state(hourly, origin))
            for origin in pd.date_range(week, periods=168, freq="h")
        ]
    )
    joined = hourly.merge(base, on=["region", "hour"]).merge(
        predictions, on=["region", "hour"], suffixes=("_base", "_now")
    )
    storm = joined["customers_out"] >= 500
    assert storm.sum() >= 12
    now = wape(joined.loc[storm, "calls"], joined.loc[storm, "mean_now"])
    baseline = wape(joined.loc[storm, "calls"], joined.loc[storm, "mean_base"])
    assert now < 0.6 * baseline
    assert 0.6 <= coverage(joined["calls"], joined["lo_now"], joined["hi_now"]) <= 0.95


def test_nowcast_rises_with_customers_out(history) -> None:
    origin = pd.Timestamp("2022-05-02 10:00", tz=TZ)
    model = fit_nowcast(history.hourly, origin, horizon_h=3)
    calm = model.predict(origin, {"R1": LiveState(0, 0, 0, 0)})
    storm = model.predict(origin, {"R1": LiveState(20_000, 5_000, 3_000, 1_000, 2_000)})
    assert list(calm["lead_h"]) == [0, 1, 2]
    assert (storm["mean"].to_numpy() > calm["mean"].to_numpy() + 100).all()
    assert (storm["outage_share"] > 0.5).all()
    with pytest.raises(KeyError, match="R9"):
        model.predict(origin, {"R9": LiveState(0, 0, 0, 0)})


def test_scores() -> None:
    assert wape(np.array([10, 30]), np.array([12, 27])) == pytest.approx(5 / 40)
    assert coverage([1, 5, 9], [0, 6, 8], [2, 7, 10]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="zero"):
        wape([0, 0], [1, 1])
