"""Weight of the map layers: strong ETags and 304, and ``since=`` deltas with removals."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from outages.service import restore_outage
from tests.outages.helpers import file, premises_of
from tests.web.feed_helpers import NOW, fuse_outage, staff_header
from web.settings import Settings


def test_layers_answer_304_to_their_etag(client: TestClient) -> None:
    first = client.get("/api/v1/layers/feeders")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in first.headers["vary"]
    again = client.get("/api/v1/layers/feeders", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # A different layer or a bbox is different content with its own tag.
    other = client.get("/api/v1/layers/devices", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    box = client.get(
        "/api/v1/layers/feeders",
        params={"bbox": "24.93,60.16,24.94,60.17"},
        headers={"If-None-Match": etag},
    )
    assert box.status_code == 200


def test_a_304_never_reaches_a_caller_who_may_not_read_the_layer(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    staff = staff_header(db_session, settings, "dispatcher")
    fuse_outage(db_session, settings)
    for name in ("outages", "reports", "outage_premises", "premises", "crews"):
        etag = client.get(f"/api/v1/layers/{name}", headers=staff).headers["etag"]
        assert (
            client.get(
                f"/api/v1/layers/{name}", headers={**staff, "If-None-Match": etag}
            ).status_code
            == 304
        )
        anonymous = client.get(f"/api/v1/layers/{name}", headers={"If-None-Match": etag})
        assert anonymous.status_code == 401 and "etag" not in anonymous.headers, name
        delta = client.get(f"/api/v1/layers/{name}", params={"since": "0"})
        assert delta.status_code == 401, name


def test_layer_etag_changes_when_the_layer_does(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    staff = staff_header(db_session, settings, "dispatcher")
    etag = client.get("/api/v1/layers/outages", headers=staff).headers["etag"]
    fuse_outage(db_session, settings)
    changed = client.get("/api/v1/layers/outages", headers={**staff, "If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json()["features"]) == 1


def test_since_gives_only_changes_and_removals(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    staff = staff_header(db_session, settings, "dispatcher")
    start = client.get("/api/v1/layers/outages", headers=staff, params={"since": "0"}).json()
    assert start["full"] is True and start["features"] == []
    cursor = start["cursor"]
    outage = fuse_outage(db_session, settings)
    added = client.get("/api/v1/layers/outages", headers=staff, params={"since": cursor}).json()
    assert added["full"] is False and added["since"] == cursor
    assert [f["id"] for f in added["features"]] == [outage.id] and added["removed"] == []
    # Nothing changed: an empty delta, and the cursor stays.
    same = client.get(
        "/api/v1/layers/outages", headers=staff, params={"since": added["cursor"]}
    ).json()
    assert same["features"] == [] and same["removed"] == []
    assert same["cursor"] == added["cursor"]
    # A report on the outage changes its report count: only that feature comes back.
    premise = premises_of(db_session, _a_transformer_below(db_session, outage.id))[0]
    file(db_session, settings, account=premise.account, at=NOW)
    changed = client.get(
        "/api/v1/layers/outages", headers=staff, params={"since": same["cursor"]}
    ).json()
    assert [f["id"] for f in changed["features"]] == [outage.id]
    assert changed["features"][0]["properties"]["report_count"] == 1
    device_code = db_session.execute(
        text("SELECT code FROM device WHERE id = :d"), {"d": outage.device_id}
    ).scalar_one()
    restore_outage(
        session=db_session,
        outage=outage,
        device_code=device_code,
        settings=settings,
        now=NOW,
        actor="crew",
    )
    gone = client.get(
        "/api/v1/layers/outages", headers=staff, params={"since": changed["cursor"]}
    ).json()
    assert gone["features"] == [] and gone["removed"] == [str(outage.id)]


def test_unknown_cursor_gets_the_whole_layer_and_bad_cursor_is_422(client: TestClient) -> None:
    whole = client.get("/api/v1/layers/feeders", params={"since": "f" * 32}).json()
    assert whole["full"] is True and len(whole["features"]) >= 3
    bad = client.get("/api/v1/layers/feeders", params={"since": "not-a-cursor"})
    assert bad.status_code == 422 and "since" in bad.text


def test_reports_delta_brings_a_new_report(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    staff = staff_header(db_session, settings, "dispatcher")
    cursor = client.get("/api/v1/layers/reports", headers=staff, params={"since": "0"}).json()[
        "cursor"
    ]
    outage = fuse_outage(db_session, settings)
    premise = premises_of(db_session, _a_transformer_below(db_session, outage.id))[0]
    import datetime as dt

    file(db_session, settings, account=premise.account, at=dt.datetime.now(dt.UTC))
    delta = client.get("/api/v1/layers/reports", headers=staff, params={"since": cursor}).json()
    assert delta["full"] is False and len(delta["features"]) == 1
    assert delta["features"][0]["properties"]["outage_id"] == outage.id


def _a_transformer_below(session: Session, outage_id: int) -> int:
    return int(
        session.execute(
            text(
                "SELECT p.transformer_id FROM outage_premise op JOIN premise p "
                "ON p.id = op.premise_id WHERE op.outage_id = :o ORDER BY p.id LIMIT 1"
            ),
            {"o": outage_id},
        ).scalar_one()
    )
