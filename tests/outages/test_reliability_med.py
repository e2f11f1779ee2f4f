"""Major event days by the 2.5-beta method, and stormdesk outages into interruption rows."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from outages.reliability import (
    InvalidInterruptions,
    daily_saidi,
    interruptions_from_outages,
    prepare,
    reliability_report,
    thresholds,
)

TZ = "Europe/Helsinki"
SERVED = pd.DataFrame({"feeder": ["F1"], "region": ["R1"], "customers": [1000]})


def day_rows(days_minutes: dict[dt.date, float]) -> pd.DataFrame:
    """One interruption of 100 of the 1,000 customers a day: SAIDI = minutes / 10."""
    rows = []
    for i, (day, minutes) in enumerate(days_minutes.items()):
        start = pd.Timestamp(f"{day} 12:00", tz=TZ)
        rows.append(
            {
                "event_id": i,
                "feeder": "F1",
                "region": "R1",
                "cause": "weather",
                "section": f"S{i % 7}",
                "customers": 100,
                "started_at": start,
                "restored_at": start + pd.Timedelta(minutes=minutes),
            }
        )
    return pd.DataFrame(rows)


def history() -> pd.DataFrame:
    """2025: daily SAIDI e^0, e^1, e^2, e^3 (ln = 0, 1, 2, 3) on four days, zero elsewhere.
    2026: one day of SAIDI 120, one of 100."""
    minutes = {dt.date(2025, 3, 1 + k): 10 * math.exp(k) for k in range(4)}
    minutes[dt.date(2026, 5, 1)] = 1200.0
    minutes[dt.date(2026, 5, 2)] = 1000.0
    return day_rows(minutes)


def test_threshold_is_computed_from_the_year_before_and_zero_days_are_left_out() -> None:
    """alpha = mean(0, 1, 2, 3) = 1.5; beta = sample sd = sqrt((2.25 + 0.25) x 2 / 3)
    = 1.2909944; T_MED(2026) = exp(1.5 + 2.5 x 1.2909944) = exp(4.7274861) = 113.0111 min.
    The 361 days of 2025 without interruptions would make ln(0) and are excluded.
    A day of SAIDI 120 > 113.01 is a major event day, 100 is not."""
    daily = daily_saidi(prepare(history(), tz=TZ), 1000)
    by_year = thresholds(daily, [2026])
    beta = math.sqrt(5 / 3)
    assert by_year[2026].alpha == pytest.approx(1.5)
    assert by_year[2026].beta == pytest.approx(beta)
    assert by_year[2026].t_med_min == pytest.approx(math.exp(1.5 + 2.5 * beta))
    assert by_year[2026].t_med_min == pytest.approx(113.0111, abs=1e-4)
    assert by_year[2026].source_years == (2025,)
    assert by_year[2026].days_used == 4
    report = reliability_report(
        history(), SERVED, start=dt.date(2026, 1, 1), end=dt.date(2027, 1, 1), tz=TZ
    )
    flags = report.daily["major_event_day"]
    assert bool(flags[pd.Timestamp("2026-05-01")]) is True
    assert bool(flags[pd.Timestamp("2026-05-02")]) is False
    major = report.row("system", "system", "major")
    normal = report.row("system", "system", "normal")
    everything = report.row("system", "system", "all")
    assert major["saidi_min"] == pytest.approx(120.0)
    assert normal["saidi_min"] == pytest.approx(100.0)
    assert everything["saifi"] == pytest.approx(major["saifi"] + normal["saifi"])


def test_lookback_is_five_years_and_the_first_year_uses_itself() -> None:
    """2019's days are six years before 2025 and do not count for it; 2019 itself, with no
    year before, takes its threshold from its own days."""
    minutes = {dt.date(2019, 6, 1 + k): 10.0 * (k + 1) for k in range(5)}
    minutes.update({dt.date(2024, 6, 1 + k): 50.0 + k for k in range(5)})
    daily = daily_saidi(prepare(day_rows(minutes), tz=TZ), 1000)
    by_year = thresholds(daily, [2019, 2024, 2025])
    assert by_year[2019].source_years == (2019,)
    assert by_year[2024].source_years == (2019,)
    assert by_year[2025].source_years == (2024,)
    logs = np.log(np.array([50.0, 51, 52, 53, 54]) / 10)
    expected = math.exp(logs.mean() + 2.5 * logs.std(ddof=1))
    assert by_year[2025].t_med_min == pytest.approx(expected)


def test_a_year_without_spread_has_no_major_event_day() -> None:
    daily = daily_saidi(prepare(day_rows({dt.date(2026, 1, 1): 30.0}), tz=TZ), 1000)
    assert thresholds(daily)[2026].t_med_min == math.inf


def test_outages_and_affected_premises_become_restoration_steps() -> None:
    """Outage 1: premises p1-p3 behind transformer T1, p4 behind T2; p1 came back at 11:00
    on its own, the others with the outage at 12:00. Outage 2 is still on: counted up to
    as_of 13:30. Rows: (1, T1, 11:00, 1 customer), (1, T1, 12:00, 2), (1, T2, 12:00, 1),
    (2, p9, 13:30, 1): the premise is its own section when no transformer is known."""
    t = pd.Timestamp("2026-02-01 10:00", tz=TZ)
    outages = pd.DataFrame(
        {
            "outage_id": [1, 2],
            "feeder": ["F1", "F1"],
            "region": ["R1", "R1"],
            "cause": ["tree", None],
            "started_at": [t, t + pd.Timedelta(hours=3)],
            "restored_at": [t + pd.Timedelta(hours=2), pd.NaT],
        }
    )
    affected = pd.DataFrame(
        {
            "outage_id": [1, 1, 1, 1, 2],
            "premise_id": [1, 2, 3, 4, 9],
            "section": ["T1", "T1", "T1", "T2", None],
            "restored_at": [t + pd.Timedelta(hours=1), pd.NaT, pd.NaT, pd.NaT, pd.NaT],
            "kva": [5.0, 5.0, 5.0, 8.0, 3.0],
        }
    )
    as_of = t + pd.Timedelta(hours=3, minutes=30)
    rows = interruptions_from_outages(outages, affected, as_of=as_of.to_pydatetime())
    got = {
        (r.event_id, r.section, r.restored_at.strftime("%H:%M"), r.customers, r.kva)
        for r in rows.itertuples()
    }
    assert got == {
        (1, "T1", "11:00", 1, 5.0),
        (1, "T1", "12:00", 2, 10.0),
        (1, "T2", "12:00", 1, 8.0),
        (2, 9, "13:30", 1, 3.0),
    }
    assert set(rows.loc[rows["event_id"] == 2, "cause"]) == {"unknown"}
    # 1 x 60 + 2 x 120 + 1 x 120 + 1 x 30 = 450 customer-minutes over 1,000 customers.
    report = reliability_report(
        rows, SERVED, start=dt.date(2026, 2, 1), end=dt.date(2026, 2, 2), tz=TZ
    )
    assert report.row("system", "system")["saidi_min"] == pytest.approx(0.45)
    with pytest.raises(InvalidInterruptions, match="as-of"):
        prepare(interruptions_from_outages(outages, affected))
