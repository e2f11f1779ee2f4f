"""A customer's status in one statement: premise, planned work, outage, crew stage, week ahead.

The status page and the hotline's callers ask this more than anything else in a storm, so a
lookup costs one round trip: the premise (by account, or by the id the locator found) with
LATERAL joins for the planned work covering it now, the active outage it is out in, that
outage's live order (the crew's stage, never the crew), its latest restoration and the
scheduled work of the coming week. ``outages.status`` words the facts; the ETR range comes
from ``outages.etr_range``. It lives in ``dispatch`` because the crew's stage is a work
order's status. ``tests/dispatch/status_reference.py`` keeps the query-by-query lookup this
replaced, and ``tests/dispatch/test_status_equivalence.py`` holds the two equal. By account,
each API worker answers the same from memory (``dispatch.status_memory``, worded by
``worded_status`` here) and asks this statement only when its memory cannot be sure.

Where an account lives is personal data: an answer found by account (or phone) carries no
address, premise id or coordinates unless the caller is staff (``staff=True``). An answer
found by address may echo the matched address (the caller typed it), and one found by a
point its coordinates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.public_view import stage_of
from geo.exceptions import InvalidInput
from outages.etr_range import etr_range
from outages.intake.locate import locate_report
from outages.models import ACTIVE_OUTAGE_STATUSES
from outages.schemas import StatusAnswer, Where
from outages.settings import OutageSettings
from outages.status import UPCOMING_DAYS, OutageNow, PlannedNow, PremiseStatus, status_answer

# The laterals repeat the rules of outages.intake.session_store (planned_covering_query,
# active_outage_query) and of dispatch.public_view.crew_stages, row for row.
_STATUS_SQL = """
SELECT p.id, p.address, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
       pl.id AS planned_id, pl.reason AS planned_reason,
       pl.starts_at AS planned_starts_at, pl.ends_at AS planned_ends_at,
       o.id AS outage_id, o.etr_at, o.cause, o.customers_affected,
       w.status AS order_status, w.crew_id AS order_crew_id,
       r.restored_at,
       up.ids AS up_ids, up.reasons AS up_reasons, up.starts AS up_starts, up.ends AS up_ends
