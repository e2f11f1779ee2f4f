"""Outage events, their interruption rows (one per section and restoration step), and the
work orders that repaired them; vectorized over all days so five years take seconds.

Failures per feeder follow the day's weather severity; each event takes out a breaker (the
whole feeder), a recloser (the feeder from some section on) or a fuse (one to three
sections). Reclosers and breakers often reclose within minutes (a momentary interruption);
sustained repairs are log-normal, longer in rural regions and much longer in a typhoon,
and half of the larger outages give part of their customers back early by switching.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from scenarios.history.territory import Sections, TerritorySummary

DEVICES = ("breaker", "recloser", "fuse")
DEVICE_SHARE = (0.1, 0.25, 0.65)
MOMENTARY_SHARE = {"breaker": 0.2, "recloser": 0.45, "fuse": 0.0}
CALM_CAUSES = ("equipment", "tree", "animal", "weather", "vehicle", "external", "unknown")
CALM_CAUSE_SHARE = (0.35, 0.2, 0.15, 0.1, 0.05, 0.1, 0.05)
STORM_CAUSES = ("weather", "tree", "equipment")
STORM_CAUSE_SHARE = (0.7, 0.2, 0.1)
# 95598: power back within 3 h in cities, 4 h in the countryside; the first ETR promised.
ETR_MIN = {"urban": 180.0, "rural": 240.0}


@dataclass(frozen=True)
class OutageRates:
    """Failure and repair figures of the territory (per feeder, minutes)."""

    outages_per_feeder_year: float = 3.0
    planned_per_feeder_year: float = 0.4
    repair_median_min: float = 80.0
    rural_repair_factor: float = 1.6
    repair_sigma: float = 0.7
    partial_share: float = 0.5


def draw_events(
    rng: np.random.Generator,
    territory: TerritorySummary,
    sections: Sections,
    weather: pd.DataFrame,
    rates: OutageRates,
) -> pd.DataFrame:
    """One row per outage event, times in minutes from the first day's midnight."""
    unplanned = _unplanned(rng, territory, sections, weather, rates)
    planned = _planned(rng, territory, sections, weather, rates)
    events = pd.concat([unplanned, planned], ignore_index=True)
    events = events.sort_values("start_min", kind="stable").reset_index(drop=True)
    events.insert(0, "event_id", np.arange(1, len(events) + 1))
    return events


def _unplanned(
    rng: np.random.Generator,
    territory: TerritorySummary,
    sections: Sections,
    weather: pd.DataFrame,
    rates: OutageRates,
) -> pd.DataFrame:
    n_feeders = len(territory.feeders)
    severity = weather["severity"].to_numpy()
    typhoon = weather["typhoon"].to_numpy()
    per_day = rng.poisson(n_feeders * rates.outages_per_feeder_year / 365.0 * severity)
    day = np.repeat(np.arange(severity.size), per_day)
    total = day.size
    # Longer feeders (more sections) have more line to fail.
    weights = sections.count / sections.count.sum()
    feeder = rng.choice(n_feeders, size=total, p=weights)
    stormy = severity[day] > 2.0
    hour = np.where(typhoon[day], 24.0 * rng.beta(4.0, 4.0, total), 24.0 * rng.random(total))
    device = rng.choice(len(DEVICES), size=total, p=DEVICE_SHARE)
    momentary_share = np.array([MOMENTARY_SHARE[d] for d in DEVICES])[device]
    momentary = rng.random(total) < momentary_share * np.where(typhoon[day], 0.3, 1.0)
    calm = rng.choice(len(CALM_CAUSES), size=total, p=CALM_CAUSE_SHARE)
    storm = rng.choice(len(STORM_CAUSES), size=total, p=STORM_CAUSE_SHARE)
    cause = np.where(
        stormy, np.array(STORM_CAUSES, dtype=object)[storm], np.array(CALM_CAUSES)[calm]
    )
    rural = ~_urban(territory)[feeder]
    median = rates.repair_median_min * np.where(rural, rates.rural_repair_factor, 1.0)
    storm_factor = np.where(typhoon[day], rng.uniform(2.0, 5.0, total), 1.0)
    storm_factor = np.where(stormy & ~typhoon[day], 1.5, storm_factor)
    duration = median * storm_factor * rng.lognormal(0.0, rates.repair_sigma, total)
    duration = np.where(momentary, rng.uniform(0.3, 3.0, total), np.maximum(duration, 6.0))
    first, count = _hit_sections(rng, sections, feeder, device)
    return pd.DataFrame(
        {
            "feeder_index": feeder,
            "device": np.array(DEVICES)[device],
            "cause": cause,
            "planned": False,
            "momentary": momentary,
            "typhoon": typhoon[day],
            "start_min": day * 1440.0 + hour * 60.0,
            "duration_min": duration,
            "first_section": first,
            "section_count": count,
            "etr_min": np.where(rural, ETR_MIN["rural"], ETR_MIN["urban"]),
        }
    )


