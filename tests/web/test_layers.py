"""The GeoJSON map layers over HTTP: shape, content, privacy, the bbox filter and errors."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.layers import FEEDER_PALETTE, LAYERS
from geo.models import Feeder
from outages.layers import LAYERS as OUTAGE_LAYERS
from tests.dispatch.helpers import login

GEOMETRY_TYPES = {
    "roads": {"LineString"},
    "feeders": {"MultiPolygon"},
    "devices": {"Point"},
    "segments": {"LineString"},
    "premises": {"Point"},
    "substations": {"Point"},
    "regions": {"MultiPolygon"},
    "crews": {"Point"},
}
PII_FIELDS = {"customer_name", "phone", "account"}


def get_layer(client: TestClient, name: str, **params: str) -> dict[str, Any]:
    """A layer as the console reads it: staff-only layers with a dispatcher's login."""
    spec = {**LAYERS, **OUTAGE_LAYERS}[name]
    headers = login(client, "dispatcher") if spec.staff_only else {}
    response = client.get(f"/api/v1/layers/{name}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body: dict[str, Any] = response.json()
    return body


def test_layer_list_names_every_layer(client: TestClient) -> None:
    assert set(LAYERS) == set(GEOMETRY_TYPES)
    # The intake layers are listed too (tested in tests/web/test_layers_intake.py).
    assert set(client.get("/api/v1/layers").json()) == set(LAYERS) | set(OUTAGE_LAYERS)


@pytest.mark.parametrize("name", sorted(GEOMETRY_TYPES))
def test_layer_is_valid_geojson_in_lon_lat(client: TestClient, name: str) -> None:
    collection = get_layer(client, name)
    assert collection["type"] == "FeatureCollection"
    assert collection["features"], f"layer {name} is empty"
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert isinstance(feature["properties"], dict)
        assert feature["geometry"]["type"] in GEOMETRY_TYPES[name]
        geom = shape(feature["geometry"])
        assert geom.is_valid, (name, feature["id"], shapely.is_valid_reason(geom))
        minx, miny, maxx, maxy = geom.bounds
        # Helsinki: lon about 25, lat about 60; swapped axes would put lon near 60.
        assert 24 < minx <= maxx < 26 and 59.5 < miny <= maxy < 60.5


def test_feeders_have_stable_colours_and_customer_counts(
    client: TestClient, db_session: Session
) -> None:
    features = get_layer(client, "feeders")["features"]
    stored = db_session.scalar(select(func.count()).select_from(Feeder))
    assert len(features) == stored >= 3
    for f in features:
        props = f["properties"]
        assert {"id", "code", "name", "color", "region", "customers"} <= set(props)
        assert props["color"] in FEEDER_PALETTE
        assert props["customers"] > 0
    assert features == get_layer(client, "feeders")["features"]


def test_devices_and_premises_carry_their_feeder(client: TestClient) -> None:
    feeders = {f["properties"]["code"] for f in get_layer(client, "feeders")["features"]}
    devices = get_layer(client, "devices")["features"]
    assert {d["properties"]["feeder"] for d in devices} <= feeders
    assert {"id", "code", "kind", "feeder", "upstream_id", "normally_open"} <= set(
        devices[0]["properties"]
    )
    premises = get_layer(client, "premises")["features"]
    assert {p["properties"]["feeder"] for p in premises} - {None} <= feeders


def test_premises_carry_no_personal_data(client: TestClient) -> None:
    # Even for staff: the critical flag, never the customer's name, phone or account.
    for feature in get_layer(client, "premises")["features"]:
        assert set(feature["properties"]) == {"id", "address", "feeder", "critical"}
        assert not PII_FIELDS & set(feature["properties"])


def test_bbox_keeps_only_features_meeting_the_box(client: TestClient) -> None:
    everything = get_layer(client, "premises")["features"]
    lons = [f["geometry"]["coordinates"][0] for f in everything]
    lats = [f["geometry"]["coordinates"][1] for f in everything]
    box = (min(lons), min(lats), statistics.median(lons), statistics.median(lats))
    bbox = ",".join(f"{v:.6f}" for v in box)

    inside = get_layer(client, "premises", bbox=bbox)["features"]
    assert 0 < len(inside) < len(everything)
    for f in inside:
        lon, lat = f["geometry"]["coordinates"]
        assert box[0] <= lon <= box[2] and box[1] <= lat <= box[3]
    for name in ("roads", "feeders"):
        assert len(get_layer(client, name, bbox=bbox)["features"]) <= len(
            get_layer(client, name)["features"]
        )
    assert get_layer(client, "premises", bbox="0,0,1,1")["features"] == []


def test_unknown_layer_is_404_naming_the_known_ones(client: TestClient) -> None:
    response = client.get("/api/v1/layers/customers")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert all(name in detail for name in LAYERS)


@pytest.mark.parametrize(
    "bbox", ["", "1,2,3", "a,b,c,d", "24.9,60.1,24.8,60.2", "0,0,200,1", "nan,0,1,1", "1,2,3,4,5"]
)
def test_malformed_bbox_is_422(client: TestClient, bbox: str) -> None:
    response = client.get("/api/v1/layers/roads", params={"bbox": bbox})
    assert response.status_code == 422
    assert "minlon,minlat,maxlon,maxlat" in response.json()["detail"]


def test_premises_crews_and_critical_flags_are_for_staff_only(
    client: TestClient, db_session: Session
) -> None:
    from dispatch.models import Crew
    from geo.auth import create_user
    from geo.models import point

    crew = db_session.scalars(select(Crew).order_by(Crew.id).limit(1)).one()
    crew.geom = point(24.95, 60.17)
    db_session.flush()
    for name in ("premises", "crews"):
        anonymous = client.get(f"/api/v1/layers/{name}")
        assert anonymous.status_code == 401, anonymous.text
        assert "for staff" in anonymous.json()["detail"]
        assert "features" not in anonymous.text
        stale = client.get(f"/api/v1/layers/{name}", headers={"Authorization": "Bearer forged"})
        assert stale.status_code == 401
        as_crew = client.get(f"/api/v1/layers/{name}", headers=login(client, "crew01"))
        assert as_crew.status_code == 403, as_crew.text
    # The public territory layers stay open, a stale login does not break them.
    roads = client.get("/api/v1/layers/roads", headers={"Authorization": "Bearer forged"})
    assert roads.status_code == 200

    create_user(
        session=db_session, username="layers-staff", role="agent", password="lantern-quartz-41"
    )
    token = client.post(
        "/api/v1/auth/token", data={"username": "layers-staff", "password": "lantern-quartz-41"}
    ).json()["access_token"]
    staff = {"Authorization": f"Bearer {token}"}
    premises = client.get("/api/v1/layers/premises", headers=staff).json()["features"]
    assert any(f["properties"]["critical"] for f in premises)
    crews = client.get("/api/v1/layers/crews", headers=staff).json()["features"]
    assert next(f for f in crews if f["id"] == crew.id)["geometry"]["coordinates"] == [
        24.95,
        60.17,
    ]
