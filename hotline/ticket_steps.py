"""The steps of a ticket after filing, each one event in its audit trail.

The loop (95598): filed -> (complaints: a supervisor's review) -> with the department ->
the department replies -> the agent or a supervisor answers the customer -> a return visit
records satisfaction and closes it -> the customer may have it reopened within 30 days.
A ticket waiting for the customer (paused) stops its answer clock; the clocks are
recomputed from the trail (``hotline.trail``), so each step only appends to it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from geo.exceptions import Forbidden
from hotline import kb
from hotline.departments import get_department
from hotline.exceptions import TicketStateConflict
from hotline.models import OPEN_STATUSES, Ticket, TicketMessage
from hotline.notices import queue_customer_notice
from hotline.settings import HotlineSettings
from hotline.tickets import number_of
from hotline.trail import record_step, trails
from hotline.visibility import ALL_SEEING_ROLES, Viewer, awaiting_review

# The statuses each step may start from.
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "contact": OPEN_STATUSES,
    "review": ("review",),
    "route": OPEN_STATUSES,
    "pause": ("with_department", "replied"),
    "resume": ("waiting_customer",),
    "reply": ("with_department", "replied"),
    "answer": ("replied",),
    "return_visit": ("answered",),
    "reopen": ("closed",),
}
# A consultation is often answered from the knowledge base without a department's reply.
ANSWER_WITHOUT_REPLY = ("consultation",)
AGENT_ROLES = ("agent", *ALL_SEEING_ROLES)


def _conflict(ticket: Ticket, step: str, allowed: tuple[str, ...], hint: str = "") -> None:
    if ticket.status not in allowed:
        msg = (
            f"ticket {number_of(ticket)} is {ticket.status}: {step} needs status "
            f"{' or '.join(allowed)}{hint}"
        )
        raise TicketStateConflict(msg, allowed=list(allowed))


def _require(ticket: Ticket, step: str) -> None:
    hint = ""
    if ticket.status == "closed" and step != "reopen":
        hint = f"; reopen it first (POST /api/v1/tickets/{ticket.id}/reopen)"
    elif ticket.status == "review":
        hint = "; a supervisor must review the complaint first"
    _conflict(ticket, step, ALLOWED_FROM[step], hint)


def _message(
    session: Session,
    ticket: Ticket,
    *,
    kind: str,
    author: str,
    body: str,
    now: dt.datetime,
    department_id: int | None = None,
) -> None:
    session.add(
        TicketMessage(
            ticket_id=ticket.id,
            kind=kind,
            author=author,
            department_id=department_id,
            body=body,
            created_at=now,
        )
    )


def _in_department(ticket: Ticket, viewer: Viewer, step: str) -> None:
    if viewer.role in ALL_SEEING_ROLES:
        return
    if viewer.department_id != ticket.department_id or awaiting_review(ticket):
        msg = f"only the ticket's department (or a supervisor) may {step} {number_of(ticket)}"
        raise Forbidden(msg)


def _agent(ticket: Ticket, viewer: Viewer, step: str) -> None:
    if viewer.role not in AGENT_ROLES:
        msg = f"only an agent or a supervisor may {step} {number_of(ticket)}"
        raise Forbidden(msg)


def contact(
    *, session: Session, ticket: Ticket, viewer: Viewer, now: dt.datetime, note: str | None
) -> None:
    """Record a contact with the customer (the 24-hour clock asks for the first one)."""
    _require(ticket, "contact")
    record_step(session=session, ticket=ticket, action="contacted", actor=viewer.username, now=now)
    if note:
        _message(session, ticket, kind="note", author=viewer.username, body=note, now=now)
    session.flush()


def review(
    *,
    session: Session,
    ticket: Ticket,
    viewer: Viewer,
    now: dt.datetime,
    note: str,
    department_code: str | None,
) -> None:
    """A supervisor passes a complaint on, to the routed department or another one."""
    if viewer.role not in ALL_SEEING_ROLES:
        msg = f"only a supervisor may review complaint {number_of(ticket)}"
        raise Forbidden(msg)
    _require(ticket, "review")
    if department_code is not None:
        ticket.department_id = get_department(session=session, code=department_code).id
    ticket.reviewed_at = now
    ticket.reviewed_by = viewer.username
    ticket.status = "with_department"
    _message(session, ticket, kind="review", author=viewer.username, body=note, now=now)
    record_step(
        session=session,
        ticket=ticket,
        action="reviewed",
        actor=viewer.username,
        now=now,
        detail={"from": "review", "to": ticket.status, "department_id": ticket.department_id},
    )
    session.flush()


def reroute(
    *,
    session: Session,
    ticket: Ticket,
    viewer: Viewer,
    now: dt.datetime,
    department_code: str,
    reason: str,
) -> None:
    """A supervisor moves a ticket to another department (wrongly routed, or escalated)."""
    if viewer.role not in ALL_SEEING_ROLES:
        msg = f"only a supervisor may move {number_of(ticket)} to another department"
        raise Forbidden(msg)
    _require(ticket, "route")
    department = get_department(session=session, code=department_code)
    previous = ticket.department_id
    ticket.department_id = department.id
    _message(session, ticket, kind="route", author=viewer.username, body=reason, now=now)
    record_step(
        session=session,
        ticket=ticket,
        action="routed",
        actor=viewer.username,
        now=now,
        detail={"from_department_id": previous, "to_department_id": department.id},
    )
    session.flush()


def pause(
    *, session: Session, ticket: Ticket, viewer: Viewer, now: dt.datetime, reason: str
) -> None:
    """Wait for the customer (documents, an appointment): the answer clock stops."""
    _require(ticket, "pause")
    if viewer.role not in AGENT_ROLES:
        _in_department(ticket, viewer, "pause")
    previous = ticket.status
    ticket.status = "waiting_customer"
    _message(session, ticket, kind="pause", author=viewer.username, body=reason, now=now)
    record_step(
        session=session,
        ticket=ticket,
        action="paused",
        actor=viewer.username,
        now=now,
        detail={"from": previous, "to": ticket.status},
    )
    session.flush()


def resume(*, session: Session, ticket: Ticket, viewer: Viewer, now: dt.datetime) -> None:
    """The customer came back: the ticket returns to the status it was paused from."""
    _require(ticket, "resume")
    if viewer.role not in AGENT_ROLES:
        _in_department(ticket, viewer, "resume")
    trail = trails(session=session, ticket_ids=[ticket.id])[ticket.id]
    paused_from = next(
        (s.detail.get("from") for s in reversed(trail) if s.action == "paused"), None
    )
    ticket.status = paused_from if paused_from in ALLOWED_FROM["pause"] else "with_department"
    record_step(
        session=session,
        ticket=ticket,
        action="resumed",
        actor=viewer.username,
        now=now,
        detail={"from": "waiting_customer", "to": ticket.status},
    )
    session.flush()


def reply(*, session: Session, ticket: Ticket, viewer: Viewer, now: dt.datetime, body: str) -> None:
    """The department's reply (what the agent will tell the customer)."""
    _require(ticket, "reply")
    _in_department(ticket, viewer, "reply to")
    previous = ticket.status
    ticket.status = "replied"
    _message(
        session,
        ticket,
        kind="reply",
        author=viewer.username,
        body=body,
        now=now,
        department_id=ticket.department_id,
    )
    record_step(
        session=session,
        ticket=ticket,
        action="replied",
        actor=viewer.username,
        now=now,
        detail={"from": previous, "to": ticket.status},
    )
    session.flush()


