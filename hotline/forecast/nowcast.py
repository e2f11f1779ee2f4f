"""The nowcast: calls in the next hours from the live outage state, which MSTL cannot see.

Outage calls follow customers: the ones whose power just went (most call in the first hour),
the ones still out, and the ones whose promised restoration time just passed. At an origin
hour the centre knows all three, so the calls of each of the next ``horizon_h`` hours are
regressed on them, beside an hour-of-week profile and a yearly cycle for the ordinary
calls: one least-squares fit per region and lead time, on the history before the origin.

The 80 % interval comes from the fit's own residuals, taken separately for calm, mixed and
storm hours (by the outage share of the prediction) and scaled within each: by the square
root of the prediction on calm hours (calls are counts, their noise grows like a
Poisson's), by a higher power of it in a storm, whose unknown new outages of the hour make
the error grow faster than a Poisson's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

WEEK_H = 168
FEATURES = ("customers_out", "new_customers_1h", "new_customers_2h", "etr_missed_1h", "etr_due")
REGIME_EDGES = (0.1, 0.5)
# Residuals scale like a Poisson's (mean ** 0.5) on calm hours and faster in a storm; the
# powers were tuned on held-out storm weeks of generated history (bench.forecast).
REGIME_POWER = (0.5, 0.6, 0.7)
DRIVER_COLUMNS = ("customers_out", "new_customers", "etr_missed_customers", "etr_due_customers")


@dataclass(frozen=True)
class LiveState:
    """What the outage system knows at the origin for one region.

    ``customers_out`` now; customers newly out in the last hour and the hour before it;
    customers whose ETR passed in the last hour without power back; customers still out
    whose ETR falls in the hour starting now.
    """

    customers_out: float
    new_customers_1h: float
    new_customers_2h: float
    etr_missed_1h: float
    etr_due: float = 0.0

    def vector(self) -> npt.NDArray[np.float64]:
        return np.array(
            [
                self.customers_out,
                self.new_customers_1h,
                self.new_customers_2h,
                self.etr_missed_1h,
                self.etr_due,
            ]
        )


@dataclass(frozen=True)
class _Fit:
    coef: npt.NDArray[np.float64]
    quantiles: npt.NDArray[np.float64]  # (regimes, 2): scaled residual at lo and hi


@dataclass(frozen=True)
class NowcastModel:
    """Fitted coefficients per (region, lead time) and the interval level they carry."""

    fits: dict[tuple[str, int], _Fit]
    horizon_h: int
    level: int

    def predict(self, origin: pd.Timestamp, states: dict[str, LiveState]) -> pd.DataFrame:
        """Calls per region for the ``horizon_h`` hours from ``origin`` with their interval."""
        rows = []
        for region, state in states.items():
            for lead in range(self.horizon_h):
                fit = self.fits.get((region, lead))
                if fit is None:
                    msg = f"no nowcast fitted for region {region!r}; fit it on its history"
                    raise KeyError(msg)
                hour = origin + pd.Timedelta(hours=lead)
                seasonal = _seasonal(pd.DatetimeIndex([hour]))[0]
                ordinary = float(seasonal @ fit.coef[: seasonal.size])
                outage = float(state.vector() @ fit.coef[seasonal.size :])
                mean = max(ordinary + outage, 0.0)
                regime = _regime(outage, mean)
                lo_q, hi_q = fit.quantiles[regime]
                scale = max(mean, 1.0) ** REGIME_POWER[regime]
                rows.append(
                    {
                        "region": region,
                        "hour": hour,
                        "lead_h": lead,
                        "mean": mean,
                        "lo": max(mean + lo_q * scale, 0.0),
                        "hi": max(mean + hi_q * scale, 0.0),
                        "outage_share": outage / mean if mean > 0 else 0.0,
                    }
                )
        return pd.DataFrame(rows)


def fit_nowcast(
    hourly: pd.DataFrame, origin: pd.Timestamp, *, horizon_h: int = 3, level: int = 80
) -> NowcastModel:
    """Fit on the hours of ``hourly`` before ``origin`` (columns ``region``, ``hour``,
    ``calls`` and ``DRIVER_COLUMNS``)."""
    missing = [c for c in ("region", "hour", "calls", *DRIVER_COLUMNS) if c not in hourly]
    if missing:
        msg = f"hourly history lacks the columns {missing}"
        raise ValueError(msg)
    tail = (1.0 - level / 100.0) / 2.0
    fits: dict[tuple[str, int], _Fit] = {}
    seen = hourly[hourly["hour"] < origin]
    for region, group in seen.groupby("region"):
        group = group.sort_values("hour")
        if len(group) < 2 * WEEK_H:
            msg = f"region {region!r} has {len(group)} hours of history; the nowcast needs 336"
            raise ValueError(msg)
        seasonal = _seasonal(pd.DatetimeIndex(group["hour"]))
        drivers = _lagged_drivers(group)
        calls = group["calls"].to_numpy(dtype=np.float64)
        for lead in range(horizon_h):
            fits[(str(region), lead)] = _fit_one(seasonal, drivers, calls, lead, tail)
    return NowcastModel(fits, horizon_h, level)


def _fit_one(
    seasonal: npt.NDArray[np.float64],
    drivers: npt.NDArray[np.float64],
    calls: npt.NDArray[np.float64],
    lead: int,
    tail: float,
) -> _Fit:
    """Target hour i, origin i - lead: seasonal terms of i, live state at the origin."""
    start = lead + 2
    target = np.arange(start, calls.size)
    state = drivers[target - lead]
    design = np.hstack([seasonal[target], state])
    coef, *_ = np.linalg.lstsq(design, calls[target], rcond=None)
    ordinary = seasonal[target] @ coef[: seasonal.shape[1]]
    outage = state @ coef[seasonal.shape[1] :]
    mean = np.maximum(ordinary + outage, 0.0)
    share = np.divide(outage, mean, out=np.zeros_like(mean), where=mean > 0)
    regime = np.searchsorted(REGIME_EDGES, share, side="right")
    power = np.asarray(REGIME_POWER)[regime]
    scaled = (calls[target] - mean) / np.maximum(mean, 1.0) ** power
    quantiles = np.zeros((len(REGIME_EDGES) + 1, 2))
    overall = np.quantile(scaled, [tail, 1.0 - tail])
    for r in range(quantiles.shape[0]):
        chosen = scaled[regime == r]
        # Too few storm hours to estimate a tail: borrow the overall one.
        quantiles[r] = np.quantile(chosen, [tail, 1.0 - tail]) if chosen.size >= 30 else overall
    return _Fit(np.asarray(coef, dtype=np.float64), quantiles)


def _regime(outage: float, mean: float) -> int:
    share = outage / mean if mean > 0 else 0.0
    return int(np.searchsorted(REGIME_EDGES, share, side="right"))


def _seasonal(hours: pd.DatetimeIndex) -> npt.NDArray[np.float64]:
    """Hour-of-week indicators and one yearly cosine/sine pair."""
    how = hours.dayofweek.to_numpy() * 24 + hours.hour.to_numpy()
    indicators = np.zeros((hours.size, WEEK_H))
    indicators[np.arange(hours.size), how] = 1.0
    angle = 2 * np.pi * hours.dayofyear.to_numpy() / 365.25
    yearly = np.column_stack([np.cos(angle), np.sin(angle)])
    return np.hstack([indicators, yearly])


def _lagged_drivers(group: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Per hour h (as an origin): out at h, new in h-1 and h-2, missed ETRs in h-1, ETRs
    due in h."""
    out = group["customers_out"].to_numpy(dtype=np.float64)
    new = group["new_customers"].to_numpy(dtype=np.float64)
    missed = group["etr_missed_customers"].to_numpy(dtype=np.float64)
    lag1 = np.concatenate([[0.0], new[:-1]])
    lag2 = np.concatenate([[0.0, 0.0], new[:-2]])
    missed1 = np.concatenate([[0.0], missed[:-1]])
    due = group["etr_due_customers"].to_numpy(dtype=np.float64)
    return np.column_stack([out, lag1, lag2, missed1, due])


def live_state(hourly: pd.DataFrame, origin: pd.Timestamp) -> dict[str, LiveState]:
    """The live state at ``origin`` read off an hourly driver table (history or replay)."""
    states = {}
    one, two = origin - pd.Timedelta(hours=1), origin - pd.Timedelta(hours=2)
    for region, group in hourly.groupby("region"):
        by_hour = group.set_index("hour")
        states[str(region)] = LiveState(
            customers_out=_at(by_hour, origin, "customers_out"),
            new_customers_1h=_at(by_hour, one, "new_customers"),
            new_customers_2h=_at(by_hour, two, "new_customers"),
            etr_missed_1h=_at(by_hour, one, "etr_missed_customers"),
            etr_due=_at(by_hour, origin, "etr_due_customers"),
        )
    return states


def _at(by_hour: pd.DataFrame, hour: pd.Timestamp, column: str) -> float:
    return float(by_hour[column].get(hour, 0.0))
