"""Tickets: filing (who may file what, routing to a department), reading, lists, tokens.

The steps after filing are in ``hotline.ticket_steps``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import Forbidden, InvalidInput
from geo.models import Premise, User
from hotline import kb
from hotline.departments import department_of, get_department, region_id_of
from hotline.exceptions import TicketNotFound, TicketTypeNotAllowed
from hotline.models import OPEN_STATUSES, TICKET_TYPES, Ticket
from hotline.notices import queue_customer_notice
from hotline.schemas import TicketCreate
from hotline.ticket_routing import check_type_and_class, route
from hotline.trail import record_step
from hotline.visibility import ALL_SEEING_ROLES, Viewer, can_see, visible_filter

# Which types each role may file: agents and supervisors take every call; a dispatcher
# passes on what customers ask the control room; a crew reports theft found in the field.
FILE_TYPES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "admin": TICKET_TYPES,
    "supervisor": TICKET_TYPES,
    "agent": TICKET_TYPES,
    "dispatcher": ("consultation", "suggestion", "service_request"),
    "crew": ("report", "suggestion"),
}


def number_of(ticket: Ticket) -> str:
    return f"TK{ticket.id:06d}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def viewer_for(*, session: Session, user: User) -> Viewer:
    department = department_of(session=session, user=user)
    return Viewer(
        username=user.username,
        role=user.role,
        department_id=department.id if department else None,
    )


def _region_and_premise(session: Session, data: TicketCreate) -> tuple[int | None, int | None]:
    """The region the ticket is routed by: named, or the premise's (by id or account)."""
    premise: Premise | None = None
    if data.premise_id is not None:
        premise = session.get(Premise, data.premise_id)
        if premise is None:
            msg = f"no premise #{data.premise_id}: leave premise_id out or look the caller up"
            raise InvalidInput(msg)
    elif data.caller_account:
        premise = session.scalar(select(Premise).where(Premise.account == data.caller_account))
    region_id = region_id_of(session=session, region_code=data.region_code)
    if region_id is None and premise is not None:
        region_id = premise.region_id
    return region_id, premise.id if premise else None


def _check_may_file(user: User, data: TicketCreate) -> None:
    allowed = FILE_TYPES_BY_ROLE.get(user.role, ())
    if data.ticket_type not in allowed:
        can = ", ".join(allowed) or "no tickets"
        msg = f"role {user.role!r} may not file a {data.ticket_type} ticket; it may file {can}"
        raise TicketTypeNotAllowed(msg)
    if data.department_code is not None and user.role not in ALL_SEEING_ROLES:
        msg = "only a supervisor may name the department; the routing table decides otherwise"
        raise Forbidden(msg)


def file_ticket(
    *, session: Session, data: TicketCreate, user: User, now: dt.datetime
) -> tuple[Ticket, str]:
    """File a ticket and route it; returns it with its tracking token (stored only hashed).

    A complaint starts in ``review``: no department sees it before a supervisor has.
    """
    _check_may_file(user, data)
    check_type_and_class(data.ticket_type, data.ticket_class, required=True)
    region_id, premise_id = _region_and_premise(session, data)
    if data.department_code is not None:
        department = get_department(session=session, code=data.department_code)
    else:
        department = route(
            session=session,
            ticket_type=data.ticket_type,
            ticket_class=data.ticket_class,
            region_id=region_id,
        )
    accused = None
    if data.accused_department_code is not None:
        if data.ticket_type != "complaint":
            msg = "accused_department_code is for complaints only"
            raise InvalidInput(msg)
        accused = get_department(session=session, code=data.accused_department_code)
    token = secrets.token_urlsafe(24)
    ticket = Ticket(
        ticket_type=data.ticket_type,
        ticket_class=data.ticket_class,
        status="review" if data.ticket_type == "complaint" else "with_department",
        channel=data.channel,
        subject=data.subject,
        description=data.description,
        caller_name=data.caller_name,
        caller_phone=data.caller_phone,
        caller_account=data.caller_account,
        premise_id=premise_id,
        region_id=region_id,
        department_id=department.id,
        accused_department_id=accused.id if accused else None,
        token_hash=hash_token(token),
        filed_by=user.username,
        filed_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    record_step(
        session=session,
        ticket=ticket,
        action="filed",
        actor=user.username,
        now=now,
        detail={"to": ticket.status, "department": department.code, "channel": data.channel},
    )
    if data.article_ids:
        kb.link_articles(
            session=session,
            ticket=ticket,
            article_ids=data.article_ids,
            actor=user.username,
            now=now,
        )
    queue_customer_notice(session=session, ticket=ticket, kind="filed", token=token)
    session.flush()
    return ticket, token


def get_ticket(
    *, session: Session, ticket_id: int, viewer: Viewer, for_update: bool = False
) -> Ticket:
    """The ticket if the viewer may see it; a hidden ticket is "not found", as it should be."""
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalar(stmt)
    if ticket is None or not can_see(viewer, ticket):
        msg = f"ticket #{ticket_id} not found (or not in your queue)"
        raise TicketNotFound(msg)
    return ticket


def list_tickets(
    *,
    session: Session,
    viewer: Viewer,
    status: str | None = None,
    department_code: str | None = None,
    ticket_type: str | None = None,
    open_only: bool = False,
    limit: int = 200,
) -> list[Ticket]:
    """The tickets the viewer may see, oldest first (the order they are owed answers)."""
    stmt = select(Ticket).where(visible_filter(viewer))
    if status is not None:
        stmt = stmt.where(Ticket.status == status)
    if open_only:
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    if ticket_type is not None:
        stmt = stmt.where(Ticket.ticket_type == ticket_type)
    if department_code is not None:
        department = get_department(session=session, code=department_code)
        stmt = stmt.where(Ticket.department_id == department.id)
    return list(session.scalars(stmt.order_by(Ticket.filed_at, Ticket.id).limit(limit)))


def find_by_token(*, session: Session, token: str) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.token_hash == hash_token(token)))
    if ticket is None:
        msg = "no ticket has this tracking token: check it against the message you received"
        raise TicketNotFound(msg)
    return ticket
