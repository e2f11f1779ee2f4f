"""Departments (their members and queues) and the ticket routing table."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from geo.exceptions import Forbidden
from geo.models import User
from hotline import departments, ticket_routing, tickets
from hotline.schemas import (
    DepartmentCreate,
    DepartmentRead,
    MemberSet,
    RouteRead,
    RouteSet,
    TicketSummary,
)
from hotline.ticket_views import summaries
from hotline.visibility import ALL_SEEING_ROLES
from web.deps import (
    CodePath,
    IdPath,
    NowDep,
    SessionDep,
    SettingsDep,
    current_user,
    require_role,
)

router = APIRouter(prefix="/api/v1", tags=["departments"])
Staff = Annotated[User, Depends(current_user)]
Supervisor = Annotated[User, Depends(require_role("supervisor"))]
Admin = Annotated[User, Depends(require_role("admin"))]


@router.get("/departments", response_model=list[DepartmentRead])
def list_departments(session: SessionDep, user: Staff) -> list[DepartmentRead]:
    """Every department with its region, head and members."""
    return [
        departments.read_department(session=session, department=d)
        for d in departments.list_departments(session=session)
    ]


@router.post("/departments", response_model=DepartmentRead, status_code=201)
def post_department(data: DepartmentCreate, session: SessionDep, user: Admin) -> DepartmentRead:
    """Add a department."""
    department = departments.create_department(session=session, **data.model_dump())
    return departments.read_department(session=session, department=department)


@router.put("/departments/{code}/members", response_model=DepartmentRead)
def put_member(
    user: Supervisor, code: CodePath, data: MemberSet, session: SessionDep
) -> DepartmentRead:
    """Put a user in this department (out of any other)."""
    departments.set_member(session=session, username=data.username, department_code=code)
    return departments.read_department(
        session=session, department=departments.get_department(session=session, code=code)
    )


@router.delete("/departments/{code}/members/{username}", response_model=DepartmentRead)
def delete_member(
    user: Supervisor, code: CodePath, username: CodePath, session: SessionDep
) -> DepartmentRead:
    """Take a user out of this department."""
    department = departments.get_department(session=session, code=code)
    if username not in departments.members(session=session, department=department):
        msg = f"{username!r} is not a member of {code}"
        raise Forbidden(msg)
    departments.set_member(session=session, username=username, department_code=None)
    return departments.read_department(session=session, department=department)


@router.get("/departments/{code}/queue", response_model=list[TicketSummary])
def department_queue(
    user: Staff, code: CodePath, session: SessionDep, settings: SettingsDep, now: NowDep
) -> list[TicketSummary]:
    """The department's open tickets (its members and supervisors), oldest first."""
    department = departments.get_department(session=session, code=code)
    viewer = tickets.viewer_for(session=session, user=user)
    if viewer.role not in ALL_SEEING_ROLES and viewer.department_id != department.id:
        msg = f"the queue of {code} is for its members and supervisors"
        raise Forbidden(msg)
    rows = tickets.list_tickets(
        session=session, viewer=viewer, department_code=code, open_only=True
    )
    return summaries(session=session, tickets=rows, now=now, settings=settings)


@router.get("/ticket-routes", response_model=list[RouteRead])
def list_routes(session: SessionDep, user: Staff) -> list[RouteRead]:
    """The routing table (NULL class or region: any)."""
    return [
        RouteRead.model_validate(r, from_attributes=True)
        for r in ticket_routing.list_routes(session=session)
    ]


@router.put("/ticket-routes", response_model=RouteRead)
def put_route(data: RouteSet, session: SessionDep, user: Supervisor) -> RouteRead:
    """Set the department for a type (and class) in a region (or everywhere)."""
    row = ticket_routing.set_route(session=session, **data.model_dump())
    return RouteRead.model_validate(row, from_attributes=True)


@router.delete("/ticket-routes/{route_id}", status_code=204)
def delete_route(user: Supervisor, route_id: IdPath, session: SessionDep) -> Response:
    """Remove a row of the routing table."""
    ticket_routing.delete_route(session=session, route_id=route_id)
    return Response(status_code=204)
