"""Five years of outage, call and work-order history from a territory summary and a seed.

Pure: plain inputs, frames out, one ``numpy.random.Generator`` so a seed names a history
exactly. Writing it into the database and the ``stormdesk history generate`` command sit
above this, with the territory loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scenarios.history.calls import CallRates, hourly_calls, hourly_drivers
from scenarios.history.outages import OutageRates, draw_events, interruption_rows
from scenarios.history.territory import TerritorySummary, cut_sections
from scenarios.history.weather import daily_weather


@dataclass(frozen=True)
class HistoryConfig:
    """What to generate: the span, the seed, and the territory's weather and habits."""

    start: dt.date = dt.date(2021, 1, 1)
    years: int = 5
    seed: int = 1
    tz: str = "Asia/Shanghai"
    section_customers: int = 50
    typhoon_days_per_year: float = 3.0
    # A typhoon takes out most feeders of a small territory in a day or two.
    typhoon_severity: float = 80.0
    outages: OutageRates = field(default_factory=OutageRates)
    calls: CallRates = field(default_factory=CallRates)

    def __post_init__(self) -> None:
        if self.years < 1:
            msg = f"years must be at least 1, got {self.years}"
            raise ValueError(msg)

    @property
    def days(self) -> int:
        end = dt.date(self.start.year + self.years, self.start.month, self.start.day)
        return (end - self.start).days


@dataclass(frozen=True)
class History:
    """The generated history; ``interruptions`` is in ``outages.reliability`` form."""

    weather: pd.DataFrame
    events: pd.DataFrame
    interruptions: pd.DataFrame
    work_orders: pd.DataFrame
    hourly: pd.DataFrame
    served: pd.DataFrame

    @property
    def typhoon_days(self) -> list[pd.Timestamp]:
        return list(self.weather.loc[self.weather["typhoon"], "day"])


def generate_history(territory: TerritorySummary, config: HistoryConfig) -> History:
    """Weather, outages with their restoration steps, work orders and hourly calls."""
    rng = np.random.default_rng(config.seed)
    origin = pd.Timestamp(config.start).tz_localize(config.tz)
    sections = cut_sections(territory, config.section_customers)
    weather = daily_weather(
        rng,
        config.start,
        config.days,
        typhoons_per_year=config.typhoon_days_per_year,
        typhoon_severity=config.typhoon_severity,
    )
    events = draw_events(rng, territory, sections, weather, config.outages)
    codes = np.array([f.code for f in territory.feeders], dtype=object)
    regions = np.array([f.region for f in territory.feeders], dtype=object)
    events["feeder"] = codes[events["feeder_index"].to_numpy()]
    events["region"] = regions[events["feeder_index"].to_numpy()]
    rows = interruption_rows(rng, events, sections, config.outages)
    region_names = territory.regions
    drivers = hourly_drivers(events, rows, config.days * 24, region_names)
    served = territory.served()
    customers = served.groupby("region")["customers"].sum().reindex(region_names).to_numpy()
    urban = np.array([r in territory.urban_regions for r in region_names])
    hourly = hourly_calls(rng, drivers, customers.astype(float), urban, origin, config.calls)
    hourly.insert(0, "region", np.array(region_names, dtype=object)[hourly.pop("region_index")])
    return History(
        weather=weather,
        events=_event_table(events, rows, origin),
        interruptions=_interruptions(events, rows, origin, territory),
        work_orders=_work_orders(rng, events, origin),
        hourly=hourly,
        served=served,
    )


def _stamp(origin: pd.Timestamp, minutes: np.ndarray) -> pd.DatetimeIndex:
    return origin + pd.to_timedelta(minutes, unit="min")


def _interruptions(
    events: pd.DataFrame, rows: pd.DataFrame, origin: pd.Timestamp, territory: TerritorySummary
) -> pd.DataFrame:
    kva = np.array([f.kva_per_customer for f in territory.feeders])
    index = rows["event_index"].to_numpy()
    picked = events.iloc[index]
    return pd.DataFrame(
        {
            "event_id": picked["event_id"].to_numpy(),
            "feeder": picked["feeder"].to_numpy(),
            "region": picked["region"].to_numpy(),
            "cause": picked["cause"].to_numpy(),
            "section": rows["section"].to_numpy(),
            "customers": rows["customers"].to_numpy(),
            "kva": rows["customers"].to_numpy() * kva[picked["feeder_index"].to_numpy()],
            "started_at": _stamp(origin, rows["start_min"].to_numpy()),
            "restored_at": _stamp(origin, rows["restore_min"].to_numpy()),
            "planned": picked["planned"].to_numpy(),
        }
    )


def _event_table(events: pd.DataFrame, rows: pd.DataFrame, origin: pd.Timestamp) -> pd.DataFrame:
    customers = rows.groupby("event_index")["customers"].sum().reindex(range(len(events)))
    last = rows.groupby("event_index")["restore_min"].max().reindex(range(len(events)))
    start = events["start_min"].to_numpy()
    etr = start + events["etr_min"].to_numpy()
    return pd.DataFrame(
        {
            "event_id": events["event_id"],
            "feeder": events["feeder"],
            "region": events["region"],
            "device": events["device"],
            "cause": events["cause"],
            "planned": events["planned"],
            "momentary": events["momentary"],
            "typhoon": events["typhoon"],
            "customers": customers.to_numpy(),
            "started_at": _stamp(origin, start),
            "etr_at": _stamp(origin, etr),
            "restored_at": _stamp(origin, last.to_numpy()),
            "etr_missed": last.to_numpy() > etr,
        }
    )


def _work_orders(
    rng: np.random.Generator, events: pd.DataFrame, origin: pd.Timestamp
) -> pd.DataFrame:
    """One repair order per sustained unplanned outage: reported, crew on site, done."""
    chosen = events[~events["momentary"] & ~events["planned"]]
    start = chosen["start_min"].to_numpy()
    done = start + chosen["duration_min"].to_numpy()
    # A short outage is reported and reached within its own span: the crew restored it.
    duration = done - start
    created = start + np.minimum(rng.uniform(5.0, 25.0, len(chosen)), 0.3 * duration)
    travel = rng.lognormal(np.log(40.0), 0.5, len(chosen)) * np.where(chosen["typhoon"], 2.5, 1.0)
    on_site = np.minimum(created + travel, start + 0.9 * duration)
    return pd.DataFrame(
        {
            "event_id": chosen["event_id"].to_numpy(),
            "feeder": chosen["feeder"].to_numpy(),
            "region": chosen["region"].to_numpy(),
            "cause": chosen["cause"].to_numpy(),
            "created_at": _stamp(origin, created),
            "on_site_at": _stamp(origin, on_site),
            "completed_at": _stamp(origin, done),
        }
    )
