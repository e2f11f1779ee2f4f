"""(g) After a demo storm, no order waits behind another while a crew with its skills idles.

The demo's evening: houses go dark below two transformers (one a hospital's, one a
life-support customer's), then the storm simulator trips a recloser; the crews on shift at
20:00 are the demo's own, the on-site commitment three hours. A dispatcher reading the plan
should not find an order second on a route while a crew on shift with its skills has nothing
to do (with the wait unpriced both seeds break it, an order waiting behind another on CREW-08
while CREW-05 idles: checked with STORMDESK_WAIT_COST_PER_POINT=0).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import solve_worker
from geo.models import Device, Premise
from scenarios.storm import play_storm
from tests.dispatch.helpers import frozen
from tests.scenarios.storm_helpers import (
    NOW,
    live_orders,
    login,
    plan_and_apply,
    report,
    sync,
)
from web.settings import Settings

MIN = dt.timedelta(minutes=1)
EVENING_TRANSFORMERS = ("HEL-F06-T04", "HEL-F05-T08")  # a hospital's; a life-support premise's


def _neighbours(session: Session, code: str) -> list[Premise]:
    """Premises below the transformer without a critical flag, in id order."""
    transformer = session.scalar(select(Device).where(Device.code == code))
    assert transformer is not None, code
    return list(
        session.scalars(
            select(Premise)
            .where(Premise.transformer_id == transformer.id, Premise.critical.is_(None))
            .order_by(Premise.id)
        )
    )


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A three-hour on-site commitment, so no deadline forces the crews apart."""
    return settings.model_copy(
        update={
            "onsite_minutes_by_region_class": dict.fromkeys(("urban", "rural", "remote"), 180.0)
        }
    )


@pytest.mark.parametrize("seed", [3, 7])
def test_g_no_order_waits_behind_another_while_a_crew_with_its_skills_idles(
    client: TestClient, db_session: Session, settings: Settings, seed: int
) -> None:
    dispatcher = login(client, "dispatcher")
    # The ordinary evening before it: dark houses below two transformers, one a hospital's.
    with frozen(client, NOW - 30 * MIN):
        for code in EVENING_TRANSFORMERS:
            for premise in _neighbours(db_session, code)[:3]:
                report(client, premise)
    play_storm(session=db_session, settings=settings, now=NOW, seed=seed, reports=200)
    with frozen(client, NOW + 5 * MIN):
        sync(client, dispatcher)
        orders = {o["id"]: o for o in live_orders(client, dispatcher)}
        plan = plan_and_apply(client, dispatcher)
        crews = client.get("/api/v1/crews", headers=dispatcher).json()["features"]
    assert plan["check"] == [] and plan["dropped"] == []
    assert len(orders) >= 3, "the storm's order and the evening's two"
    skills = {c["properties"]["code"]: set(c["properties"]["skills"]) for c in crews}
    routes = {r["crew"]: [v["work_order_id"] for v in r["visits"]] for r in plan["routes"]}
    idle = [crew for crew, visits in routes.items() if not visits]
    for crew, visits in routes.items():
        for position, waiting in enumerate(visits[1:], start=1):
            needs = set(orders[waiting]["required_skills"])
            able = [other for other in idle if needs <= skills[other]]
            assert not able, (
                f"order #{waiting} waits behind {visits[:position]} on {crew} "
                f"while {able} stand idle"
            )
