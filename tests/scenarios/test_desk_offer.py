"""The desk's next call in a storm of one region, through the API with a frozen clock.

Region A's storm rings 30 calls before region B's two. The oldest-first desk would offer
all 30 of A's before either of B's; the offer (``GET /api/v1/calls/offer``, the region rule
of ``hotline.region_shares``) takes turns between regions of equal share, so B's callers
are answered second and fourth, and A's calls still come oldest first.
"""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Premise, Region
from tests.hotline.call_helpers import logins

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def _two_equal_regions(session: Session) -> tuple[str, str]:
    """The two regions closest in customers, so the rule gives them the same share."""
    rows = session.execute(
        select(Region.code, func.count(Premise.id))
        .outerjoin(Premise, Premise.region_id == Region.id)
        .group_by(Region.code)
        .order_by(func.count(Premise.id), Region.code)
    ).all()
    assert len(rows) >= 2, "the demo city has several regions"
    pairs = [
        (rows[i + 1][1] - rows[i][1], rows[i][0], rows[i + 1][0]) for i in range(len(rows) - 1)
    ]
    _, first, second = min(pairs)
    return first, second


def test_offers_take_turns_so_a_storm_does_not_starve_another_region(
    client: TestClient, db_session: Session
) -> None:
    clock, headers = logins(client, db_session, NOW)
    storm, quiet = _two_equal_regions(db_session)
    ids: dict[str, list[int]] = {storm: [], quiet: []}
    rings = [(storm, NOW - dt.timedelta(minutes=10) + i * SECOND) for i in range(30)]
    rings += [(quiet, NOW - dt.timedelta(minutes=5) + i * SECOND) for i in range(2)]
    for n, (region, at) in enumerate(rings):
        answer = client.post(
            "/api/v1/calls",
            json={
                "caller_number": f"+358 40 555 {n:04d}",
                "region_code": region,
                "at": at.isoformat(),
            },
            headers=headers["cti"],
        )
        assert answer.status_code == 201, answer.text
        ids[region].append(answer.json()["id"])

    first = client.get("/api/v1/calls/offer", headers=headers["agent"]).json()
    queues = {q["region"]: q for q in first["queues"]}
    assert queues[storm]["waiting"] == 30 and queues[quiet]["waiting"] == 2
    assert queues[storm]["nominal_agents"] == queues[quiet]["nominal_agents"]

    offered: list[tuple[str, int, str]] = []
    for _ in range(6):
        clock.now += 20 * SECOND
        offer = client.get("/api/v1/calls/offer", headers=headers["agent"])
        assert offer.status_code == 200, offer.text
        body = offer.json()
        offered.append((body["region"], body["call"]["id"], body["reason"]))
        call_id = body["call"]["id"]
        for action in ("answer", "hang_up"):
            step = client.patch(
                f"/api/v1/calls/{call_id}", json={"action": action}, headers=headers["agent"]
            )
            assert step.status_code == 200, step.text
            clock.now += 60 * SECOND

    regions = [region for region, _, _ in offered]
    # Turns: whichever region goes first, the other goes next; B's two calls are gone by
    # the fourth offer, then only the storm's calls are left.
    assert regions[:4] in ([storm, quiet] * 2, [quiet, storm] * 2), regions
    assert regions[4:] == [storm, storm]
    # Within a region, the oldest call first.
    storm_ids = [call_id for region, call_id, _ in offered if region == storm]
    assert storm_ids == ids[storm][: len(storm_ids)]
    assert [call_id for region, call_id, _ in offered if region == quiet] == ids[quiet]
    assert {reason for _, _, reason in offered} == {"below_share"}


def test_a_busy_region_yields_to_one_below_its_share_and_nothing_ringing_offers_nothing(
    client: TestClient, db_session: Session
) -> None:
    clock, headers = logins(client, db_session, NOW)
    storm, quiet = _two_equal_regions(db_session)
    # A call "ringing" for three hours lost its abandon on the way from the CTI: not offered.
    stale = client.post(
        "/api/v1/calls",
        json={"caller_number": "+358 40 666 9999", "at": (NOW - dt.timedelta(hours=3)).isoformat()},
        headers=headers["cti"],
    )
    assert stale.status_code == 201, stale.text
    nothing = client.get("/api/v1/calls/offer", headers=headers["agent"]).json()
    assert nothing["call"] is None and nothing["reason"] == "none_waiting"
    made = {}
    for n, region in enumerate([storm, storm, quiet]):
        answer = client.post(
            "/api/v1/calls",
            json={"caller_number": f"+358 40 666 {n:04d}", "region_code": region},
            headers=headers["cti"],
        )
        made.setdefault(region, []).append(answer.json()["id"])
    # The supervisor is on the storm's older call: the storm holds an agent, the quiet region
    # none, so the quiet region's call comes before the storm's second even though it is newer.
    step = client.patch(
        f"/api/v1/calls/{made[storm][0]}", json={"action": "answer"}, headers=headers["supervisor"]
    )
    assert step.status_code == 200, step.text
    clock.now += 10 * SECOND
    offer = client.get("/api/v1/calls/offer", headers=headers["agent"]).json()
    assert offer["call"]["id"] == made[quiet][0]
    busy = {q["region"]: q["busy"] for q in offer["queues"]}
    assert busy[storm] == 1
