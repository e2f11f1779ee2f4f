"""Calls at the hotline during a storm, through the API with a frozen clock.

(a) A caller inside the storm's outage: the CTI rings, the caller card shows the outage, its
    ETR, the crew on site and the script; the agent answers from the screen and wraps the call
    up as "outage answered": no new report, no new work order.
(b) A new caller (a number on no premise) and a phone shared by several premises.
(c) The IVR in storm mode answers a caller in the outage without an agent, says nothing
    personal, and the call counts as answered without an agent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dispatch.models import WorkOrder
from geo.models import Premise
from outages.models import OutagePremise, Report
from scenarios.storm import StormSummary, play_storm
from tests.hotline.call_helpers import logins
from tests.scenarios.storm_helpers import login, only_crews, sync
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
LOCAL = ZoneInfo("Europe/Helsinki")
MIN = dt.timedelta(minutes=1)


def _counts(session: Session) -> tuple[int, int]:
    reports = session.scalar(select(func.count()).select_from(Report)) or 0
    orders = session.scalar(select(func.count()).select_from(WorkOrder)) or 0
    return reports, orders


def _callers_in(session: Session, outage_id: int) -> list[Premise]:
    return list(
        session.scalars(
            select(Premise)
            .join(OutagePremise, OutagePremise.premise_id == Premise.id)
            .where(
                OutagePremise.outage_id == outage_id,
                OutagePremise.restored_at.is_(None),
                Premise.phone.is_not(None),
            )
            .order_by(Premise.id)
        )
    )


def _crew_on_site(client: TestClient, session: Session, outage_id: int) -> None:
    """The dispatcher sends CREW-08 to the outage and the crew taps its way to the site."""
    dispatcher, crew = login(client, "dispatcher"), login(client, "crew08")
    sync(client, dispatcher)
    order = session.scalar(select(WorkOrder).where(WorkOrder.outage_id == outage_id))
    assert order is not None
    crews = client.get("/api/v1/crews", headers=dispatcher).json()["features"]
    crew_id = next(f["properties"]["id"] for f in crews if f["properties"]["code"] == "CREW-08")
    assigned = client.post(
        f"/api/v1/work-orders/{order.id}/assign", json={"crew_id": crew_id}, headers=dispatcher
    )
    assert assigned.status_code == 200, assigned.text
    for to in ("en_route", "on_site"):
        step = client.post(
            f"/api/v1/work-orders/{order.id}/transition", json={"to": to}, headers=crew
        )
        assert step.status_code == 200, step.text


def _storm(session: Session, settings: Settings) -> StormSummary:
    only_crews(session, {"CREW-08": (dt.time(19), dt.time(23, 59))})
    summary = play_storm(session=session, settings=settings, now=NOW)
    assert summary.outages, "the storm left an outage"
    return summary


def _card(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    answer = client.get("/api/v1/callers", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    card: dict[str, Any] = answer.json()
    return card


def test_a_caller_in_the_storm_outage_is_answered_from_the_screen(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    summary = _storm(db_session, settings)
    main = summary.outages[0]
    clock, h = logins(client, db_session, NOW + MIN)
    _crew_on_site(client, db_session, main.id)
    caller = _callers_in(db_session, main.id)[0]
    before = _counts(db_session)

    clock.now = NOW + 5 * MIN
    rung = client.post(
        "/api/v1/calls",
        json={"caller_number": caller.phone, "external_id": "pbx-77"},
        headers=h["cti"],
    )
    assert rung.status_code == 201, rung.text
    call = rung.json()
    assert call["premise_id"] == caller.id
    card = _card(client, h["agent"], phone=caller.phone)
    assert card["known"] and [p["premise_id"] for p in card["premises"]] == [caller.id]
    premise = card["premises"][0]
    assert (premise["customer_name"], premise["account"]) == (caller.customer_name, caller.account)
    assert premise["state"] == "outage"
    assert premise["outage"]["id"] == main.id
    outage = client.get(f"/api/v1/outages/{main.id}").json()
    assert premise["outage"]["etr_at"] is not None
    etr = dt.datetime.fromisoformat(premise["outage"]["etr_at"])
    assert etr == dt.datetime.fromisoformat(outage["etr"])
    assert premise["outage"]["crew"]["status"] == "on_site"
    assert premise["outage"]["crew"]["crew"] == "CREW-08"
    local_etr = etr.astimezone(LOCAL).strftime("%H:%M")
    script = card["script"]
    assert script["kind"] == "outage"
    assert script["en"].startswith("No need for a new report")
    assert "crew is on site" in script["en"] and f"power back by {local_etr}" in script["en"]
    assert "抢修人员已到达现场" in script["zh"] and local_etr in script["zh"]
    assert call["id"] in [c["id"] for c in card["calls"]], "this call is in the history"

    clock.now = NOW + 5 * MIN + dt.timedelta(seconds=20)
    client.patch(f"/api/v1/calls/{call['id']}", json={"action": "answer"}, headers=h["agent"])
    clock.now = NOW + 6 * MIN
    done = client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"action": "wrap_up", "disposition": "outage_answered", "outage_id": main.id},
        headers=h["agent"],
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["disposition"]) == ("wrapped", "outage_answered")
    assert done.json()["queue_wait_s"] == 20 and done.json()["agent"] == "agent"
    assert _counts(db_session) == before, "no new report and no new work order"


def test_storm_mode_leads_with_the_outage_and_the_ivr_answers_without_an_agent(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    summary = _storm(db_session, settings)
    assert summary.calls is not None
    assert summary.calls.abandoned > 0 and summary.calls.phone_calls > 0
    main = summary.outages[0]
    clock, h = logins(client, db_session, NOW + MIN)
    state = client.get("/api/v1/storm-mode", headers=h["agent"]).json()
    assert state["on"] and state["source"] == "auto", "the storm's calls tripped the trigger"
    assert "calls in" in state["reason"]
    assert state["top_outages"][0]["outage_id"] == main.id
    assert state["top_outages"][0]["script"]["en"].startswith("No need for a new report")
    stats_before = client.get(
        "/api/v1/calls/stats",
        params={"since": (NOW - dt.timedelta(hours=2)).isoformat()},
        headers=h["supervisor"],
    ).json()
    assert stats_before["abandoned"] == summary.calls.abandoned
    assert stats_before["answered_without_agent"] == 0

    caller = _callers_in(db_session, main.id)[1]
    before = _counts(db_session)
    clock.now = NOW + 3 * MIN
    rung = client.post("/api/v1/calls", json={"caller_number": caller.phone}, headers=h["cti"])
    clock.now = NOW + 3 * MIN + dt.timedelta(seconds=8)
    ivr = client.post(
        "/api/v1/selfservice/lookup",
        json={"phone": caller.phone, "call_id": rung.json()["id"]},
        headers=h["cti"],
    )
    assert ivr.status_code == 200, ivr.text
    said = ivr.json()
    assert said["answered"] and said["state"] == "outage" and said["storm_mode"]
    assert said["etr_at"] is not None
    assert "in your area" in said["message_en"] and "power back by" in said["message_en"]
    for private in (caller.customer_name, caller.address, caller.account, caller.critical):
        if private:
            assert private not in str(said), f"the IVR must not say {private!r}"
    call = client.get(f"/api/v1/calls/{rung.json()['id']}", headers=h["agent"]).json()
    assert (call["status"], call["answered_by"], call["agent"]) == ("wrapped", "ivr", None)
    assert (call["disposition"], call["outage_id"], call["queue_wait_s"]) == (
        "outage_answered",
        main.id,
        8,
    )
    again = client.post(
        "/api/v1/selfservice/lookup",
        json={"phone": caller.phone, "call_id": rung.json()["id"]},
        headers=h["cti"],
    )
    assert again.status_code == 409, "the IVR cannot answer a call twice"
    stats = client.get(
        "/api/v1/calls/stats",
        params={"since": (NOW - dt.timedelta(hours=2)).isoformat()},
        headers=h["supervisor"],
    ).json()
    assert stats["answered_without_agent"] == 1
    answered = stats["answered_by_agent"] + 1
    assert stats["without_agent_share"] == round(1 / answered, 4)
    assert _counts(db_session) == before, "the IVR files nothing"

    off = client.put(
        "/api/v1/storm-mode", json={"on": False, "reason": "storm over"}, headers=h["supervisor"]
    )
    assert off.status_code == 200 and not off.json()["on"]
    assert off.json()["history"][0]["actor"] == "supervisor"
    refused = client.put("/api/v1/storm-mode", json={"on": True, "reason": "x"}, headers=h["agent"])
    assert refused.status_code == 403


def test_a_new_caller_and_a_phone_of_several_premises(
    client: TestClient, db_session: Session
) -> None:
    _, h = logins(client, db_session, NOW)
    new = _card(client, h["agent"], phone="+358 50 999 0000")
    assert (new["known"], new["premises"], new["script"]) == (False, [], None)
    assert new["phone"] == "+358509990000", "E.164"
    ivr = client.post(
        "/api/v1/selfservice/lookup", json={"phone": "+358 50 999 0000"}, headers=h["cti"]
    ).json()
    assert (ivr["answered"], ivr["state"]) == (False, "unknown_caller")
    call = client.get(f"/api/v1/calls/{ivr['call_id']}", headers=h["agent"]).json()
    assert call["status"] == "ringing", "the caller waits for an agent"

    two = list(db_session.scalars(select(Premise).order_by(Premise.id).limit(2)))
    db_session.execute(
        update(Premise).where(Premise.id.in_([p.id for p in two])).values(phone="+358 40 111 2222")
    )
    db_session.flush()
    card = _card(client, h["agent"], phone="358401112222")
    assert [p["premise_id"] for p in card["premises"]] == [p.id for p in two]
    rung = client.post(
        "/api/v1/calls", json={"caller_number": "+358-40-111-2222"}, headers=h["cti"]
    )
    assert rung.json()["premise_id"] is None, "several premises: the agent picks one"
    by_account = _card(client, h["agent"], account=two[1].account)
    assert [p["premise_id"] for p in by_account["premises"]] == [two[1].id]
    bad = client.get("/api/v1/callers", params={"phone": "abc"}, headers=h["agent"])
    assert bad.status_code == 422 and "not a valid phone number" in bad.json()["detail"]
    both = client.get("/api/v1/callers", headers=h["agent"])
    assert both.status_code == 422 and "give phone" in both.json()["detail"]
