"""A status lookup by account does not tell an anonymous caller where the account lives.

An account number is on a bill, a letter, a screenshot: whoever holds one must learn the
power status there, not the address, the premise id or the point of the home. Staff on the
hotline (agent, supervisor, admin) see them; a lookup by address may echo the matched
address (the caller typed it).
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Device, Premise
from geo.normalize import normalize_address
from outages.service import open_outage
from web.deps import issue_token
from web.settings import Settings

PLACE = ("address", "premise_id", "lon", "lat")


@pytest.fixture
def dark(db_session: Session, settings: Settings) -> Premise:
    """A demo premise inside a confirmed outage (the answer then says the most)."""
    premise = db_session.scalars(
        select(Premise)
        .where(Premise.transformer_id.is_not(None), Premise.critical.is_(None))
        .order_by(Premise.id)
        .limit(1)
    ).one()
    transformer = db_session.get(Device, premise.transformer_id)
    assert transformer is not None
    open_outage(
        session=db_session,
        device_code=transformer.code,
        cause="weather",
        confirmed=True,
        settings=settings,
        now=dt.datetime.now(dt.UTC),
        actor="dispatcher",
    )
    db_session.flush()
    return premise


def _headers(db_session: Session, settings: Settings, role: str) -> dict[str, str]:
    user = create_user(
        session=db_session, username=f"place-{role}", role=role, password="place-lantern-41"
    )
    return {"Authorization": f"Bearer {issue_token(user, settings)}"}


def _status(client: TestClient, headers: dict[str, str] | None = None, **params: object) -> dict:
    answer = client.get("/api/v1/status", params=params, headers=headers or {})
    assert answer.status_code == 200, answer.text
    body: dict = answer.json()
    return body


def test_anonymous_status_by_account_hides_the_place(
    client: TestClient, dark: Premise, db_session: Session, settings: Settings
) -> None:
    point = to_shape(dark.geom)
    bad_token = {"Authorization": "Bearer not-a-token"}  # a stale login reads as anonymous
    for headers in (None, bad_token, _headers(db_session, settings, "dispatcher")):
        body = _status(client, headers, account=dark.account)
        assert body["state"] == "outage" and body["known_outage"], body
        assert body["crew_stage"] == "waiting" and body["etr_latest"] is not None
        assert [body[k] for k in PLACE] == [None, None, None, None], body
        text = client.get(
            "/api/v1/status", params={"account": dark.account}, headers=headers or {}
        ).text
        street = dark.address.split(",")[0]
        lon, lat = (f"{v:.7f}"[:-2] for v in (point.x, point.y))  # to about 1 m, truncated
        assert street not in text and lon not in text and lat not in text, text


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_staff_status_by_account_shows_the_place(
    client: TestClient, dark: Premise, db_session: Session, settings: Settings, role: str
) -> None:
    point = to_shape(dark.geom)
    body = _status(client, _headers(db_session, settings, role), account=dark.account)
    assert body["state"] == "outage"
    assert (body["address"], body["premise_id"]) == (dark.address, dark.id)
    assert (body["lon"], body["lat"]) == pytest.approx((point.x, point.y))


def test_lookup_by_address_still_echoes_the_matched_address(
    client: TestClient, dark: Premise
) -> None:
    body = _status(client, address=dark.address)
    assert body["state"] == "outage"
    assert normalize_address(body["address"]).full == dark.address_norm
    point = to_shape(dark.geom)
    at_point = _status(client, lon=point.x, lat=point.y)
    assert at_point["state"] == "outage"
    assert (at_point["lon"], at_point["lat"]) == pytest.approx((point.x, point.y))
