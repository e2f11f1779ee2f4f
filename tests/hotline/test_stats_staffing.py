"""Next week's forecast and staffing from the call records, through the API."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline.models import Call
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement
from tests.dispatch.helpers import login
from web.deps import get_now
from web.settings import Settings

NOW = dt.datetime(2026, 4, 20, 10, 0, tzinfo=dt.UTC)


def test_forecast_and_agents_per_region(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    region_id = db_session.scalar(select(Region.id).where(Region.code == "HEL-R1"))
    rng = np.random.default_rng(3)
    start = NOW - dt.timedelta(weeks=3)
    calls = []
    for hour in range(3 * 168):
        at = start + dt.timedelta(hours=hour)
        busy = 8 if 8 <= (at.hour + 2) % 24 <= 20 else 1
        for k in range(int(rng.poisson(busy))):
            ivr = k % 5 == 0
            calls.append(
                Call(
                    channel="phone",
                    status="wrapped",
                    region_id=region_id,
                    started_at=at + dt.timedelta(minutes=k),
                    answered_at=at + dt.timedelta(minutes=k, seconds=15),
                    queue_wait_s=15,
                    answered_by="ivr" if ivr else "agent",
                    created_by="test",
                )
            )
    db_session.add_all(calls)
    db_session.flush()
    client.app.dependency_overrides[get_now] = lambda: NOW  # type: ignore[attr-defined]
    answer = client.get("/api/v1/stats/staffing", headers=login(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    forecast = [r for r in report["sections"]["forecast"] if r["region"] == "HEL-R1"]
    assert len(forecast) == 168
    assert all(r["lo"] <= r["mean"] <= r["hi"] for r in forecast)
    goal = ServiceGoal()
    for row in forecast[:24]:
        half = max(row["mean"], 0.0) / 2
        need = max(erlang_c_requirement([half, half], aht_s=settings.wallboard_aht_s, goal=goal))
        # The table rounds the mean to one decimal; the requirement is from the exact mean.
        assert abs(row["agents_required"] - need) <= 1
    busy_hours = [r["agents_required"] for r in forecast if r["mean"] > 5]
    quiet_hours = [r["agents_required"] for r in forecast if r["mean"] < 2]
    assert busy_hours and quiet_hours and min(busy_hours) > max(quiet_hours)
    ivr = sum(c.answered_by == "ivr" for c in calls)
    assert report["headline"]["ivr_answered"] == ivr
    assert report["headline"]["agent_hours_saved"] == round(
        ivr * settings.wallboard_aht_s / 3600, 1
    )
    page = client.get(
        "/api/v1/stats/staffing?format=html&lang=zh", headers=login(client, "supervisor")
    )
    assert page.status_code == 200 and "<svg" in page.text and "下周" in page.text


def test_no_call_history_is_a_clear_422(client: TestClient) -> None:
    client.app.dependency_overrides[get_now] = lambda: dt.datetime(2031, 1, 1, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    answer = client.get("/api/v1/stats/staffing", headers=login(client, "supervisor"))
    assert answer.status_code == 422
    assert "no calls" in answer.text
