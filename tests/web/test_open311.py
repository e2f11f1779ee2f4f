"""Open311 GeoReport v2: services, filing and tracking requests, errors in the spec's format,
and compatibility with the ``georeport`` client library from PyPI against a live server."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fastapi.testclient import TestClient
from geoalchemy2.shape import to_shape
from georeport import GeoReport
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from geo.models import Device, Premise
from outages.models import CATEGORIES, Outage, Report
from outages.service import restore_outage
from web.settings import Settings

BASE = "/open311/v2"
JSON = {"Content-Type": "application/json"}
PII_KEYS = {"phone", "email", "first_name", "last_name", "account", "customer_name"}


def premise(session: Session, nth: int = 0) -> Premise:
    """The nth premise fed by a transformer: a report there opens an outage with an ETR."""
    found = session.scalars(
        select(Premise)
        .where(Premise.transformer_id.is_not(None))
        .order_by(Premise.id)
        .offset(nth)
        .limit(1)
    ).one()
    return found


def other_transformer_premise(session: Session, first: Premise) -> Premise:
    """A premise on another transformer, so its report is not absorbed into the first outage."""
    return session.scalars(
        select(Premise)
        .where(Premise.transformer_id.is_not(None), Premise.transformer_id != first.transformer_id)
        .order_by(Premise.id)
        .limit(1)
    ).one()


def lat_long(place: Premise) -> dict[str, str]:
    point = to_shape(place.geom)
    return {"lat": str(point.y), "long": str(point.x)}


def post_form(client: TestClient, fields: dict[str, str]) -> str:
    response = client.post(f"{BASE}/requests.json", data=fields)
    assert response.status_code == 200, response.text
    return str(response.json()[0]["service_request_id"])


def get_one(client: TestClient, request_id: str) -> dict[str, object]:
    response = client.get(f"{BASE}/requests/{request_id}.json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return dict(body[0])


def by_token(session: Session, request_id: object) -> Report:
    """The report a service_request_id (its tracking token) names."""
    report = session.scalars(select(Report).where(Report.token == str(request_id))).one()
    return report


def when(w3c: object) -> dt.datetime:
    """A W3C datetime of an answer; it must carry its offset."""
    moment = dt.datetime.fromisoformat(str(w3c))
    assert moment.utcoffset() is not None
    return moment


def ids_of(client: TestClient, **params: str) -> set[str]:
    response = client.get(f"{BASE}/requests.json", params=params)
    assert response.status_code == 200, response.text
    return {r["service_request_id"] for r in response.json()}


def assert_error(response: Any, status: int, words: str) -> None:
    """The spec's error shape: a list of one {code, description}, code = HTTP status."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["code"] == status
    assert words in body[0]["description"]


def test_services_are_our_categories(client: TestClient) -> None:
    response = client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = response.json()
    assert [s["service_code"] for s in services] == list(CATEGORIES)
    for service in services:
        assert service["metadata"] is False
        assert service["type"] == "realtime"
        assert service["service_name"] and service["description"] and service["keywords"]
    groups = {s["service_code"]: s["group"] for s in services}
    assert groups["no_power"] == "Power outage"
    assert {groups[c] for c in ("wire_down", "pole_damage", "fire_smoke")} == {"Hazard"}


