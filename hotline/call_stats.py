"""Counts of calls for supervisors and the statistics of the next issue: how many were
abandoned, answered by an agent, or answered without one (IVR self-service in storm mode;
the 95598 literature expects about 20% of contacts saved by announcing known events)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Region
from hotline.call_schemas import CallStats
from hotline.models import Call

DEFAULT_PERIOD = dt.timedelta(hours=24)


def call_stats(
    *,
    session: Session,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    region_code: str | None = None,
) -> CallStats:
    """Calls that rang in [since, until), by outcome, and the share answered without an agent.

    The share's denominator is the answered calls (by an agent or not): abandoned calls and
    calls still open are counted apart, so a busy queue does not look like a saving.
    """
    until = until or now
    since = since or until - DEFAULT_PERIOD
    if since >= until:
        msg = f"since ({since.isoformat()}) must be before until ({until.isoformat()})"
        raise InvalidInput(msg)
    stmt = select(
        Call.status,
        Call.answered_by,
        Call.disposition,
        func.count(),
        func.sum(Call.queue_wait_s),
        func.count(Call.queue_wait_s),
    )
    stmt = stmt.where(Call.started_at >= since, Call.started_at < until)
    region = None
    if region_code is not None:
        region = session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            msg = f"no region {region_code!r}"
            raise InvalidInput(msg)
        stmt = stmt.where(Call.region_id == region.id)
    rows = session.execute(stmt.group_by(Call.status, Call.answered_by, Call.disposition)).all()
    total = abandoned = by_agent = without = unfinished = 0
    by_disposition: dict[str, int] = {}
    wait_sum = wait_n = 0
    for status, answered_by, disposition, count, waited_s, waits in rows:
        total += count
        if disposition is not None:
            by_disposition[disposition] = by_disposition.get(disposition, 0) + count
        if status == "abandoned":
            abandoned += count
        elif answered_by == "ivr":
            without += count
        elif answered_by == "agent":
            by_agent += count
        else:
            unfinished += count
        wait_sum += int(waited_s or 0)
        wait_n += waits
    answered = by_agent + without
    return CallStats(
        since=since,
        until=until,
        region=region.code if region else None,
        calls=total,
        abandoned=abandoned,
        answered_by_agent=by_agent,
        answered_without_agent=without,
        unfinished=unfinished,
        without_agent_share=round(without / answered, 4) if answered else None,
        by_disposition=by_disposition,
        mean_queue_wait_s=round(wait_sum / wait_n, 1) if wait_n else None,
    )
