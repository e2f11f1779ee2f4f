"""The ETR as customers see it: a range whose width says how much we know, never one minute.

Pure (no database). A single ETR minute promises more than anyone knows: before a crew has
seen the fault it can be hours off, once the crew is on site and has reported it is close.
The rule, in ``WIDTH_BY_STAGE``: the range runs from ``etr - before`` to ``etr + after``,
with the widths set by how far the crew has got:

=========  ==========================================  ======  ======
stage      meaning                                     before  after
=========  ==========================================  ======  ======
waiting    no crew assigned yet                        30 min  2 h
assigned   a crew has the job, not yet on its way      30 min  90 min
en_route   the crew is driving there                   20 min  60 min
on_site    the crew is at the fault                    15 min  30 min
=========  ==========================================  ======  ======

The range never starts before the current quarter hour (an ETR that has slipped is not "any
minute now": the range is then ``now .. now + after``, wide as the stage says), and both ends
are rounded outwards to a quarter hour so that the page reads "between 14:00 and 16:30".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

CREW_STAGES = ("waiting", "assigned", "en_route", "on_site")
WIDTH_BY_STAGE: dict[str, tuple[dt.timedelta, dt.timedelta]] = {
    "waiting": (dt.timedelta(minutes=30), dt.timedelta(hours=2)),
    "assigned": (dt.timedelta(minutes=30), dt.timedelta(minutes=90)),
    "en_route": (dt.timedelta(minutes=20), dt.timedelta(minutes=60)),
    "on_site": (dt.timedelta(minutes=15), dt.timedelta(minutes=30)),
}
ROUND = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class EtrRange:
    """When power should be back, at the earliest and at the latest."""

    earliest_at: dt.datetime
    latest_at: dt.datetime
    overdue: bool
    """The point ETR has already passed: the range was moved to start now."""

    def __post_init__(self) -> None:
        if self.latest_at <= self.earliest_at:
            msg = f"ETR range ends {self.latest_at} before it starts {self.earliest_at}"
            raise ValueError(msg)


def _floor(moment: dt.datetime) -> dt.datetime:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return moment - (moment - epoch) % ROUND


def _ceil(moment: dt.datetime) -> dt.datetime:
    floored = _floor(moment)
    return floored if floored == moment else floored + ROUND


def etr_range(*, etr_at: dt.datetime | None, stage: str, now: dt.datetime) -> EtrRange | None:
    """The customer-facing range around ``etr_at`` for a crew at ``stage`` (None: no ETR).

    Parameters
    ----------
    etr_at
        The outage's point ETR (the default commitment or a dispatcher's estimate).
    stage
        One of ``CREW_STAGES``; an unknown stage is treated as ``waiting``, the widest, so
        a gap in the data never makes the promise narrower.
    now
        The clock; the range never starts before it.
    """
    if etr_at is None:
        return None
    before, after = WIDTH_BY_STAGE.get(stage, WIDTH_BY_STAGE["waiting"])
    overdue = etr_at < now
    centre = max(etr_at, now)
    earliest = max(centre - before, now) if not overdue else now
    latest = centre + after
    return EtrRange(earliest_at=_floor(earliest), latest_at=_ceil(latest), overdue=overdue)
