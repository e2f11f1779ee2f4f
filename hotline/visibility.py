"""Who sees which ticket. The rule the hotline promises: a complaint reaches no department,
and so never the department it accuses, before a supervisor has reviewed it.

- admins and supervisors see every ticket;
- a member of a department sees the tickets routed to it, except complaints not yet
  reviewed (a reviewed complaint is the supervisor's decision to pass on);
- agents outside any department see every ticket: they took the calls and answer them;
- anyone else sees the tickets they filed themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, true

from hotline.models import Ticket

ALL_SEEING_ROLES = ("admin", "supervisor")


@dataclass(frozen=True)
class Viewer:
    """A user as far as visibility cares: name, role and department (None: in none)."""

    username: str
    role: str
    department_id: int | None


def awaiting_review(ticket: Ticket) -> bool:
    return ticket.ticket_type == "complaint" and ticket.reviewed_at is None


def can_see(viewer: Viewer, ticket: Ticket) -> bool:
    """The visibility rule for one ticket (``visible_filter`` is the same rule in SQL)."""
    if viewer.role in ALL_SEEING_ROLES:
        return True
    if viewer.department_id is not None:
        return ticket.department_id == viewer.department_id and not awaiting_review(ticket)
    if viewer.role == "agent":
        return True
    return ticket.filed_by == viewer.username


def visible_filter(viewer: Viewer) -> ColumnElement[bool]:
    """The visibility rule as a WHERE clause for ticket lists."""
    if viewer.role in ALL_SEEING_ROLES:
        return true()
    if viewer.department_id is not None:
        return and_(
            Ticket.department_id == viewer.department_id,
            or_(Ticket.ticket_type != "complaint", Ticket.reviewed_at.is_not(None)),
        )
    if viewer.role == "agent":
        return true()
    return Ticket.filed_by == viewer.username
