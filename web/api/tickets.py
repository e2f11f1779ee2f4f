"""Hotline tickets: file, track, and take them through the department to the return visit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from geo.models import User
from geo.types import Text
from hotline import ticket_steps, tickets, urging
from hotline.models import Ticket
from hotline.schemas import (
    AnswerBody,
    ArticleLink,
    ContactBody,
    ReasonBody,
    ReturnVisitBody,
    ReviewBody,
    RouteBody,
    TextBody,
    TicketCreate,
    TicketFiled,
    TicketRead,
    TicketStatus,
    TicketSummary,
    TicketType,
    TrackRead,
    UrgeRead,
)
from hotline.ticket_views import summaries, ticket_read, track_read
from hotline.visibility import Viewer
from web.deps import IdPath, NowDep, SessionDep, SettingsDep, current_user, require_role

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
Supervisor = Annotated[User, Depends(require_role("supervisor"))]


def get_viewer(session: SessionDep, user: Annotated[User, Depends(current_user)]) -> Viewer:
    return tickets.viewer_for(session=session, user=user)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


def locked_ticket_id(viewer: ViewerDep, ticket_id: IdPath, session: SessionDep) -> Ticket:
    """The ticket, visible to the user, its row locked for the step being taken."""
    return tickets.get_ticket(session=session, ticket_id=ticket_id, viewer=viewer, for_update=True)


TicketDep = Annotated[Ticket, Depends(locked_ticket_id)]


@router.post("", response_model=TicketFiled, status_code=201)
def post_ticket(
    data: TicketCreate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Annotated[User, Depends(current_user)],
) -> TicketFiled:
    """File a ticket; it is routed to a department. The tracking token is shown only here."""
    ticket, token = tickets.file_ticket(session=session, data=data, user=user, now=now)
    read = ticket_read(session=session, ticket=ticket, now=now, settings=settings)
    return TicketFiled(**read.model_dump(), tracking_token=token)


@router.get("", response_model=list[TicketSummary])
def list_tickets(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
    status: Annotated[TicketStatus | None, Query()] = None,
    department: Annotated[Text | None, Query(max_length=64, description="Department code.")] = None,
    ticket_type: Annotated[TicketType | None, Query(alias="type")] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    overdue: Annotated[bool, Query(description="Only tickets past a deadline.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TicketSummary]:
    """The tickets you may see (oldest first), each with its clocks."""
    rows = tickets.list_tickets(
        session=session,
        viewer=viewer,
        status=status,
        department_code=department,
        ticket_type=ticket_type,
        open_only=open_only,
        limit=limit,
    )
    out = summaries(session=session, tickets=rows, now=now, settings=settings)
    if overdue:
        out = [s for s in out if s.clock.overdue or s.clock.contact_overdue]
    return out


@router.get("/track/{token}", response_model=TrackRead)
def track(
    token: Annotated[Text, Path(min_length=16, max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> TrackRead:
    """A customer's view of a ticket by its tracking token: status and dates, no personal data."""
    ticket = tickets.find_by_token(session=session, token=token)
    return track_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/urge", response_model=list[UrgeRead])
def urge(
    session: SessionDep, settings: SettingsDep, now: NowDep, user: Supervisor
) -> list[UrgeRead]:
    """Urge (催办) every late ticket whose level rose; also run by the server's clock."""
    raised = urging.urge_due(session=session, now=now, settings=settings)
    return [UrgeRead.model_validate(u, from_attributes=True) for u in raised]


@router.get("/{ticket_id}", response_model=TicketRead)
def get_ticket(
    viewer: ViewerDep, ticket_id: IdPath, session: SessionDep, settings: SettingsDep, now: NowDep
) -> TicketRead:
    """One ticket with its clocks, messages, audit trail and linked articles."""
    ticket = tickets.get_ticket(session=session, ticket_id=ticket_id, viewer=viewer)
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/contact", response_model=TicketRead)
def contact(
    body: ContactBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """Record a contact with the customer (the 24-hour clock)."""
    ticket_steps.contact(session=session, ticket=ticket, viewer=viewer, now=now, note=body.note)
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/review", response_model=TicketRead)
def review(
    body: ReviewBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """A supervisor's review of a complaint: pass it to its (or another) department."""
    ticket_steps.review(
        session=session,
        ticket=ticket,
        viewer=viewer,
        now=now,
        note=body.note,
        department_code=body.department_code,
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/route", response_model=TicketRead)
def reroute(
    body: RouteBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """A supervisor moves a ticket to another department."""
    ticket_steps.reroute(
        session=session,
        ticket=ticket,
        viewer=viewer,
        now=now,
        department_code=body.department_code,
        reason=body.reason,
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/pause", response_model=TicketRead)
def pause(
    body: ReasonBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """Wait for the customer: the answer clock stops until resumed."""
    ticket_steps.pause(session=session, ticket=ticket, viewer=viewer, now=now, reason=body.reason)
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/resume", response_model=TicketRead)
def resume(
    ticket: TicketDep, session: SessionDep, settings: SettingsDep, now: NowDep, viewer: ViewerDep
) -> TicketRead:
    """The customer came back: the answer clock runs again."""
    ticket_steps.resume(session=session, ticket=ticket, viewer=viewer, now=now)
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/reply", response_model=TicketRead)
def reply(
    body: TextBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """The department's reply."""
    ticket_steps.reply(session=session, ticket=ticket, viewer=viewer, now=now, body=body.body)
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/answer", response_model=TicketRead)
def answer(
    body: AnswerBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """The agent's or supervisor's answer to the customer (stops the answer clock)."""
    ticket_steps.answer(
        session=session,
        ticket=ticket,
        viewer=viewer,
        now=now,
        body=body.body,
        article_ids=body.article_ids,
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/return-visit", response_model=TicketRead)
def return_visit(
    body: ReturnVisitBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """The return visit: records satisfaction and closes the ticket."""
    ticket_steps.return_visit(
        session=session,
        ticket=ticket,
        viewer=viewer,
        now=now,
        satisfaction=body.satisfaction,
        note=body.note,
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/reopen", response_model=TicketRead)
def reopen(
    body: ReasonBody,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """Reopen a closed ticket (within the reopening window, 30 days by default)."""
    ticket_steps.reopen(
        session=session,
        ticket=ticket,
        viewer=viewer,
        now=now,
        reason=body.reason,
        settings=settings,
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)


@router.post("/{ticket_id}/articles", response_model=TicketRead)
def link_article(
    body: ArticleLink,
    ticket: TicketDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    viewer: ViewerDep,
) -> TicketRead:
    """Link a knowledge-base article the ticket used."""
    ticket_steps.link_article(
        session=session, ticket=ticket, viewer=viewer, now=now, article_id=body.article_id
    )
    return ticket_read(session=session, ticket=ticket, now=now, settings=settings)
