"""The intake layers over HTTP after a small storm: valid GeoJSON, the expected features, no PII."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from outages.layers import LAYERS
from outages.models import Report
from scenarios.storm import StormSummary, play_storm
from tests.dispatch.helpers import login
from web.settings import Settings

GEOMETRY_TYPES: dict[str, set[str | None]] = {
    "outages": {"Polygon", "MultiPolygon"},
    "outage_premises": {"Point"},
    "reports": {"Point"},
    "planned": {"Polygon", "MultiPolygon"},
    "unlocated": {None},
}
PII_FIELDS = {
    "phone",
    "caller_phone",
    "customer_name",
    "account",
    "caller_account",
    "address_text",
    "description",
}


@pytest.fixture
def storm(db_session: Session, settings: Settings) -> StormSummary:
    # The real clock: the reports layer keeps the last 24 h by the database's clock.
    now = dt.datetime.now(dt.UTC)
    return play_storm(session=db_session, settings=settings, now=now, seed=3, reports=40)


def get_layer(client: TestClient, name: str, **params: str) -> dict[str, Any]:
    """A layer as the console reads it: staff-only layers with a dispatcher's login."""
    headers = login(client, "dispatcher") if LAYERS[name].staff_only else {}
    response = client.get(f"/api/v1/layers/{name}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    assert "+358" not in response.text  # no phone number anywhere, whatever the key
    body: dict[str, Any] = response.json()
    return body


def test_intake_layers_are_listed(client: TestClient) -> None:
    listed = client.get("/api/v1/layers").json()
    assert set(LAYERS) == set(GEOMETRY_TYPES) <= set(listed)
    assert "roads" in listed  # the territory layers are still there


def test_intake_layers_are_valid_geojson_without_pii(
    client: TestClient, storm: StormSummary
) -> None:
    for name, types in GEOMETRY_TYPES.items():
        collection = get_layer(client, name)
        assert collection["type"] == "FeatureCollection"
        assert collection["features"], f"layer {name} is empty after a storm"
        for feature in collection["features"]:
            assert feature["type"] == "Feature"
            assert not PII_FIELDS & set(feature["properties"]), (name, feature["properties"])
            geometry = feature["geometry"]
            assert (geometry and geometry["type"]) in types, (name, geometry)
            if geometry is not None:
                geom = shape(geometry)
                assert geom.is_valid, (name, feature["id"], shapely.is_valid_reason(geom))
                minx, miny, maxx, maxy = geom.bounds
                assert 24 < minx <= maxx < 26 and 59.5 < miny <= maxy < 60.5


def test_outage_layers_show_the_rolled_up_outage(client: TestClient, storm: StormSummary) -> None:
    outages = {f["id"]: f for f in get_layer(client, "outages")["features"]}
    main = storm.outages[0]
    feature = outages[main.id]
    props = feature["properties"]
    assert props["device"] == main.device
    assert props["device_kind"] == main.device_kind
    assert props["customers_affected"] == main.customers_affected
    assert props["report_count"] == main.report_count > 0
    assert props["status"] in ("suspected", "confirmed")
    assert dt.datetime.fromisoformat(props["etr"]) == storm.etr_after
    assert props["rule"] == props["explanation"]["rule"]
    assert "reports" not in props["explanation"]  # counts, not hundreds of ids

    premises = get_layer(client, "outage_premises")["features"]
    mine = [f for f in premises if f["properties"]["outage_id"] == main.id]
    assert len(mine) == main.customers_affected
    area = shape(feature["geometry"])
    assert all(area.covers(shape(f["geometry"])) for f in mine)


def test_reports_layer_has_every_located_storm_report(
    client: TestClient, storm: StormSummary, db_session: Session
) -> None:
    located = dict(
        db_session.execute(
            select(Report.id, Report.classification).where(
                Report.id.in_(storm.report_ids), Report.geom.is_not(None)
            )
        ).all()
    )
    features = {f["id"]: f["properties"] for f in get_layer(client, "reports")["features"]}
    assert located.keys() <= features.keys()
    assert all(features[i]["classification"] == c for i, c in located.items())
    classes = {features[i]["classification"] for i in located}
    assert {"known", "planned"} <= classes
    hazards = [features[i] for i in located if features[i]["category"] == "wire_down"]
    assert all(p["hazard"] for p in hazards)


def test_planned_layer_covers_its_premises(
    client: TestClient, storm: StormSummary, db_session: Session
) -> None:
    features = {f["id"]: f for f in get_layer(client, "planned")["features"]}
    feature = features[storm.planned_outage_id]
    assert feature["properties"]["reason"] == "transformer replacement"
    assert feature["properties"]["customers_affected"] == storm.planned_customers
    assert feature["properties"]["active_now"] is True
    area = shape(feature["geometry"])
    points = db_session.execute(
        text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM planned_outage_premise pp "
            "JOIN premise p ON p.id = pp.premise_id WHERE pp.planned_outage_id = :p"
        ),
        {"p": storm.planned_outage_id},
    ).all()
    assert len(points) == storm.planned_customers
    assert all(area.covers(Point(x, y)) for x, y in points)


def test_unlocated_layer_is_the_queue(
    client: TestClient, storm: StormSummary, db_session: Session
) -> None:
    queued = set(
        db_session.scalars(
            select(Report.id).where(
                Report.id.in_(storm.report_ids), Report.classification == "unlocated"
            )
        )
    )
    assert len(queued) >= 2
    features = get_layer(client, "unlocated")["features"]
    assert queued <= {f["id"] for f in features}
    assert all(f["geometry"] is None for f in features)
    # A box selects by geometry, and the queue has none.
    assert get_layer(client, "unlocated", bbox="24.9,60.1,25.0,60.2")["features"] == []


def test_reports_bbox_filter(client: TestClient, storm: StormSummary) -> None:
    everything = get_layer(client, "reports")["features"]
    lons = sorted(f["geometry"]["coordinates"][0] for f in everything)
    west = f"24.0,59.9,{lons[len(lons) // 2]},60.5"
    some = get_layer(client, "reports", bbox=west)["features"]
    assert 0 < len(some) < len(everything)
