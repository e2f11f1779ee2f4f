"""IEEE 1366 and DL/T 836 indices against a small system worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from outages.reliability import (
    IndexOptions,
    InvalidInterruptions,
    empty_interruptions,
    prepare,
    reliability_report,
)

TZ = "Asia/Shanghai"
DAY = dt.date(2026, 7, 1)
SERVED = pd.DataFrame(
    {
        "feeder": ["F1", "F2"],
        "region": ["R1", "R2"],
        "customers": [600, 400],
        "kva": [3000.0, 2000.0],
    }
)
OPTIONS = IndexOptions(cemi_n=1, celid_s_h=2.0, celid_t_h=1.5)


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day.isoformat()} {hhmm}", tz=TZ)


def row(event, feeder, region, cause, section, customers, kva, start, end):
    return {
        "event_id": event,
        "feeder": feeder,
        "region": region,
        "cause": cause,
        "section": section,
        "customers": customers,
        "kva": kva,
        "started_at": start,
        "restored_at": end,
    }


def worked_example() -> pd.DataFrame:
    nxt = DAY + dt.timedelta(days=1)
    return pd.DataFrame(
        [
            # Event 1 on section A (300 customers of F1): partial restoration in two steps.
            row(1, "F1", "R1", "tree", "A", 200, 1000.0, at(DAY, "10:00"), at(DAY, "11:00")),
            row(1, "F1", "R1", "tree", "A", 100, 500.0, at(DAY, "10:00"), at(DAY, "12:30")),
            # Event 2: a recloser's two shots on section B (100 customers of F2).
            row(2, "F2", "R2", "equipment", "B", 100, 400.0, at(DAY, "14:00"), at(DAY, "14:01")),
            row(2, "F2", "R2", "equipment", "B", 100, 400.0, at(DAY, "14:03"), at(DAY, "14:08")),
            # Event 3: section A again, all 300 for half an hour.
            row(3, "F1", "R1", "tree", "A", 300, 1500.0, at(DAY, "18:00"), at(DAY, "18:30")),
            # Event 4: section C (50 customers of F2) across midnight.
            row(4, "F2", "R2", "external", "C", 50, 250.0, at(DAY, "23:30"), at(nxt, "00:30")),
            # Event 5: a momentary on section C.
            row(5, "F2", "R2", "equipment", "C", 50, 250.0, at(DAY, "03:00"), at(DAY, "03:02")),
        ]
    )


def report_of(frame: pd.DataFrame, days: int = 1):
    return reliability_report(
        frame,
        SERVED,
        start=DAY,
        end=DAY + dt.timedelta(days=days),
        tz=TZ,
        options=OPTIONS,
    )


def test_system_indices_match_the_hand_computation() -> None:
    """N_T = 1,000 customers, L_T = 5,000 kVA, one day = 1,440 minutes.

    Sustained rows (> 5 min): 200 x 60, 100 x 150, 300 x 30, 50 x 60.
    CI = 200 + 100 + 300 + 50 = 650              -> SAIFI = 0.65
    CMI = 12,000 + 15,000 + 9,000 + 3,000 = 39,000 -> SAIDI = 39 min, CAIDI = 60 min
    CN (distinct): section A 300 (both events), C 50 = 350
        -> CTAIDI = 39,000 / 350 = 111.4286 min, CAIFI = 650 / 350 = 1.857143
    ASAI = 1 - 39,000 / (1,000 x 1,440) = 0.9729167
    kVA: 1,000 + 500 + 1,500 + 250 = 3,250 -> ASIFI = 0.65
    kVA-min: 60,000 + 75,000 + 45,000 + 15,000 = 195,000 -> ASIDI = 39 min
    Momentary (<= 5 min, 14:03-14:08 is exactly 5): 100 + 100 + 50 = 250 -> MAIFI = 0.25
    Momentary events: B once (100), C once (50) -> MAIFI_E = 0.15
    CEMI_1 (> 1 sustained): the 300 of A -> 0.30
    CEMSMI_1 (> 1 sustained or momentary event): A 300 + C 50 (one of each) -> 0.35
    CELID-s, 2 h: the 100 of A out 150 min -> 0.10
    CELID-t, 1.5 h: A's 100 out 150 + 30 = 180 min, A's other 200 out 60 + 30 = 90 min,
        C's 50 out 60 -> 300 customers -> 0.30
    DL/T 836 (> 3 min, so the 5-minute shot counts): 39,000 + 100 x 5 = 39,500 user-min
        AIHC-1 = 39,500 / 60 / 1,000 = 0.658333 h, AITC-1 = (650 + 100) / 1,000 = 0.75
        RS-1 = (1 - 0.658333 / 24) x 100 = 97.256944 %
        RS-2 without the external event 4 (3,000 min): (1 - 36,500/60,000/24) x 100
            = 97.465278 %; RS-3 (no shortage) = RS-1
    """
    system = report_of(worked_example()).row("system", "system")
    expected = {
        "saifi": 0.65,
        "saidi_min": 39.0,
        "caidi_min": 60.0,
        "ctaidi_min": 39000 / 350,
        "caifi": 650 / 350,
        "asai": 1 - 39000 / 1_440_000,
        "asifi": 0.65,
        "asidi_min": 39.0,
        "maifi": 0.25,
        "maifi_e": 0.15,
        "cemi_n": 0.30,
        "cemsmi_n": 0.35,
        "celid_s": 0.10,
        "celid_t": 0.30,
        "aihc1_h": 39500 / 60 / 1000,
        "aitc1": 0.75,
        "rs1_pct": (1 - 39500 / 60 / 1000 / 24) * 100,
        "rs2_pct": (1 - 36500 / 60 / 1000 / 24) * 100,
        "rs3_pct": (1 - 39500 / 60 / 1000 / 24) * 100,
    }
    for name, value in expected.items():
        assert system[name] == pytest.approx(value), name
    assert system["rs1_pct"] == pytest.approx(97.256944, abs=1e-6)


def test_regions_feeders_and_causes() -> None:
    """R1 = F1 (600): CI 600, CMI 36,000 -> SAIFI 1.0, SAIDI 60.
    R2 = F2 (400): CI 50, CMI 3,000 -> SAIFI 0.125, SAIDI 7.5; MAIFI 250 / 400 = 0.625.
    Causes divide by the system's 1,000: tree SAIFI 0.6, external 0.05, equipment MAIFI 0.25.
    """
    report = report_of(worked_example())
    assert report.row("region", "R1")["saifi"] == pytest.approx(1.0)
    assert report.row("region", "R1")["saidi_min"] == pytest.approx(60.0)
    assert report.row("region", "R2")["saifi"] == pytest.approx(0.125)
    assert report.row("region", "R2")["saidi_min"] == pytest.approx(7.5)
    assert report.row("region", "R2")["maifi"] == pytest.approx(0.625)
    assert report.row("feeder", "F1")["customers_served"] == 600
    assert report.row("cause", "tree")["saifi"] == pytest.approx(0.6)
    assert report.row("cause", "external")["saifi"] == pytest.approx(0.05)
    assert report.row("cause", "equipment")["saifi"] == pytest.approx(0.0)
    assert report.row("cause", "equipment")["maifi"] == pytest.approx(0.25)


def test_event_crossing_midnight_belongs_to_the_day_it_began() -> None:
    """Event 4 (23:30-00:30, 50 x 60 = 3,000 customer-minutes) is all day one's:
    day one SAIDI 39 min, day two none; a report of day two alone sees no interruption."""
    report = report_of(worked_example(), days=2)
    assert report.daily["saidi_min"].to_dict() == {pd.Timestamp(DAY): pytest.approx(39.0)}
    second = reliability_report(
        worked_example(),
        SERVED,
        start=DAY + dt.timedelta(days=1),
        end=DAY + dt.timedelta(days=2),
        tz=TZ,
    ).row("system", "system")
    assert second["saidi_min"] == 0.0
    # In UTC the same event starts at 15:30 on day one: still one day, and the 03:00 CST
    # momentary falls on the evening before (19:00 UTC).
    utc = prepare(worked_example(), tz="UTC")
    assert utc.loc[utc["event_id"] == 5, "day"].iloc[0] == pd.Timestamp(DAY - dt.timedelta(1))


def test_momentary_boundary_is_five_minutes_inclusive() -> None:
    """Exactly 300 s is momentary (IEEE 1366: 5 minutes or less); 301 s is sustained."""
    start = at(DAY, "09:00")
    frame = pd.DataFrame(
        [
            row(1, "F1", "R1", "tree", "A", 10, 0.0, start, start + pd.Timedelta(seconds=300)),
            row(2, "F1", "R1", "tree", "B", 20, 0.0, start, start + pd.Timedelta(seconds=301)),
        ]
    )
    system = report_of(frame).row("system", "system")
    assert system["maifi"] == pytest.approx(10 / 1000)
    assert system["saifi"] == pytest.approx(20 / 1000)
    assert system["saidi_min"] == pytest.approx(20 * 301 / 60 / 1000)


def test_partial_restoration_counts_each_step() -> None:
    """1,000 customers out at 10:00, 600 back at 11:00, 400 at 12:30:
    CMI = 600 x 60 + 400 x 150 = 96,000, not 1,000 x 150 = 150,000; CI = 1,000 (one
    interruption each); the 400 are the only ones out 2 h or longer (CELID-s)."""
    served = pd.DataFrame({"feeder": ["F1"], "region": ["R1"], "customers": [2000]})
    frame = pd.DataFrame(
        [
            row(1, "F1", "R1", "tree", "S", 600, 0.0, at(DAY, "10:00"), at(DAY, "11:00")),
            row(1, "F1", "R1", "tree", "S", 400, 0.0, at(DAY, "10:00"), at(DAY, "12:30")),
        ]
    )
    system = reliability_report(
        frame, served, start=DAY, end=DAY + dt.timedelta(1), options=OPTIONS
    ).row("system", "system")
    assert system["saidi_min"] == pytest.approx(96000 / 2000)
    assert system["saifi"] == pytest.approx(0.5)
    assert system["caifi"] == pytest.approx(1.0)
    assert system["cemi_n"] == 0.0
    assert system["celid_s"] == pytest.approx(400 / 2000)


def test_no_interruptions_gives_zeros_and_undefined_ratios() -> None:
    report = report_of(empty_interruptions())
    system = report.row("system", "system")
    assert system["saifi"] == 0.0
    assert system["saidi_min"] == 0.0
    assert system["asai"] == 1.0
    assert system["rs1_pct"] == 100.0
    assert pd.isna(system["caidi_min"])
    assert report.row("feeder", "F2")["saifi"] == 0.0
    assert report.daily.empty


def test_bad_records_are_named() -> None:
    frame = worked_example().drop(columns=["section"])
    with pytest.raises(InvalidInterruptions, match="section"):
        report_of(frame)
    backwards = worked_example()
    backwards.loc[0, "restored_at"] = backwards.loc[0, "started_at"] - pd.Timedelta(minutes=1)
    with pytest.raises(InvalidInterruptions, match="restored_at before started_at"):
        report_of(backwards)
    naive = worked_example()
    naive["started_at"] = naive["started_at"].dt.tz_localize(None)
    with pytest.raises(InvalidInterruptions, match="time zone"):
        report_of(naive)
