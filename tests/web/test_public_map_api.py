"""The public outage map's answer cache: one answer per worker for a short while, never for
another moment of the app's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from outages.service import open_outage
from tests.dispatch.helpers import frozen
from tests.scenarios.storm_helpers import NOW
from web.api.public_map import clear_cache
from web.deps import get_session
from web.main import create_app
from web.settings import Settings

DEVICE = "HEL-F01-R01"


@pytest.fixture
def cached_client(settings: Settings, db_session: Session) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"public_map_cache_s": 60.0}))

    def session_override() -> Iterator[Session]:
        yield db_session
        db_session.flush()

    app.dependency_overrides[get_session] = session_override
    clear_cache()
    with TestClient(app) as client:
        yield client
    clear_cache()


def _outages(client: TestClient) -> list[int]:
    answer = client.get("/api/v1/public/outage-map")
    assert answer.status_code == 200, answer.text
    return [f["properties"]["outage_id"] for f in answer.json()["outages"]]


def test_the_answer_is_kept_for_the_same_moment_and_recomputed_for_another(
    cached_client: TestClient, db_session: Session, settings: Settings
) -> None:
    with frozen(cached_client, NOW):
        assert _outages(cached_client) == []
        outage = open_outage(
            session=db_session,
            device_code=DEVICE,
            cause=None,
            confirmed=True,
            settings=settings,
            now=NOW,
            actor="dispatcher",
        )
        db_session.flush()
        assert _outages(cached_client) == []  # kept: the same answer for every viewer
    with frozen(cached_client, NOW + dt.timedelta(minutes=2)):
        assert _outages(cached_client) == [outage.id]  # another moment: computed again
    clear_cache()
    with frozen(cached_client, NOW):
        assert _outages(cached_client) == [outage.id]


def test_the_public_map_ignores_query_parameters(client: TestClient) -> None:
    # It takes none: a stray one (an old client's bbox) is ignored, never a 4xx or 500.
    answer = client.get("/api/v1/public/outage-map", params={"bbox": "x"})
    assert answer.status_code == 200
    assert answer.json()["refresh_s"] == 60
