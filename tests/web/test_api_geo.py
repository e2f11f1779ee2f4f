"""The geocode, locate, health and auth endpoints over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Feeder, Premise

PII_FIELDS = {"customer_name", "phone", "account"}


def test_healthz_checks_the_database(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    probe = client.head("/healthz")  # load balancers probe with HEAD
    assert probe.status_code == 200
    assert probe.content == b""


def test_docs_and_openapi(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/geocode", "/api/v1/locate", "/api/v1/auth/token"} <= set(paths)


def test_geocode_finds_stored_address_without_pii(client: TestClient, db_session: Session) -> None:
    premise = db_session.scalars(select(Premise).order_by(Premise.id).limit(1)).one()
    response = client.get("/api/v1/geocode", params={"q": premise.address.lower()})
    assert response.status_code == 200
    matches = response.json()["matches"]
    # OSM has several objects (shops, entrances) at one address: any of them is right.
    top = db_session.get(Premise, matches[0]["premise_id"])
    assert top is not None and top.address_norm == premise.address_norm
    assert matches[0]["method"] == "exact"
    assert set(matches[0]) == {"premise_id", "address", "lon", "lat", "score", "method"}
    assert not PII_FIELDS & set(matches[0])


def test_geocode_no_match_has_hint(client: TestClient) -> None:
    body = client.get("/api/v1/geocode", params={"q": "Zzyzx Qwerty 12345"}).json()
    assert body["matches"] == []
    assert body["hint"]


@pytest.mark.parametrize("q", ["", "x" * 201])
def test_geocode_empty_or_too_long_is_422(client: TestClient, q: str) -> None:
    response = client.get("/api/v1/geocode", params={"q": q})
    assert response.status_code == 422
    assert "q" in str(response.json()["detail"])


def test_locate_inside(client: TestClient, db_session: Session) -> None:
    feeder = db_session.scalars(select(Feeder).order_by(Feeder.id).limit(1)).one()
    point = to_shape(feeder.geom).representative_point()
    body = client.get("/api/v1/locate", params={"lon": point.x, "lat": point.y}).json()
    assert body["feeder"]["id"] == feeder.id
    assert body["region"]["code"]
    assert body["nearest_premise"]["distance_m"] >= 0


def test_locate_outside_is_404_with_message(client: TestClient) -> None:
    response = client.get("/api/v1/locate", params={"lon": 0, "lat": 0})
    assert response.status_code == 404
    assert "outside" in response.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"lon": 24.9, "lat": 91},
        {"lon": 181, "lat": 60},
        {"lon": "nan", "lat": 60},
        {"lon": "east", "lat": 60},
        {"lat": 60},
    ],
)
def test_locate_invalid_coordinates_is_422(client: TestClient, params: dict[str, object]) -> None:
    response = client.get("/api/v1/locate", params=params)
    assert response.status_code == 422


def test_login_and_me(client: TestClient, db_session: Session) -> None:
    create_user(
        session=db_session, username="disp-test", role="dispatcher", password="s3cret-lantern-pass"
    )
    token = client.post(
        "/api/v1/auth/token", data={"username": "disp-test", "password": "s3cret-lantern-pass"}
    ).json()
    assert token["role"] == "dispatcher"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.json()["username"] == "disp-test"


def test_wrong_password_is_401(client: TestClient, db_session: Session) -> None:
    create_user(
        session=db_session, username="agent-test", role="agent", password="right-lantern-pass"
    )
    response = client.post(
        "/api/v1/auth/token", data={"username": "agent-test", "password": "wrong-lantern-pass"}
    )
    assert response.status_code == 401
    assert "wrong username or password" in response.json()["detail"]


def test_bad_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert client.get("/api/v1/auth/me").status_code == 401
