"""Crews as GeoJSON (shifts across midnight, live positions) and appointment slots."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import WorkOrder
from tests.dispatch.helpers import NOW, crew, frozen, login, sync
from tests.outages.helpers import file, fuse_with_transformers, premises_of
from web.settings import Settings

UTC = dt.UTC


def _on_shift(client: TestClient, at: dt.datetime) -> dict[str, bool]:
    with frozen(client, at):
        answer = client.get("/api/v1/crews", headers=login(client, "dispatcher"))
    assert answer.status_code == 200, answer.text
    return {f["properties"]["code"]: f["properties"]["on_shift"] for f in answer.json()["features"]}


def test_crews_geojson_shape(client: TestClient) -> None:
    answer = client.get("/api/v1/crews", headers=login(client, "agent"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 8
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert 24 < lon < 26 and 59 < lat < 61, "lon/lat order (RFC 7946), Helsinki"
        props = feature["properties"]
        assert props["position_source"] == "depot" and props["skills"]
        assert props["status"] == "available" and props["current_order_id"] is None
    assert client.get("/api/v1/crews").status_code == 401


def test_on_shift_across_midnight(client: TestClient) -> None:
    # Helsinki is UTC+2 in November: 20:00, 02:30 and 12:00 local time.
    evening = _on_shift(client, dt.datetime(2026, 11, 23, 18, 0, tzinfo=UTC))
    night = _on_shift(client, dt.datetime(2026, 11, 24, 0, 30, tzinfo=UTC))
    noon = _on_shift(client, dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    for shifts in (evening, night):
        assert shifts["CREW-05"] and shifts["CREW-06"], "night shift 19:00-07:00"
        assert not shifts["CREW-01"], "day shift 07:00-19:00"
    assert noon["CREW-01"] and not noon["CREW-05"]
    assert evening["CREW-07"] and night["CREW-07"] and noon["CREW-07"]


def test_crew_posts_its_own_position_only(client: TestClient, db_session: Session) -> None:
    crew01, crew02 = crew(db_session, "CREW-01"), crew(db_session, "CREW-02")
    own = login(client, "crew01")
    with frozen(client, NOW):
        posted = client.post(
            f"/api/v1/crews/{crew01.id}/position", json={"lon": 24.95, "lat": 60.17}, headers=own
        )
    assert posted.status_code == 204, posted.text
    other = client.post(
        f"/api/v1/crews/{crew02.id}/position", json={"lon": 24.95, "lat": 60.17}, headers=own
    )
    assert other.status_code == 403
    agent = client.post(
        f"/api/v1/crews/{crew02.id}/position",
        json={"lon": 24.95, "lat": 60.17},
        headers=login(client, "agent"),
    )
    assert agent.status_code == 403
    bad = client.post(
        f"/api/v1/crews/{crew01.id}/position", json={"lon": 240, "lat": 60.17}, headers=own
    )
    assert bad.status_code == 422
    features = client.get("/api/v1/crews", headers=own).json()["features"]
    [mine] = [f for f in features if f["properties"]["code"] == "CREW-01"]
    assert mine["geometry"]["coordinates"] == [24.95, 60.17]
    assert mine["properties"]["position_source"] == "live"


def _fault_order(db_session: Session, settings: Settings) -> WorkOrder:
    premise = premises_of(db_session, fuse_with_transformers(db_session)[1][0])[0]
    answer = file(db_session, settings, account=premise.account, category="flicker")
    sync(db_session, settings)
    order = db_session.scalars(select(WorkOrder).where(WorkOrder.report_id == answer.id)).one()
    assert order.kind == "fault" and order.priority == 4
    return order


def test_appointment_slots_are_validated(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _fault_order(db_session, settings)
    url = f"/api/v1/work-orders/{order.id}/appointment"
    agent = login(client, "agent")

    def book(start: str, end: str) -> tuple[int, dict[str, object]]:
        with frozen(client, NOW):
            answer = client.post(url, json={"start_at": start, "end_at": end}, headers=agent)
        return answer.status_code, answer.json()

    assert book("2026-11-23T15:00:00+02:00", "2026-11-23T17:00:00+02:00")[0] == 422  # past
    assert book("2026-11-24T08:00:00+02:00", "2026-11-24T13:00:00+02:00")[0] == 422  # 5 h
    assert book("2026-11-24T17:00:00+02:00", "2026-11-24T19:00:00+02:00")[0] == 422  # after 18
    assert book("2026-11-24T11:00:00+02:00", "2026-11-24T10:00:00+02:00")[0] == 422  # reversed
    assert book("2026-11-24T09:00:00", "2026-11-24T11:00:00")[0] == 422  # no offset
    status, body = book("2026-11-24T09:00:00+02:00", "2026-11-24T11:00:00+02:00")
    assert status == 200, body
    end = dt.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert dt.datetime.fromisoformat(str(body["appointment_end_at"])) == end
    assert dt.datetime.fromisoformat(str(body["onsite_due_at"])) == end
    crew_headers = login(client, "crew01")
    assert (
        client.post(
            url,
            json={"start_at": "2026-11-24T09:00:00+02:00", "end_at": "2026-11-24T10:00:00+02:00"},
            headers=crew_headers,
        ).status_code
        == 403
    )


def test_urgent_orders_are_not_booked(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    premise = premises_of(db_session, fuse_with_transformers(db_session)[1][0])[0]
    answer = file(db_session, settings, account=premise.account, category="wire_down")
    sync(db_session, settings)
    hazard = db_session.scalars(
        select(WorkOrder).where(WorkOrder.outage_id == answer.outage_id)
    ).one()
    assert hazard.priority == 1, "a wire down is urgent"
    with frozen(client, NOW):
        booked = client.post(
            f"/api/v1/work-orders/{hazard.id}/appointment",
            json={"start_at": "2026-11-24T09:00:00+02:00", "end_at": "2026-11-24T10:00:00+02:00"},
            headers=login(client, "dispatcher"),
        )
    assert booked.status_code == 422
    assert "urgent" in booked.json()["detail"]
