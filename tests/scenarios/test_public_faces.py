"""What a customer sees of one outage, step by step, on the status page and the public map:
reported -> known -> crew assigned -> en route -> on site -> restored, with a frozen clock.

Everything goes through HTTP as the faces would: customers file and look up, the dispatcher
syncs and assigns, the crew taps its steps, anyone reads the public map. At each step the
test checks what a customer would: the state, "no need to report", the crew's stage (never
who), an ETR range that narrows as the crew gets closer, and a map without personal data.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from geo.models import Feeder, Premise
from tests.dispatch.helpers import frozen
from tests.scenarios.storm_helpers import (
    NOW,
    at,
    live_orders,
    login,
    only_crews,
    premises_below,
    report,
    status_of,
    sync,
)

DEVICE = "HEL-F01-R01"  # the recloser above the Mannerheimintie hospital
MIN = dt.timedelta(minutes=1)


def _map(client: TestClient) -> dict[str, Any]:
    answer = client.get("/api/v1/public/outage-map")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _width(status: dict[str, Any]) -> dt.timedelta:
    return at(status["etr_latest"]) - at(status["etr_earliest"])


def _one_outage(public: dict[str, Any], outage_id: int) -> dict[str, Any]:
    (feature,) = [f for f in public["outages"] if f["properties"]["outage_id"] == outage_id]
    return feature


def _assert_no_personal_data(public: dict[str, Any], premises: list[Premise], crew: Crew) -> None:
    dump = json.dumps(public, ensure_ascii=False)
    for premise in premises:
        assert premise.account not in dump
        assert premise.address not in dump
        for private in (premise.phone, premise.customer_name):
            assert not private or private not in dump
    assert crew.code not in dump and crew.name not in dump
    assert "critical" not in dump and "hospital" not in dump


def test_a_customer_follows_one_outage_from_report_to_restoration(
    client: TestClient, db_session: Session
) -> None:
    only_crews(db_session, {"CREW-08": (dt.time(19), dt.time(23, 59))})
    crew = db_session.scalar(select(Crew).where(Crew.code == "CREW-08"))
    assert crew is not None
    dispatcher = login(client, "dispatcher")
    crew_login = login(client, "crew08")
    below = premises_below(db_session, DEVICE)
    callers = [p for p in below if p.critical is None][::9][:8]
    me = callers[0]

    with frozen(client, NOW):
        assert status_of(client, me)["state"] == "normal"
        before = _map(client)
        assert before["generated_at"] == NOW.isoformat().replace("+00:00", "Z")
        # Reported: my call, then my neighbours' roll up into one outage.
        mine = report(client, me)
        assert mine["classification"] == "new"
        answers = [report(client, p) for p in callers[1:]]
        outage_id = answers[-1]["outage_id"]
        assert outage_id is not None

    # Known, no crew yet: a wide range, "no need to report".
    with frozen(client, NOW + MIN):
        known = status_of(client, me)
        assert known["state"] == "outage" and known["outage_id"] == outage_id
        assert known["known_outage"] is True
        assert known["crew_stage"] == "waiting"
        waiting_width = _width(known)
        assert waiting_width >= dt.timedelta(hours=2, minutes=30)
        assert at(known["etr_earliest"]) <= at(known["etr"]) <= at(known["etr_latest"])
        public = _map(client)
        feature = _one_outage(public, outage_id)
        props = feature["properties"]
        assert props["crew_stage"] == "waiting"
        assert props["customers_out"] == len(below)
        assert (props["etr_earliest"], props["etr_latest"]) == (
            known["etr_earliest"],
            known["etr_latest"],
        )
        area = shape(feature["geometry"])
        assert all(area.buffer(1e-9).contains(Point(_lonlat(db_session, p))) for p in below)
        region = next(r for r in public["regions"] if r["code"] == props["region"])
        assert region["customers_out"] >= len(below) and region["outages"] >= 1
        assert region["percent_out"] == round(
            100 * region["customers_out"] / region["customers_served"], 1
        )
        assert public["totals"]["customers_out"] == sum(
            r["customers_out"] for r in public["regions"]
        )
        _assert_no_personal_data(public, below, crew)

    # Crew assigned.
    with frozen(client, NOW + 2 * MIN):
        sync(client, dispatcher)
        order = next(o for o in live_orders(client, dispatcher) if o["outage_id"] == outage_id)
        assigned = client.post(
            f"/api/v1/work-orders/{order['id']}/assign",
            json={"crew_id": crew.id},
            headers=dispatcher,
        )
        assert assigned.status_code == 200, assigned.text
        told = status_of(client, me)
        assert told["crew_stage"] == "assigned"
        assigned_width = _width(told)
        assert assigned_width < waiting_width
        assert _one_outage(_map(client), outage_id)["properties"]["crew_stage"] == "assigned"

    def step(to: str) -> None:
        answer = client.post(
            f"/api/v1/work-orders/{order['id']}/transition", json={"to": to}, headers=crew_login
        )
        assert answer.status_code == 200, answer.text

    # En route: narrower.
    with frozen(client, NOW + 3 * MIN):
        step("en_route")
        told = status_of(client, me)
        assert told["crew_stage"] == "en_route" and told["known_outage"] is True
        en_route_width = _width(told)
        assert en_route_width < assigned_width
        public = _map(client)
        assert _one_outage(public, outage_id)["properties"]["crew_stage"] == "en_route"
        assert at(_one_outage(public, outage_id)["properties"]["updated_at"]) == NOW + 3 * MIN
        _assert_no_personal_data(public, below, crew)

    # On site: narrowest, under an hour.
    with frozen(client, NOW + 25 * MIN):
        step("on_site")
        told = status_of(client, me)
        assert told["crew_stage"] == "on_site"
        assert _width(told) < en_route_width and _width(told) <= dt.timedelta(hours=1)
        assert _one_outage(_map(client), outage_id)["properties"]["crew_stage"] == "on_site"

    # Restored: the customer sees it, the map no longer shows the outage.
    with frozen(client, NOW + 70 * MIN):
        step("restored")
        told = status_of(client, me)
        assert told["state"] == "restored" and told["known_outage"] is False
        assert at(told["restored_at"]) == NOW + 70 * MIN
        assert told["crew_stage"] is None and told["etr_earliest"] is None
        public = _map(client)
        assert outage_id not in {f["properties"]["outage_id"] for f in public["outages"]}
        assert public["totals"]["customers_out"] == before["totals"]["customers_out"]
        region = next(r for r in public["regions"] if r["code"] == props["region"])
        assert at(region["updated_at"]) == NOW + 70 * MIN


def test_a_fuzzy_address_is_offered_once_per_address(client: TestClient) -> None:
    # OSM has four objects at "Aleksanterinkatu 15" and one at "15 B": the typo is close to
    # both, so the customer is asked which, and sees each address once.
    answer = client.get("/api/v1/status", params={"address": "Aleksanterinktu 15"})
    assert answer.status_code == 422, answer.text
    addresses = [s["address"] for s in answer.json()["suggestions"]]
    assert addresses[0] == "Aleksanterinkatu 15, 00100 Helsinki"
    assert "Aleksanterinkatu 15 B, 00100 Helsinki" in addresses
    assert len(addresses) == len(set(addresses)), addresses
    # The suggestions under the search box: the exact address once, not four times.
    params = {"q": "Aleksanterinkatu 15", "limit": "6"}
    every = client.get("/api/v1/geocode", params=params).json()["matches"]
    assert len(every) == 4
    once = client.get("/api/v1/geocode", params={**params, "distinct": "true"}).json()
    assert [m["address"] for m in once["matches"]] == ["Aleksanterinkatu 15, 00100 Helsinki"]


def test_planned_work_is_announced_in_both_languages_and_shown_as_cells(
    client: TestClient, db_session: Session
) -> None:
    dispatcher = login(client, "dispatcher")
    premise = premises_below(db_session, DEVICE)[3]
    feeder = db_session.scalar(select(Feeder.code).where(Feeder.id == premise.feeder_id))
    starts = NOW + dt.timedelta(days=2)
    with frozen(client, NOW):
        created = client.post(
            "/api/v1/planned-outages",
            json={
                "reason": "transformer replacement at the corner",
                "starts_at": starts.isoformat(),
                "ends_at": (starts + dt.timedelta(hours=4)).isoformat(),
                "feeders": [feeder],
            },
            headers=dispatcher,
        )
        assert created.status_code == 201, created.text
        planned_id = created.json()["id"]
        told = status_of(client, premise)
        (upcoming,) = [p for p in told["upcoming_planned"] if p["id"] == planned_id]
        assert upcoming["reason_texts"] == {
            "en": "Transformer replacement or maintenance",
            "zh-CN": "变压器更换或检修",
        }
        public = _map(client)
        (feature,) = [
            f for f in public["planned"] if f["properties"]["planned_outage_id"] == planned_id
        ]
        props = feature["properties"]
        assert props["reason_texts"]["zh-CN"] == "变压器更换或检修"
        assert props["active_now"] is False
        assert shape(feature["geometry"]).buffer(1e-9).contains(Point(_lonlat(db_session, premise)))
    # Once the work has started, the customer's card is the work itself, with its reason.
    with frozen(client, starts + dt.timedelta(minutes=30)):
        told = status_of(client, premise)
        assert told["state"] == "planned" and told["known_outage"] is True
        assert told["reason_texts"]["zh-CN"] == "变压器更换或检修"
        (now_on,) = [
            f["properties"]
            for f in _map(client)["planned"]
            if f["properties"]["planned_outage_id"] == planned_id
        ]
        assert now_on["active_now"] is True
    # A week and a day ahead is not "the next 7 days".
    with frozen(client, starts - dt.timedelta(days=8)):
        ids = [f["properties"]["planned_outage_id"] for f in _map(client)["planned"]]
        assert planned_id not in ids


def _lonlat(session: Session, premise: Premise) -> tuple[float, float]:
    x, y = session.execute(
        select(Premise.geom.ST_X(), Premise.geom.ST_Y()).where(Premise.id == premise.id)
    ).one()
    return float(x), float(y)


def test_an_end_typed_a_year_late_does_not_turn_a_year_of_faults_into_planned_work(
    client: TestClient, db_session: Session
) -> None:
    """The dispatcher moves a 4-hour job's end to the same day next year by a slip: the
    change is refused, naming the limit, so a customer whose power fails the evening after
    the real work is told "new fault, we are investigating", not "planned work"."""
    dispatcher = login(client, "dispatcher")
    premise = premises_below(db_session, DEVICE)[3]
    feeder = db_session.scalar(select(Feeder.code).where(Feeder.id == premise.feeder_id))
    starts = NOW + dt.timedelta(days=2)
    ends = starts + dt.timedelta(hours=4)
    with frozen(client, NOW):
        body = {"reason": "cable jointing", "starts_at": starts.isoformat(), "feeders": [feeder]}
        created = client.post(
            "/api/v1/planned-outages",
            json={**body, "ends_at": ends.isoformat()},
            headers=dispatcher,
        )
        assert created.status_code == 201, created.text
        planned_id = created.json()["id"]
        a_year_long = client.post(
            "/api/v1/planned-outages",
            json={**body, "ends_at": (ends + dt.timedelta(days=365)).isoformat()},
            headers=dispatcher,
        )
        assert a_year_long.status_code == 422
        assert "8,764.0 h long" in a_year_long.json()["detail"]
    with frozen(client, NOW + MIN):
        slip = client.patch(
            f"/api/v1/planned-outages/{planned_id}",
            json={"ends_at": (ends + dt.timedelta(days=365)).isoformat()},
            headers=dispatcher,
        )
        assert slip.status_code == 422
        assert "at most 72 h" in slip.json()["detail"]
    with frozen(client, starts + dt.timedelta(hours=1)):
        assert status_of(client, premise)["state"] == "planned"
    with frozen(client, ends + dt.timedelta(hours=3)):
        told = report(client, premise)
        assert told["classification"] == "new" and told["planned_outage_id"] is None
        assert "investigating" in told["message"]
        assert status_of(client, premise)["state"] == "outage"
