"""Call records of a period for the call figures (``hotline.stats.calls``), and the live
queue per region for the wallboard, both read from the ``call`` table.

A call answered by the IVR (storm mode's self-service) counts as answered: the caller got
the answer without waiting for an agent. A call still ringing is offered but neither
answered nor abandoned; its wait so far is not a queue time yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline.models import Call
from hotline.stats.calls import call_figures

UNKNOWN = "unknown"
RECORD_COLUMNS = (
    "region",
    "channel",
    "disposition",
    "answered_by",
    "started_at",
    "answered",
    "abandoned",
    "wait_s",
)


def call_records(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """One row per call offered in the period (``RECORD_COLUMNS``)."""
    result = session.execute(
        select(
            func.coalesce(Region.code, UNKNOWN).label("region"),
            Call.channel,
            func.coalesce(Call.disposition, "-").label("disposition"),
            func.coalesce(Call.answered_by, "-").label("answered_by"),
            Call.started_at,
            Call.answered_at.is_not(None).label("answered"),
            (Call.status == "abandoned").label("abandoned"),
            Call.queue_wait_s.label("wait_s"),
        )
        .outerjoin(Region, Region.id == Call.region_id)
        .where(Call.started_at >= start, Call.started_at < end)
    )
    frame = pd.DataFrame(result.fetchall(), columns=list(RECORD_COLUMNS))
    frame["wait_s"] = pd.to_numeric(frame["wait_s"], errors="coerce").astype("float64")
    return frame


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
    """Per region: the queue at ``now``, the agents on a call or wrapping one up (the CTI
    reports no idle agents), and the calls offered since ``since``."""
    today = call_records(session=session, start=since, end=now + dt.timedelta(microseconds=1))
    ringing = session.execute(
        select(
            func.coalesce(Region.code, UNKNOWN),
            func.count(),
            func.min(Call.started_at),
        )
        .outerjoin(Region, Region.id == Call.region_id)
        .where(Call.status == "ringing", Call.started_at <= now)
        .group_by(Region.code)
    ).all()
    agents = session.execute(
        select(
            func.coalesce(Region.code, UNKNOWN),
            Call.status,
            func.count(func.distinct(Call.agent_id)),
        )
        .outerjoin(Region, Region.id == Call.region_id)
        .where(
            Call.status.in_(("answered", "ended")),
            Call.agent_id.is_not(None),
            Call.started_at <= now,
        )
        .group_by(Region.code, Call.status)
    ).all()
    queue = {code: (int(n), first) for code, n, first in ringing}
    states: dict[str, dict[str, int]] = {}
    for code, status, n in agents:
        states.setdefault(code, {})["on_call" if status == "answered" else "wrap_up"] = int(n)
    hour_ago = now - dt.timedelta(hours=1)
    out = {}
    for code in sorted(set(today["region"]) | queue.keys() | states.keys()):
        calls = today[today["region"] == code]
        waiting, first = queue.get(code, (0, None))
        figures = call_figures(calls)
        out[code] = LiveQueue(
            waiting=waiting,
            longest_wait_s=None if first is None else round((now - first).total_seconds(), 1),
            offered=len(calls),
            service_level=figures["service_level"],
            answer_rate=figures["answer_rate"],
            abandon_rate=figures["abandon_rate"],
            agents=states.get(code, {}),
            last_hour=int((pd.to_datetime(calls["started_at"], utc=True) >= hour_ago).sum()),
        )
    return out
