"""The routing table: which department takes a ticket of a type, class and region.

Each row names a type and optionally a class and a region; NULL means any. The most
specific row wins, in this order: type + class + region, type + class, type + region, type
alone. So a site configures broad defaults once and overrides them where a region differs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound
from geo.models import Region
from hotline.departments import get_department, region_id_of
from hotline.exceptions import NoRoute
from hotline.models import CLASSES_BY_TYPE, TICKET_TYPES, Department, TicketRoute


def check_type_and_class(ticket_type: str, ticket_class: str | None, *, required: bool) -> None:
    """Refuse a type or class we do not know, or a class on a type that has none."""
    if ticket_type not in TICKET_TYPES:
        msg = f"unknown ticket type {ticket_type!r}: choose one of {', '.join(TICKET_TYPES)}"
        raise InvalidInput(msg)
    classes = CLASSES_BY_TYPE.get(ticket_type, ())
    if ticket_class is None:
        if required and classes:
            msg = f"a {ticket_type} needs a class: one of {', '.join(classes)}"
            raise InvalidInput(msg)
        return
    if not classes:
        msg = f"a {ticket_type} has no class; leave ticket_class out (got {ticket_class!r})"
        raise InvalidInput(msg)
    if ticket_class not in classes:
        msg = f"unknown {ticket_type} class {ticket_class!r}: choose one of {', '.join(classes)}"
        raise InvalidInput(msg)


def route(
    *, session: Session, ticket_type: str, ticket_class: str | None, region_id: int | None
) -> Department:
    """The department for a ticket; a gap in the table is an error that says what to add."""
    specificity = case(
        (TicketRoute.ticket_class.is_not(None) & TicketRoute.region_id.is_not(None), 0),
        (TicketRoute.ticket_class.is_not(None), 1),
        (TicketRoute.region_id.is_not(None), 2),
        else_=3,
    )
    class_ok = (
        TicketRoute.ticket_class.is_(None)
        if ticket_class is None
        else or_(TicketRoute.ticket_class.is_(None), TicketRoute.ticket_class == ticket_class)
    )
    region_ok = (
        TicketRoute.region_id.is_(None)
        if region_id is None
        else or_(TicketRoute.region_id.is_(None), TicketRoute.region_id == region_id)
    )
    department = session.scalar(
        select(Department)
        .join(TicketRoute, TicketRoute.department_id == Department.id)
        .where(TicketRoute.ticket_type == ticket_type, class_ok, region_ok)
        .order_by(specificity)
        .limit(1)
    )
    if department is None:
        what = ticket_type + (f"/{ticket_class}" if ticket_class else "")
        where = f"region #{region_id}" if region_id is not None else "tickets without a region"
        msg = (
            f"no department takes {what} tickets for {where}: add a route "
            "(PUT /api/v1/ticket-routes) or name the department"
        )
        raise NoRoute(msg)
    return department


@dataclass(frozen=True)
class RouteRow:
    id: int
    ticket_type: str
    ticket_class: str | None
    region_code: str | None
    department_code: str


def list_routes(*, session: Session) -> list[RouteRow]:
    rows = session.execute(
        select(
            TicketRoute.id,
            TicketRoute.ticket_type,
            TicketRoute.ticket_class,
            Region.code,
            Department.code,
        )
        .join(Department, Department.id == TicketRoute.department_id)
        .outerjoin(Region, Region.id == TicketRoute.region_id)
        .order_by(TicketRoute.ticket_type, TicketRoute.ticket_class, Region.code)
    ).all()
    return [RouteRow(*row) for row in rows]


def set_route(
    *,
    session: Session,
    ticket_type: str,
    ticket_class: str | None,
    region_code: str | None,
    department_code: str,
) -> RouteRow:
    """Add the row for (type, class, region) or point the existing one at another department."""
    check_type_and_class(ticket_type, ticket_class, required=False)
    department = get_department(session=session, code=department_code)
    region_id = region_id_of(session=session, region_code=region_code)
    row = session.scalar(
        select(TicketRoute).where(
            TicketRoute.ticket_type == ticket_type,
            TicketRoute.ticket_class.is_(None)
            if ticket_class is None
            else TicketRoute.ticket_class == ticket_class,
            TicketRoute.region_id.is_(None)
            if region_id is None
            else TicketRoute.region_id == region_id,
        )
    )
    if row is None:
        row = TicketRoute(
            ticket_type=ticket_type,
            ticket_class=ticket_class,
            region_id=region_id,
            department_id=department.id,
        )
        session.add(row)
    else:
        row.department_id = department.id
    session.flush()
    return RouteRow(row.id, ticket_type, ticket_class, region_code, department.code)


def delete_route(*, session: Session, route_id: int) -> None:
    row = session.get(TicketRoute, route_id)
    if row is None:
        msg = f"no ticket route #{route_id}"
        raise NotFound(msg)
    session.delete(row)
    session.flush()
