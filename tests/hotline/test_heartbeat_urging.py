"""The server urges late tickets by itself: ticket urging runs on the app's timer."""

from __future__ import annotations

import datetime as dt
import time

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from geo.models import Event
from hotline.models import Ticket
from hotline.schemas import TicketCreate
from hotline.tickets import file_ticket
from outages.models import Notification
from tests.hotline.helpers import complaint, make_desk, premise_in
from web.heartbeat import _hotline_once
from web.main import create_app
from web.settings import Settings


def test_a_late_ticket_is_urged_without_a_manual_call(
    db_session: Session, settings: Settings
) -> None:
    now = dt.datetime.now(dt.UTC)
    desk = make_desk(db_session, None, now)
    premise = premise_in(db_session, "HEL-R1")
    body = complaint(premise, ticket_type="consultation", ticket_class=None)
    ticket, _ = file_ticket(
        session=db_session,
        data=TicketCreate.model_validate(body),
        user=desk.user("agent"),
        now=now - dt.timedelta(days=10),
    )
    db_session.flush()
    app = create_app(settings)
    # The timer's job as the lifespan starts it, on the test's rolled-back connection.
    app.state.sessionmaker = sessionmaker(
        bind=db_session.connection(), join_transaction_mode="create_savepoint"
    )
    app.state.urges_sent = app.state.hotline_runs = 0
    _hotline_once(app)
    assert app.state.urges_sent == 2, "contact overdue and answer overdue, one urge each"
    urged = db_session.scalars(
        select(Event.detail).where(
            Event.object_type == "ticket",
            Event.object_id == str(ticket.id),
            Event.action == "ticket.urged",
        )
    ).all()
    assert sorted((d["clock"], d["level"]) for d in urged) == [("answer", 2), ("contact", 1)]
    messages = db_session.scalars(
        select(Notification.recipient).where(
            Notification.kind == "urge", Notification.event_key.like(f"ticket:{ticket.id}:%")
        )
    ).all()
    assert len(messages) == 4, "head and supervisor for each clock"
    _hotline_once(app)
    assert app.state.urges_sent == 2, "a level is urged once"
    assert db_session.get(Ticket, ticket.id) is not None


def test_the_app_runs_the_hotline_timers(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cycle_interval_s": 0.1}))
    with TestClient(app):
        deadline = time.monotonic() + 10
        while app.state.hotline_runs < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert app.state.hotline_runs >= 2
