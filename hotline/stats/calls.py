"""Call-centre figures from call records: answer rate, service level, wait and abandonment.

A call record is one offered call: ``region``, ``answered`` and ``abandoned`` (flags) and
``wait_s`` (queue time until it was answered or the caller hung up). The definitions are
the usual ones, kept in one place so the daily report, the wallboard and the metrics agree:

- answer rate: answered / offered;
- service level: answered within ``SERVICE_LEVEL_S`` seconds / offered (80/20 by default);
- average wait: mean queue time of the answered calls (the speed of answer);
- abandonment: abandoned / offered.
"""

from __future__ import annotations

import pandas as pd

SERVICE_LEVEL_S = 20.0
CALL_COLUMNS = ("region", "answered", "abandoned", "wait_s")
FIGURES = ("calls_offered", "answer_rate", "service_level", "average_wait_s", "abandon_rate")


def _figures(calls: pd.DataFrame, threshold_s: float) -> dict[str, float | int | None]:
    offered = len(calls)
    if offered == 0:
        return {"calls_offered": 0, **dict.fromkeys(FIGURES[1:])}
    answered = calls["answered"].astype(bool)
    abandoned = calls["abandoned"].astype(bool)
    wait = calls["wait_s"].astype(float)
    quick = int((answered & (wait <= threshold_s)).sum())
    mean_wait = float(wait[answered].mean()) if answered.any() else None
    return {
        "calls_offered": offered,
        "answer_rate": round(int(answered.sum()) / offered, 4),
        "service_level": round(quick / offered, 4),
        "average_wait_s": None if mean_wait is None else round(mean_wait, 1),
        "abandon_rate": round(int(abandoned.sum()) / offered, 4),
    }


def call_figures(
    calls: pd.DataFrame, threshold_s: float = SERVICE_LEVEL_S
) -> dict[str, float | int | None]:
    """The four figures over all calls given (None where nothing was offered)."""
    if calls.empty or not set(CALL_COLUMNS) <= set(calls.columns):
        return {"calls_offered": 0, **dict.fromkeys(FIGURES[1:])}
    return _figures(calls, threshold_s)


def calls_by_region(calls: pd.DataFrame, threshold_s: float = SERVICE_LEVEL_S) -> pd.DataFrame:
    """The figures per region, one row each."""
    return calls_by(calls, "region", threshold_s)


def calls_by(
    calls: pd.DataFrame, column: str, threshold_s: float = SERVICE_LEVEL_S
) -> pd.DataFrame:
    """The figures per value of ``column`` (channel, disposition, region)."""
    if calls.empty or column not in calls.columns:
        return pd.DataFrame(columns=[column, *FIGURES])
    rows = [
        {column: value, **_figures(group, threshold_s)}
        for value, group in calls.groupby(column, sort=True)
    ]
    return pd.DataFrame(rows, columns=[column, *FIGURES])


def calls_by_hour(calls: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Calls offered, answered and abandoned per local hour, all 24 hours listed."""
    hours = pd.DataFrame({"hour": range(24)})
    if calls.empty:
        return hours.assign(calls_offered=0, answered=0, abandoned=0)
    local = pd.to_datetime(calls["started_at"], utc=True).dt.tz_convert(tz).dt.hour
    grouped = (
        calls.assign(hour=local.to_numpy())
        .groupby("hour")
        .agg(
            calls_offered=("hour", "size"),
            answered=("answered", "sum"),
            abandoned=("abandoned", "sum"),
        )
    )
    out = hours.merge(grouped, on="hour", how="left").fillna(0)
    return out.astype("int64")