def answer(
    *,
    session: Session,
    ticket: Ticket,
    viewer: Viewer,
    now: dt.datetime,
    body: str,
    article_ids: list[int],
) -> None:
    """The agent or a supervisor answers the customer: the answer clock stops."""
    _agent(ticket, viewer, "answer")
    allowed = ALLOWED_FROM["answer"]
    if ticket.ticket_type in ANSWER_WITHOUT_REPLY:
        allowed = (*allowed, "with_department")
    hint = "; the department has not replied yet" if ticket.status == "with_department" else ""
    if ticket.status == "closed":
        hint = f"; reopen it first (POST /api/v1/tickets/{ticket.id}/reopen)"
    _conflict(ticket, "answer", allowed, hint)
    previous = ticket.status
    ticket.status = "answered"
    _message(session, ticket, kind="answer", author=viewer.username, body=body, now=now)
    if article_ids:
        kb.link_articles(
            session=session, ticket=ticket, article_ids=article_ids, actor=viewer.username, now=now
        )
    record_step(
        session=session,
        ticket=ticket,
        action="answered",
        actor=viewer.username,
        now=now,
        detail={"from": previous, "to": ticket.status},
    )
    queue_customer_notice(session=session, ticket=ticket, kind="answered")
    session.flush()


def return_visit(
    *,
    session: Session,
    ticket: Ticket,
    viewer: Viewer,
    now: dt.datetime,
    satisfaction: str,
    note: str | None,
) -> None:
    """The return visit records the customer's satisfaction and closes the ticket."""
    _agent(ticket, viewer, "record the return visit of")
    _require(ticket, "return_visit")
    ticket.satisfaction = satisfaction
    ticket.status = "closed"
    ticket.closed_at = now
    body = f"{satisfaction}: {note}" if note else satisfaction
    _message(session, ticket, kind="return_visit", author=viewer.username, body=body, now=now)
    record_step(
        session=session,
        ticket=ticket,
        action="closed",
        actor=viewer.username,
        now=now,
        detail={"from": "answered", "to": "closed", "satisfaction": satisfaction},
    )
    session.flush()


def reopen_until(ticket: Ticket, settings: HotlineSettings) -> dt.datetime | None:
    if ticket.closed_at is None or ticket.status != "closed":
        return None
    return ticket.closed_at + dt.timedelta(days=settings.ticket_reopen_days)


def reopen(
    *,
    session: Session,
    ticket: Ticket,
    viewer: Viewer,
    now: dt.datetime,
    reason: str,
    settings: HotlineSettings,
) -> None:
    """Reopen a closed ticket within the window: back to its department, fresh clocks."""
    _agent(ticket, viewer, "reopen")
    _require(ticket, "reopen")
    until = reopen_until(ticket, settings)
    if until is not None and now > until:
        msg = (
            f"ticket {number_of(ticket)} closed on {ticket.closed_at:%Y-%m-%d}: it could be "
            f"reopened until {until:%Y-%m-%d} ({settings.ticket_reopen_days} days); "
            "file a new ticket instead"
        )
        raise TicketStateConflict(msg, allowed=[])
    ticket.status = "with_department"
    ticket.closed_at = None
    ticket.satisfaction = None
    _message(session, ticket, kind="reopen", author=viewer.username, body=reason, now=now)
    record_step(
        session=session,
        ticket=ticket,
        action="reopened",
        actor=viewer.username,
        now=now,
        detail={"from": "closed", "to": ticket.status},
    )
    session.flush()


def link_article(
    *, session: Session, ticket: Ticket, viewer: Viewer, now: dt.datetime, article_id: int
) -> None:
    """Record that the ticket used a knowledge-base article (any status: also afterwards)."""
    kb.link_articles(
        session=session, ticket=ticket, article_ids=[article_id], actor=viewer.username, now=now
    )
    record_step(
        session=session,
        ticket=ticket,
        action="article_linked",
        actor=viewer.username,
        now=now,
        detail={"article_id": article_id},
    )
    session.flush()
