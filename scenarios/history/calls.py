"""Hourly calls per region: daily and weekly seasonality, plus the calls outages cause.

Customers call when their power goes (most in the first hour, some in the next), keep
calling while it stays off, and call again when the promised restoration time passes
without power (a missed ETR, the 95598 complaint that follows a storm). The drivers are
kept beside the counts, because they are exactly the live outage state a nowcast can see
and a seasonal baseline cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

# Share of a day's ordinary calls in each hour (sums to 1): quiet nights, a morning and
# an evening peak.
HOUR_PROFILE = np.array(
    [
        0.8,
        0.5,
        0.4,
        0.3,
        0.3,
        0.5,
        1.2,
        3.0,
        5.5,
        7.0,
        7.2,
        6.8,
        5.8,
        6.2,
        6.5,
        6.3,
        6.0,
        5.8,
        6.0,
        6.4,
        5.9,
        4.4,
        2.7,
        1.5,
    ]
)
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.sum()
# Monday .. Sunday.
WEEK_PROFILE = np.array([1.12, 1.04, 1.0, 0.98, 1.0, 0.93, 0.93])


@dataclass(frozen=True)
class CallRates:
    """How often customers call, and how long calls take and callers wait (seconds)."""

    ordinary_per_customer_day: float = 0.004
    first_hour_share: float = 0.10
    second_hour_share: float = 0.03
    while_out_per_hour: float = 0.006
    missed_etr_share: float = 0.12
    urban_factor: float = 1.2
    overdispersion_shape: float = 60.0
    ordinary_aht_s: float = 240.0
    outage_aht_s: float = 150.0
    ordinary_patience_s: float = 200.0
    outage_patience_s: float = 120.0


def hourly_drivers(
    events: pd.DataFrame, rows: pd.DataFrame, hours: int, regions: list[str]
) -> dict[str, npt.NDArray[np.float64]]:
    """Per (region, hour): customers out, newly out, past a missed ETR, and due an ETR.

    Arrays are (regions, hours). ``out`` counts a section's customers in every hour that
    begins while they are off; momentary and planned interruptions cause no calls here
    (planned ones were announced).
    """
    region_of = {name: i for i, name in enumerate(regions)}
    shape = (len(regions), hours + 1)
    unplanned = ~events["planned"].to_numpy() & ~events["momentary"].to_numpy()
    event_region = events["region"].map(region_of).to_numpy()
    counted = rows[unplanned[rows["event_index"].to_numpy()]]
    region = event_region[counted["event_index"].to_numpy()]
    first_hour = np.ceil(counted["start_min"].to_numpy() / 60.0).astype(np.int64)
    end_hour = np.ceil(counted["restore_min"].to_numpy() / 60.0).astype(np.int64)
    customers = counted["customers"].to_numpy().astype(np.float64)
    change = np.zeros(shape)
    np.add.at(change, (region, np.minimum(first_hour, hours)), customers)
    np.add.at(change, (region, np.minimum(end_hour, hours)), -customers)
    out = np.cumsum(change, axis=1)[:, :hours]
    new = np.zeros(shape)
    start_hour = np.floor(counted["start_min"].to_numpy() / 60.0).astype(np.int64)
    np.add.at(new, (region, np.minimum(start_hour, hours)), customers)
    missed = np.zeros(shape)
    etr = (
        counted["start_min"].to_numpy()
        + events["etr_min"].to_numpy()[counted["event_index"].to_numpy()]
    )
    late = counted["restore_min"].to_numpy() > etr
    etr_hour = np.minimum(np.floor(etr[late] / 60.0).astype(np.int64), hours)
    np.add.at(missed, (region[late], etr_hour), customers[late])
    # Due: customers still out at the start of the hour in which their ETR falls, which
    # the outage system knows at that moment (whether power comes back in time, it does not).
    due = np.zeros(shape)
    etr_hour_all = np.floor(etr / 60.0).astype(np.int64)
    out_at_start = (first_hour <= etr_hour_all) & (end_hour > etr_hour_all)
    np.add.at(
        due,
        (region[out_at_start], np.minimum(etr_hour_all[out_at_start], hours)),
        customers[out_at_start],
    )
    return {
        "out": out,
        "new": new[:, :hours],
        "missed": missed[:, :hours],
        "due": due[:, :hours],
    }


def hourly_calls(
    rng: np.random.Generator,
    drivers: dict[str, npt.NDArray[np.float64]],
    customers: npt.NDArray[np.float64],
    urban: npt.NDArray[np.bool_],
    origin: pd.Timestamp,
    rates: CallRates,
) -> pd.DataFrame:
    """Calls per region and hour drawn around their expected ordinary and outage parts."""
    n_regions, hours = drivers["out"].shape
    stamps = pd.date_range(origin, periods=hours, freq="h")
    hod = stamps.hour.to_numpy()
    dow = stamps.dayofweek.to_numpy()
    yearly = 1.0 + 0.08 * np.cos(2 * np.pi * (stamps.dayofyear.to_numpy() - 200) / 365.25)
    shape = HOUR_PROFILE[hod] * WEEK_PROFILE[dow] * yearly
    ordinary = customers[:, None] * rates.ordinary_per_customer_day * 24 * shape / 24
    propensity = np.where(urban, rates.urban_factor, 1.0)[:, None]
    new = drivers["new"]
    previous = np.concatenate([np.zeros((n_regions, 1)), new[:, :-1]], axis=1)
    outage = propensity * (
        rates.first_hour_share * new
        + rates.second_hour_share * previous
        + rates.while_out_per_hour * drivers["out"]
        + rates.missed_etr_share * drivers["missed"]
    )
    noise = rng.gamma(rates.overdispersion_shape, 1 / rates.overdispersion_shape, ordinary.shape)
    calls = rng.poisson(ordinary * noise + outage)
    total = ordinary + outage
    share = np.divide(outage, total, out=np.zeros_like(total), where=total > 0)
    aht = rates.ordinary_aht_s * (1 - share) + rates.outage_aht_s * share
    patience = rates.ordinary_patience_s * (1 - share) + rates.outage_patience_s * share
    return pd.DataFrame(
        {
            "region_index": np.repeat(np.arange(n_regions), hours),
            "hour": np.tile(stamps, n_regions),
            "calls": calls.ravel(),
            "expected_ordinary": ordinary.ravel(),
            "expected_outage": outage.ravel(),
            "customers_out": drivers["out"].ravel(),
            "new_customers": new.ravel(),
            "etr_missed_customers": drivers["missed"].ravel(),
            "etr_due_customers": drivers["due"].ravel(),
            "aht_s": aht.ravel(),
            "patience_s": patience.ravel(),
        }
    )


def draw_calls(rng: np.random.Generator, hourly: pd.DataFrame) -> pd.DataFrame:
    """Individual calls for the hours given: arrival second, handle time and patience.

    Five years of single calls would be tens of millions of rows; the history keeps
    hourly counts and a simulator or the desk draws the calls of the hours it replays.
    """
    counts = hourly["calls"].to_numpy()
    index = np.repeat(np.arange(len(hourly)), counts)
    offset = pd.to_timedelta(rng.random(index.size) * 3600.0, unit="s")
    return pd.DataFrame(
        {
            "region": hourly["region"].to_numpy()[index],
            "arrived_at": pd.DatetimeIndex(hourly["hour"].to_numpy()[index]) + offset,
            "handle_s": rng.exponential(hourly["aht_s"].to_numpy()[index]),
            "patience_s": rng.exponential(hourly["patience_s"].to_numpy()[index]),
        }
    ).sort_values("arrived_at", ignore_index=True)
