"""Urging (催办): once per clock, level and round, to the department head and the supervisor."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import Ticket
from hotline.schemas import TicketCreate
from hotline.ticket_steps import (
    answer,
    contact,
    pause,
    reopen,
    reply,
    resume,
    return_visit,
    review,
)
from hotline.tickets import file_ticket, viewer_for
from hotline.urging import urge_due
from outages.models import Notification
from tests.hotline.helpers import Desk, complaint, local, make_desk, premise_in
from web.settings import Settings


@pytest.fixture
def desk(db_session: Session) -> Desk:
    return make_desk(db_session, None, local("2026-03-02 09:00"))


def _complaint(desk: Desk) -> int:
    premise = premise_in(desk.session, "HEL-R1")
    ticket, _ = file_ticket(
        session=desk.session,
        data=TicketCreate.model_validate(complaint(premise)),
        user=desk.user("agent"),
        now=local("2026-03-02 09:00"),
    )
    review(
        session=desk.session,
        ticket=ticket,
        viewer=viewer_for(session=desk.session, user=desk.user("supervisor")),
        now=local("2026-03-02 09:30"),
        note="ok",
        department_code=None,
    )
    return ticket.id


def _urges(desk: Desk, settings: Settings, at: str) -> list[tuple[str, int]]:
    return [
        (u.clock, u.level) for u in urge_due(session=desk.session, now=local(at), settings=settings)
    ]


def _outbox(desk: Desk, ticket_id: int) -> list[tuple[str, str]]:
    rows = desk.session.execute(
        select(Notification.recipient, Notification.event_key)
        .where(Notification.kind == "urge", Notification.event_key.like(f"ticket:{ticket_id}:%"))
        .order_by(Notification.id)
    ).all()
    return [(r, k.split(":")[3] + ":" + k.split(":")[4]) for r, k in rows]


def test_levels_are_urged_once_each(desk: Desk, settings: Settings) -> None:
    tid = _complaint(desk)
    assert _urges(desk, settings, "2026-03-03 08:59") == []
    assert _urges(desk, settings, "2026-03-03 09:01") == [("contact", 1)]  # 24 h, no contact
    assert _urges(desk, settings, "2026-03-03 12:00") == []  # not twice
    assert _urges(desk, settings, "2026-03-05 09:00") == [("answer", 1)]  # a quarter left
    assert _urges(desk, settings, "2026-03-06 09:01") == [("answer", 2)]  # overdue
    assert _urges(desk, settings, "2026-03-09 09:00") == []
    outbox = _outbox(desk, tid)
    assert outbox == [
        ("user:svc1-head", "contact:1"),
        ("supervisor:HEL-R1", "contact:1"),
        ("user:svc1-head", "answer:1"),
        ("supervisor:HEL-R1", "answer:1"),
        ("user:svc1-head", "answer:2"),
        ("supervisor:HEL-R1", "answer:2"),
    ]
    message = desk.session.scalar(
        select(Notification.message).where(Notification.event_key.like(f"ticket:{tid}:%answer:2%"))
    )
    assert (
        message is not None
        and message.startswith("催办 ticket TK")
        and "deadline passed" in message
    )


def test_a_jump_urges_only_the_worst_level(desk: Desk, settings: Settings) -> None:
    _complaint(desk)
    assert sorted(_urges(desk, settings, "2026-03-10 09:00")) == [("answer", 2), ("contact", 1)]


def test_contacted_paused_and_answered_tickets(desk: Desk, settings: Settings) -> None:
    tid = _complaint(desk)
    ticket = desk.session.get(Ticket, tid)
    assert ticket is not None
    member = viewer_for(session=desk.session, user=desk.user("svc1"))
    contact(
        session=desk.session, ticket=ticket, viewer=member, now=local("2026-03-02 12:00"), note=None
    )
    pause(
        session=desk.session,
        ticket=ticket,
        viewer=member,
        now=local("2026-03-03 09:00"),
        reason="doc",
    )
    assert _urges(desk, settings, "2026-03-20 09:00") == []  # stopped with 3 of 4 days left
    agent = viewer_for(session=desk.session, user=desk.user("agent"))
    resume(session=desk.session, ticket=ticket, viewer=member, now=local("2026-03-23 09:00"))
    reply(
        session=desk.session, ticket=ticket, viewer=member, now=local("2026-03-23 10:00"), body="r"
    )
    answer(
        session=desk.session,
        ticket=ticket,
        viewer=agent,
        now=local("2026-03-23 11:00"),
        body="a",
        article_ids=[],
    )
    assert _urges(desk, settings, "2026-04-20 09:00") == []  # answered: nothing to urge
    return_visit(
        session=desk.session,
        ticket=ticket,
        viewer=agent,
        now=local("2026-03-24 09:00"),
        satisfaction="dissatisfied",
        note=None,
    )
    reopen(
        session=desk.session,
        ticket=ticket,
        viewer=agent,
        now=local("2026-03-25 09:00"),
        reason="x",
        settings=settings,
    )
    # Round 2 has its own levels: the contact clock of the reopening has run out.
    assert _urges(desk, settings, "2026-03-26 09:01") == [("contact", 1)]
