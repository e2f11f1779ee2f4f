"""Call forecasts of the centre: next week's hourly calls per region, and a live nowcast.

``baseline`` is statsforecast's MSTL (daily and weekly seasons, AutoETS): next week's
forecast and the fallback. ``nowcast`` adds what the outage system knows right now
(customers out, new outages, missed ETRs). ``evaluate`` scores both.
"""

from hotline.forecast.baseline import baseline_forecast
from hotline.forecast.evaluate import coverage, storm_weeks, wape
from hotline.forecast.nowcast import LiveState, NowcastModel, fit_nowcast, live_state

__all__ = [
    "LiveState",
    "NowcastModel",
    "baseline_forecast",
    "coverage",
    "fit_nowcast",
    "live_state",
    "storm_weeks",
    "wape",
]
