"""The knowledge base over HTTP: public search without a login, editing for supervisors."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from geo.settings import REPO_ROOT
from hotline.kb_seed import read_seed_file, seed_articles
from tests.hotline.helpers import Desk, local, make_desk


@pytest.fixture
def desk(client: TestClient, db_session: Session) -> Desk:
    seed = read_seed_file(REPO_ROOT / "scenarios" / "knowledge_base" / "articles.json")
    seed_articles(session=db_session, articles=seed)
    return make_desk(db_session, client, local("2026-03-02 09:00"))


def _client(desk: Desk) -> TestClient:
    assert desk.client is not None
    return desk.client


def test_public_search_without_login(desk: Desk) -> None:
    answer = _client(desk).get("/api/v1/kb/search", params={"q": "停电"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["words"] == ["停电"]
    assert body["hits"] and all(h["audience"] == "public" for h in body["hits"])
    assert body["hits"][0]["slug"] in {"power-failure-what-to-do", "check-outage-status"}


def test_staff_also_get_internal_articles(desk: Desk) -> None:
    params = {"q": "已知停电 话术"}
    staff = _client(desk).get("/api/v1/kb/search", params=params, headers=desk.h("agent"))
    assert staff.json()["hits"][0]["slug"] == "script-known-outage"
    public = _client(desk).get("/api/v1/kb/search", params=params).json()
    assert "script-known-outage" not in {h["slug"] for h in public["hits"]}
    # An expired or bad token reads as anonymous on public resources.
    stale = _client(desk).get(
        "/api/v1/kb/search", params=params, headers={"Authorization": "Bearer nonsense"}
    )
    assert stale.status_code == 200


def test_internal_article_is_hidden_from_the_public(desk: Desk) -> None:
    client = _client(desk)
    hit = client.get("/api/v1/kb/search", params={"q": "坐席话术"}, headers=desk.h("agent")).json()[
        "hits"
    ][0]
    assert hit["audience"] == "internal"
    assert client.get(f"/api/v1/kb/articles/{hit['article_id']}").status_code == 404
    staff = client.get(f"/api/v1/kb/articles/{hit['article_id']}", headers=desk.h("agent"))
    assert staff.status_code == 200 and staff.json()["translations"]


def test_search_input_is_checked(desk: Desk) -> None:
    client = _client(desk)
    assert client.get("/api/v1/kb/search", params={"q": ""}).status_code == 422
    assert client.get("/api/v1/kb/search", params={"q": "x" * 201}).status_code == 422
    assert client.get("/api/v1/kb/search", params={"q": "电", "lang": "fi"}).status_code == 422


def test_editing_drafts_and_publishing(desk: Desk) -> None:
    client = _client(desk)
    article = {
        "slug": "winter-peak-notice",
        "language": "en",
        "category_code": "tariff",
        "audience": "public",
        "title": "Winter peak pricing",
        "body": "From December the evening peak runs from 17:00 to 21:00.",
    }
    assert (
        client.post("/api/v1/kb/articles", json=article, headers=desk.h("agent")).status_code == 403
    )
    made = client.post("/api/v1/kb/articles", json=article, headers=desk.h("supervisor"))
    assert made.status_code == 201
    aid = made.json()["id"]
    assert made.json()["published"] is None
    assert client.get(f"/api/v1/kb/articles/{aid}").status_code == 404  # a draft only
    published = client.post(
        f"/api/v1/kb/articles/{aid}/versions/1/publish", headers=desk.h("supervisor")
    )
    assert published.json()["published"]["number"] == 1
    hits = client.get("/api/v1/kb/search", params={"q": "winter peak"}).json()["hits"]
    assert hits[0]["article_id"] == aid
    again = client.post("/api/v1/kb/articles", json=article, headers=desk.h("supervisor"))
    assert again.status_code == 422 and "add a version" in again.json()["detail"]
    bad = {**article, "slug": "other", "category_code": "weather"}
    wrong = client.post("/api/v1/kb/articles", json=bad, headers=desk.h("supervisor"))
    assert wrong.status_code == 422 and "unknown category 'weather'" in wrong.json()["detail"]
    missing = client.post(
        f"/api/v1/kb/articles/{aid}/versions/9/publish", headers=desk.h("supervisor")
    )
    assert missing.status_code == 404 and "no version 9" in missing.json()["detail"]


def test_categories_and_public_listing(desk: Desk) -> None:
    client = _client(desk)
    codes = {c["code"] for c in client.get("/api/v1/kb/categories").json()}
    assert {"outage", "tariff", "safety", "desk"} <= codes
    public = client.get("/api/v1/kb/articles", params={"lang": "zh"}).json()
    assert public and all(a["audience"] == "public" and a["language"] == "zh" for a in public)
    assert all(a["versions"] == [] for a in public)  # version history is for staff
