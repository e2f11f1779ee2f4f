"""IEEE 1366-2012 distribution reliability indices over prepared interruption rows.

Everything is a sum over groups (the system, a region, a feeder, a cause) followed by one
division per index, so a million customers over five years is a few vectorized group-bys.
The indices that count *distinct* customers use the section rule of ``records``: within a
section, the customers a smaller event hit are among those a larger one hit, so "customers
interrupted more than n times" in a section is its (n+1)-th largest event.

Momentary events (MAIFI_E): the momentary operations of one event on one section count once
(a recloser's three shots on 500 customers are 1,500 momentary interruptions but 500
momentary events), less the customers of that section who ended the event without power,
whose momentaries belong to their sustained interruption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

INDEX_NAMES = (
    "saifi",
    "saidi_min",
    "caidi_min",
    "ctaidi_min",
    "caifi",
    "asai",
    "asifi",
    "asidi_min",
    "maifi",
    "maifi_e",
    "cemi_n",
    "cemsmi_n",
    "celid_s",
    "celid_t",
)


@dataclass(frozen=True)
class IndexOptions:
    """The thresholds of the customer-experience indices.

    ``cemi_n``: customers with *more than* n interruptions (CEMI_n, CEMSMI_n);
    ``celid_s_h``: a single interruption of at least this many hours (CELID-s);
    ``celid_t_h``: interruptions adding up to at least this many hours (CELID-t).
    """

    cemi_n: int = 3
    celid_s_h: float = 8.0
    celid_t_h: float = 8.0

    def __post_init__(self) -> None:
        if self.cemi_n < 0 or self.celid_s_h < 0 or self.celid_t_h < 0:
            msg = f"index thresholds must not be negative: {self}"
            raise ValueError(msg)


COMPONENTS = (
    "customer_interruptions",
    "customer_minutes",
    "customers_interrupted",
    "kva_interrupted",
    "kva_minutes",
    "momentary_interruptions",
    "momentary_events",
    "cemi_customers",
    "cemsmi_customers",
    "celid_s_customers",
    "celid_t_customers",
)


def components(frame: pd.DataFrame, by: str, options: IndexOptions) -> pd.DataFrame:
    """The sums every index divides, one row per value of column ``by`` of a prepared frame."""
    sustained = frame[~frame["momentary"]]
    momentary = frame[frame["momentary"]]
    minutes = sustained["customers"] * sustained["duration_min"]
    kva_minutes = sustained["kva"] * sustained["duration_min"]
    out = pd.DataFrame(
        {
            "customer_interruptions": sustained.groupby(by)["customers"].sum(),
            "customer_minutes": minutes.groupby(sustained[by]).sum(),
            "kva_interrupted": sustained.groupby(by)["kva"].sum(),
            "kva_minutes": kva_minutes.groupby(sustained[by]).sum(),
            "momentary_interruptions": momentary.groupby(by)["customers"].sum(),
        }
    )
    ranked = _ranked_steps(sustained, by)
    per_event = ranked.groupby([by, "section", "event_id"])["rank_end"].max()
    once = per_event.rename("reach").reset_index().assign(weight=1.0)
    events = _momentary_events(frame, by, per_event)
    out["customers_interrupted"] = _reaching(once, by, 1.0)
    out["momentary_events"] = events.groupby(by)["reach"].sum()
    out["cemi_customers"] = _reaching(once, by, options.cemi_n + 1.0)
    out["cemsmi_customers"] = _reaching(pd.concat([once, events]), by, options.cemi_n + 1.0)
    long = ranked[ranked["duration_min"] >= options.celid_s_h * 60.0]
    longest = long.groupby([by, "section", "event_id"])["rank_end"].max()
    out["celid_s_customers"] = _reaching(
        longest.rename("reach").reset_index().assign(weight=1.0), by, 1.0
    )
    durations = ranked.assign(reach=ranked["rank_end"], weight=ranked["duration_step"])
    out["celid_t_customers"] = _reaching(durations, by, options.celid_t_h * 60.0)
    return out.reindex(columns=list(COMPONENTS)).fillna(0.0)


def _ranked_steps(sustained: pd.DataFrame, by: str) -> pd.DataFrame:
    """Each step's place among its section's customers in one event.

    An event's steps on one section hit different customers (each customer is restored
    once), so they are stacked: the longest-out step takes ranks 1..c, the next the ranks
    after it, and ``rank_end`` is the last rank a step covers. Longest first, because the
    customers a smaller step also hit are the ones deepest in the section, restored last.
    ``duration_step`` is how much longer than the next, shorter step it lasted, so a
    customer's minutes in the event are the sum over the steps whose ``rank_end`` reaches
    the customer's rank.
    """
    keys = [by, "section", "event_id"]
    ordered = sustained.sort_values([*keys, "duration_min"], ascending=[True] * 3 + [False])
    grouped = ordered.groupby(keys, sort=False)
    shorter = grouped["duration_min"].shift(-1).fillna(0.0)
    return ordered.assign(
        rank_end=grouped["customers"].cumsum(),
        duration_step=ordered["duration_min"] - shorter,
    )


def _momentary_events(frame: pd.DataFrame, by: str, sustained: pd.Series) -> pd.DataFrame:
    """Customers with a momentary event per (group, section, event), net of those left out."""
    keys = [by, "section", "event_id"]
    momentary = frame[frame["momentary"]].groupby(keys)["customers"].max()
    left_out = sustained.reindex(momentary.index, fill_value=0)
    net = momentary.sub(left_out).clip(lower=0)
    events = net[net > 0].rename("reach").reset_index()
    return events.assign(weight=1.0)


def _reaching(rows: pd.DataFrame, by: str, threshold: float) -> pd.Series:
    """Customers per group whose summed ``weight`` reaches ``threshold``.

    Every row covers the ranks 1..``reach`` of its section's customers and adds ``weight``
    to each of them (an interruption counts 1, a step its minutes), so a customer's total
    falls with its rank; the customers reaching the threshold are the ranks up to the
    largest ``reach`` whose running total (from the largest ``reach`` down) gets there.
    """
    if rows.empty:
        return pd.Series(dtype="float64")
    stacked = rows.groupby([by, "section", "reach"])["weight"].sum().reset_index()
    stacked = stacked.sort_values([by, "section", "reach"], ascending=[True, True, False])
    running = stacked.groupby([by, "section"])["weight"].cumsum()
    reached = stacked.loc[running.to_numpy() >= threshold - 1e-9]
    return reached.groupby([by, "section"])["reach"].first().groupby(level=0).sum()


def indices(
    parts: pd.DataFrame,
    *,
    customers_served: pd.Series | float,
    kva_served: pd.Series | float,
    period_min: float,
) -> pd.DataFrame:
    """IEEE 1366 indices from ``components``: one row per group, columns ``INDEX_NAMES``.

    Ratios with a zero denominator (CAIDI with no interruption, ASIFI with no kVA known)
    are NaN rather than a made-up zero.
    """
    n_t = _aligned(customers_served, parts.index)
    l_t = _aligned(kva_served, parts.index)
    ci, cmi = parts["customer_interruptions"], parts["customer_minutes"]
    cn = parts["customers_interrupted"]
    out = pd.DataFrame(index=parts.index)
    out["saifi"] = ci / n_t
    out["saidi_min"] = cmi / n_t
    out["caidi_min"] = cmi / ci.where(ci > 0)
    out["ctaidi_min"] = cmi / cn.where(cn > 0)
    out["caifi"] = ci / cn.where(cn > 0)
    out["asai"] = 1.0 - cmi / (n_t * period_min)
    out["asifi"] = parts["kva_interrupted"] / l_t.where(l_t > 0)
    out["asidi_min"] = parts["kva_minutes"] / l_t.where(l_t > 0)
    out["maifi"] = parts["momentary_interruptions"] / n_t
    out["maifi_e"] = parts["momentary_events"] / n_t
    out["cemi_n"] = parts["cemi_customers"] / n_t
    out["cemsmi_n"] = parts["cemsmi_customers"] / n_t
    out["celid_s"] = parts["celid_s_customers"] / n_t
    out["celid_t"] = parts["celid_t_customers"] / n_t
    return out


def _aligned(value: pd.Series | float, index: pd.Index) -> pd.Series:
    if isinstance(value, pd.Series):
        return value.reindex(index).astype("float64")
    return pd.Series(np.float64(value), index=index)
