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
    """The sums every index divides, one row per value of column ``by`` of a prepared frame.

    Written over integer codes and numpy segment sums rather than pandas group-bys on
    several columns: five years of a million customers are a few hundred thousand rows,
    and each index needs its own grouping of them.
    """
    keys = _Keys(frame, by)
    customers = frame["customers"].to_numpy(dtype=np.float64)
    duration = frame["duration_min"].to_numpy(dtype=np.float64)
    kva = frame["kva"].to_numpy(dtype=np.float64)
    momentary = frame["momentary"].to_numpy(dtype=bool)
    sustained = ~momentary
    g = keys.group
    sums = {
        "customer_interruptions": keys.per_group(g[sustained], customers[sustained]),
        "customer_minutes": keys.per_group(g[sustained], (customers * duration)[sustained]),
        "kva_interrupted": keys.per_group(g[sustained], kva[sustained]),
        "kva_minutes": keys.per_group(g[sustained], (kva * duration)[sustained]),
        "momentary_interruptions": keys.per_group(g[momentary], customers[momentary]),
    }
    step = _ranked_steps(keys.event[sustained], customers[sustained], duration[sustained])
    event_total = np.zeros(keys.n_events)
    np.maximum.at(event_total, step.event, step.rank_end)
    hit = np.flatnonzero(event_total > 0)
    ones = np.ones(hit.size)
    # A momentary event on a section counts its customers once, less those it left out.
    shots = np.zeros(keys.n_events)
    np.maximum.at(shots, keys.event[momentary], customers[momentary])
    net = np.clip(shots - event_total, 0.0, None)
    flickered = np.flatnonzero(net > 0)
    sums["momentary_events"] = keys.per_group(keys.event_group[flickered], net[flickered])
    reach = _Reach(keys)
    sums["customers_interrupted"] = reach(keys.event_pair[hit], event_total[hit], ones, 1.0)
    n_more = options.cemi_n + 1.0
    sums["cemi_customers"] = reach(keys.event_pair[hit], event_total[hit], ones, n_more)
    sums["cemsmi_customers"] = reach(
        np.concatenate([keys.event_pair[hit], keys.event_pair[flickered]]),
        np.concatenate([event_total[hit], net[flickered]]),
        np.ones(hit.size + flickered.size),
        n_more,
    )
    longest = np.zeros(keys.n_events)
    long = step.duration >= options.celid_s_h * 60.0
    np.maximum.at(longest, step.event[long], step.rank_end[long])
    held = np.flatnonzero(longest > 0)
    sums["celid_s_customers"] = reach(keys.event_pair[held], longest[held], np.ones(held.size), 1.0)
    sums["celid_t_customers"] = reach(
        keys.event_pair[step.event], step.rank_end, step.duration_step, options.celid_t_h * 60.0
    )
    index = pd.Index(keys.labels, name=by)
    return pd.DataFrame({name: sums[name] for name in COMPONENTS}, index=index)


class _Keys:
    """Integer codes of a frame's groups, (group, section) pairs and (pair, event)s."""

    def __init__(self, frame: pd.DataFrame, by: str) -> None:
        group, labels = pd.factorize(frame[by], sort=True)
        section = pd.factorize(frame["section"])[0].astype(np.int64)
        event = pd.factorize(frame["event_id"])[0].astype(np.int64)
        self.group = group.astype(np.int64)
        self.labels = labels
        self.n_groups = len(labels)
        pair, pairs = pd.factorize(self.group * (int(section.max(initial=0)) + 1) + section)
        self.pair = pair.astype(np.int64)
        self.pair_group = np.zeros(len(pairs), dtype=np.int64)
        self.pair_group[self.pair] = self.group
        triple, triples = pd.factorize(self.pair * (int(event.max(initial=0)) + 1) + event)
        self.event = triple.astype(np.int64)
        self.n_events = len(triples)
        self.event_pair = np.zeros(self.n_events, dtype=np.int64)
        self.event_pair[self.event] = self.pair
        self.event_group = self.pair_group[self.event_pair]

    def per_group(self, group: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=values, minlength=self.n_groups)


@dataclass(frozen=True)
class _Steps:
    event: np.ndarray
    duration: np.ndarray
    rank_end: np.ndarray
    duration_step: np.ndarray


def _segment_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running sums that restart wherever ``starts`` is true (values sorted by segment)."""
    total = np.cumsum(values)
    first = np.flatnonzero(starts)
    offset = total[first] - values[first]
    return total - offset[np.cumsum(starts) - 1]


def _ranked_steps(event: np.ndarray, customers: np.ndarray, duration: np.ndarray) -> _Steps:
    """Each step's place among its section's customers in one event.

    An event's steps on one section hit different customers (each customer is restored
    once), so they are stacked: the longest-out step takes ranks 1..c, the next the ranks
    after it, and ``rank_end`` is the last rank a step covers. Longest first, because the
    customers a smaller step also hit are the ones deepest in the section, restored last.
    ``duration_step`` is how much longer than the next, shorter step it lasted, so a
    customer's minutes in the event are the sum over the steps whose ``rank_end`` reaches
    the customer's rank.
    """
    order = np.lexsort((-duration, event))
    event, customers, duration = event[order], customers[order], duration[order]
    starts = np.r_[True, event[1:] != event[:-1]] if event.size else np.zeros(0, dtype=bool)
    ends = np.r_[starts[1:], True] if event.size else starts
    shorter = np.r_[duration[1:], 0.0] if event.size else duration
    shorter = np.where(ends, 0.0, shorter)
    return _Steps(event, duration, _segment_cumsum(customers, starts), duration - shorter)


class _Reach:
    """Customers per group whose summed ``weight`` reaches a threshold.

    Every row covers the ranks 1..``reach`` of its section's customers and adds ``weight``
    to each of them (an interruption counts 1, a step its minutes), so a customer's total
    falls with its rank; the customers reaching the threshold are the ranks up to the
    largest ``reach`` whose running total (from the largest ``reach`` down) gets there.
    """

    def __init__(self, keys: _Keys) -> None:
        self.keys = keys

    def __call__(
        self, pair: np.ndarray, reach: np.ndarray, weight: np.ndarray, threshold: float
    ) -> np.ndarray:
        if pair.size == 0:
            return np.zeros(self.keys.n_groups)
        order = np.lexsort((-reach, pair))
        pair, reach, weight = pair[order], reach[order], weight[order]
        new_pair = np.r_[True, pair[1:] != pair[:-1]]
        running = _segment_cumsum(weight, new_pair)
        # Equal reaches add up before the test: the total of a rank counts all of them.
        block_end = np.r_[new_pair[1:] | (reach[1:] != reach[:-1]), True]
        ok = np.flatnonzero(block_end & (running >= threshold - 1e-9))
        pairs, first = np.unique(pair[ok], return_index=True)
        return self.keys.per_group(self.keys.pair_group[pairs], reach[ok][first])


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
