"""Whole situations through the API: a frozen clock, callers on the demo grid, two crews.

Every step goes through HTTP as the real faces would (customers file reports, the dispatcher
syncs, plans and applies, crews tap their steps, customers read /status); the database is read
only to pick premises and to check what a dispatcher would check on the console.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dispatch.models import Crew
from geo.models import Device, Premise
from outages.topology import load_feeder_tree

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
"""20:00 in Helsinki: the night crews and the round-the-clock crews are on shift."""
Headers = dict[str, str]


def login(client: TestClient, username: str) -> Headers:
    answer = client.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def only_crews(session: Session, codes: dict[str, tuple[dt.time, dt.time]]) -> None:
    """Put exactly these crews on shift (local times), every other crew off shift."""
    session.execute(
        update(Crew)
        .where(Crew.code.not_in(list(codes)))
        .values(shift_start=dt.time(6, 0), shift_end=dt.time(7, 0))
    )
    for code, (start, end) in codes.items():
        session.execute(
            update(Crew).where(Crew.code == code).values(shift_start=start, shift_end=end)
        )
    session.flush()


def premises_below(session: Session, device_code: str) -> list[Premise]:
    """Premises that lose supply when the device opens, in id order."""
    device = session.scalar(select(Device).where(Device.code == device_code))
    assert device is not None, device_code
    tree = load_feeder_tree(session=session, feeder_id=device.feeder_id)
    below = tree.below(device.id)
    return list(
        session.scalars(
            select(Premise).where(Premise.transformer_id.in_(below)).order_by(Premise.id)
        )
    )


def report(
    client: TestClient, premise: Premise, category: str = "no_power", **extra: Any
) -> dict[str, Any]:
    answer = client.post(
        "/api/v1/reports", json={"account": premise.account, "category": category, **extra}
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def sync(client: TestClient, headers: Headers) -> dict[str, Any]:
    answer = client.post("/api/v1/work-orders/sync", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def live_orders(client: TestClient, headers: Headers) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/work-orders?live=true", headers=headers)
    assert answer.status_code == 200, answer.text
    orders: list[dict[str, Any]] = answer.json()
    return orders


def plan_and_apply(client: TestClient, headers: Headers, time_limit_s: float = 2.0) -> dict:
    plan = client.post(
        "/api/v1/dispatch/plan", json={"time_limit_s": time_limit_s}, headers=headers
    )
    assert plan.status_code == 200, plan.text
    applied = client.post(f"/api/v1/dispatch/plans/{plan.json()['id']}/apply", headers=headers)
    assert applied.status_code == 200, applied.text
    body: dict[str, Any] = plan.json()
    return body


def status_of(client: TestClient, premise: Premise) -> dict[str, Any]:
    answer = client.get("/api/v1/status", params={"account": premise.account})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)
