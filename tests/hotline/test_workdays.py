"""The working calendar: chinese-calendar's holidays and adjusted days, the site file, gaps."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.exceptions import CalendarFileError
from hotline.workdays import (
    SOURCE_SITE,
    SOURCE_WEEKDAYS,
    WorkCalendar,
    build_calendar,
    load_site_calendar,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(tz=SHANGHAI)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-03-06", True),  # a Friday
        ("2026-03-07", False),  # Saturday
        ("2026-03-08", False),  # Sunday
        ("2026-10-01", False),  # National Day
        ("2026-10-07", False),  # last day of the Golden Week
        ("2026-10-10", True),  # Saturday made a working day (调休)
        ("2026-02-14", True),  # Saturday before the Spring Festival, working
        ("2026-02-23", False),  # a Monday inside the Spring Festival
        ("2026-01-04", True),  # Sunday after New Year, working
        ("2026-09-20", True),  # Sunday before Mid-autumn, working
    ],
)
def test_package_days(calendar: WorkCalendar, day: str, working: bool) -> None:
    assert calendar.is_workday(dt.date.fromisoformat(day)) is working


def test_2026_is_covered_and_2027_is_not(calendar: WorkCalendar) -> None:
    # chinese-calendar 1.11.0 ends with 2026: if an upgrade adds 2027 this test says so.
    assert calendar.covers(2026)
    assert not calendar.covers(2027)
    working, source = calendar.day(dt.date(2027, 1, 1))
    assert (working, source) == (True, SOURCE_WEEKDAYS)  # a Friday, guessed as working
    start = dt.datetime(2026, 12, 30, tzinfo=SHANGHAI)
    assert calendar.uncovered_years(start, start + dt.timedelta(days=5)) == (2027,)


def _site_file(tmp_path: Path, **content: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    return path


def test_site_file_covers_a_year_and_overrides_days(tmp_path: Path) -> None:
    path = _site_file(
        tmp_path,
        years=[2027],
        holidays=["2027-01-01", "2026-03-04"],
        workdays=["2027-02-06", "2026-03-08"],
    )
    calendar = build_calendar(timezone="Asia/Shanghai", calendar_file=path)
    assert calendar.covers(2027)
    assert calendar.day(dt.date(2027, 1, 1)) == (False, SOURCE_SITE)
    assert calendar.day(dt.date(2027, 2, 6)) == (True, SOURCE_SITE)  # a Saturday
    assert calendar.day(dt.date(2027, 1, 2)) == (False, SOURCE_SITE)  # weekend of a site year
    assert calendar.day(dt.date(2027, 1, 4)) == (True, SOURCE_SITE)
    assert not calendar.is_workday(dt.date(2026, 3, 4))  # a package Wednesday, overridden
    assert calendar.is_workday(dt.date(2026, 3, 8))  # a package Sunday, overridden


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"holidays": ["2027-13-01"]}, "'2027-13-01', not a YYYY-MM-DD"),
        ({"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}, "holiday and workday"),
        ({"years": ["2027"]}, "'years' must be a list of integers"),
        ({"workdays": "2027-01-01"}, "'workdays' must be a list"),
    ],
)
def test_bad_site_file_names_the_problem(
    tmp_path: Path, content: dict[str, object], message: str
) -> None:
    path = _site_file(tmp_path, **content)
    with pytest.raises(CalendarFileError, match=message) as info:
        load_site_calendar(path)
    assert str(path) in str(info.value)


def test_unreadable_site_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.json"
    with pytest.raises(CalendarFileError, match="cannot be read"):
        load_site_calendar(path)


def test_working_seconds_skip_days_off(calendar: WorkCalendar) -> None:
    friday = dt.datetime(2026, 3, 6, 15, tzinfo=SHANGHAI)
    monday = dt.datetime(2026, 3, 9, 9, tzinfo=SHANGHAI)
    assert calendar.working_seconds(friday, monday) == (9 + 9) * 3600
    assert calendar.working_seconds(monday, friday) == 0


def test_naive_datetimes_are_refused(calendar: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="no time zone"):
        calendar.working_seconds(dt.datetime(2026, 3, 6), dt.datetime(2026, 3, 7))