def test_services_in_xml_the_spec_required_format(client: TestClient) -> None:
    response = client.get(f"{BASE}/services.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == list(CATEGORIES)
    assert root.find("service/metadata").text == "false"  # type: ignore[union-attr]


def test_service_definition_and_unknown_code(client: TestClient) -> None:
    body = client.get(f"{BASE}/services/wire_down.json").json()
    assert body == {"service_code": "wire_down", "attributes": []}
    assert_error(client.get(f"{BASE}/services/pothole.json"), 404, "pothole")


def test_post_form_encoded_with_lat_long_tracks_the_outage_and_etr(
    client: TestClient, db_session: Session
) -> None:
    place = premise(db_session)
    response = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "no_power", **lat_long(place), "api_key": "any"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["account_id"] is None
    assert "registered" in created["service_notice"]
    report = by_token(db_session, created["service_request_id"])
    assert not created["service_request_id"].isdigit()  # a token: no one walks the numbers
    assert report.channel == "open311" and report.premise_id == place.id
    assert report.outage_id is not None

    request = get_one(client, created["service_request_id"])
    outage = db_session.get(Outage, report.outage_id)
    assert outage is not None and outage.etr_at is not None
    assert request["status"] == "open"
    assert request["service_code"] == "no_power"
    assert request["service_name"] == "No power"
    assert request["address"] is None  # public: who called from where is staff's
    assert when(request["expected_datetime"]) == outage.etr_at.replace(microsecond=0)
    assert when(request["requested_datetime"]) == report.received_at.replace(microsecond=0)
    assert "expected back by" in str(request["status_notes"])
    assert request["service_notice"] == created["service_notice"]
    # The outage's point (its suspected device), not the caller's.
    device = to_shape(db_session.get(Device, outage.device_id).geom)  # type: ignore[union-attr]
    assert request["lat"] == pytest.approx(device.y) and request["long"] == pytest.approx(device.x)
    point = to_shape(place.geom)
    assert (request["lat"], request["long"]) != pytest.approx((point.y, point.x))


def test_post_json_with_address_string(client: TestClient, db_session: Session) -> None:
    place = premise(db_session, nth=3)
    response = client.post(
        f"{BASE}/requests.json",
        json={"service_code": "wire_down", "address_string": place.address, "description": "!"},
    )
    assert response.status_code == 200, response.text
    [created] = response.json()
    assert "Keep away from fallen wires" in created["service_notice"]
    request = get_one(client, created["service_request_id"])
    report = by_token(db_session, created["service_request_id"])
    assert report.located_by == "address"
    # OSM has several objects at one address: any premise there is right.
    located = db_session.get(Premise, report.premise_id)
    assert located is not None and located.address_norm == place.address_norm
    assert request["address"] is None
    assert request["service_code"] == "wire_down"


def test_post_with_address_id_is_the_premise_account(
    client: TestClient, db_session: Session
) -> None:
    place = premise(db_session, nth=5)
    request_id = post_form(client, {"service_code": "flicker", "address_id": place.account})
    report = by_token(db_session, request_id)
    assert report.premise_id == place.id
    assert report.located_by == "account"


def test_post_answers_xml(client: TestClient, db_session: Session) -> None:
    place = premise(db_session)
    response = client.post(
        f"{BASE}/requests.xml", data={"service_code": "other", **lat_long(place)}
    )
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    assert (
        by_token(db_session, root.findtext("request/service_request_id", "")).channel == "open311"
    )
    assert root.findtext("request/account_id") is None or root.findtext("request/account_id") == ""


def test_get_shows_no_personal_data(client: TestClient, db_session: Session) -> None:
    place = premise(db_session)
    request_id = post_form(
        client,
        {
            "service_code": "no_power",
            **lat_long(place),
            "phone": "+358 40 1234567",
            "email": "caller@example.org",
            "first_name": "Aino",
            "last_name": "Virtanen",
            "description": "Call Aino on +358 40 1234567",
        },
    )
    one = client.get(f"{BASE}/requests/{request_id}.json").text
    many = client.get(f"{BASE}/requests.json", params={"service_request_id": request_id}).text
    xml = client.get(f"{BASE}/requests/{request_id}.xml").text
    for answer in (one, many, xml):
        assert "1234567" not in answer and "Aino" not in answer and "example.org" not in answer
        assert place.account not in answer
    assert not PII_KEYS & set(get_one(client, request_id))
    assert get_one(client, request_id)["description"] is None


def test_get_requests_by_ids_status_code_and_dates(client: TestClient, db_session: Session) -> None:
    first = premise(db_session)
    second = other_transformer_premise(db_session, first)
    outage_id = post_form(client, {"service_code": "no_power", **lat_long(first)})
    hazard_id = post_form(client, {"service_code": "pole_damage", **lat_long(second)})
    both = {outage_id, hazard_id}

    assert ids_of(client, service_request_id=f"{outage_id},{hazard_id}") == both
    assert ids_of(client, service_request_id=hazard_id) == {hazard_id}
    assert ids_of(client) == both  # the most recent 90 days by default
    assert ids_of(client, status="open") == both
    assert ids_of(client, status="closed") == set()
    assert ids_of(client, service_code="pole_damage") == {hazard_id}
    assert ids_of(client, service_code="no_power,pole_damage") == both

    now = dt.datetime.now(dt.UTC)
    around = {
        "start_date": (now - dt.timedelta(hours=1)).isoformat(),
        "end_date": (now + dt.timedelta(hours=1)).isoformat(),
    }
    assert ids_of(client, **around) == both
    assert (
        ids_of(client, start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z") == set()
    )
    assert ids_of(client, start_date=(now - dt.timedelta(days=2)).strftime("%Y-%m-%d")) == both

    listed = client.get(f"{BASE}/requests.json", params={"service_request_id": outage_id}).json()
    assert listed == [get_one(client, outage_id)]


def test_request_closes_when_the_outage_is_restored(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    request_id = post_form(client, {"service_code": "no_power", **lat_long(premise(db_session))})
    report = by_token(db_session, request_id)
    assert report.outage_id is not None
    outage = db_session.get(Outage, report.outage_id)
    assert outage is not None
    restored_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=None,
        settings=settings,
        now=restored_at,
        actor="test",
    )
    request = get_one(client, request_id)
    assert request["status"] == "closed"
    assert "restored" in str(request["status_notes"])
    assert when(request["updated_datetime"]) == restored_at.replace(microsecond=0)
    assert ids_of(client, status="closed") == {request_id}
    assert ids_of(client, status="open") == set()


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"service_code": "pothole", "lat": "60.17", "long": "24.94"}, "service_code 'pothole'"),
        ({"lat": "60.17", "long": "24.94"}, "service_code is required"),
        ({"service_code": "no_power"}, "location is required"),
        ({"service_code": "no_power", "lat": "91", "long": "24.94"}, "lat='91'"),
        ({"service_code": "no_power", "lat": "north", "long": "24.94"}, "lat='north'"),
        ({"service_code": "no_power", "lat": "60.17"}, "both lat and long"),
        ({"service_code": "no_power", "lat": "0", "long": "0"}, "outside"),
        ({"service_code": "no_power", "address_id": "NO-SUCH-ACCOUNT"}, "NO-SUCH-ACCOUNT"),
        ({"service_code": "no_power", "address_string": "Zzyzx Qwerty 999"}, "Zzyzx"),
        ({"service_code": "no_power", "address_id": "x", "phone": "call me"}, "phone"),
        ({"service_code": "other", "address_id": "x", "description": "x" * 2001}, "description"),
    ],
)
def test_post_errors_in_spec_format(client: TestClient, fields: dict[str, str], words: str) -> None:
    assert_error(client.post(f"{BASE}/requests.json", data=fields), 400, words)


