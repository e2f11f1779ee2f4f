"""How times are worded for callers: answers, notices and status pages say them alike."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

from outages.settings import OutageSettings


def local_time(moment: dt.datetime, settings: OutageSettings) -> str:
    """A time as callers read it: local, with the date when it is not today."""
    zone = ZoneInfo(settings.timezone)
    return _worded(moment, zone, dt.datetime.now(zone).date())


@lru_cache(maxsize=4096)
def _worded(moment: dt.datetime, zone: ZoneInfo, today: dt.date) -> str:
    """Kept: a storm's thousands of answers name the few ETRs of their outages (the
    conversion and formatting were 3% of a batch's time)."""
    local = moment.astimezone(zone)
    return local.strftime("%H:%M on %d %b") if local.date() != today else local.strftime("%H:%M")
