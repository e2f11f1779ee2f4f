"""Estimated restoration times: the defaults the 95598 commitments promise, and what an ETR
must be to be accepted. Pure (no database): intake's rules use it; the history of changes
is ``outages.etr_history``."""

from __future__ import annotations

import datetime as dt

from geo.exceptions import InvalidInput
from outages.settings import OutageSettings


def default_etr(
    *,
    started_at: dt.datetime,
    region_class: str | None,
    cause: str | None,
    settings: OutageSettings,
) -> dt.datetime:
    """Start time plus the committed hours for the region class plus extra for the cause.

    An unknown region class falls back to the urban commitment, the strictest one, so a
    data gap never makes a promise looser than the utility's.
    """
    by_class = settings.etr_hours_by_region_class
    hours = by_class.get(region_class or "urban", by_class.get("urban", 3.0))
    hours += settings.etr_extra_hours_by_cause.get(cause or "unknown", 0.0)
    return started_at + dt.timedelta(hours=hours)


def check_etr(*, etr_at: dt.datetime, now: dt.datetime) -> None:
    """Refuse an ETR without a UTC offset or in the past (the batch path checks it too)."""
    if etr_at.tzinfo is None:
        msg = "etr must carry a UTC offset, e.g. 2026-11-23T21:30:00+02:00"
        raise InvalidInput(msg)
    if etr_at < now - dt.timedelta(minutes=1):
        msg = f"etr {etr_at.isoformat()} is in the past"
        raise InvalidInput(msg)
