"""Urging (催办): a late ticket escalates once per level to its department head and the
supervisor, each with an outbox message.

Levels come from the clocks (``hotline.clocks``): the contact clock has one (the 24 hours
passed without contact), the answer clock two (due soon, overdue). What was already urged is
read from the trail (``urged`` steps), not from a counter; the level is raised once per
clock, level and round (a reopened ticket can be urged again). A jump from 0 to 2 urges
once, at 2: the head gets the worst news, not a burst.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clocks import supervisor_of
from geo.models import Region, User
from hotline.models import OPEN_STATUSES, Department, Ticket
from hotline.settings import HotlineSettings
from hotline.tickets import number_of
from hotline.trail import Step, clock_of, record_step, trails
from outages.models import Notification

URGE_PRIORITY = 1
REASONS = {
    ("contact", 1): "customer not contacted within the contact deadline",
    ("answer", 1): "answer due soon",
    ("answer", 2): "answer deadline passed",
}


@dataclass(frozen=True)
class Urge:
    ticket_id: int
    clock: str
    level: int
    round: int
    reason: str
    recipients: list[str]


def _urged(trail: list[Step], clock: str, round_: int) -> int:
    levels = [
        int(s.detail.get("level", 0))
        for s in trail
        if s.action == "urged"
        and s.detail.get("clock") == clock
        and s.detail.get("round") == round_
    ]
    return max(levels, default=0)


def _rising(
    ticket: Ticket, trail: list[Step], now: dt.datetime, settings: HotlineSettings
) -> list[tuple[str, int, int]]:
    """(clock, level, round) of each clock whose level is above what was urged."""
    state = clock_of(ticket=ticket, trail=trail, now=now, settings=settings)
    out = []
    for clock, level in (("contact", state.contact_level), ("answer", state.answer_level)):
        if level > _urged(trail, clock, state.round):
            out.append((clock, level, state.round))
    return out


def _recipients(session: Session, ticket: Ticket) -> list[str]:
    department = session.get(Department, ticket.department_id)
    head = None
    if department is not None and department.head_user_id is not None:
        head = session.scalar(select(User.username).where(User.id == department.head_user_id))
    code = department.code if department else "unassigned"
    region = session.get(Region, ticket.region_id) if ticket.region_id else None
    return [
        f"user:{head}" if head else f"department-head:{code}",
        supervisor_of(region.code if region else None),
    ]


def _queue(session: Session, ticket: Ticket, urge: Urge) -> None:
    for recipient in urge.recipients:
        key = f"ticket:{ticket.id}:r{urge.round}:{urge.clock}:{urge.level}:{recipient}"
        if session.scalar(select(Notification.id).where(Notification.event_key == key)):
            continue
        session.add(
            Notification(
                event_key=key,
                kind="urge",
                premise_id=None,
                recipient=recipient,
                priority=URGE_PRIORITY,
                message=(
                    f"催办 ticket {number_of(ticket)} ({ticket.ticket_type}, round "
                    f"{urge.round}): {urge.reason}."
                ),
                status="queued",
            )
        )


def urge_due(*, session: Session, now: dt.datetime, settings: HotlineSettings) -> list[Urge]:
    """Urge every open ticket whose level rose; safe to run often and concurrently.

    The open tickets are read without locks; those to urge are locked (``FOR UPDATE``) and
    their trails re-read, so two runs cannot both urge the same level.
    """
    tickets = list(session.scalars(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))))
    by_id = trails(session=session, ticket_ids=[t.id for t in tickets])
    candidates = [t.id for t in tickets if _rising(t, by_id[t.id], now, settings)]
    if not candidates:
        return []
    locked = session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(candidates))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    fresh = trails(session=session, ticket_ids=candidates)
    raised: list[Urge] = []
    for ticket in locked:
        for clock, level, round_ in _rising(ticket, fresh[ticket.id], now, settings):
            urge = Urge(
                ticket_id=ticket.id,
                clock=clock,
                level=level,
                round=round_,
                reason=REASONS[(clock, level)],
                recipients=_recipients(session, ticket),
            )
            record_step(
                session=session,
                ticket=ticket,
                action="urged",
                actor="clock",
                now=now,
                detail={"clock": clock, "level": level, "round": round_, "reason": urge.reason},
            )
            _queue(session, ticket, urge)
            raised.append(urge)
    session.flush()
    return raised
