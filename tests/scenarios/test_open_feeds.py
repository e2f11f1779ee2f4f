"""A storm evening as the open feeds tell it, through the API on a frozen clock.

A county desk registers a webhook; the dispatcher announces planned work for Thursday and
opens an outage on a fuse from SCADA. The public sees both in the GeoJSON feed and in CAP
(the outage is major for this utility), a customer's calendar shows the planned work, and
the partner hears the outage start. The crew restores it: within a minute the feed is
empty, the CAP alert is gone, the partner hears the end, and a console asking ``since=``
gets the outage's id under ``removed``.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from icalendar import Calendar
from lxml import etree
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.cycle import run_cycle
from geo.models import Premise
from outages.models import PlannedOutagePremise
from outages.notify import LoggingSender
from tests.outages.helpers import fuse_with_transformers
from tests.web.feed_helpers import (
    Clock,
    Receiver,
    clock_fixture,  # noqa: F401 (the clock fixture)
    receiver_fixture,  # noqa: F401 (the receiver fixture)
    staff_header,
)
from tests.web.test_feed_cap import SCHEMA_PATH
from web.settings import Settings

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}


def test_storm_evening_through_the_open_feeds(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    clock: Clock,
    receiver: Receiver,
) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))
    # Major from 50 customers out, for this utility.
    client.app.state.settings = settings.model_copy(update={"cap_major_customers": 50})  # type: ignore[attr-defined]
    admin = staff_header(db_session, settings, "admin")
    dispatcher = staff_header(db_session, settings, "dispatcher")
    hook = client.post("/api/v1/webhooks", json={"url": receiver.url}, headers=admin).json()
    receiver.secret = hook["secret"]
    run_cycle(session=db_session, now=clock.now, settings=settings, sender=LoggingSender())

    # Planned work on Thursday, announced now (within the 7-day notice window).
    transformer = db_session.execute(
        text("SELECT code FROM device WHERE kind = 'transformer' ORDER BY id LIMIT 1")
    ).scalar_one()
    starts = clock.now + dt.timedelta(days=3)
    planned = client.post(
        "/api/v1/planned-outages",
        json={
            "reason": "cable replacement",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + dt.timedelta(hours=3)).isoformat(),
            "devices": [transformer],
        },
        headers=dispatcher,
    )
    assert planned.status_code == 201, planned.text
    planned_id = planned.json()["id"]

    # A fuse opens; the dispatcher puts the outage on it from SCADA.
    fuse, _ = fuse_with_transformers(db_session)
    opened = client.post(
        "/api/v1/outages", json={"device": fuse.code, "cause": "tree"}, headers=dispatcher
    )
    assert opened.status_code == 201, opened.text
    outage_id, customers = opened.json()["id"], opened.json()["customers_affected"]
    assert customers >= 50

    feed = client.get("/feeds/outages.geojson").json()
    assert [f["id"] for f in feed["features"]] == [f"outage-{outage_id}"]
    assert feed["features"][0]["properties"]["customers_out"] == customers
    console_cursor = client.get(
        "/api/v1/layers/outages", params={"since": "0"}, headers=dispatcher
    ).json()["cursor"]

    index = etree.fromstring(client.get("/feeds/cap.xml").content)
    keys = sorted(
        link.get("href", "").rsplit("/", 1)[1]
        for link in index.iterfind("atom:entry/atom:link", NS)
    )
    assert keys == [f"outage-{outage_id}.xml", f"planned-{planned_id}.xml"]
    for key in keys:
        doc = etree.fromstring(client.get(f"/feeds/cap/{key}").content)
        schema.assertValid(doc)

    # A customer under the planned work subscribes by address.
    premise = db_session.scalars(
        select(Premise)
        .join(PlannedOutagePremise, PlannedOutagePremise.premise_id == Premise.id)
        .where(PlannedOutagePremise.planned_outage_id == planned_id)
    ).first()
    assert premise is not None
    ics = client.get("/feeds/planned.ics", params={"address": premise.address})
    events = list(Calendar.from_ical(ics.content).walk("VEVENT"))
    assert [e.decoded("DTSTART") for e in events] == [starts]

    run_cycle(session=db_session, now=clock.now, settings=settings, sender=LoggingSender())
    assert [r["event"] for r in receiver.received] == ["outage.started"]
    assert receiver.received[0]["signed"]

    # 40 minutes later the crew closes the fuse.
    clock.step(40 * 60)
    restored = client.patch(
        f"/api/v1/outages/{outage_id}",
        json={"action": "restore", "device": fuse.code, "reason": "tree cleared"},
        headers=dispatcher,
    )
    assert restored.status_code == 200, restored.text
    clock.step(settings.feed_cache_s)
    assert client.get("/feeds/outages.geojson").json()["features"] == []
    assert client.get(f"/feeds/cap/outage-{outage_id}.xml").status_code == 404
    delta = client.get(
        "/api/v1/layers/outages", params={"since": console_cursor}, headers=dispatcher
    ).json()
    assert delta["full"] is False and delta["removed"] == [str(outage_id)]
    run_cycle(session=db_session, now=clock.now, settings=settings, sender=LoggingSender())
    assert [r["event"] for r in receiver.received] == ["outage.started", "outage.ended"]
    log = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin).json()
    assert {d["status"] for d in log} == {"delivered"}
