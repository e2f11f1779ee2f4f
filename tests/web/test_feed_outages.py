"""The public GeoJSON outage feed: schema, generalized areas, no personal data, ETag/304,
never older than 60 s, and gzip."""

from __future__ import annotations

import gzip
from typing import Any

import shapely
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from outages.service import restore_outage
from tests.web.feed_helpers import (
    Clock,
    clock_fixture,  # noqa: F401 (the clock fixture)
    fuse_outage,
    personal_strings,
    planned_on,
)
from web.settings import Settings

FEED = "/feeds/outages.geojson"
PROPERTIES = {
    "kind",
    "outage_id",
    "status",
    "cause",
    "customers_out",
    "region",
    "region_name",
    "started_at",
    "etr",
    "ends_at",
    "reason",
    "updated_at",
}


def _feed(client: TestClient) -> dict[str, Any]:
    answer = client.get(FEED)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/geo+json"
    body: dict[str, Any] = answer.json()
    return body


def _premise_points(session: Session, outage_id: int) -> list[Point]:
    rows = session.execute(
        text(
            "SELECT ST_X(p.geom), ST_Y(p.geom) FROM outage_premise op "
            "JOIN premise p ON p.id = op.premise_id WHERE op.outage_id = :o"
        ),
        {"o": outage_id},
    ).all()
    return [Point(x, y) for x, y in rows]


def test_feed_documents_current_outages_as_generalized_areas(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    outage = fuse_outage(db_session, settings)
    planned_id = planned_on(db_session, settings, days_ahead=-0.05)  # under way for 1.2 h
    feed = _feed(client)
    assert feed["type"] == "FeatureCollection" and feed["feed_version"] == 1
    assert feed["max_age_s"] <= 60
    by_id = {f["id"]: f for f in feed["features"]}
    assert set(by_id) == {f"outage-{outage.id}", f"planned-{planned_id}"}
    for feature in feed["features"]:
        assert set(feature["properties"]) == PROPERTIES
        geom = shape(feature["geometry"])
        assert geom.geom_type in ("Polygon", "MultiPolygon")
        assert geom.is_valid, shapely.is_valid_reason(geom)
        minx, miny, maxx, maxy = geom.bounds
        assert 24 < minx < maxx < 26 and 59.5 < miny < maxy < 60.5  # lon/lat order
    unplanned = by_id[f"outage-{outage.id}"]
    assert unplanned["properties"]["kind"] == "unplanned"
    assert unplanned["properties"]["customers_out"] == outage.customers_affected
    area = shape(unplanned["geometry"])
    points = _premise_points(db_session, outage.id)
    assert points and all(area.covers(p) for p in points)
    # Generalized: made of whole cells (no vertex on a premise), each cell about 250 m wide.
    vertices = {(x, y) for x, y in shapely.get_coordinates(area).round(5).tolist()}
    assert not {(round(p.x, 5), round(p.y, 5)) for p in points} & vertices
    cell_deg2 = (250 / 111_320) ** 2 / 0.5  # lon degrees are half as long at 60 N
    assert area.area >= 0.9 * cell_deg2
    assert by_id[f"planned-{planned_id}"]["properties"]["reason"] == "transformer maintenance"


def test_feed_carries_no_personal_data(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    fuse_outage(db_session, settings)
    body = client.get(FEED).text
    assert '"critical' not in body and "phone" not in body and "account" not in body
    leaked = [s for s in personal_strings(db_session) if s in body]
    assert not leaked, leaked[:5]


def test_feed_has_an_etag_and_answers_304_when_unchanged(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    fuse_outage(db_session, settings)
    first = client.get(FEED)
    etag = first.headers["etag"]
    assert etag.startswith('"') and len(etag) == 34
    max_age = int(first.headers["cache-control"].split("max-age=")[1])
    assert first.headers["cache-control"].startswith("public")
    assert max_age + settings.feed_cache_s <= 60
    again = client.get(FEED, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    weak = client.get(FEED, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    assert client.get(FEED, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_feed_is_never_older_than_60_seconds(
    client: TestClient, db_session: Session, settings: Settings, clock: Clock
) -> None:
    outage = fuse_outage(db_session, settings)
    assert [f["id"] for f in _feed(client)["features"]] == [f"outage-{outage.id}"]
    device_code = db_session.execute(
        text("SELECT code FROM device WHERE id = :d"), {"d": outage.device_id}
    ).scalar_one()
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=device_code,
        settings=settings,
        now=clock.now,
        actor="crew",
    )
    # Within the app's cache time the built feed may still be served ...
    clock.step(settings.feed_cache_s - 1)
    assert [f["id"] for f in _feed(client)["features"]] == [f"outage-{outage.id}"]
    # ... and once it has passed the restoration shows; plus the client's max-age <= 60 s.
    clock.step(1)
    fresh = _feed(client)
    assert fresh["features"] == []
    assert fresh["generated_at"] == clock.now.isoformat()


def test_json_and_geojson_are_gzipped_when_asked_and_large(client: TestClient) -> None:
    roads = client.get("/api/v1/layers/roads", headers={"Accept-Encoding": "gzip"})
    assert roads.status_code == 200
    assert roads.headers["content-encoding"] == "gzip"
    # httpx decodes for us; the wire size is what gzip saved.
    raw = gzip.compress(roads.content)
    assert len(raw) < len(roads.content) / 4
    assert roads.json()["type"] == "FeatureCollection"
    plain = client.get("/api/v1/layers/roads", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    tiny = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tiny.headers  # under the 1,000-byte minimum