def test_unsure_address_error_names_each_suggestion_once(
    client: TestClient, db_session: Session
) -> None:
    street = premise(db_session).address.split(",")[0].rsplit(" ", 1)[0]
    response = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "no_power", "address_string": f"{street} 999"},
    )
    assert_error(response, 400, "Suggestions: ")
    suggestions = response.json()[0]["description"].split("Suggestions: ")[1].rstrip(".")
    named = suggestions.split("; ")
    assert named and len(named) == len(set(named))
    assert all(street in address for address in named)


def test_post_refuses_json_that_is_not_an_object(client: TestClient) -> None:
    response = client.post(f"{BASE}/requests.json", json=["no_power"])
    assert_error(response, 400, "object")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"service_code": "pothole"}, "pothole"),
        ({"status": "pending"}, "pending"),
        ({"start_date": "yesterday"}, "start_date='yesterday'"),
        ({"end_date": "2026-11-01T00:00:00"}, "offset"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"service_request_id": "Xq3v9Tb2,a b"}, "ids (as answered when filing)"),
    ],
)
def test_list_errors_in_spec_format(client: TestClient, params: dict[str, str], words: str) -> None:
    assert_error(client.get(f"{BASE}/requests.json", params=params), 400, words)


@pytest.mark.parametrize("request_id", ["999999999", "abc", "9" * 30])
def test_unknown_request_is_404_in_spec_format(client: TestClient, request_id: str) -> None:
    assert_error(client.get(f"{BASE}/requests/{request_id}.json"), 404, request_id)


def test_errors_in_xml_and_unknown_format(client: TestClient) -> None:
    response = client.get(f"{BASE}/requests/999999999.xml")
    assert response.status_code == 404
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert "999999999" in root.findtext("error/description", "")
    assert_error(client.get(f"{BASE}/services.csv"), 400, "format: Input should be 'json' or 'xml'")


def test_bodies_refused_before_the_route_answer_in_spec_format(client: TestClient) -> None:
    """The admission middleware refuses these before the route runs; an Open311 client
    still gets the spec's error list, and a 422 there is the spec's 400."""
    deep = b'{"service_code": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert_error(
        client.post(f"{BASE}/requests.json", content=deep, headers=JSON), 400, "nested 41 levels"
    )
    not_utf8 = b'{"service_code": "no_power", "description": "\xff"}'
    assert_error(
        client.post(f"{BASE}/requests.json", content=not_utf8, headers=JSON), 400, "byte 0xff"
    )
    big = b'{"description": "' + b"x" * 2_000_001 + b'"}'
    too_big = client.post(f"{BASE}/requests.json", content=big, headers=JSON)
    assert_error(too_big, 413, "at most 2000000")
    as_xml = client.post(f"{BASE}/requests.xml", content=deep, headers=JSON)
    assert as_xml.status_code == 400
    assert as_xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(as_xml.content)
    assert root.findtext("error/code") == "400"
    assert "nested" in root.findtext("error/description", "")


