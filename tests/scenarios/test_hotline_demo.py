"""The demo's hotline: departments, articles, department logins, shared phones; idempotent."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.models import Department, KbArticle
from scenarios.demo_city import DEMO_LOGINS
from scenarios.hotline_demo import SHARED_PHONES, seed_hotline_demo
from tests.hotline.call_helpers import logins


def test_the_demo_seeds_the_hotline_once(client: TestClient, db_session: Session) -> None:
    first = seed_hotline_demo(session=db_session)
    assert first.departments == 3 + 4 * 3, "three central, four per region"
    assert first.articles >= 60
    assert "hel-r1-service" in first.logins and len(first.logins) == first.departments
    assert [len(v) for v in first.shared_phones.values()] == [3, 2, 2]
    again = seed_hotline_demo(session=db_session)
    assert (again.articles, again.shared_phones) == (0, {}), "nothing added twice"
    assert db_session.scalar(select(func.count()).select_from(Department)) == first.departments
    assert db_session.scalar(select(func.count()).select_from(KbArticle)) == first.articles
    assert any(login["role"] == "cti" for login in DEMO_LOGINS)

    _, h = logins(client, db_session, dt.datetime.now(dt.UTC))
    card = client.get("/api/v1/callers", params={"phone": SHARED_PHONES[0]}, headers=h["agent"])
    assert len(card.json()["premises"]) == 3, "a landlord's phone: three premises on one card"
    queue = client.post(
        "/api/v1/auth/token",
        data={"username": "hel-r1-service", "password": "hel-r1-service-demo-pass"},
    )
    assert queue.status_code == 200, queue.text
    token = {"Authorization": f"Bearer {queue.json()['access_token']}"}
    mine = client.get("/api/v1/departments/HEL-R1-SERVICE/queue", headers=token)
    assert mine.status_code == 200, mine.text
    cti = client.post("/api/v1/auth/token", data={"username": "cti", "password": "cti-demo-pass"})
    assert cti.status_code == 200, "the demo's CTI account logs in"
