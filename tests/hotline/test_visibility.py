"""The visibility rule: no department sees a complaint, and so never the department it
accuses, before a supervisor has reviewed it; lists and single reads agree."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from hotline.exceptions import TicketNotFound
from hotline.models import Ticket
from hotline.schemas import TicketCreate
from hotline.ticket_steps import review
from hotline.tickets import file_ticket, get_ticket, list_tickets, viewer_for
from hotline.visibility import Viewer, can_see
from tests.hotline.helpers import Desk, complaint, local, make_desk, premise_in

NOW = local("2026-03-02 10:00")


@pytest.fixture
def desk(db_session: Session) -> Desk:
    return make_desk(db_session, None, NOW)


def _file(desk: Desk, username: str, body: dict[str, object]) -> Ticket:
    ticket, _ = file_ticket(
        session=desk.session,
        data=TicketCreate.model_validate(body),
        user=desk.user(username),
        now=desk.clock.now,
    )
    return ticket


def _sees(desk: Desk, username: str, ticket: Ticket) -> bool:
    viewer = viewer_for(session=desk.session, user=desk.user(username))
    listed = ticket.id in {t.id for t in list_tickets(session=desk.session, viewer=viewer)}
    try:
        get_ticket(session=desk.session, ticket_id=ticket.id, viewer=viewer)
        read = True
    except TicketNotFound:
        read = False
    assert listed == read, f"{username}: the list and the single read disagree"
    return read


def test_complaint_reaches_its_department_only_after_review(desk: Desk) -> None:
    premise = premise_in(desk.session, "HEL-R1")
    ticket = _file(desk, "agent", complaint(premise, accused_department_code="HEL-R1-SERVICE"))
    assert ticket.status == "review"
    assert ticket.department_id == desk.departments["HEL-R1-SERVICE"].id  # routed, hidden
    assert not _sees(desk, "svc1", ticket)  # the accused (and routed) department
    assert not _sees(desk, "svc1-head", ticket)
    assert not _sees(desk, "ops1", ticket)
    assert _sees(desk, "supervisor", ticket)
    assert _sees(desk, "agent", ticket)
    viewer = viewer_for(session=desk.session, user=desk.user("supervisor"))
    review(
        session=desk.session,
        ticket=ticket,
        viewer=viewer,
        now=NOW + dt.timedelta(hours=1),
        note="Checked the recording: pass to the service team lead.",
        department_code=None,
    )
    assert ticket.status == "with_department"
    assert _sees(desk, "svc1", ticket)
    assert not _sees(desk, "ops1", ticket)  # another department still does not


def test_review_can_send_a_complaint_past_the_accused(desk: Desk) -> None:
    premise = premise_in(desk.session, "HEL-R1")
    ticket = _file(desk, "agent", complaint(premise, accused_department_code="HEL-R1-SERVICE"))
    viewer = viewer_for(session=desk.session, user=desk.user("supervisor"))
    review(
        session=desk.session,
        ticket=ticket,
        viewer=viewer,
        now=NOW,
        note="The complaint is about the service team itself: the centre handles it.",
        department_code="HOTLINE",
    )
    assert _sees(desk, "hotline1", ticket)
    assert not _sees(desk, "svc1", ticket)  # the accused department never sees it


def test_other_types_go_straight_to_the_department(desk: Desk) -> None:
    premise = premise_in(desk.session, "HEL-R1")
    body = complaint(premise, ticket_type="service_request", ticket_class=None)
    ticket = _file(desk, "agent", body)
    assert ticket.status == "with_department"
    assert not _sees(desk, "svc1", ticket)  # routed to marketing, not the service team
    assert _sees(desk, "agent", ticket)


def test_staff_outside_departments_see_what_they_filed(desk: Desk) -> None:
    mine = _file(desk, "dispatcher", {**_suggestion(), "subject": "Mine"})
    theirs = _file(desk, "agent", _suggestion())
    assert _sees(desk, "dispatcher", mine)
    assert not _sees(desk, "dispatcher", theirs)


def _suggestion() -> dict[str, object]:
    return {
        "ticket_type": "suggestion",
        "subject": "Longer opening hours",
        "description": "Open the service hall on Saturdays.",
    }


@pytest.mark.parametrize(
    ("role", "department_id", "ticket_type", "reviewed", "visible"),
    [
        ("supervisor", None, "complaint", False, True),
        ("admin", 7, "complaint", False, True),
        ("agent", None, "complaint", False, True),
        ("dispatcher", 7, "complaint", False, False),
        ("agent", 7, "complaint", False, False),  # an agent inside a department: its rule
        ("dispatcher", 7, "complaint", True, True),
        ("dispatcher", 8, "complaint", True, False),
        ("dispatcher", 7, "report", False, True),
        ("crew", None, "report", False, False),  # filed by someone else
    ],
)
def test_rule_table(
    role: str, department_id: int | None, ticket_type: str, reviewed: bool, visible: bool
) -> None:
    ticket = Ticket(
        ticket_type=ticket_type,
        department_id=7,
        filed_by="agent",
        reviewed_at=NOW if reviewed else None,
    )
    assert can_see(Viewer("someone", role, department_id), ticket) is visible
