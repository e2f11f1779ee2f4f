"""The working calendar: which local days are working days, and working time between instants.

Days come from three sources, most authoritative first:

1. the site calendar file (``HotlineSettings.work_calendar_file``): a day it lists as a holiday
   or a working day is that, whatever the package says (a local holiday, a late change);
2. the ``chinese-calendar`` package: public holidays and the adjusted working days (调休), for
   the years it covers (2004-2026 in 1.11.0);
3. for a year neither covers: Monday to Friday, and the calendar says so
   (``uncovered_years``), so a clock computed on a guess is shown as one.

Working time is counted in local wall-clock time: a working day is 00:00 to 24:00 of a local
date, and N working days from 15:00 end at 15:00 on the N-th working day, also across a
daylight-saving change (customers read deadlines on the wall clock, not in UTC seconds).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

from hotline.exceptions import CalendarFileError

DAY_S = 86400.0
# A calendar without a working day in a year is broken; stop rather than loop for ever.
MAX_SCAN_DAYS = 366 * 3
SOURCE_SITE = "site calendar"
SOURCE_PACKAGE = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()
SOURCE_WEEKDAYS = "Monday to Friday (year not covered)"


@dataclass(frozen=True)
class SiteCalendar:
    """A site's own days: overrides of single days, and the years it describes completely."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()
    years: frozenset[int] = frozenset()
    path: str | None = None


def _dates(raw: object, key: str, path: Path) -> frozenset[dt.date]:
    if not isinstance(raw, list):
        msg = f"site calendar {path}: {key!r} must be a list of YYYY-MM-DD dates"
        raise CalendarFileError(msg)
    days = set()
    for item in raw:
        try:
            days.add(dt.date.fromisoformat(str(item)))
        except ValueError as exc:
            msg = f"site calendar {path}: {key!r} holds {item!r}, not a YYYY-MM-DD date"
            raise CalendarFileError(msg) from exc
    return frozenset(days)


def load_site_calendar(path: Path) -> SiteCalendar:
    """Read a site calendar file: ``{"years": [2027], "holidays": [...], "workdays": [...]}``.

    ``years`` lists the years the file describes completely (their weekends are days off
    unless listed in ``workdays``); ``holidays`` and ``workdays`` may also override single
    days of years the package covers. A day in both lists is refused: the file must decide.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        msg = f"site calendar {path} cannot be read as JSON: {exc}"
        raise CalendarFileError(msg) from exc
    if not isinstance(raw, dict):
        msg = f"site calendar {path}: expected an object with years, holidays, workdays"
        raise CalendarFileError(msg)
    holidays = _dates(raw.get("holidays", []), "holidays", path)
    workdays = _dates(raw.get("workdays", []), "workdays", path)
    both = sorted(holidays & workdays)
    if both:
        msg = f"site calendar {path}: {both[0].isoformat()} is listed as holiday and workday"
        raise CalendarFileError(msg)
    years_raw = raw.get("years", [])
    if not isinstance(years_raw, list) or not all(isinstance(y, int) for y in years_raw):
        msg = f"site calendar {path}: 'years' must be a list of integers such as [2027]"
        raise CalendarFileError(msg)
    return SiteCalendar(
        holidays=holidays, workdays=workdays, years=frozenset(years_raw), path=str(path)
    )


@dataclass
class WorkCalendar:
    """Working days in one time zone; answers are cached per date (the calendar is fixed)."""

    tz: ZoneInfo
    site: SiteCalendar = field(default_factory=SiteCalendar)
    _days: dict[dt.date, tuple[bool, str]] = field(default_factory=dict, repr=False)

    def day(self, date: dt.date) -> tuple[bool, str]:
        """Whether ``date`` is a working day, and which source said so."""
        cached = self._days.get(date)
        if cached is not None:
            return cached
        answer: tuple[bool, str]
        if date in self.site.holidays:
            answer = (False, SOURCE_SITE)
        elif date in self.site.workdays:
            answer = (True, SOURCE_SITE)
        elif date.year in self.site.years:
            answer = (date.weekday() < 5, SOURCE_SITE)
        else:
            try:
                answer = (bool(chinese_calendar.is_workday(date)), SOURCE_PACKAGE)
            except NotImplementedError:
                answer = (date.weekday() < 5, SOURCE_WEEKDAYS)
        self._days[date] = answer
        return answer

    def is_workday(self, date: dt.date) -> bool:
        return self.day(date)[0]

    def covers(self, year: int) -> bool:
        """True when the site file or the package knows the year's holidays."""
        return self.day(dt.date(year, 7, 1))[1] != SOURCE_WEEKDAYS

    def uncovered_years(self, start: dt.datetime, end: dt.datetime) -> tuple[int, ...]:
        """Years between two instants whose days are a Monday-to-Friday guess."""
        first, last = self._local(start).year, self._local(end).year
        return tuple(y for y in range(min(first, last), max(first, last) + 1) if not self.covers(y))

    def _local(self, instant: dt.datetime) -> dt.datetime:
        if instant.tzinfo is None:
            msg = f"{instant.isoformat()} has no time zone: clocks need aware datetimes"
            raise ValueError(msg)
        return instant.astimezone(self.tz).replace(tzinfo=None)

    def _aware(self, wall: dt.datetime) -> dt.datetime:
        return wall.replace(tzinfo=self.tz)

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time from ``start`` to ``end`` in wall-clock seconds (0 when end <= start)."""
        a, b = self._local(start), self._local(end)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                day_start = dt.datetime.combine(day, dt.time())
                lo = max(a, day_start)
                hi = min(b, day_start + dt.timedelta(days=1))
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The instant when ``seconds`` of working time have passed after ``start``.

        A deadline that falls exactly at the end of a working day is that midnight, not the
        start of the next working day: the two are the same amount of working time, and the
        earlier one is what the customer was promised.
        """
        wall = self._local(start)
        left = max(0.0, seconds)
        if left == 0.0:
            return start
        day = wall.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_workday(day):
                day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
                lo = max(wall, dt.datetime.combine(day, dt.time()))
                available = (day_end - lo).total_seconds()
                if left <= available:
                    return self._aware(lo + dt.timedelta(seconds=left))
                left -= available
            day += dt.timedelta(days=1)
        msg = f"no working day within {MAX_SCAN_DAYS} days of {start.isoformat()}"
        raise CalendarFileError(msg)


def build_calendar(*, timezone: str, calendar_file: Path | None) -> WorkCalendar:
    """The installation's calendar: its time zone and, when configured, its site file."""
    site = load_site_calendar(calendar_file) if calendar_file is not None else SiteCalendar()
    return WorkCalendar(tz=ZoneInfo(timezone), site=site)


_CACHE: dict[tuple[str, str | None, float | None], WorkCalendar] = {}


def calendar_for(*, timezone: str, calendar_file: Path | None) -> WorkCalendar:
    """The installation's calendar, reused while the site file is unchanged (its mtime)."""
    mtime = None
    if calendar_file is not None:
        try:
            mtime = calendar_file.stat().st_mtime
        except OSError as exc:
            msg = f"site calendar {calendar_file} cannot be read: {exc}"
            raise CalendarFileError(msg) from exc
    key = (timezone, str(calendar_file) if calendar_file else None, mtime)
    calendar = _CACHE.get(key)
    if calendar is None:
        calendar = build_calendar(timezone=timezone, calendar_file=calendar_file)
        _CACHE.clear()  # one installation, one calendar: drop the stale one
        _CACHE[key] = calendar
    return calendar
