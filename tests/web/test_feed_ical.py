"""Planned work as iCalendar (RFC 5545): per premise (address or point), feeder or region,
parsed back with the icalendar library."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.models import Premise
from outages.models import PlannedOutagePremise
from outages.planned import get_planned, update_planned
from outages.schemas import PlannedOutageUpdate
from tests.web.feed_helpers import (
    NOW,
    Clock,
    clock_fixture,  # noqa: F401 (the clock fixture)
    personal_strings,
    planned_on,
)
from web.settings import Settings


def _covered_premise(session: Session, planned_id: int) -> Premise:
    premise = session.scalars(
        select(Premise)
        .join(PlannedOutagePremise, PlannedOutagePremise.premise_id == Premise.id)
        .where(PlannedOutagePremise.planned_outage_id == planned_id)
        .order_by(Premise.id)
    ).first()
    assert premise is not None
    return premise


def _calendar(client: TestClient, **params: str | int | float) -> Calendar:
    answer = client.get("/feeds/planned.ics", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/calendar")
    assert answer.headers["etag"]
    return Calendar.from_ical(answer.content)


def test_premise_calendar_by_address_lists_its_planned_work(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    planned_id = planned_on(db_session, settings, days_ahead=2)
    premise = _covered_premise(db_session, planned_id)
    calendar = _calendar(client, address=premise.address)
    assert calendar["VERSION"] == "2.0" and "stormdesk" in str(calendar["PRODID"])
    events = list(calendar.walk("VEVENT"))
    assert [str(e["UID"]) for e in events] == [f"planned-{planned_id}@testserver"]
    event = events[0]
    planned = get_planned(session=db_session, planned_id=planned_id)
    assert event.decoded("DTSTART") == planned.starts_at
    assert event.decoded("DTEND") == planned.ends_at
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert "transformer maintenance" in str(event["SUMMARY"])
    body = client.get("/feeds/planned.ics", params={"address": premise.address}).text
    assert not [s for s in personal_strings(db_session) if s in body]


def test_point_premise_feeder_and_region_calendars(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    planned_id = planned_on(db_session, settings, days_ahead=1)
    premise = _covered_premise(db_session, planned_id)
    lon, lat, feeder, region = db_session.execute(
        text(
            "SELECT ST_X(p.geom), ST_Y(p.geom), f.code, r.code FROM premise p "
            "JOIN feeder f ON f.id = p.feeder_id JOIN region r ON r.id = p.region_id "
            "WHERE p.id = :p"
        ),
        {"p": premise.id},
    ).one()
    uid = f"planned-{planned_id}@testserver"
    for params in (
        {"lon": lon, "lat": lat},
        {"premise": premise.id},
        {"feeder": feeder},
        {"region": region},
    ):
        assert [str(e["UID"]) for e in _calendar(client, **params).walk("VEVENT")] == [uid]
    outside = db_session.scalars(
        select(Premise).where(Premise.feeder_id != premise.feeder_id).order_by(Premise.id)
    ).first()
    assert outside is not None
    assert list(_calendar(client, premise=outside.id).walk("VEVENT")) == []


def test_a_change_raises_the_sequence_and_a_cancel_stays_cancelled(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    planned_id = planned_on(db_session, settings, days_ahead=2)
    premise = _covered_premise(db_session, planned_id)
    first = client.get("/feeds/planned.ics", params={"premise": premise.id})
    unchanged = client.get(
        "/feeds/planned.ics",
        params={"premise": premise.id},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert unchanged.status_code == 304
    planned = get_planned(session=db_session, planned_id=planned_id)
    later = planned.starts_at + dt.timedelta(hours=1)
    update_planned(
        session=db_session,
        planned=planned,
        data=PlannedOutageUpdate(starts_at=later),
        settings=settings,
        now=NOW + dt.timedelta(minutes=5),
        actor="dispatcher",
    )
    event = next(iter(_calendar(client, premise=premise.id).walk("VEVENT")))
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == later
    update_planned(
        session=db_session,
        planned=planned,
        data=PlannedOutageUpdate(status="cancelled"),
        settings=settings,
        now=NOW + dt.timedelta(minutes=10),
        actor="dispatcher",
    )
    event = next(iter(_calendar(client, premise=premise.id).walk("VEVENT")))
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 2


def test_calendar_scope_errors_name_what_is_wrong(client: TestClient, clock: Clock) -> None:
    none = client.get("/feeds/planned.ics")
    assert none.status_code == 422 and "exactly one" in none.text
    two = client.get("/feeds/planned.ics", params={"feeder": "F1", "region": "R1"})
    assert two.status_code == 422 and "feeder, region" in two.text
    half = client.get("/feeds/planned.ics", params={"lon": 24.94})
    assert half.status_code == 422
    unknown = client.get("/feeds/planned.ics", params={"feeder": "NO-SUCH-FEEDER"})
    assert unknown.status_code == 404 and "NO-SUCH-FEEDER" in unknown.text
    assert client.get("/feeds/planned.ics", params={"premise": 999999}).status_code == 404
