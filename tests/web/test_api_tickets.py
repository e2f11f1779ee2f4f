"""Tickets over HTTP: bad input answers 4xx naming what is wrong; departments and routes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.hotline.helpers import Desk, complaint, local, make_desk, premise_in


@pytest.fixture
def desk(client: TestClient, db_session: Session) -> Desk:
    return make_desk(db_session, client, local("2026-03-02 09:00"))


def _client(desk: Desk) -> TestClient:
    assert desk.client is not None
    return desk.client


def _file(desk: Desk, body: dict[str, object], user: str = "agent") -> dict:
    answer = _client(desk).post("/api/v1/tickets", json=body, headers=desk.h(user))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _consultation() -> dict[str, object]:
    return {"ticket_type": "consultation", "subject": "Tariff", "description": "Which tier?"}


def test_filing_needs_a_login(desk: Desk) -> None:
    answer = _client(desk).post("/api/v1/tickets", json=_consultation())
    assert answer.status_code == 401


def test_a_role_may_not_file_every_type(desk: Desk) -> None:
    premise = premise_in(desk.session, "HEL-R1")
    answer = _client(desk).post(
        "/api/v1/tickets", json=complaint(premise), headers=desk.h("crew01")
    )
    assert answer.status_code == 403
    detail = answer.json()["detail"]
    assert "role 'crew' may not file a complaint ticket" in detail
    assert "report, suggestion" in detail
    report = complaint(premise, ticket_type="report", ticket_class="power_theft")
    assert _file(desk, report, user="crew01")["department_code"] == "HEL-R1-INSPECTION"


def test_unknown_department_is_named(desk: Desk) -> None:
    client = _client(desk)
    premise = premise_in(desk.session, "HEL-R1")
    body = complaint(premise, accused_department_code="NOWHERE")
    answer = client.post("/api/v1/tickets", json=body, headers=desk.h("agent"))
    assert answer.status_code == 422
    assert "unknown department 'NOWHERE'" in answer.json()["detail"]
    route = {"ticket_type": "suggestion", "department_code": "NOWHERE"}
    answer = client.put("/api/v1/ticket-routes", json=route, headers=desk.h("supervisor"))
    assert answer.status_code == 422 and "NOWHERE" in answer.json()["detail"]
    tid = _file(desk, complaint(premise))["id"]
    review = {"note": "ok", "department_code": "NOWHERE"}
    answer = client.post(f"/api/v1/tickets/{tid}/review", json=review, headers=desk.h("supervisor"))
    assert answer.status_code == 422 and "known departments are" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ticket_class": None}, "a complaint needs a class: one of service"),
        ({"ticket_class": "power_theft"}, "unknown complaint class 'power_theft'"),
        ({"ticket_type": "suggestion"}, "a suggestion has no class"),
        ({"region_code": "HEL-R9"}, "unknown region 'HEL-R9'"),
        ({"premise_id": 10**9}, "no premise #1000000000"),
        (
            {
                "ticket_type": "report",
                "ticket_class": "misconduct",
                "accused_department_code": "HOTLINE",
            },
            "accused_department_code is for complaints only",
        ),
    ],
)
def test_bad_ticket_fields(desk: Desk, changes: dict[str, object], message: str) -> None:
    body = complaint(premise_in(desk.session, "HEL-R1"), **changes)
    answer = _client(desk).post("/api/v1/tickets", json=body, headers=desk.h("agent"))
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["detail"]


def test_schema_errors_are_422(desk: Desk) -> None:
    body = {"ticket_type": "praise", "subject": "", "description": "x"}
    answer = _client(desk).post("/api/v1/tickets", json=body, headers=desk.h("agent"))
    assert answer.status_code == 422
    fields = {tuple(e["loc"])[-1] for e in answer.json()["detail"]}
    assert {"ticket_type", "subject"} <= fields


def test_only_a_supervisor_names_the_department(desk: Desk) -> None:
    body = {**_consultation(), "department_code": "HEL-R2-SERVICE"}
    answer = _client(desk).post("/api/v1/tickets", json=body, headers=desk.h("agent"))
    assert answer.status_code == 403 and "only a supervisor" in answer.json()["detail"]
    assert _file(desk, body, user="supervisor")["department_code"] == "HEL-R2-SERVICE"


def test_reply_on_a_closed_ticket(desk: Desk) -> None:
    client = _client(desk)
    tid = _file(desk, _consultation())["id"]
    agent = desk.h("agent")
    assert (
        client.post(
            f"/api/v1/tickets/{tid}/answer", json={"body": "Tier 1"}, headers=agent
        ).status_code
        == 200
    )
    visit = {"satisfaction": "satisfied"}
    assert (
        client.post(f"/api/v1/tickets/{tid}/return-visit", json=visit, headers=agent).status_code
        == 200
    )
    answer = client.post(
        f"/api/v1/tickets/{tid}/reply", json={"body": "late"}, headers=desk.h("hotline1")
    )
    assert answer.status_code == 409
    body = answer.json()
    assert "is closed: reply needs status with_department or replied" in body["detail"]
    assert "reopen it first" in body["detail"]
    assert body["allowed"] == ["with_department", "replied"]


def test_steps_out_of_order_and_out_of_role(desk: Desk) -> None:
    client = _client(desk)
    premise = premise_in(desk.session, "HEL-R1")
    tid = _file(desk, complaint(premise))["id"]
    # A complaint under review: no reply, and the answer needs the department's reply first.
    review_pending = client.post(
        f"/api/v1/tickets/{tid}/answer", json={"body": "x"}, headers=desk.h("agent")
    )
    assert review_pending.status_code == 409 and "review" in review_pending.json()["detail"]
    not_supervisor = client.post(
        f"/api/v1/tickets/{tid}/review", json={"note": "x"}, headers=desk.h("agent")
    )
    assert not_supervisor.status_code == 403
    client.post(f"/api/v1/tickets/{tid}/review", json={"note": "ok"}, headers=desk.h("supervisor"))
    other_department = client.post(
        f"/api/v1/tickets/{tid}/reply", json={"body": "x"}, headers=desk.h("ops1")
    )
    assert other_department.status_code == 404  # not in their queue at all
    department_answers = client.post(
        f"/api/v1/tickets/{tid}/answer", json={"body": "x"}, headers=desk.h("svc1")
    )
    assert department_answers.status_code == 403
    assert "only an agent or a supervisor" in department_answers.json()["detail"]
    early = client.post(
        f"/api/v1/tickets/{tid}/answer", json={"body": "x"}, headers=desk.h("agent")
    )
    assert early.status_code == 409 and "has not replied yet" in early.json()["detail"]
    resume = client.post(f"/api/v1/tickets/{tid}/resume", headers=desk.h("svc1"))
    assert resume.status_code == 409 and resume.json()["allowed"] == ["waiting_customer"]


def test_unknown_ticket_and_token(desk: Desk) -> None:
    client = _client(desk)
    assert client.get("/api/v1/tickets/999999", headers=desk.h("agent")).status_code == 404
    missing = client.get("/api/v1/tickets/track/" + "x" * 32)
    assert missing.status_code == 404 and "tracking token" in missing.json()["detail"]
    assert client.get("/api/v1/tickets/track/short").status_code == 422


def test_lists_filter_and_show_clocks(desk: Desk) -> None:
    client = _client(desk)
    tid = _file(desk, _consultation())["id"]
    desk.clock.now = local("2026-03-04 09:00")  # one working day is long gone
    overdue = client.get("/api/v1/tickets?overdue=true", headers=desk.h("agent")).json()
    assert [t["id"] for t in overdue] == [tid]
    assert overdue[0]["clock"]["overdue"] and overdue[0]["clock"]["answer_level"] == 2
    assert client.get("/api/v1/tickets?type=complaint", headers=desk.h("agent")).json() == []
    queue = client.get("/api/v1/departments/HOTLINE/queue", headers=desk.h("svc1"))
    assert queue.status_code == 403


def test_departments_and_routes(desk: Desk) -> None:
    client = _client(desk)
    departments = client.get("/api/v1/departments", headers=desk.h("agent")).json()
    by_code = {d["code"]: d for d in departments}
    assert by_code["HEL-R1-SERVICE"]["head_username"] == "svc1-head"
    assert set(by_code["HEL-R1-SERVICE"]["members"]) == {"svc1", "svc1-head"}
    made = client.post(
        "/api/v1/departments",
        json={"code": "BILLING", "name": "Billing office", "region_code": "HEL-R2"},
        headers=desk.h("admin"),
    )
    assert made.status_code == 201 and made.json()["region_code"] == "HEL-R2"
    moved = client.put(
        "/api/v1/departments/BILLING/members",
        json={"username": "svc2"},
        headers=desk.h("supervisor"),
    )
    assert moved.json()["members"] == ["svc2"]
    route = {
        "ticket_type": "service_request",
        "region_code": "HEL-R2",
        "department_code": "BILLING",
    }
    row = client.put("/api/v1/ticket-routes", json=route, headers=desk.h("supervisor")).json()
    filed = _file(
        desk,
        {
            "ticket_type": "service_request",
            "subject": "New meter",
            "description": "x",
            "region_code": "HEL-R2",
        },
    )
    assert filed["department_code"] == "BILLING"
    assert (
        client.delete(f"/api/v1/ticket-routes/{row['id']}", headers=desk.h("agent")).status_code
        == 403
    )
    assert (
        client.delete(
            f"/api/v1/ticket-routes/{row['id']}", headers=desk.h("supervisor")
        ).status_code
        == 204
    )
    assert (
        client.delete(
            f"/api/v1/ticket-routes/{row['id']}", headers=desk.h("supervisor")
        ).status_code
        == 404
    )
