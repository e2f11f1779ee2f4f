"""Call records of a period for the call figures (``hotline.stats.calls``).

stormdesk keeps no call records of its own yet (the hotline-desk work adds them): until
then a period has no offered calls and the call figures read as missing, never as zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from hotline.stats.calls import CALL_COLUMNS


def call_records(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """One row per call offered in the period (``CALL_COLUMNS``)."""
    del session, start, end
    return pd.DataFrame(columns=list(CALL_COLUMNS))


@dataclass(frozen=True)
class LiveQueue:
    """One region's queue now and its calls since midnight (for the wallboard)."""

    waiting: int
    longest_wait_s: float | None
    offered: int
    service_level: float | None
    answer_rate: float | None
    abandon_rate: float | None
    agents: dict[str, int]
    last_hour: int


def live_calls(*, session: Session, since: dt.datetime, now: dt.datetime) -> dict[str, LiveQueue]:
    """Per region: the queue at ``now`` and the calls offered since ``since``."""
    del session, since, now
    return {}