def test_api_errors_keep_their_own_format(client: TestClient) -> None:
    response = client.post("/api/v1/reports", json={"category": "no_power", "lat": 0, "lon": 0})
    assert response.status_code == 422
    assert "detail" in response.json()


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        f"{BASE}/services.{{fmt}}",
        f"{BASE}/services/{{service_code}}.{{fmt}}",
        f"{BASE}/requests.{{fmt}}",
        f"{BASE}/requests/{{service_request_id}}.{{fmt}}",
    } <= set(paths)
    form = paths[f"{BASE}/requests.{{fmt}}"]["post"]["requestBody"]["content"]
    assert "application/x-www-form-urlencoded" in form


INTAKE_TABLES = ("notification", "etr_change", "outage_premise", "report", "outage")


def intake_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in INTAKE_TABLES
        }


@pytest.fixture
def committed_requests(engine: Engine) -> Iterator[list[str]]:
    """Ids of requests a test files through the live server; their rows are deleted after.

    The live server commits to the shared test database, which other tests expect to hold
    no intake rows. Only rows reached from these ids go, in foreign-key order. Events stay:
    the audit log is append-only by trigger, and harmless.
    """
    before = intake_counts(engine)
    created: list[str] = []
    yield created
    with engine.begin() as connection:
        ids = list(
            connection.execute(
                text("SELECT id FROM report WHERE token = ANY(:tokens)"), {"tokens": created}
            ).scalars()
        )
        outages = list(
            connection.execute(
                text(
                    "SELECT DISTINCT outage_id FROM report "
                    "WHERE id = ANY(:ids) AND outage_id IS NOT NULL"
                ),
                {"ids": ids},
            ).scalars()
        )
        keys = [f"outage:{o}:%" for o in outages]
        connection.execute(
            text("DELETE FROM notification WHERE event_key LIKE ANY(:keys)"), {"keys": keys}
        )
        for table in ("etr_change", "outage_premise"):
            connection.execute(
                text(f"DELETE FROM {table} WHERE outage_id = ANY(:o)"), {"o": outages}
            )
        connection.execute(text("DELETE FROM report WHERE id = ANY(:ids)"), {"ids": ids})
        connection.execute(text("DELETE FROM outage WHERE id = ANY(:o)"), {"o": outages})
    assert intake_counts(engine) == before, "the live-server test left intake rows behind"


def test_georeport_client_lists_services_and_reads_requests(
    live_server: str, engine: Engine, committed_requests: list[str]
) -> None:
    root = f"{live_server}{BASE}"
    with Session(engine) as session:
        place = premise(session)
        form = {"service_code": "no_power", **lat_long(place)}
    # georeport cannot file requests, so a plain form-encoded POST does, as the spec says.
    posted = requests.post(f"{root}/requests.json", data=form, timeout=30)
    assert posted.status_code == 200, posted.text
    request_id = str(posted.json()[0]["service_request_id"])
    committed_requests.append(request_id)

    for output_format in ("json", "xml"):
        client = GeoReport(root, output_format=output_format)
        services = client.get_service_list()
        assert [s["service_code"] for s in services] == list(CATEGORIES)
        assert client.get_service_definition("fire_smoke")["service_code"] == "fire_smoke"
        one = client.get_service_request(request_id)
        assert one["service_request_id"] == request_id
        assert one["status"] == "open"
        assert one["expected_datetime"]
        assert one["address"] is None
        listed = client.get_service_requests(service_request_id=request_id, status="open")
        # xmltodict gives a lone <request> as a dict, not a list of one.
        listed = listed if isinstance(listed, list) else [listed]
        assert [r["service_request_id"] for r in listed] == [request_id]
        recent = client.get_service_requests(service_code="no_power", status="open")
        recent = recent if isinstance(recent, list) else [recent]
        assert request_id in {r["service_request_id"] for r in recent}
        with pytest.raises(requests.HTTPError) as raised:
            client.get_service_request("999999999")
        assert raised.value.response.status_code == 404
