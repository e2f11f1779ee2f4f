"""The customer-facing ETR range: wide before a crew, narrow on site, never in the past."""

from __future__ import annotations

import datetime as dt

import pytest

from outages.etr_range import CREW_STAGES, EtrRange, etr_range

NOW = dt.datetime(2026, 11, 23, 18, 7, tzinfo=dt.UTC)
ETR = NOW + dt.timedelta(hours=2, minutes=4)


def _width(r: EtrRange | None) -> dt.timedelta:
    assert r is not None
    return r.latest_at - r.earliest_at


def test_the_range_narrows_as_the_crew_gets_closer() -> None:
    widths = [_width(etr_range(etr_at=ETR, stage=s, now=NOW)) for s in CREW_STAGES]
    assert widths == sorted(widths, reverse=True)
    assert len(set(widths)) == len(widths), widths
    assert widths[0] >= dt.timedelta(hours=2, minutes=30)  # no crew yet: wide
    assert widths[-1] <= dt.timedelta(hours=1)  # on site: narrow


@pytest.mark.parametrize("stage", CREW_STAGES)
def test_the_range_holds_the_etr_and_is_rounded_to_quarter_hours(stage: str) -> None:
    r = etr_range(etr_at=ETR, stage=stage, now=NOW)
    assert r is not None and not r.overdue
    assert r.earliest_at <= ETR <= r.latest_at
    for end in (r.earliest_at, r.latest_at):
        assert end.minute % 15 == 0 and end.second == 0 and end.microsecond == 0


def test_an_etr_that_has_passed_starts_the_range_now_and_says_so() -> None:
    r = etr_range(etr_at=NOW - dt.timedelta(minutes=40), stage="on_site", now=NOW)
    assert r is not None and r.overdue
    assert r.earliest_at <= NOW < r.earliest_at + dt.timedelta(minutes=15)
    assert r.latest_at >= NOW + dt.timedelta(minutes=30)


def test_the_range_never_starts_before_the_current_quarter_hour() -> None:
    r = etr_range(etr_at=NOW + dt.timedelta(minutes=5), stage="waiting", now=NOW)
    assert r is not None
    assert r.earliest_at == dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


def test_no_etr_no_range_and_an_unknown_stage_is_the_widest() -> None:
    assert etr_range(etr_at=None, stage="on_site", now=NOW) is None
    unknown = etr_range(etr_at=ETR, stage="teleported", now=NOW)
    assert _width(unknown) == _width(etr_range(etr_at=ETR, stage="waiting", now=NOW))


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        EtrRange(earliest_at=NOW, latest_at=NOW, overdue=False)
