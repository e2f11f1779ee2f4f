"""The span a report covers: local calendar days turned into UTC bounds once.

Every figure of a report counts what happened in ``start <= t < end``, the two bounds
being local midnights of the installation's zone, so a day report and the hours on its
chart agree with what a supervisor on that clock calls "the 2nd of December".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from geo.exceptions import InvalidInput

MAX_DAYS = 5 * 366 + 1
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2999, 12, 31)


class InvalidPeriod(InvalidInput):
    """A report period that ends before it starts or spans too long (422)."""


@dataclass(frozen=True)
class Period:
    """Local days ``first`` .. ``last`` (inclusive) in zone ``tz``."""

    first: dt.date
    last: dt.date
    tz: str

    def __post_init__(self) -> None:
        if self.first < EARLIEST or self.last > LATEST:
            msg = f"report dates must lie between {EARLIEST} and {LATEST}"
            raise InvalidPeriod(msg)
        if self.last < self.first:
            msg = f"the period ends ({self.last}) before it starts ({self.first})"
            raise InvalidPeriod(msg)
        if (self.last - self.first).days >= MAX_DAYS:
            msg = f"a report covers at most {MAX_DAYS} days, not {self.first} .. {self.last}"
            raise InvalidPeriod(msg)

    @classmethod
    def day(cls, day: dt.date, tz: str) -> Period:
        return cls(day, day, tz)

    @classmethod
    def month(cls, year: int, month: int, tz: str) -> Period:
        first = dt.date(year, month, 1)
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return cls(first, nxt - dt.timedelta(days=1), tz)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time(), self.zone)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), self.zone)

    @property
    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first} .. {self.last}"
