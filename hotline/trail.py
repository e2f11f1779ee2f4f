"""A ticket's audit trail: every step is an ``event`` row, and its clocks are read from them.

The append-only ``event`` log (a trigger refuses UPDATE and DELETE) is the one record of
what happened to a ticket and when; ``hotline.clocks`` replays it, so the deadlines shown
are always those the trail implies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.audit import record
from geo.models import Event
from hotline.clocks import ClockEvent, ClockRules, TicketClock, ticket_clock
from hotline.models import Ticket
from hotline.settings import HotlineSettings
from hotline.workdays import WorkCalendar, calendar_for

OBJECT_TYPE = "ticket"
PREFIX = "ticket."


@dataclass(frozen=True)
class Step:
    """One event of a ticket's trail."""

    at: dt.datetime
    action: str  # without the "ticket." prefix
    actor: str
    detail: dict[str, Any]


def record_step(
    *,
    session: Session,
    ticket: Ticket,
    action: str,
    actor: str,
    now: dt.datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append a step to the trail and mark the ticket updated."""
    record(
        session=session,
        actor=actor,
        action=PREFIX + action,
        object_type=OBJECT_TYPE,
        object_id=ticket.id,
        detail=detail,
        at=now,
    )
    ticket.updated_at = now


def trails(*, session: Session, ticket_ids: Iterable[int]) -> dict[int, list[Step]]:
    """The trails of several tickets in one query, each in the order it happened."""
    ids = [str(i) for i in ticket_ids]
    out: dict[int, list[Step]] = {int(i): [] for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(Event.object_id, Event.occurred_at, Event.action, Event.actor, Event.detail)
        .where(Event.object_type == OBJECT_TYPE, Event.object_id.in_(ids))
        .order_by(Event.occurred_at, Event.id)
    )
    for object_id, at, action, actor, detail in rows:
        out[int(object_id)].append(
            Step(at=at, action=action.removeprefix(PREFIX), actor=actor, detail=detail or {})
        )
    return out


def rules_for(ticket_type: str, settings: HotlineSettings) -> ClockRules:
    return ClockRules(
        contact_h=settings.ticket_contact_h,
        answer_working_days=settings.ticket_answer_working_days[ticket_type],
        warn_fraction=settings.ticket_warn_fraction,
    )


def calendar(settings: HotlineSettings) -> WorkCalendar:
    return calendar_for(
        timezone=settings.work_calendar_timezone or settings.timezone,
        calendar_file=settings.work_calendar_file,
    )


def clock_of(
    *, ticket: Ticket, trail: list[Step], now: dt.datetime, settings: HotlineSettings
) -> TicketClock:
    """The ticket's clocks at ``now``, replayed from its trail."""
    return ticket_clock(
        (ClockEvent(at=s.at, action=s.action) for s in trail),
        now=now,
        rules=rules_for(ticket.ticket_type, settings),
        calendar=calendar(settings),
    )
