"""GET /api/v1/search over HTTP: staff only, a clear 422 for a bad query, hits as JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Premise
from tests.dispatch.helpers import login


def test_search_needs_a_dispatcher_or_agent(client: TestClient) -> None:
    assert client.get("/api/v1/search", params={"q": "CREW"}).status_code == 401
    crew = login(client, "crew01")
    assert client.get("/api/v1/search", params={"q": "CREW"}, headers=crew).status_code == 403


def test_agent_finds_a_caller_by_phone(client: TestClient, db_session: Session) -> None:
    premise = db_session.scalar(
        select(Premise).where(Premise.phone.is_not(None)).order_by(Premise.id).limit(1)
    )
    assert premise is not None
    answer = client.get(
        "/api/v1/search", params={"q": premise.phone}, headers=login(client, "agent")
    )
    assert answer.status_code == 200, answer.text
    hit = next(h for h in answer.json() if h["kind"] == "phone")
    assert hit["id"] == premise.id and hit["label"] == premise.address
    assert set(hit) == {"kind", "id", "label", "detail", "lon", "lat", "outage_id"}


def test_bad_queries_are_422_naming_the_parameter(client: TestClient) -> None:
    headers = login(client, "dispatcher")
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "CREW", "limit": "0"}):
        answer = client.get("/api/v1/search", params=params, headers=headers)
        assert answer.status_code == 422, (params, answer.text)
        assert "q" in answer.text or "limit" in answer.text
