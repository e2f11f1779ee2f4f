"""Work order lifecycle: transitions and 409s, assignment, crews' rights, ETR feedback,
restoration reaching the customer's status, and the 95598 closing loop."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.lifecycle import assign, transition
from dispatch.models import WorkOrder
from dispatch.state import state_version
from geo.exceptions import InvalidInput
from geo.models import Event, Premise
from outages.etr_history import set_etr
from outages.exceptions import InvalidTransition
from outages.models import EtrChange, OutagePremise
from outages.service import get_outage
from tests.dispatch.helpers import (
    NOW,
    crew,
    frozen,
    login,
    order_of,
    outage_on,
    sync,
    urban_device,
)
from web.settings import Settings


def _events(session: Session, order: WorkOrder) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.object_type == "work_order", Event.object_id == str(order.id))
            .order_by(Event.id)
        )
    )


def _order(session: Session, settings: Settings) -> WorkOrder:
    outage = outage_on(session, settings, urban_device(session))
    sync(session, settings)
    return order_of(session, outage.id)


def test_invalid_transition_names_the_allowed_states(
    db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    with pytest.raises(InvalidTransition) as caught:
        transition(
            session=db_session, order=order, to="on_site", actor="d", now=NOW, settings=settings
        )
    assert caught.value.allowed == ["planned", "dispatched", "cancelled"]
    with pytest.raises(InvalidInput, match="assign one"):
        transition(
            session=db_session, order=order, to="dispatched", actor="d", now=NOW, settings=settings
        )


def test_invalid_transition_is_a_409_with_allowed_states(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    headers = login(client, "dispatcher")
    answer = client.post(
        f"/api/v1/work-orders/{order.id}/transition", json={"to": "restored"}, headers=headers
    )
    assert answer.status_code == 409
    assert answer.json()["allowed"] == ["planned", "dispatched", "cancelled"]


def test_assign_bumps_the_dispatch_version_sets_eta_and_feeds_the_etr(
    db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    outage = get_outage(session=db_session, outage_id=order.outage_id or 0)
    # An ETR the crew cannot make (ten minutes from now) must move later on assignment.
    too_early = NOW + dt.timedelta(minutes=10)
    set_etr(
        session=db_session,
        outage=outage,
        etr_at=too_early,
        source="default",
        reason="test",
        actor="test",
        now=NOW,
    )
    before = state_version(session=db_session)
    line_crew = crew(db_session, "CREW-08")
    assert assign(
        session=db_session,
        order=order,
        crew=line_crew,
        lock=True,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    assert state_version(session=db_session) == before + 1
    assert order.status == "dispatched" and order.locked and order.eta_at is not None
    assert order.eta_at >= NOW
    expected = (order.eta_at + dt.timedelta(seconds=order.repair_s)).replace(microsecond=0)
    assert outage.etr_at == expected
    last = db_session.scalars(
        select(EtrChange).where(EtrChange.outage_id == outage.id).order_by(EtrChange.id.desc())
    ).first()
    assert last is not None and last.source == "dispatch" and "CREW-08" in last.reason
    # Same crew, same lock: nothing changes. Unlocking is an assignment change.
    assert not assign(
        session=db_session,
        order=order,
        crew=line_crew,
        lock=True,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    assert state_version(session=db_session) == before + 1
    assign(
        session=db_session,
        order=order,
        crew=line_crew,
        lock=False,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    assert state_version(session=db_session) == before + 2
    actions = [e.action for e in _events(db_session, order)]
    assert actions[-2:] == ["work_order.assigned", "work_order.unlocked"]


def test_assign_refuses_a_crew_without_the_skills(db_session: Session, settings: Settings) -> None:
    outage = outage_on(db_session, settings, urban_device(db_session, "transformer"))
    sync(db_session, settings)
    order = order_of(db_session, outage.id)
    with pytest.raises(InvalidInput, match="lacks skills"):
        assign(
            session=db_session,
            order=order,
            crew=crew(db_session, "CREW-01"),  # line and tree trimming, no transformers
            lock=False,
            actor="dispatcher",
            now=NOW,
            settings=settings,
        )


def test_crew_steps_update_crew_status_etr_and_restore_the_outage(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    outage_id = order.outage_id or 0
    dispatcher, crew08 = login(client, "dispatcher"), login(client, "crew08")
    the_crew = crew(db_session, "CREW-08")
    with frozen(client, NOW):
        answer = client.post(
            f"/api/v1/work-orders/{order.id}/assign",
            json={"crew_id": the_crew.id},
            headers=dispatcher,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "dispatched"
    steps = [("en_route", 5), ("on_site", 20), ("restored", 70)]
    for status, minutes in steps:
        with frozen(client, NOW + dt.timedelta(minutes=minutes)):
            answer = client.post(
                f"/api/v1/work-orders/{order.id}/transition", json={"to": status}, headers=crew08
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status
        db_session.refresh(the_crew)
        assert the_crew.status == {"en_route": "en_route", "on_site": "on_site"}.get(
            status, "available"
        )
        if status == "on_site":
            outage = get_outage(session=db_session, outage_id=outage_id)
            arrived = NOW + dt.timedelta(minutes=20)
            assert outage.etr_at == arrived + dt.timedelta(seconds=order.repair_s)
    outage = get_outage(session=db_session, outage_id=outage_id)
    assert outage.status == "restored"
    sources = db_session.scalars(
        select(EtrChange.source).where(EtrChange.outage_id == outage_id).order_by(EtrChange.id)
    ).all()
    assert sources[0] == "default" and set(sources[1:]) == {"dispatch"}
    premise = db_session.scalars(
        select(Premise)
        .join(OutagePremise, OutagePremise.premise_id == Premise.id)
        .where(OutagePremise.outage_id == outage_id)
        .limit(1)
    ).one()
    with frozen(client, NOW + dt.timedelta(minutes=75)):
        status = client.get("/api/v1/status", params={"account": premise.account})
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "restored"


def test_repeated_transition_is_idempotent(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    assign(
        session=db_session,
        order=order,
        crew=crew(db_session, "CREW-08"),
        lock=False,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    headers = login(client, "crew08")
    url = f"/api/v1/work-orders/{order.id}/transition"
    first = client.post(url, json={"to": "en_route"}, headers=headers)
    assert first.status_code == 200, first.text
    events = len(_events(db_session, order))
    version = first.json()["version"]
    # A retry after a network drop, even with the version seen before the first attempt.
    again = client.post(url, json={"to": "en_route", "version": version - 1}, headers=headers)
    assert again.status_code == 200, again.text
    assert again.json()["version"] == version
    assert len(_events(db_session, order)) == events


def test_stale_version_is_a_409(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    answer = client.post(
        f"/api/v1/work-orders/{order.id}/assign",
        json={"crew_id": crew(db_session, "CREW-08").id, "version": order.version + 5},
        headers=login(client, "dispatcher"),
    )
    assert answer.status_code == 409
    assert answer.json()["current_version"] == order.version


def test_a_crew_may_not_move_another_crews_order(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    assign(
        session=db_session,
        order=order,
        crew=crew(db_session, "CREW-08"),
        lock=False,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    url = f"/api/v1/work-orders/{order.id}/transition"
    other = client.post(url, json={"to": "en_route"}, headers=login(client, "crew07"))
    assert other.status_code == 403
    own = login(client, "crew08")
    cancel = client.post(url, json={"to": "cancelled"}, headers=own)
    assert cancel.status_code == 403, "cancelling is the dispatcher's"
    completion = client.post(
        f"/api/v1/work-orders/{order.id}/completion",
        json={"cause_found": "x", "action": "y"},
        headers=login(client, "crew07"),
    )
    assert completion.status_code == 403


def test_close_needs_completion_review_and_return_call(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    order = _order(db_session, settings)
    assign(
        session=db_session,
        order=order,
        crew=crew(db_session, "CREW-08"),
        lock=False,
        actor="dispatcher",
        now=NOW,
        settings=settings,
    )
    for step in ("en_route", "on_site", "restored"):
        transition(
            session=db_session, order=order, to=step, actor="crew08", now=NOW, settings=settings
        )
    dispatcher, crew08, agent = (login(client, u) for u in ("dispatcher", "crew08", "agent"))
    base = f"/api/v1/work-orders/{order.id}"

    def close() -> dict[str, object]:
        answer = client.post(f"{base}/transition", json={"to": "closed"}, headers=dispatcher)
        assert answer.status_code == 409, answer.text
        body: dict[str, object] = answer.json()
        return body

    assert close()["missing"] == ["completion report", "return call"]
    early_call = client.post(
        f"{base}/return-call", json={"customer_reached": True, "satisfied": True}, headers=agent
    )
    assert early_call.status_code == 409, "the return call follows an accepted review"
    filed = client.post(
        f"{base}/completion",
        json={
            "cause_found": "blown fuse after a tree contact",
            "action": "cleared branch, replaced fuse link",
            "device_code": "F-1",
            "materials": [{"item": "fuse link 40K", "quantity": 3}],
        },
        headers=crew08,
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["completion"]["materials"][0]["item"] == "fuse link 40K"
    assert close()["missing"] == ["accepted review", "return call"]
    rejected = client.post(
        f"{base}/review", json={"ok": False, "note": "say which fuse"}, headers=dispatcher
    )
    assert rejected.status_code == 200 and rejected.json()["completion"]["review_ok"] is False
    refiled = client.post(
        f"{base}/completion",
        json={"cause_found": "tree contact", "action": "replaced fuse F-1", "device_code": "F-1"},
        headers=crew08,
    )
    assert refiled.status_code == 200 and refiled.json()["completion"]["review_ok"] is None
    accepted = client.post(f"{base}/review", json={"ok": True}, headers=dispatcher)
    assert accepted.status_code == 200, accepted.text
    assert close()["missing"] == ["return call"]
    called = client.post(
        f"{base}/return-call",
        json={"customer_reached": False, "satisfied": True, "note": "no answer"},
        headers=agent,
    )
    assert called.status_code == 200, called.text
    assert called.json()["completion"]["satisfied"] is None, "not reached: no satisfaction"
    closed = client.post(f"{base}/transition", json={"to": "closed"}, headers=dispatcher)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["allowed_transitions"] == []
    actions = [e.action for e in _events(db_session, order)]
    for action in (
        "work_order.completion_filed",
        "work_order.completion_reviewed",
        "work_order.return_call",
    ):
        assert action in actions
    transitions = [
        (e.detail["from"], e.detail["to"])
        for e in _events(db_session, order)
        if e.action == "work_order.transition"
    ]
    assert transitions == [
        ("dispatched", "en_route"),
        ("en_route", "on_site"),
        ("on_site", "restored"),
        ("restored", "closed"),
    ]
    assert db_session.scalar(select(func.count()).select_from(WorkOrder)) >= 1
