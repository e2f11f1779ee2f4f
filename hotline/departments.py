"""Departments (users' groups with a ticket queue), their members, and the demo's set of them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound
from geo.models import Region, User
from hotline.exceptions import UnknownDepartment
from hotline.models import Department, DepartmentMember, TicketRoute
from hotline.schemas import DepartmentRead


def get_department(*, session: Session, code: str) -> Department:
    """The department with ``code``; an unknown code names the known ones."""
    department = session.scalar(select(Department).where(Department.code == code))
    if department is None:
        known = session.scalars(select(Department.code).order_by(Department.code)).all()
        shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
        msg = f"unknown department {code!r}: known departments are {shown or '(none yet)'}"
        raise UnknownDepartment(msg)
    return department


def list_departments(*, session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.code)))


def region_id_of(*, session: Session, region_code: str | None) -> int | None:
    """The id of the region with ``region_code`` (None for None); unknown codes are 422."""
    if region_code is None:
        return None
    region_id = session.scalar(select(Region.id).where(Region.code == region_code))
    if region_id is None:
        known = session.scalars(select(Region.code).order_by(Region.code)).all()
        msg = f"unknown region {region_code!r}: known regions are {', '.join(known)}"
        raise InvalidInput(msg)
    return region_id


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        msg = f"no user named {username!r}"
        raise NotFound(msg)
    return user


def create_department(
    *,
    session: Session,
    code: str,
    name: str,
    name_zh: str | None = None,
    region_code: str | None = None,
    head_username: str | None = None,
) -> Department:
    """Add a department; codes are unique, the region and the head must exist."""
    if session.scalar(select(Department.id).where(Department.code == code)) is not None:
        msg = f"department {code!r} already exists"
        raise InvalidInput(msg)
    department = Department(
        code=code,
        name=name,
        name_zh=name_zh,
        region_id=region_id_of(session=session, region_code=region_code),
        head_user_id=_user(session, head_username).id if head_username else None,
    )
    session.add(department)
    session.flush()
    return department


def set_member(*, session: Session, username: str, department_code: str | None) -> User:
    """Put a user in a department (moving them from any other), or out of all with None."""
    user = _user(session, username)
    row = session.get(DepartmentMember, user.id)
    if department_code is None:
        if row is not None:
            session.delete(row)
    else:
        department = get_department(session=session, code=department_code)
        if row is None:
            session.add(DepartmentMember(user_id=user.id, department_id=department.id))
        else:
            row.department_id = department.id
    session.flush()
    return user


def department_of(*, session: Session, user: User) -> Department | None:
    """The user's department, if any."""
    return session.scalar(
        select(Department)
        .join(DepartmentMember, DepartmentMember.department_id == Department.id)
        .where(DepartmentMember.user_id == user.id)
    )


def members(*, session: Session, department: Department) -> list[str]:
    return list(
        session.scalars(
            select(User.username)
            .join(DepartmentMember, DepartmentMember.user_id == User.id)
            .where(DepartmentMember.department_id == department.id)
            .order_by(User.username)
        )
    )


# Departments of the whole centre, and the routes that need no region (most specific first
# is decided at lookup; here each row is one rule of the table).
CENTRAL = (
    ("HOTLINE", "95598 service centre", "95598客户服务中心"),
    ("DISCIPLINE", "Discipline inspection office", "纪检监察室"),
    ("CONSTRUCTION", "Grid construction department", "电网建设部"),
)
PER_REGION = (
    ("SERVICE", "Customer service", "客户服务班"),
    ("MARKETING", "Marketing and metering", "营销部"),
    ("OPS", "Operations and maintenance", "运维检修部"),
    ("INSPECTION", "Power-use inspection", "用电检查班"),
)
CENTRAL_ROUTES: tuple[tuple[str, str | None, str], ...] = (
    ("consultation", None, "HOTLINE"),
    ("suggestion", None, "HOTLINE"),
    ("complaint", None, "HOTLINE"),
    ("report", None, "HOTLINE"),
    ("service_request", None, "HOTLINE"),
    ("report", "misconduct", "DISCIPLINE"),
    ("complaint", "grid_construction", "CONSTRUCTION"),
)
REGION_ROUTES: tuple[tuple[str, str | None, str], ...] = (
    ("complaint", "service", "SERVICE"),
    ("complaint", "business", "MARKETING"),
    ("complaint", "outage_restoration", "OPS"),
    ("complaint", "power_quality", "OPS"),
    ("report", "power_theft", "INSPECTION"),
    ("service_request", None, "MARKETING"),
)


def seed_departments(*, session: Session, regions: Sequence[str]) -> dict[str, Department]:
    """The demo's departments and routing table: three central departments, four per region
    (codes ``<REGION>-SERVICE`` ...), and one route per rule. Returns them by code."""
    rows = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(regions)))}
    missing = sorted(set(regions) - set(rows))
    if missing:
        msg = f"unknown regions {', '.join(missing)}: load the territory first"
        raise InvalidInput(msg)
    made: dict[str, Department] = {}
    for code, name, name_zh in CENTRAL:
        made[code] = Department(code=code, name=name, name_zh=name_zh)
    for region_code in regions:
        region = rows[region_code]
        for suffix, name, name_zh in PER_REGION:
            code = f"{region_code}-{suffix}"
            made[code] = Department(
                code=code,
                name=f"{name}, {region.name}",
                name_zh=f"{region.name}{name_zh}",
                region_id=region.id,
            )
    session.add_all(made.values())
    session.flush()
    routes = [
        TicketRoute(ticket_type=t, ticket_class=c, region_id=None, department_id=made[d].id)
        for t, c, d in CENTRAL_ROUTES
    ]
    for region_code in regions:
        routes += [
            TicketRoute(
                ticket_type=t,
                ticket_class=c,
                region_id=rows[region_code].id,
                department_id=made[f"{region_code}-{d}"].id,
            )
            for t, c, d in REGION_ROUTES
        ]
    session.add_all(routes)
    session.flush()
    return made


def read_department(*, session: Session, department: Department) -> DepartmentRead:
    """A department as the API shows it: region, head and members."""
    region = session.get(Region, department.region_id) if department.region_id else None
    head = session.get(User, department.head_user_id) if department.head_user_id else None
    return DepartmentRead(
        id=department.id,
        code=department.code,
        name=department.name,
        name_zh=department.name_zh,
        region_code=region.code if region else None,
        head_username=head.username if head else None,
        members=members(session=session, department=department),
    )
