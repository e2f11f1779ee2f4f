"""A week's roster plan made from the call records and stored, and read back as a report."""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Region
from hotline.models import Call
from hotline.roster_plans import PlanOptions, latest_plans, plan_in_force, plan_week
from hotline.staffing.plan import ServiceGoal, erlang_c_requirement
from hotline.staffing.roster import ShiftRules, check_roster, coverage
from tests.dispatch.helpers import login
from tests.hotline.plan_helpers import peak_week, store_plan
from web.deps import get_now
from web.settings import Settings

NOW = dt.datetime(2026, 4, 22, 10, 0, tzinfo=dt.UTC)  # a Wednesday
WEEK = dt.date(2026, 4, 27)
QUICK = PlanOptions(time_limit_s=60.0, work_limit=0.5, replications=3)


def _calls(session: Session, region: str, weeks: int = 3) -> list[Call]:
    """Three weeks of calls: 8 an hour from 08:00 to 20:00 local, 1 at night; every fifth
    answered by the IVR."""
    region_id = session.scalar(select(Region.id).where(Region.code == region))
    rng = np.random.default_rng(5)
    start = NOW - dt.timedelta(weeks=weeks)
    calls = []
    for hour in range(weeks * 168):
        at = start + dt.timedelta(hours=hour)
        busy = 8 if 8 <= (at.hour + 3) % 24 < 20 else 1
        for k in range(int(rng.poisson(busy))):
            calls.append(
                Call(
                    channel="phone",
                    status="wrapped",
                    region_id=region_id,
                    started_at=at + dt.timedelta(minutes=k),
                    answered_at=at + dt.timedelta(minutes=k, seconds=10),
                    queue_wait_s=10,
                    answered_by="ivr" if len(calls) % 5 == 0 else "agent",
                    created_by="test",
                )
            )
    session.add_all(calls)
    session.flush()
    return calls


def test_a_plan_is_the_forecast_its_requirement_a_legal_roster_and_its_simulation(
    db_session: Session, settings: Settings
) -> None:
    calls = _calls(db_session, "HEL-R1")
    plan = plan_week(
        session=db_session,
        week=WEEK,
        region_code="HEL-R1",
        settings=settings,
        now=NOW,
        actor="supervisor",
        options=QUICK,
    )
    assert plan.id is not None and plan.starts_at.astimezone(dt.UTC) == dt.datetime(
        2026, 4, 26, 21, 0, tzinfo=dt.UTC
    )
    assert plan.ivr_share == pytest.approx(sum(c.answered_by == "ivr" for c in calls) / len(calls))
    assert len(plan.calls_forecast) == 336
    # The forecast keeps the day and night of the history: 4 a half hour by day, 0.5 at night.
    monday_noon, monday_night = 24, 4
    assert plan.calls_forecast[monday_noon] == pytest.approx(4.0, abs=1.5)
    assert plan.calls_forecast[monday_night] < 1.5
    assert all(
        lo <= m <= hi
        for lo, m, hi in zip(plan.calls_lo, plan.calls_forecast, plan.calls_hi, strict=True)
    )
    goal = ServiceGoal()
    to_agents = [c * (1 - plan.ivr_share) for c in plan.calls_forecast]
    assert plan.required_agents == erlang_c_requirement(to_agents, aht_s=plan.aht_s, goal=goal)
    assert plan.required_agents_no_ivr == erlang_c_requirement(
        plan.calls_forecast, aht_s=plan.aht_s, goal=goal
    )
    # The stored shifts keep every labour rule and put exactly the stored agents on the phones.
    shifts = pd.DataFrame(plan.shifts)
    assert check_roster(shifts) == []
    on_phone, _ = coverage(shifts, ShiftRules())
    assert list(on_phone) == plan.rostered_agents
    assert plan.agent_hours == pytest.approx(shifts["length_slots"].sum() / 2)
    # The leaner of the two rosters judged (the usual one is also the fallback).
    assert plan.roster_method in ("service", "usual")
    if plan.roster_method == "usual":
        assert plan.agent_hours == plan.usual_agent_hours
    assert plan.service_level_low <= plan.service_level <= plan.service_level_high
    assert plan.abandon_low <= plan.abandon_rate <= plan.abandon_high
    assert [d["day"] for d in plan.simulated_days] == list(range(7))
    assert latest_plans(session=db_session, week=WEEK) == [("HEL-R1", plan)]
    monday_morning = plan.starts_at + dt.timedelta(hours=9)
    assert plan_in_force(session=db_session, now=monday_morning) == {"HEL-R1": plan}
    assert plan_in_force(session=db_session, now=plan.starts_at - dt.timedelta(seconds=1)) == {}


