"""What the API answers about tickets: staff views with clocks and trail, the public view.

The public tracking view shows the steps and dates only: no names, phone numbers,
departments or texts, since anyone holding the token (or overhearing it) can read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline import kb
from hotline.clocks import TicketClock
from hotline.models import Department, Ticket, TicketMessage
from hotline.schemas import (
    ClockRead,
    MessageRead,
    StepRead,
    TicketRead,
    TicketSummary,
    TrackRead,
    TrackStep,
)
from hotline.settings import HotlineSettings
from hotline.ticket_steps import reopen_until
from hotline.tickets import number_of
from hotline.trail import Step, clock_of, trails
from hotline.workdays import DAY_S

# Customer-facing names of the statuses: a complaint under review is "received" to them.
PUBLIC_STATUS = {
    "review": ("received", "received", "已受理"),
    "with_department": ("in_progress", "being handled", "处理中"),
    "replied": ("in_progress", "being handled", "处理中"),
    "waiting_customer": ("waiting_for_you", "waiting for information from you", "待您补充"),
    "answered": ("answered", "answered", "已答复"),
    "closed": ("closed", "closed", "已办结"),
}
PUBLIC_STEPS = {
    "filed": "received",
    "contacted": "contacted",
    "paused": "waiting_for_you",
    "resumed": "in_progress",
    "answered": "answered",
    "closed": "closed",
    "reopened": "reopened",
}


def clock_read(clock: TicketClock) -> ClockRead:
    note = None
    if clock.uncovered_years:
        years = ", ".join(str(y) for y in clock.uncovered_years)
        note = (
            f"no holiday calendar covers {years} (chinese-calendar or the site calendar file): "
            "Monday to Friday assumed as working days"
        )
    return ClockRead(
        now=clock.now,
        round=clock.round,
        contact_due_at=clock.contact_due_at,
        contacted_at=clock.contacted_at,
        contact_overdue=clock.contact_overdue,
        answer_due_at=clock.answer_due_at,
        answer_allowance_working_days=clock.answer_allowance_s / DAY_S,
        answer_used_working_days=round(clock.answer_used_s / DAY_S, 4),
        answer_remaining_working_days=round(clock.answer_remaining_s / DAY_S, 4),
        running=clock.running,
        paused_since=clock.paused_since,
        answered_at=clock.answered_at,
        answered_late=clock.answered_late,
        overdue=clock.overdue,
        answer_level=clock.answer_level,
        contact_level=clock.contact_level,
        calendar_note=note,
    )


def _departments(session: Session, ids: set[int]) -> dict[int, Department]:
    if not ids:
        return {}
    return {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}


def summaries(
    *, session: Session, tickets: Sequence[Ticket], now: dt.datetime, settings: HotlineSettings
) -> list[TicketSummary]:
    """List rows with clocks; all trails and departments in two queries."""
    by_id = trails(session=session, ticket_ids=[t.id for t in tickets])
    departments = _departments(session, {t.department_id for t in tickets})
    return [
        TicketSummary(
            id=t.id,
            number=number_of(t),
            ticket_type=t.ticket_type,
            ticket_class=t.ticket_class,
            status=t.status,
            subject=t.subject,
            department_code=departments[t.department_id].code,
            filed_at=t.filed_at,
            updated_at=t.updated_at,
            clock=clock_read(clock_of(ticket=t, trail=by_id[t.id], now=now, settings=settings)),
        )
        for t in tickets
    ]


def _messages(session: Session, ticket: Ticket) -> list[MessageRead]:
    rows = session.execute(
        select(TicketMessage, Department.code)
        .outerjoin(Department, Department.id == TicketMessage.department_id)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    return [
        MessageRead(
            kind=m.kind, author=m.author, department_code=code, body=m.body, created_at=m.created_at
        )
        for m, code in rows
    ]


def ticket_read(
    *, session: Session, ticket: Ticket, now: dt.datetime, settings: HotlineSettings
) -> TicketRead:
    """The staff view: the ticket, its clocks, messages, trail and linked articles."""
    session.flush()
    trail = trails(session=session, ticket_ids=[ticket.id])[ticket.id]
    ids = {ticket.department_id} | ({ticket.accused_department_id} - {None})
    departments = _departments(session, {i for i in ids if i is not None})
    department = departments[ticket.department_id]
    accused = departments.get(ticket.accused_department_id or -1)
    region = session.get(Region, ticket.region_id) if ticket.region_id else None
    summary = summaries(session=session, tickets=[ticket], now=now, settings=settings)[0]
    return TicketRead(
        **summary.model_dump(),
        channel=ticket.channel,
        description=ticket.description,
        caller_name=ticket.caller_name,
        caller_phone=ticket.caller_phone,
        caller_account=ticket.caller_account,
        premise_id=ticket.premise_id,
        region_code=region.code if region else None,
        department_name=department.name,
        accused_department_code=accused.code if accused else None,
        reviewed_at=ticket.reviewed_at,
        reviewed_by=ticket.reviewed_by,
        filed_by=ticket.filed_by,
        closed_at=ticket.closed_at,
        satisfaction=ticket.satisfaction,
        reopen_until=reopen_until(ticket, settings),
        article_ids=kb.articles_of(session=session, ticket_id=ticket.id),
        messages=_messages(session, ticket),
        trail=[StepRead(at=s.at, action=s.action, actor=s.actor, detail=s.detail) for s in trail],
    )


def _public_steps(trail: list[Step]) -> list[TrackStep]:
    return [
        TrackStep(at=s.at, step=PUBLIC_STEPS[s.action]) for s in trail if s.action in PUBLIC_STEPS
    ]


def track_read(
    *, session: Session, ticket: Ticket, now: dt.datetime, settings: HotlineSettings
) -> TrackRead:
    """The customer's view by tracking token: status, dates and steps, nothing personal."""
    trail = trails(session=session, ticket_ids=[ticket.id])[ticket.id]
    clock = clock_of(ticket=ticket, trail=trail, now=now, settings=settings)
    status, status_en, status_zh = PUBLIC_STATUS[ticket.status]
    return TrackRead(
        number=number_of(ticket),
        ticket_type=ticket.ticket_type,
        status=status,
        status_en=status_en,
        status_zh=status_zh,
        filed_at=ticket.filed_at,
        answer_due_at=clock.answer_due_at,
        answered_at=clock.answered_at,
        closed_at=ticket.closed_at,
        reopen_until=reopen_until(ticket, settings),
        steps=_public_steps(trail),
    )