FROM premise p
LEFT JOIN LATERAL (
    SELECT po.id, po.reason, po.starts_at, po.ends_at
    FROM planned_outage_premise pp JOIN planned_outage po ON po.id = pp.planned_outage_id
    WHERE pp.premise_id = p.id AND po.status = 'scheduled'
      AND po.starts_at <= :now AND po.ends_at > :now
    ORDER BY po.ends_at DESC, po.id
    LIMIT 1
) pl ON true
LEFT JOIN LATERAL (
    SELECT o.id, o.etr_at, o.cause, o.customers_affected
    FROM outage_premise op JOIN outage o ON o.id = op.outage_id
    WHERE op.premise_id = p.id AND op.restored_at IS NULL AND o.status = ANY(:active)
    ORDER BY o.id
    LIMIT 1
) o ON true
LEFT JOIN LATERAL (
    SELECT w.status, w.crew_id FROM work_order w
    WHERE w.kind = 'outage' AND w.status <> 'cancelled' AND w.outage_id = o.id
    LIMIT 1
) w ON true
LEFT JOIN LATERAL (
    SELECT max(op.restored_at) AS restored_at FROM outage_premise op
    WHERE op.premise_id = p.id AND op.restored_at >= :restored_since
) r ON true
LEFT JOIN LATERAL (
    SELECT array_agg(po.id ORDER BY po.starts_at, po.id) AS ids,
           array_agg(po.reason ORDER BY po.starts_at, po.id) AS reasons,
           array_agg(po.starts_at ORDER BY po.starts_at, po.id) AS starts,
           array_agg(po.ends_at ORDER BY po.starts_at, po.id) AS ends
    FROM planned_outage_premise pp JOIN planned_outage po ON po.id = pp.planned_outage_id
    WHERE pp.premise_id = p.id AND po.status = 'scheduled'
      AND po.starts_at > :now AND po.starts_at <= :upcoming_until
) up ON true
WHERE {where}
"""
_BY_ACCOUNT = text(_STATUS_SQL.format(where="p.account = :key"))
_BY_ID = text(_STATUS_SQL.format(where="p.id = :key"))


def _facts(row: Any) -> PremiseStatus:
    planned = (
        PlannedNow(row.planned_id, row.planned_reason, row.planned_starts_at, row.planned_ends_at)
        if row.planned_id is not None
        else None
    )
    outage = (
        OutageNow(row.outage_id, row.etr_at, row.cause, row.customers_affected)
        if row.outage_id is not None
        else None
    )
    upcoming = [
        PlannedNow(*item)
        for item in zip(
            row.up_ids or [],
            row.up_reasons or [],
            row.up_starts or [],
            row.up_ends or [],
            strict=True,
        )
    ]
    return PremiseStatus(
        premise_id=row.id,
        address=row.address,
        lon=row.lon,
        lat=row.lat,
        planned=planned,
        outage=outage,
        restored_at=row.restored_at,
        upcoming=upcoming,
    )


def _answer(row: Any, settings: OutageSettings, now: dt.datetime) -> StatusAnswer:
    return worded_status(
        _facts(row),
        order_status=row.order_status,
        order_crew_id=row.order_crew_id,
        settings=settings,
        now=now,
    )


def worded_status(
    facts: PremiseStatus,
    *,
    order_status: str | None,
    order_crew_id: int | None,
    settings: OutageSettings,
    now: dt.datetime,
) -> StatusAnswer:
    """The worded answer with the crew's stage and the ETR range when the premise is out.

    Shared with ``dispatch.status_memory``, which gathers the same facts from memory: one
    wording, so both answers are the same bytes."""
    answer = status_answer(facts, settings=settings, now=now)
    if answer.state != "outage":
        return answer
    stage = stage_of(order_status, order_crew_id)
    span = etr_range(etr_at=answer.etr, stage=stage, now=now)
    answer.crew_stage = stage
    if span is not None:
        answer.etr_earliest, answer.etr_latest = span.earliest_at, span.latest_at
        answer.etr_overdue = span.overdue
    return answer


def _status_row(
    session: Session, statement: Any, key: object, settings: OutageSettings, now: dt.datetime
) -> Any:
    return session.execute(
        statement,
        {
            "key": key,
            "now": now,
            "active": list(ACTIVE_OUTAGE_STATUSES),
            "restored_since": now - dt.timedelta(hours=settings.restored_recently_h),
            "upcoming_until": now + dt.timedelta(days=UPCOMING_DAYS),
        },
    ).first()


def public_status(
    *,
    session: Session,
    where: Where,
    settings: OutageSettings,
    now: dt.datetime,
    staff: bool = False,
) -> StatusAnswer:
    """A customer's status at an address, point or account, in one statement once located.

    Parameters
    ----------
    where
        An account is looked up inside the statement; an address, point or phone goes
        through ``outages.intake.locate`` first (its errors and suggestions unchanged).
    staff
        The caller is an agent, supervisor or admin, who may see where an account lives.
    """
    if where.account:
        row = _status_row(session, _BY_ACCOUNT, where.account, settings, now)
        if row is None:
            msg = f"account {where.account!r} is not known: check the number on your bill"
            raise InvalidInput(msg)
        answer = _answer(row, settings, now)
        return answer if staff else without_place(answer)
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    assert located.proxy_premise_id is not None  # may_file_unlocated=False guarantees it
    answer = _answer(
        _status_row(session, _BY_ID, located.proxy_premise_id, settings, now), settings, now
    )
    if located.premise_id is None:  # a bare point: report on the grid there, not a customer
        answer.address, answer.premise_id = None, None
        answer.lon, answer.lat = located.lon, located.lat
    elif located.located_by == "phone" and not staff:
        return without_place(answer)
    return answer


def without_place(answer: StatusAnswer) -> StatusAnswer:
    """The answer without where the premise is: an account number alone must not tell."""
    answer.address, answer.premise_id, answer.lon, answer.lat = None, None, None, None
    return answer
