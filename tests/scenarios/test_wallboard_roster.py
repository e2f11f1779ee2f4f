"""The wallboard's next 30 minutes from the stored roster: a Wednesday-morning peak of 40
calls a half hour, with a clock frozen at 10:10, against a plan with two agents on the
phones (late calls predicted), then a plan with enough (none), then a storm the plan's
forecast could not see (the last hour's calls, held, raise the prediction again)."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Region
from hotline.models import Call
from hotline.staffing.erlang import erlang_a, offered_load
from tests.dispatch.helpers import login
from tests.hotline.helpers import local
from tests.hotline.plan_helpers import AHT_S, PATIENCE_S, peak_week, store_plan
from web.deps import get_now
from web.settings import Settings

WEEK = dt.date(2026, 4, 20)
NOW = local("2026-04-22 10:10")
PEAK_SLOT = 2 * 48 + 20  # Wednesday 10:00
PEAK_CALLS = 40.0


def _board(client: TestClient) -> dict[str, dict[str, object]]:
    answer = client.get("/api/v1/wallboard", headers=login(client, "supervisor"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {r["region"]: r for r in [*body["regions"], body["total"]]}


def _metric(client: TestClient, name: str, region: str) -> float | None:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("region") == region:
                return sample.value
    return None


def test_too_few_rostered_agents_predict_late_calls_and_enough_predict_none(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    assert (settings.wallboard_aht_s, settings.wallboard_patience_s) == (AHT_S, PATIENCE_S)
    client.app.dependency_overrides[get_now] = lambda: NOW  # type: ignore[attr-defined]
    calls = peak_week(PEAK_SLOT, PEAK_CALLS)
    store_plan(db_session, region="HEL-R1", week=WEEK, calls=calls, agents=[2] * len(calls))
    # HEL-R2 has no plan but a caller waiting: its prediction is the agents working now.
    r2 = db_session.scalar(select(Region.id).where(Region.code == "HEL-R2"))
    db_session.add(
        Call(
            channel="phone",
            status="ringing",
            region_id=r2,
            started_at=NOW - dt.timedelta(minutes=5),
            created_by="test",
        )
    )
    db_session.flush()

    short = _board(client)
    r1 = short["HEL-R1"]
    assert r1["prediction_basis"] == "roster"
    assert r1["predicted_calls"] == PEAK_CALLS  # the forecast of the peak's two half hours
    # Two agents answer about 20 calls in half an hour at 3 minutes each: most are late.
    load = offered_load(PEAK_CALLS, 1800.0, AHT_S)
    level = erlang_a(2, load, aht_s=AHT_S, target_s=20.0, patience_s=PATIENCE_S).service_level
    assert r1["predicted_late_calls"] == round(PEAK_CALLS * (1 - level)) >= 20
    assert r1["predicted_service_level"] == round(level, 4) < 0.5
    assert short["HEL-R2"]["prediction_basis"] == "current_agents"
    assert short["HEL-R3"]["prediction_basis"] is None
    assert short["total"]["prediction_basis"] == "mixed"
    assert short["total"]["predicted_late_calls"] == r1["predicted_late_calls"]
    assert _metric(client, "stormdesk_predicted_late_calls", "HEL-R1") == r1["predicted_late_calls"]

    # A later plan of the same week puts ten on the phones: it is in force, and ten agents
    # for 4 erlangs answer nearly everyone within 20 s.
    store_plan(db_session, region="HEL-R1", week=WEEK, calls=calls, agents=[10] * len(calls))
    enough = _board(client)["HEL-R1"]
    assert enough["prediction_basis"] == "roster"
    assert enough["predicted_late_calls"] == 0
    assert enough["predicted_service_level"] > 0.95
    assert _metric(client, "stormdesk_predicted_late_calls", "HEL-R1") == 0

    # A storm the forecast did not see: 240 calls in the last hour. Held, that is 120 in
    # the next half hour, and ten agents cannot keep up with them.
    r1_id = db_session.scalar(select(Region.id).where(Region.code == "HEL-R1"))
    db_session.add_all(
        Call(
            channel="phone",
            status="abandoned",
            region_id=r1_id,
            started_at=NOW - dt.timedelta(seconds=15 * k + 5),
            created_by="test",
        )
        for k in range(240)
    )
    db_session.flush()
    storm = _board(client)["HEL-R1"]
    assert storm["predicted_calls"] == 120.0
    assert storm["predicted_late_calls"] > 50


def test_a_plan_of_another_week_is_not_in_force(client: TestClient, db_session: Session) -> None:
    client.app.dependency_overrides[get_now] = lambda: NOW  # type: ignore[attr-defined]
    calls = peak_week(PEAK_SLOT, PEAK_CALLS)
    store_plan(
        db_session,
        region="HEL-R1",
        week=WEEK + dt.timedelta(days=7),
        calls=calls,
        agents=[1] * len(calls),
    )
    r1 = _board(client)["HEL-R1"]
    assert r1["prediction_basis"] is None and r1["predicted_late_calls"] is None
