"""How times are worded for callers: answers, notices and status pages say them alike."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from outages.settings import OutageSettings


def local_time(moment: dt.datetime, settings: OutageSettings) -> str:
    """A time as callers read it: local, with the date when it is not today."""
    zone = ZoneInfo(settings.timezone)
    local = moment.astimezone(zone)
    today = dt.datetime.now(zone).date()
    return local.strftime("%H:%M on %d %b") if local.date() != today else local.strftime("%H:%M")
