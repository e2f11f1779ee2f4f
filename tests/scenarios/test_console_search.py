"""A storm night at the console's search box, through the API with a frozen clock.

A caller rings back; the dispatcher types their phone number as read out, the outage
number a crew radios in, and the tripped recloser's code: each answer names the storm's
outage, so the console can open it. Anonymous callers and crews get nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Premise
from outages.models import OutagePremise
from scenarios.storm import play_storm
from tests.dispatch.helpers import frozen
from tests.scenarios.storm_helpers import NOW, login
from web.settings import Settings


def _search(client: TestClient, q: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/search", params={"q": q}, headers=headers)
    assert answer.status_code == 200, answer.text
    hits: list[dict[str, Any]] = answer.json()
    return hits


def test_dispatcher_finds_the_storm_outage_by_phone_number_and_device(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    storm = play_storm(session=db_session, settings=settings, now=NOW, seed=7, reports=120)
    main = max(storm.outages, key=lambda o: o.customers_affected)
    caller = db_session.scalar(
        select(Premise)
        .join(OutagePremise, OutagePremise.premise_id == Premise.id)
        .where(OutagePremise.outage_id == main.id, Premise.phone.is_not(None))
        .order_by(Premise.id)
        .limit(1)
    )
    assert caller is not None and caller.phone
    with frozen(client, NOW):
        assert client.get("/api/v1/search", params={"q": caller.phone}).status_code == 401
        crew = login(client, "crew01")
        assert client.get("/api/v1/search", params={"q": "1"}, headers=crew).status_code == 403

        dispatcher = login(client, "dispatcher")
        # The number as a caller reads it out: no spaces, the country code kept.
        by_phone = _search(client, caller.phone.replace(" ", ""), dispatcher)
        assert [(h["kind"], h["id"], h["outage_id"]) for h in by_phone] == [
            ("phone", caller.id, main.id)
        ]
        assert by_phone[0]["label"] == caller.address

        by_number = _search(client, f"#{main.id}", dispatcher)
        assert by_number[0]["kind"] == "outage" and by_number[0]["outage_id"] == main.id
        assert storm.tripped_device in by_number[0]["label"]

        by_device = _search(client, storm.tripped_device, dispatcher)
        device = next(h for h in by_device if h["kind"] == "device")
        assert device["label"] == storm.tripped_device and device["outage_id"] == main.id

        # An agent on the hotline finds the caller by account too.
        agent = login(client, "agent")
        by_account = _search(client, caller.account, agent)
        assert [(h["kind"], h["outage_id"]) for h in by_account] == [("account", main.id)]
