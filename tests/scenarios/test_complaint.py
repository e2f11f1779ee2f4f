"""A complaint through the API, from filing to the return visit, on a frozen clock.

The agent files it; the accused department cannot see it until the supervisor reviews it;
the department contacts the customer, waits for a document over a weekend (the clock stops),
replies; the agent answers with a knowledge-base article; the return visit closes it; the
customer follows it by token on the way and may have it reopened within 30 days.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.settings import REPO_ROOT
from hotline.kb_seed import read_seed_file, seed_articles
from hotline.models import KbArticle
from outages.models import Notification
from tests.hotline.helpers import Desk, complaint, local, make_desk, premise_in


@pytest.fixture
def desk(client: TestClient, db_session: Session) -> Desk:
    seed = read_seed_file(REPO_ROOT / "scenarios" / "knowledge_base" / "articles.json")
    seed_articles(session=db_session, articles=seed)
    return make_desk(db_session, client, local("2026-03-02 09:00"))


def _at(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _step(desk: Desk, user: str, ticket_id: int, step: str, at: str, **body: object) -> dict:
    assert desk.client is not None
    desk.clock.now = local(at)
    answer = desk.client.post(
        f"/api/v1/tickets/{ticket_id}/{step}", json=body, headers=desk.h(user)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_complaint_from_filing_to_return_visit(desk: Desk) -> None:
    client = desk.client
    assert client is not None
    premise = premise_in(desk.session, "HEL-R1")
    filed = client.post(
        "/api/v1/tickets",
        json=complaint(premise, accused_department_code="HEL-R1-SERVICE"),
        headers=desk.h("agent"),
    )
    assert filed.status_code == 201, filed.text
    ticket = filed.json()
    tid, token = ticket["id"], ticket["tracking_token"]
    assert ticket["status"] == "review" and ticket["department_code"] == "HEL-R1-SERVICE"
    assert ticket["region_code"] == "HEL-R1"
    assert _at(ticket["clock"]["answer_due_at"]) == local("2026-03-06 09:00")
    assert _at(ticket["clock"]["contact_due_at"]) == local("2026-03-03 09:00")

    # The accused department does not see it, neither in its queue nor by id.
    assert client.get(f"/api/v1/tickets/{tid}", headers=desk.h("svc1")).status_code == 404
    queue = client.get("/api/v1/departments/HEL-R1-SERVICE/queue", headers=desk.h("svc1"))
    assert queue.status_code == 200 and queue.json() == []
    tracked = client.get(f"/api/v1/tickets/track/{token}").json()
    assert tracked["status"] == "received"

    _step(desk, "supervisor", tid, "review", "2026-03-02 10:00", note="Recording checked.")
    queue = client.get("/api/v1/departments/HEL-R1-SERVICE/queue", headers=desk.h("svc1"))
    assert [t["id"] for t in queue.json()] == [tid]

    _step(desk, "svc1", tid, "contact", "2026-03-02 11:00", note="Called back, apologised.")
    _step(desk, "svc1", tid, "pause", "2026-03-03 10:00", reason="Waiting for the receipt.")
    waiting = client.get(f"/api/v1/tickets/track/{token}").json()
    assert waiting["status"] == "waiting_for_you" and waiting["answer_due_at"] is None
    resumed = _step(desk, "svc1", tid, "resume", "2026-03-09 10:00")
    # 25 working hours used before the pause; 71 left from Monday 10:00 -> Thursday 09:00.
    assert _at(resumed["clock"]["answer_due_at"]) == local("2026-03-12 09:00")
    assert resumed["status"] == "with_department"

    _step(desk, "svc1", tid, "reply", "2026-03-10 15:00", body="Counter staff retrained.")
    article_id = desk.session.scalar(
        select(KbArticle.id).where(
            KbArticle.slug == "complaint-process", KbArticle.language == "zh"
        )
    )
    answered = _step(
        desk,
        "agent",
        tid,
        "answer",
        "2026-03-10 16:00",
        body="We apologise; the staff member was retrained.",
        article_ids=[article_id],
    )
    assert answered["status"] == "answered" and answered["article_ids"] == [article_id]
    clock = answered["clock"]
    assert not clock["answered_late"] and not clock["overdue"]
    assert clock["answer_used_working_days"] == pytest.approx(55 / 24, abs=1e-3)
    closed = _step(desk, "agent", tid, "return-visit", "2026-03-11 10:00", satisfaction="satisfied")
    assert closed["status"] == "closed" and closed["satisfaction"] == "satisfied"
    assert _at(closed["reopen_until"]) == local("2026-04-10 10:00")
    actions = [s["action"] for s in closed["trail"]]
    assert actions == [
        "filed",
        "reviewed",
        "contacted",
        "paused",
        "resumed",
        "replied",
        "answered",
        "closed",
    ]

    public = client.get(f"/api/v1/tickets/track/{token}")
    assert public.status_code == 200
    shown = public.json()
    assert shown["status"] == "closed" and shown["status_zh"] == "已办结"
    assert [s["step"] for s in shown["steps"]][-2:] == ["answered", "closed"]
    for secret in ("Wang Fang", "555 0101", "HEL-R1-SERVICE", "retrained", "receipt"):
        assert secret not in public.text

    messages = desk.session.scalars(
        select(Notification).where(Notification.recipient == "+358 40 555 0101")
    ).all()
    assert sorted(n.kind for n in messages) == ["ticket_answered", "ticket_filed"]
    assert any(token in n.message for n in messages)

    linked = client.get(f"/api/v1/kb/articles/{article_id}/tickets", headers=desk.h("agent"))
    assert linked.json() == [tid]

    reopened = _step(desk, "agent", tid, "reopen", "2026-03-30 09:00", reason="Rude again.")
    assert reopened["status"] == "with_department" and reopened["clock"]["round"] == 2
    assert _at(reopened["clock"]["answer_due_at"]) == local("2026-04-03 09:00")


def test_reopening_after_thirty_days_is_refused(desk: Desk) -> None:
    client = desk.client
    assert client is not None
    body = {
        "ticket_type": "consultation",
        "subject": "Tariff question",
        "description": "Which tier am I in?",
    }
    tid = client.post("/api/v1/tickets", json=body, headers=desk.h("agent")).json()["id"]
    _step(desk, "agent", tid, "answer", "2026-03-02 10:00", body="Tier 1.")
    _step(desk, "agent", tid, "return-visit", "2026-03-02 11:00", satisfaction="neutral")
    desk.clock.now = local("2026-04-02 11:00")
    late = client.post(
        f"/api/v1/tickets/{tid}/reopen", json={"reason": "again"}, headers=desk.h("agent")
    )
    assert late.status_code == 409
    assert "reopened until 2026-04-01" in late.json()["detail"]