def _planned(
    rng: np.random.Generator,
    territory: TerritorySummary,
    sections: Sections,
    weather: pd.DataFrame,
    rates: OutageRates,
) -> pd.DataFrame:
    n_feeders, days = len(territory.feeders), len(weather)
    total = rng.poisson(n_feeders * rates.planned_per_feeder_year * days / 365.0)
    day = rng.integers(0, days, total)
    feeder = rng.integers(0, n_feeders, total)
    first, count = _hit_sections(rng, sections, feeder, np.full(total, DEVICES.index("fuse")))
    duration = rng.choice([240.0, 300.0, 360.0], size=total)
    return pd.DataFrame(
        {
            "feeder_index": feeder,
            "device": "fuse",
            "cause": "planned",
            "planned": True,
            "momentary": False,
            "typhoon": weather["typhoon"].to_numpy()[day],
            "start_min": day * 1440.0 + rng.choice([480.0, 540.0, 600.0], size=total),
            "duration_min": duration,
            "first_section": first,
            "section_count": count,
            "etr_min": duration,
        }
    )


def _urban(territory: TerritorySummary) -> npt.NDArray[np.bool_]:
    return np.array([f.region in territory.urban_regions for f in territory.feeders])


def _hit_sections(
    rng: np.random.Generator,
    sections: Sections,
    feeder: npt.NDArray[np.int64],
    device: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The first global section an event takes out and how many (contiguous) it takes."""
    n = sections.count[feeder]
    start = np.floor(rng.random(feeder.size) * n).astype(np.int64)
    fuse_span = np.minimum(rng.integers(1, 4, feeder.size), n - start)
    breaker = device == DEVICES.index("breaker")
    recloser = device == DEVICES.index("recloser")
    offset = np.where(breaker, 0, start)
    span = np.where(breaker, n, np.where(recloser, n - start, fuse_span))
    return sections.first[feeder] + offset, span


def interruption_rows(
    rng: np.random.Generator, events: pd.DataFrame, sections: Sections, rates: OutageRates
) -> pd.DataFrame:
    """One row per event and section, each with the minute its section got power back."""
    counts = events["section_count"].to_numpy()
    index = np.repeat(np.arange(len(events)), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(index.size) - offsets[index]
    section = events["first_section"].to_numpy()[index] + position
    start = events["start_min"].to_numpy()
    duration = events["duration_min"].to_numpy()
    sustained = ~events["momentary"].to_numpy() & ~events["planned"].to_numpy()
    partial = sustained & (counts > 1) & (rng.random(len(events)) < rates.partial_share)
    # Switching gives the first part of the sections back after 20-60 % of the repair.
    split = np.floor(rng.uniform(0.2, 0.8, len(events)) * counts).clip(1, None)
    switch_at = rng.uniform(0.2, 0.6, len(events)) * duration
    early = partial[index] & (position < split[index])
    restored = start[index] + np.where(early, switch_at[index], duration[index])
    return pd.DataFrame(
        {
            "event_index": index,
            "section": section,
            "customers": sections.customers[section],
            "start_min": start[index],
            "restore_min": restored,
        }
    )
