"""The history generator: seeded, shaped like its inputs, and its typhoons are major events."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from outages.reliability import prepare, reliability_report
from scenarios.history import Feeder, HistoryConfig, TerritorySummary, draw_calls, generate_history


def territory() -> TerritorySummary:
    rng = np.random.default_rng(0)
    feeders = tuple(Feeder(f"F{i:03d}", f"R{i % 4}", int(rng.integers(50, 400))) for i in range(40))
    return TerritorySummary(feeders, frozenset({"R0"}))


@pytest.fixture(scope="module")
def history():
    return generate_history(territory(), HistoryConfig(years=5, seed=3))


def test_typhoon_days_come_out_as_major_event_days(history) -> None:
    """Every generated typhoon day exceeds its year's 2.5-beta threshold; ordinary days
    rarely do (the method expects about 2.3 a year by construction of the threshold)."""
    assert len(history.typhoon_days) >= 5
    report = reliability_report(
        history.interruptions,
        history.served,
        start=dt.date(2021, 1, 1),
        end=dt.date(2026, 1, 1),
        tz="Asia/Shanghai",
    )
    flags = report.daily["major_event_day"]
    major = set(flags.index[flags])
    assert set(history.typhoon_days) <= major
    assert len(major - set(history.typhoon_days)) <= 3 * 5
    normal = report.row("system", "system", "normal")
    everything = report.row("system", "system", "all")
    assert normal["saidi_min"] < 0.8 * everything["saidi_min"]


def test_the_seed_names_the_history(history) -> None:
    again = generate_history(territory(), HistoryConfig(years=5, seed=3))
    pd.testing.assert_frame_equal(again.interruptions, history.interruptions)
    other = generate_history(territory(), HistoryConfig(years=5, seed=4))
    assert len(other.events) != len(history.events)


def test_rows_are_valid_reliability_records_with_partial_restorations(history) -> None:
    rows = prepare(history.interruptions)
    assert rows["customers"].sum() > 0
    assert (rows["duration_min"] >= 0).all()
    steps = rows.groupby("event_id")["restored_at"].nunique()
    assert (steps > 1).any(), "some outages restore part of their customers early"
    served = history.served.set_index("feeder")["customers"]
    per_event = history.interruptions.groupby(["event_id", "feeder"])["customers"].sum()
    assert (per_event.to_numpy() <= served.reindex(per_event.index.get_level_values(1))).all()
    assert rows["momentary"].any() and (~rows["momentary"]).any()
    assert history.interruptions["planned"].any()


def test_calls_follow_outages_and_seasonality(history) -> None:
    hourly = history.hourly
    assert set(hourly["region"]) == {"R0", "R1", "R2", "R3"}
    assert len(hourly) == 4 * HistoryConfig(years=5).days * 24
    typhoon = hourly["hour"].dt.normalize().dt.tz_localize(None).isin(history.typhoon_days)
    assert hourly.loc[typhoon, "calls"].mean() > 5 * hourly.loc[~typhoon, "calls"].mean()
    by_hour = hourly.loc[~typhoon].groupby(hourly["hour"].dt.hour)["expected_ordinary"].mean()
    assert by_hour[10] > 5 * by_hour[3]
    late = history.events["etr_missed"] & ~history.events["planned"]
    assert late.any()
    assert hourly["etr_missed_customers"].sum() > 0
    orders = history.work_orders
    assert (orders["on_site_at"] >= orders["created_at"]).all()
    assert (orders["completed_at"] >= orders["on_site_at"]).all()


def test_individual_calls_for_a_replayed_window(history) -> None:
    window = history.hourly[
        history.hourly["hour"] < history.hourly["hour"].min() + pd.Timedelta(days=2)
    ]
    calls = draw_calls(np.random.default_rng(1), window)
    assert len(calls) == window["calls"].sum()
    assert calls["arrived_at"].is_monotonic_increasing
    assert (calls["handle_s"] > 0).all() and (calls["patience_s"] > 0).all()


def test_bad_territory_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one feeder"):
        TerritorySummary(())
    with pytest.raises(ValueError, match="negative customers"):
        Feeder("F1", "R1", -1)
