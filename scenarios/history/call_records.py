"""The history's hotline call records: the hourly counts turned into single calls with a
queue, so the call statistics, forecasts and roster plans read years of calls.

Each call arrives at a random second of its hour, waits in a queue whose mean wait comes
from the hour's load on a centre staffed for ordinary days (the roster follows the
seasonal pattern, not the storms), and hangs up when its patience runs out first. Typhoon
hours overload the centre, so their waits and abandons rise as they would. Answered outage
calls become the phone fault reports of the history (linked by region and hour) or an
``outage_answered`` call; answered ordinary calls are consultations (``kb_answered``).
Pure: frames in, a frame out, one generator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scenarios.history.calls import draw_calls

# Agents per hour: the ordinary load in Erlangs times this, plus a floor (small centres
# still keep a desk open at night).
STAFFING_FACTOR = 1.25
MIN_AGENTS = 2
WRAP_S = 30.0
# An overloaded hour's mean wait: a backlog of this share of the hour per unit overload.
BACKLOG_S = 1800.0
# Synthetic numbers: +86 followed by 00 is not a number any customer can hold.
NUMBER_PREFIX = "8600"


def _mean_wait(load: np.ndarray, agents: np.ndarray, aht: np.ndarray) -> np.ndarray:
    """Mean queue wait per hour: Sakasegawa's M/M/c approximation while the centre keeps
    up, a growing backlog once the calls offered exceed what the agents can take."""
    rho = load / agents
    kept = np.minimum(rho, 0.97)
    wait = aht * kept ** np.sqrt(2.0 * (agents + 1.0)) / (agents * (1.0 - kept))
    return wait + BACKLOG_S * np.maximum(rho - 1.0, 0.0) / np.maximum(rho, 1.0)


def history_calls(
    rng: np.random.Generator, hourly: pd.DataFrame, phone_reports: pd.DataFrame
) -> pd.DataFrame:
    """One row per call: region, times, wait, abandoned, disposition, the linked report.

    ``phone_reports`` has ``region``, ``received_at`` and ``report_index`` (the report's
    position among the written reports); an answered outage call of its region and hour
    carries it (-1: no report).
    """
    calls = draw_calls(rng, hourly)
    total = hourly["expected_ordinary"] + hourly["expected_outage"]
    share = np.divide(
        hourly["expected_outage"].to_numpy(),
        total.to_numpy(),
        out=np.zeros(len(hourly)),
        where=total.to_numpy() > 0,
    )
    hour_of = pd.DatetimeIndex(hourly["hour"])
    centre = pd.DataFrame(
        {
            "hour": hour_of,
            "ordinary": hourly["expected_ordinary"] * hourly["aht_s"] / 3600.0,
            "load": hourly["calls"] * hourly["aht_s"] / 3600.0,
            "calls": hourly["calls"],
            "aht": hourly["aht_s"] * hourly["calls"],
        }
    )
    per_hour = centre.groupby("hour").sum()
    agents = np.maximum(np.ceil(per_hour["ordinary"] * STAFFING_FACTOR), MIN_AGENTS)
    aht = np.divide(
        per_hour["aht"].to_numpy(),
        per_hour["calls"].to_numpy(),
        out=np.full(len(per_hour), 200.0),
        where=per_hour["calls"].to_numpy() > 0,
    )
    wait_by_hour = pd.Series(
        _mean_wait(per_hour["load"].to_numpy(), agents.to_numpy(), aht), index=per_hour.index
    )
    hour = calls["arrived_at"].dt.floor("h")
    mean_wait = wait_by_hour.reindex(pd.DatetimeIndex(hour)).to_numpy()
    need = rng.exponential(np.maximum(mean_wait, 1e-3))
    abandoned = calls["patience_s"].to_numpy() < need
    wait = np.where(abandoned, calls["patience_s"].to_numpy(), need)
    key = pd.MultiIndex.from_arrays([calls["region"], pd.DatetimeIndex(hour)])
    share_of = pd.Series(share, index=pd.MultiIndex.from_arrays([hourly["region"], hour_of]))
    outage = rng.random(len(calls)) < share_of.reindex(key).to_numpy()
    started = pd.DatetimeIndex(calls["arrived_at"])
    answered_at = started + pd.to_timedelta(wait, unit="s")
    ended_at = answered_at + pd.to_timedelta(np.where(abandoned, 0.0, calls["handle_s"]), unit="s")
    frame = pd.DataFrame(
        {
            "region": calls["region"].to_numpy(),
            "started_at": started,
            "answered_at": answered_at,
            "ended_at": ended_at,
            "wait_s": np.rint(wait).astype(np.int64),
            "abandoned": abandoned,
            "outage": outage,
            "disposition": np.where(
                abandoned, "abandoned", np.where(outage, "outage_answered", "kb_answered")
            ),
            "caller_number": [
                f"{NUMBER_PREFIX}{n:09d}" for n in rng.integers(0, 10**9, len(calls))
            ],
            "report_index": -1,
        }
    )
    return _link_reports(frame, phone_reports)


def _link_reports(calls: pd.DataFrame, reports: pd.DataFrame) -> pd.DataFrame:
    """The k-th phone report of a region's hour goes with its k-th answered outage call."""
    if reports.empty or calls.empty:
        return calls
    tz = calls["started_at"].dt.tz
    candidates = calls[calls["outage"] & ~calls["abandoned"]]
    left = pd.DataFrame(
        {
            "row": candidates.index,
            "region": candidates["region"].to_numpy(),
            "hour": candidates["started_at"].dt.floor("h").to_numpy(),
        }
    )
    left["k"] = left.groupby(["region", "hour"]).cumcount()
    received = pd.DatetimeIndex(reports["received_at"]).tz_convert(tz)
    right = pd.DataFrame(
        {
            "region": reports["region"].to_numpy(),
            "hour": received.floor("h"),
            "report_index": reports["report_index"].to_numpy(),
        }
    )
    right["k"] = right.groupby(["region", "hour"]).cumcount()
    matched = left.merge(right, on=["region", "hour", "k"])
    linked = calls.copy()
    rows = matched["row"].to_numpy()
    linked.loc[rows, "report_index"] = matched["report_index"].to_numpy()
    linked.loc[rows, "disposition"] = "fault_report"
    return linked
