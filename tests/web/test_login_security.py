"""Logins: throttling with growing lockouts and a 429, failures in the audit log, password
and username rules, logout and revocation; and retries that must be safe (Idempotency-Key
reused with another body, Open311 POST retried)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.exceptions import InvalidInput
from geo.login_throttle import FREE_FAILURES
from geo.models import Event, LoginThrottle
from web.deps import get_now

PASSWORD = "security-lantern-41"
REPORT = {"category": "no_power", "address": "Mannerheimintie 1"}


def _login(client: TestClient, username: str, password: str) -> object:
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def test_failed_logins_lock_the_name_out_with_growing_waits(
    client: TestClient, db_session: Session
) -> None:
    create_user(session=db_session, username="throttled", role="agent", password=PASSWORD)
    clock = [dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)]
    client.app.dependency_overrides[get_now] = lambda: clock[0]  # type: ignore[attr-defined]
    for _ in range(FREE_FAILURES["user"]):
        assert _login(client, "throttled", "wrong-guess-1234").status_code == 401  # type: ignore[attr-defined]
    waits = []
    for _ in range(3):
        assert _login(client, "throttled", "wrong-guess-1234").status_code == 401  # type: ignore[attr-defined]
        locked = _login(client, "throttled", PASSWORD)  # even the right password waits
        assert locked.status_code == 429, locked.text  # type: ignore[attr-defined]
        waits.append(int(locked.headers["Retry-After"]))  # type: ignore[attr-defined]
        clock[0] += dt.timedelta(seconds=waits[-1])
    assert waits == sorted(waits) and waits[-1] > waits[0], waits
    assert _login(client, "throttled", PASSWORD).status_code == 200  # type: ignore[attr-defined]
    assert db_session.get(LoginThrottle, "user:throttled") is None  # success clears the name
    failures = db_session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.action == "auth.login_failed", Event.object_id == "throttled")
    )
    assert failures == FREE_FAILURES["user"] + 3


def test_usernames_are_normalized_and_unique(client: TestClient, db_session: Session) -> None:
    user = create_user(
        session=db_session, username="  Night.Desk ", role="agent", password=PASSWORD
    )
    assert user.username == "night.desk"
    for taken in ("night.desk", "NIGHT.DESK", "night.desk  "):
        with pytest.raises(InvalidInput, match="already exists"):
            create_user(session=db_session, username=taken, role="agent", password=PASSWORD)
    with pytest.raises(InvalidInput, match="username"):
        create_user(session=db_session, username="   ", role="agent", password=PASSWORD)
    assert _login(client, " NIGHT.desk", PASSWORD).status_code == 200  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short-1", "at least 12"),
        ("            ", "different characters"),
        ("desk-worker-7", "username"),
        ("Password123456!", "common"),
        ("qwertyuiop123", "common"),
        ("123456789012", "common"),
    ],
)
def test_weak_passwords_are_refused(db_session: Session, password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        create_user(session=db_session, username="desk-worker", role="agent", password=password)


def test_a_crew_user_needs_a_crew(db_session: Session) -> None:
    with pytest.raises(InvalidInput, match="crew"):
        create_user(session=db_session, username="lonely-crew", role="crew", password=PASSWORD)


def test_logout_revokes_every_token_of_the_user(client: TestClient, db_session: Session) -> None:
    create_user(session=db_session, username="leaver", role="dispatcher", password=PASSWORD)
    first, second = (
        {"Authorization": f"Bearer {_login(client, 'leaver', PASSWORD).json()['access_token']}"}  # type: ignore[attr-defined]
        for _ in range(2)
    )
    assert client.get("/api/v1/auth/me", headers=first).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=first).status_code == 204
    for headers in (first, second):
        answer = client.get("/api/v1/auth/me", headers=headers)
        assert answer.status_code == 401
        assert "revoked" in answer.json()["detail"]
    again = {"Authorization": f"Bearer {_login(client, 'leaver', PASSWORD).json()['access_token']}"}  # type: ignore[attr-defined]
    assert client.get("/api/v1/auth/me", headers=again).status_code == 200


def test_an_idempotency_key_reused_with_another_body_is_422(client: TestClient) -> None:
    key = {"Idempotency-Key": "retry-me-1"}
    first = client.post("/api/v1/reports", json=REPORT, headers=key)
    assert first.status_code == 201, first.text
    replay = client.post("/api/v1/reports", json=REPORT, headers=key)
    assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
    other = client.post("/api/v1/reports", json={**REPORT, "category": "flicker"}, headers=key)
    assert other.status_code == 422, other.text
    assert "different report" in other.json()["detail"]
    batch = client.post(
        "/api/v1/reports/batch",
        json={"reports": [{**REPORT, "description": "x", "idempotency_key": "retry-me-1"}]},
    )
    assert batch.status_code == 422, batch.text


def test_open311_post_retries_file_once(client: TestClient) -> None:
    fields = {"service_code": "no_power", "address_string": "Mannerheimintie 1"}
    first = client.post("/open311/v2/requests.json", data=fields)
    retry = client.post("/open311/v2/requests.json", data=fields)
    assert first.status_code == retry.status_code == 200, first.text
    assert first.json()[0]["service_request_id"] == retry.json()[0]["service_request_id"]
    keyed = {"Idempotency-Key": "o311-a"}
    one = client.post(
        "/open311/v2/requests.json", data={**fields, "phone": "+358 1"}, headers=keyed
    )
    two = client.post(
        "/open311/v2/requests.json", data={**fields, "phone": "+358 1"}, headers=keyed
    )
    assert one.json()[0]["service_request_id"] == two.json()[0]["service_request_id"]
    other = client.post(
        "/open311/v2/requests.json", data={**fields, "phone": "+358 2"}, headers=keyed
    )
    assert other.status_code == 400, other.text
