"""The CTI integration: ring, answer, hang up, abandon, wrap up; who may; what is refused."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Device, Event, Premise
from hotline.models import Call
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from tests.hotline.call_helpers import logins
from tests.hotline.helpers import complaint, make_desk
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
LANDLINE = "+358 9 765 4321"  # a valid Helsinki number on no premise


def _premise(session: Session) -> Premise:
    premise = session.scalar(select(Premise).where(Premise.phone.is_not(None)).order_by(Premise.id))
    assert premise is not None and premise.phone
    return premise


def test_a_call_from_ring_to_wrap_up(client: TestClient, db_session: Session) -> None:
    clock, h = logins(client, db_session, NOW)
    premise = _premise(db_session)
    bare = premise.phone.replace(" ", "").lstrip("+")  # how a telephony system sends it
    rung = client.post(
        "/api/v1/calls", json={"caller_number": bare, "external_id": "pbx-1"}, headers=h["cti"]
    )
    assert rung.status_code == 201, rung.text
    call = rung.json()
    assert (call["status"], call["premise_id"], call["allowed_actions"]) == (
        "ringing",
        premise.id,
        ["answer", "abandon"],
    )
    assert call["region"] is not None, "the region comes from the caller's premise"
    again = client.post(
        "/api/v1/calls", json={"caller_number": bare, "external_id": "pbx-1"}, headers=h["cti"]
    )
    assert again.status_code == 200 and again.json()["id"] == call["id"], (
        "a retry, not a second call"
    )

    clock.now = NOW + dt.timedelta(seconds=47)
    answered = client.patch(
        f"/api/v1/calls/{call['id']}", json={"action": "answer", "agent": "agent"}, headers=h["cti"]
    )
    assert answered.status_code == 200, answered.text
    assert (answered.json()["queue_wait_s"], answered.json()["agent"]) == (47, "agent")
    clock.now = NOW + dt.timedelta(minutes=4)
    ended = client.patch(
        f"/api/v1/calls/{call['id']}", json={"action": "hang_up"}, headers=h["cti"]
    )
    assert ended.json()["talk_s"] == 4 * 60 - 47
    wrapped = client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"action": "wrap_up", "disposition": "kb_answered", "notes": "tariff question"},
        headers=h["agent"],
    )
    assert wrapped.status_code == 200, wrapped.text
    body = wrapped.json()
    assert (body["status"], body["disposition"], body["notes"]) == (
        "wrapped",
        "kb_answered",
        "tariff question",
    )
    steps = db_session.scalars(
        select(Event.action).where(Event.object_type == "call", Event.object_id == str(call["id"]))
    ).all()
    assert sorted(steps) == ["call.answer", "call.hang_up", "call.ring", "call.wrap_up"]
    listed = client.get("/api/v1/calls", params={"phone": premise.phone}, headers=h["agent"])
    assert [c["id"] for c in listed.json()] == [call["id"]]


def test_impossible_steps_are_409_and_name_what_is_allowed(
    client: TestClient, db_session: Session
) -> None:
    clock, h = logins(client, db_session, NOW)
    call = client.post("/api/v1/calls", json={"caller_number": "+358 9 123 4567"}, headers=h["cti"])
    call_id = call.json()["id"]
    assert call.json()["premise_id"] is None, "an unknown number is a new caller"
    hang = client.patch(f"/api/v1/calls/{call_id}", json={"action": "hang_up"}, headers=h["cti"])
    assert hang.status_code == 409
    assert hang.json()["allowed"] == ["answer", "abandon"]
    assert "ringing" in hang.json()["detail"] and "cannot hang up" in hang.json()["detail"]
    clock.now = NOW + dt.timedelta(seconds=90)
    gone = client.patch(f"/api/v1/calls/{call_id}", json={"action": "abandon"}, headers=h["cti"])
    assert (gone.json()["status"], gone.json()["queue_wait_s"]) == ("abandoned", 90)
    assert gone.json()["disposition"] == "abandoned"
    late = client.patch(
        f"/api/v1/calls/{call_id}", json={"action": "answer", "agent": "agent"}, headers=h["cti"]
    )
    assert late.status_code == 409 and late.json()["allowed"] == []
    assert "abandoned" in late.json()["detail"]

    answered = client.post("/api/v1/calls", json={"caller_number": "0401234567"}, headers=h["cti"])
    other = answered.json()["id"]
    client.patch(f"/api/v1/calls/{other}", json={"action": "answer"}, headers=h["agent"])
    client.patch(f"/api/v1/calls/{other}", json={"action": "hang_up"}, headers=h["agent"])
    again = client.patch(f"/api/v1/calls/{other}", json={"action": "answer"}, headers=h["agent"])
    assert again.status_code == 409, "answer after hang-up"
    assert again.json()["allowed"] == ["wrap_up"]


def test_bad_input_is_4xx_with_a_message(client: TestClient, db_session: Session) -> None:
    clock, h = logins(client, db_session, NOW)
    unknown = client.patch("/api/v1/calls/999999", json={"action": "answer"}, headers=h["cti"])
    assert unknown.status_code == 404 and "no call #999999" in unknown.json()["detail"]
    for bad in ("call me", "12345", "+358 40 1"):
        bad_phone = client.post("/api/v1/calls", json={"caller_number": bad}, headers=h["cti"])
        assert bad_phone.status_code == 422, bad
        assert bad_phone.json()["detail"].startswith(
            f"caller_number {bad!r} is not a valid phone number"
        )
    region = client.post(
        "/api/v1/calls", json={"caller_number": LANDLINE, "region_code": "NOPE"}, headers=h["cti"]
    )
    assert region.status_code == 422 and "no region 'NOPE'" in region.json()["detail"]
    future = client.post(
        "/api/v1/calls",
        json={"caller_number": LANDLINE, "at": (NOW + dt.timedelta(hours=1)).isoformat()},
        headers=h["cti"],
    )
    assert future.status_code == 422 and "in the future" in future.json()["detail"]
    call_id = client.post(
        "/api/v1/calls", json={"caller_number": LANDLINE}, headers=h["cti"]
    ).json()["id"]
    nobody = client.patch(f"/api/v1/calls/{call_id}", json={"action": "answer"}, headers=h["cti"])
    assert nobody.status_code == 422 and "which agent" in nobody.json()["detail"]
    ghost = client.patch(
        f"/api/v1/calls/{call_id}", json={"action": "answer", "agent": "ghost"}, headers=h["cti"]
    )
    assert ghost.status_code == 422 and "'ghost'" in ghost.json()["detail"]
    early = client.patch(
        f"/api/v1/calls/{call_id}",
        json={
            "action": "answer",
            "agent": "agent",
            "at": (NOW - dt.timedelta(hours=1)).isoformat(),
        },
        headers=h["cti"],
    )
    assert early.status_code == 422 and "before the call's previous step" in early.json()["detail"]
    client.patch(f"/api/v1/calls/{call_id}", json={"action": "answer"}, headers=h["agent"])
    no_disposition = client.patch(
        f"/api/v1/calls/{call_id}", json={"action": "wrap_up"}, headers=h["agent"]
    )
    assert no_disposition.status_code == 422 and "disposition" in no_disposition.json()["detail"]
    no_report = client.patch(
        f"/api/v1/calls/{call_id}",
        json={"action": "wrap_up", "disposition": "fault_report"},
        headers=h["agent"],
    )
    assert no_report.status_code == 422 and "needs report_id" in no_report.json()["detail"]
    missing = client.patch(
        f"/api/v1/calls/{call_id}",
        json={"action": "wrap_up", "disposition": "fault_report", "report_id": 999999},
        headers=h["agent"],
    )
    assert missing.status_code == 422 and "no report #999999" in missing.json()["detail"]
    bad_action = client.patch(
        f"/api/v1/calls/{call_id}", json={"action": "explode"}, headers=h["agent"]
    )
    assert bad_action.status_code == 422
    assert db_session.scalar(select(func.count()).select_from(Call).where(Call.id == call_id)) == 1
    assert clock.now == NOW


def test_the_cti_account_is_kept_to_calls(client: TestClient, db_session: Session) -> None:
    _, h = logins(client, db_session, NOW)
    assert client.get("/api/v1/tickets", headers=h["cti"]).status_code == 403
    assert (
        client.get("/api/v1/callers", params={"phone": LANDLINE}, headers=h["cti"]).status_code
        == 403
    )
    assert client.get("/api/v1/calls", headers=h["cti"]).status_code == 403
    assert client.get("/api/v1/auth/me", headers=h["cti"]).json()["role"] == "cti"
    assert client.post("/api/v1/calls", json={}, headers=h["dispatcher"]).status_code == 403


def test_the_card_shows_planned_work_and_open_tickets(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    _, h = logins(client, db_session, NOW)
    premise = db_session.scalar(
        select(Premise).where(Premise.transformer_id.is_not(None)).order_by(Premise.id)
    )
    assert premise is not None
    device = db_session.get(Device, premise.transformer_id)
    assert device is not None
    work = PlannedOutageCreate(
        reason="cable replacement",
        starts_at=NOW - dt.timedelta(minutes=30),
        ends_at=NOW + dt.timedelta(hours=2),
        devices=[device.code],
    )
    create_planned(session=db_session, data=work, settings=settings, now=NOW, actor="t")
    later = work.model_copy(
        update={
            "reason": "meter swap",
            "starts_at": NOW + dt.timedelta(days=2),
            "ends_at": NOW + dt.timedelta(days=2, hours=3),
        }
    )
    create_planned(session=db_session, data=later, settings=settings, now=NOW, actor="t")
    make_desk(db_session, None, NOW)
    filed = client.post(
        "/api/v1/tickets",
        json=complaint(premise, ticket_type="consultation", ticket_class=None),
        headers=h["agent"],
    )
    assert filed.status_code == 201, filed.text
    card = client.get("/api/v1/callers", params={"account": premise.account}, headers=h["agent"])
    assert card.status_code == 200, card.text
    here = card.json()["premises"][0]
    assert here["state"] == "planned" and here["planned_now"]["reason"] == "cable replacement"
    assert [p["reason"] for p in here["planned_next_7_days"]] == ["meter swap"]
    assert here["script"]["kind"] == "planned"
    assert "power back by 22:00" in here["script"]["en"], "20:00 local + 2 h"
    assert [t["id"] for t in here["open_tickets"]] == [filed.json()["id"]]
    assert [t["id"] for t in card.json()["tickets"]] == [filed.json()["id"]]
    ivr = client.post(
        "/api/v1/selfservice/lookup", json={"account": premise.account}, headers=h["cti"]
    ).json()
    assert (ivr["answered"], ivr["state"]) == (True, "planned")
    assert premise.address not in ivr["message_en"]


def test_a_national_number_from_the_cti_finds_the_customer_stored_internationally(
    client: TestClient, db_session: Session
) -> None:
    """The demo register holds ``+358 40 000 0001``; CTI systems send the same line as
    ``040 0000001``, ``00358400000001`` or ``358400000001``: one caller, one card."""
    _, h = logins(client, db_session, NOW)
    premise = _premise(db_session)
    assert premise.phone is not None and premise.phone.startswith("+358 40 ")
    national = "0" + premise.phone.removeprefix("+358 ").replace(" ", "")
    e164 = "+" + "".join(c for c in premise.phone if c.isdigit())
    rung = client.post("/api/v1/calls", json={"caller_number": national}, headers=h["cti"])
    assert rung.status_code == 201, rung.text
    assert (rung.json()["caller_number"], rung.json()["premise_id"]) == (e164, premise.id)
    for spelling in (national, "00" + e164[1:], e164[1:], premise.phone):
        card = client.get("/api/v1/callers", params={"phone": spelling}, headers=h["agent"])
        assert card.status_code == 200, card.text
        body = card.json()
        assert body["phone"] == e164
        assert [p["premise_id"] for p in body["premises"]] == [premise.id], spelling
        assert body["premises"][0]["customer_name"] == premise.customer_name
        assert [c["id"] for c in body["calls"]] == [rung.json()["id"]], "the call is in history"
    listed = client.get("/api/v1/calls", params={"phone": national}, headers=h["agent"])
    assert [c["id"] for c in listed.json()] == [rung.json()["id"]]
    bad = client.get("/api/v1/callers", params={"phone": "12345"}, headers=h["agent"])
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("phone '12345' is not a valid phone number")