@pytest.mark.parametrize(
    ("week", "region", "options", "message"),
    [
        (dt.date(2026, 4, 29), "HEL-R1", QUICK, "is a Wednesday; give 2026-04-27"),
        (WEEK, "MOON", QUICK, "unknown region 'MOON'"),
        (WEEK, "HEL-R2", QUICK, "no calls of region HEL-R2"),
        (dt.date(2026, 6, 1), "HEL-R1", QUICK, "weeks ahead"),
        (dt.date(1, 1, 1), "HEL-R1", QUICK, "between 1900 and 3000"),
    ],
)
def test_a_plan_refuses_what_it_cannot_plan(
    db_session: Session,
    settings: Settings,
    week: dt.date,
    region: str,
    options: PlanOptions,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        plan_week(
            session=db_session,
            week=week,
            region_code=region,
            settings=settings,
            now=NOW,
            actor="t",
            options=options,
        )
    with pytest.raises(InvalidInput, match="replications"):
        PlanOptions(replications=1)


def test_the_roster_report_shows_the_stored_plan_and_what_the_ivr_saves(
    client: TestClient, db_session: Session
) -> None:
    client.app.dependency_overrides[get_now] = lambda: NOW  # type: ignore[attr-defined]
    calls = peak_week(2 * 48 + 20, 40.0, base_calls=6.0)
    plan = store_plan(
        db_session, region="HEL-R1", week=WEEK, calls=calls, agents=[3] * 336, ivr_share=0.3
    )
    h = login(client, "supervisor")
    answer = client.get(f"/api/v1/stats/roster?week={WEEK}", headers=h)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    head = report["headline"]
    assert head["agent_hours"] == plan.agent_hours == 0.5 * 3 * 336
    saved = 0.5 * (sum(plan.required_agents_no_ivr) - sum(plan.required_agents))
    assert saved > 0 and head["agent_hours_saved"] == saved
    assert head["service_level"] == 0.86 and head["service_level_low"] == 0.84
    # The peak needs more than the three rostered: those half hours are counted short.
    short = sum(r < q for r, q in zip(plan.rostered_agents, plan.required_agents, strict=True))
    assert short >= 4 and head["half_hours_below_erlang_c"] == short
    rows = report["sections"]["half_hours"]
    assert len(rows) == 336 and rows[0]["time"] == "2026-04-27 00:00"
    assert rows[2 * 48 + 20]["calls_forecast"] == 40.0
    assert rows[2 * 48 + 20]["calls_to_agents"] == 28.0
    page = client.get(f"/api/v1/stats/roster?week={WEEK}&format=html&lang=zh", headers=h)
    assert page.status_code == 200 and page.text.count("<svg") == 2 and "排班坐席" in page.text
    exported = client.get(f"/api/v1/stats/roster?week={WEEK}&format=csv", headers=h)
    assert exported.status_code == 200
    assert "rostered_agents" in exported.text
    assert any(r and r[0] == "HEL-R1" for r in csv.reader(io.StringIO(exported.text)))

    missing = client.get("/api/v1/stats/roster?week=2026-05-04", headers=h)
    assert missing.status_code == 404 and "stormdesk roster plan --week 2026-05-04" in missing.text
    tuesday = client.get("/api/v1/stats/roster?week=2026-04-28", headers=h)
    assert tuesday.status_code == 422 and "Monday" in tuesday.text
    assert (
        client.get(f"/api/v1/stats/roster?week={WEEK}", headers=login(client, "agent")).status_code
        == 403
    )
