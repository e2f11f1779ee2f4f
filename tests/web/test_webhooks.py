"""Partner webhooks: admin registration, signed deliveries to a real loopback receiver,
retries with backoff after a failure, the delivery log, and the events of the outage feed."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.cycle import run_cycle
from outages.feeds.signing import sign, verify
from outages.notify import LoggingSender
from outages.service import open_outage, restore_outage
from tests.web.feed_helpers import (
    NOW,
    Receiver,
    fuse_outage,
    receiver_fixture,  # noqa: F401 (the receiver fixture)
    staff_header,
)
from web.settings import Settings


@pytest.fixture
def admin(db_session: Session, settings: Settings) -> dict[str, str]:
    return staff_header(db_session, settings, "admin")


def _register(client: TestClient, admin: dict[str, str], receiver: Receiver, **extra: Any) -> int:
    answer = client.post("/api/v1/webhooks", json={"url": receiver.url, **extra}, headers=admin)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    receiver.secret = created["secret"]
    assert len(created["secret"]) >= 32
    return int(created["id"])


def _cycle(session: Session, settings: Settings, now: dt.datetime) -> None:
    run_cycle(session=session, now=now, settings=settings, sender=LoggingSender())


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"id":"x"}'
    header = sign("k", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify("k", body, header, now=1_700_000_100)
    assert not verify("other", body, header, now=1_700_000_100)  # wrong secret
    assert not verify("k", body + b" ", header, now=1_700_000_100)  # changed body
    assert not verify("k", body, header, now=1_700_000_000 + 301)  # replayed too late
    assert not verify("k", body, "garbage", now=1_700_000_000)


def test_admin_registers_lists_tests_and_deletes(
    client: TestClient, admin: dict[str, str], receiver: Receiver
) -> None:
    webhook_id = _register(client, admin, receiver, description="county emergency desk")
    listed = client.get("/api/v1/webhooks", headers=admin).json()
    assert [w["id"] for w in listed] == [webhook_id]
    assert "secret" not in listed[0] and listed[0]["events"] == []
    tested = client.post(f"/api/v1/webhooks/{webhook_id}/test", headers=admin)
    assert tested.status_code == 200, tested.text
    assert tested.json()["status"] == "delivered" and tested.json()["last_status_code"] == 200
    assert receiver.received[-1]["event"] == "ping" and receiver.received[-1]["signed"]
    assert not receiver.received[-1]["fresh_check"]  # a stale signature is refused
    log = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()
    assert [d["event"] for d in log] == ["ping"] and len(log[0]["log"]) == 1
    assert client.delete(f"/api/v1/webhooks/{webhook_id}", headers=admin).status_code == 204
    assert client.get("/api/v1/webhooks", headers=admin).json() == []
    gone = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin)
    assert gone.status_code == 404


def test_registration_refuses_bad_urls_and_events(
    client: TestClient, admin: dict[str, str]
) -> None:
    for body, word in (
        ({"url": "ftp://example.org/x"}, "http"),
        ({"url": "not a url at all"}, "http"),
        ({"url": "https://example.org/x", "events": ["outage.exploded"]}, "outage.exploded"),
    ):
        answer = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert answer.status_code == 422 and word in answer.text, answer.text


def test_failed_delivery_is_retried_with_backoff_and_logged(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    admin: dict[str, str],
    receiver: Receiver,
) -> None:
    webhook_id = _register(client, admin, receiver)
    _cycle(db_session, settings, NOW)  # the feed's starting state: nothing yet
    outage = fuse_outage(db_session, settings)
    receiver.answers = [503]
    _cycle(db_session, settings, NOW)
    assert [r["event"] for r in receiver.received] == ["outage.started"]
    first = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()[0]
    assert first["status"] == "pending" and first["attempts"] == 1
    assert first["last_status_code"] == 503
    retry_at = dt.datetime.fromisoformat(first["next_attempt_at"])
    assert retry_at == NOW + dt.timedelta(seconds=settings.webhook_retry_base_s)
    # Not due yet: nothing is sent.
    _cycle(db_session, settings, NOW + dt.timedelta(seconds=settings.webhook_retry_base_s - 1))
    assert len(receiver.received) == 1
    _cycle(db_session, settings, retry_at)
    assert len(receiver.received) == 2 and all(r["signed"] for r in receiver.received)
    delivered = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()[0]
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    assert [a["status_code"] for a in delivered["log"]] == [503, 200]
    payload = receiver.received[-1]["body"]
    assert payload["type"] == "outage.started"
    assert payload["feature"]["id"] == f"outage-{outage.id}"
    assert payload["feature"]["properties"]["customers_out"] == outage.customers_affected
    assert "critical" not in json.dumps(payload)


def test_feed_changes_become_started_updated_ended_events(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    admin: dict[str, str],
    receiver: Receiver,
) -> None:
    _register(client, admin, receiver, events=["outage.started", "outage.ended"])
    _cycle(db_session, settings, NOW)
    outage = fuse_outage(db_session, settings)
    _cycle(db_session, settings, NOW)
    _cycle(db_session, settings, NOW + dt.timedelta(seconds=15))  # no change: no event
    device = db_session.execute(
        text("SELECT code FROM device WHERE id = :d"), {"d": outage.device_id}
    ).scalar_one()
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=device,
        settings=settings,
        now=NOW + dt.timedelta(minutes=40),
        actor="crew",
    )
    _cycle(db_session, settings, NOW + dt.timedelta(minutes=40))
    assert [r["event"] for r in receiver.received] == ["outage.started", "outage.ended"]
    assert receiver.received[1]["body"]["feature"]["id"] == f"outage-{outage.id}"


def test_unreachable_endpoint_gives_up_after_the_last_attempt(
    client: TestClient, db_session: Session, settings: Settings, admin: dict[str, str]
) -> None:
    answer = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/closed"}, headers=admin
    )
    webhook_id = answer.json()["id"]
    few = settings.model_copy(update={"webhook_max_attempts": 2, "webhook_retry_base_s": 10})
    _cycle(db_session, few, NOW)
    fuse_outage(db_session, few)
    _cycle(db_session, few, NOW)
    _cycle(db_session, few, NOW + dt.timedelta(seconds=10))
    delivery = client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=admin).json()[0]
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert delivery["last_status_code"] is None and "Error" in delivery["last_error"]


def test_a_partner_registered_in_a_storm_hears_what_changes_from_then_on(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    admin: dict[str, str],
    receiver: Receiver,
) -> None:
    """Cycles with no webhook compute no feed; the first registration snapshots it, so the
    partner is not told that the outage already out "started", but hears the next one start
    and the first one end."""
    first = fuse_outage(db_session, settings)
    _cycle(db_session, settings, NOW)
    _cycle(db_session, settings, NOW + dt.timedelta(seconds=15))
    assert db_session.scalar(text("SELECT count(*) FROM feed_item_state")) == 0
    _register(client, admin, receiver)
    states = db_session.scalars(text("SELECT item_id FROM feed_item_state")).all()
    assert states == [f"outage-{first.id}"]
    _cycle(db_session, settings, NOW + dt.timedelta(seconds=30))
    assert receiver.received == []
    other = db_session.execute(
        text(
            "SELECT code FROM device WHERE kind = 'transformer' AND feeder_id <> :f "
            "ORDER BY id LIMIT 1"
        ),
        {"f": first.feeder_id},
    ).scalar_one()
    second = open_outage(
        session=db_session,
        device_code=other,
        cause="equipment",
        confirmed=True,
        settings=settings,
        now=NOW + dt.timedelta(minutes=5),
        actor="dispatcher",
    )
    _cycle(db_session, settings, NOW + dt.timedelta(minutes=5))
    device = db_session.execute(
        text("SELECT code FROM device WHERE id = :d"), {"d": first.device_id}
    ).scalar_one()
    restore_outage(
        session=db_session,
        outage=first,
        device_code=device,
        settings=settings,
        now=NOW + dt.timedelta(minutes=40),
        actor="crew",
    )
    _cycle(db_session, settings, NOW + dt.timedelta(minutes=40))
    heard = [(r["body"]["type"], r["body"]["feature"]["id"]) for r in receiver.received]
    assert ("outage.started", f"outage-{second.id}") in heard
    assert ("outage.ended", f"outage-{first.id}") in heard
    assert ("outage.started", f"outage-{first.id}") not in heard
