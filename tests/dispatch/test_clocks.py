"""95598 clocks with a frozen clock: deadlines, at risk, overdue, escalation exactly once."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch import clocks
from dispatch.crews import post_position
from dispatch.lifecycle import assign, transition
from geo.models import Event, Region
from outages.models import Notification
from tests.dispatch.helpers import NOW, crew, frozen, login, order_of, outage_on, sync, urban_device
from web.settings import Settings


def _escalate(session: Session, settings: Settings, minutes: float) -> list[clocks.Escalation]:
    return clocks.escalate_due(
        session=session, now=NOW + dt.timedelta(minutes=minutes), settings=settings
    )


def test_urban_deadlines_and_escalation_once(db_session: Session, settings: Settings) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    assert order.onsite_due_at == NOW + dt.timedelta(minutes=45)
    assert order.restore_due_at == NOW + dt.timedelta(hours=3)
    assert _escalate(db_session, settings, 44) == []
    assert order.escalation_level == 0
    [raised] = _escalate(db_session, settings, 46)
    region = db_session.scalar(select(Region.code).where(Region.id == order.region_id))
    assert raised.work_order_id == order.id and raised.level == clocks.LEVEL_ONSITE_OVERDUE
    assert raised.recipient == f"supervisor:{region}"
    assert order.escalation_level == 2 and order.escalated_at == NOW + dt.timedelta(minutes=46)
    assert _escalate(db_session, settings, 46) == []
    assert _escalate(db_session, settings, 90) == []
    notes = db_session.scalars(select(Notification).where(Notification.kind == "escalation")).all()
    assert [(n.event_key, n.premise_id, n.recipient) for n in notes] == [
        (f"work_order:{order.id}:escalation:2", None, f"supervisor:{region}")
    ]
    escalations = db_session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.action == "work_order.escalated", Event.object_id == str(order.id))
    )
    assert escalations == 1
    [late] = _escalate(db_session, settings, 181)
    assert late.level == clocks.LEVEL_RESTORE_OVERDUE


def test_a_far_crew_puts_the_order_at_risk(db_session: Session, settings: Settings) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    far = crew(db_session, "CREW-08")
    # About 28 km away: some 56 minutes at 30 km/h, past the 45-minute on-site deadline.
    post_position(session=db_session, crew=far, lon=25.45, lat=60.17, now=NOW, settings=settings)
    assign(
        session=db_session,
        order=order,
        crew=far,
        lock=False,
        actor="dispatcher",
        now=NOW + dt.timedelta(minutes=5),
        settings=settings,
    )
    assert order.eta_at is not None and order.eta_at > order.onsite_due_at
    assert clocks.at_risk(order, NOW + dt.timedelta(minutes=6))
    [raised] = _escalate(db_session, settings, 6)
    assert raised.level == clocks.LEVEL_AT_RISK
    # On site in time after all: no more escalation until the restore clock runs out.
    transition(
        session=db_session,
        order=order,
        to="en_route",
        actor="crew08",
        now=NOW + dt.timedelta(minutes=7),
        settings=settings,
    )
    transition(
        session=db_session,
        order=order,
        to="on_site",
        actor="crew08",
        now=NOW + dt.timedelta(minutes=40),
        settings=settings,
    )
    assert _escalate(db_session, settings, 50) == []


def test_escalate_route_and_console_flags(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    headers = login(client, "dispatcher")
    with frozen(client, NOW + dt.timedelta(minutes=46)):
        assert (
            client.get("/api/v1/work-orders", params={"escalated": True}, headers=headers).json()
            == []
        )
        raised = client.post("/api/v1/dispatch/escalate", headers=headers)
        assert raised.status_code == 200, raised.text
        assert [e["work_order_id"] for e in raised.json()] == [order.id]
        assert client.post("/api/v1/dispatch/escalate", headers=headers).json() == []
        listed = client.get("/api/v1/work-orders", params={"escalated": True}, headers=headers)
    [item] = listed.json()
    assert item["overdue"] and item["escalation_level"] == 2
    assert item["onsite_countdown_s"] == -60
    assert item["restore_countdown_s"] == (180 - 46) * 60
    crew_headers = login(client, "crew01")
    assert client.post("/api/v1/dispatch/escalate", headers=crew_headers).status_code == 403
