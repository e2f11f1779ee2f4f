"""(f) A storm and a hospital transformer at once, two crews: the idle crew goes to the hospital.

Found playing the demo: the plan sent the standby crew to the storm's recloser and then, an
hour later, to a hospital's transformer, while a transformer crew on shift stood idle at its
depot a few minutes away. The hospital was reached inside its on-site deadline either way, and
the plan priced only driving and lateness past the deadline, so the chain was cheaper by two
minutes of driving. A dispatcher sends the idle crew at once: the customers' wait is priced
(``DispatchSettings.wait_cost_per_point``). Priced at 0, the old plan comes back (one crew
takes both, one outage waits behind the other's repair, the other crew stands idle), which
shows that the price is what makes the difference.

Here the utility's on-site commitment is three hours, so no deadline forces the answer.
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
from tests.dispatch.helpers import frozen
from tests.scenarios.storm_helpers import (
    NOW,
    at,
    live_orders,
    login,
    only_crews,
    plan_and_apply,
    premises_below,
    report,
    status_of,
    sync,
)
from web.settings import Settings

STORM_RECLOSER = "HEL-F01-R01"
HOSPITAL_TRANSFORMER = "HEL-F06-T04"  # 27 s from the recloser, 164 s from CREW-06's depot
MIN = dt.timedelta(minutes=1)


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


@pytest.fixture(params=[0.01, 0.0], ids=["wait-priced", "wait-unpriced"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The suite's settings with a three-hour on-site commitment, and the wait priced at
    the default or not at all."""
    return settings.model_copy(
        update={
            "wait_cost_per_point": request.param,
            "onsite_minutes_by_region_class": {"urban": 180.0, "rural": 180.0, "remote": 180.0},
        }
    )


def test_f_the_idle_transformer_crew_goes_to_the_hospital_at_once(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    # CREW-08 (line, transformer) is the only line crew: the recloser is its job. CREW-06
    # (cable, transformer) can take the hospital's transformer.
    only_crews(
        db_session,
        {"CREW-08": (dt.time(0), dt.time(0)), "CREW-06": (dt.time(19), dt.time(7))},
    )
    dispatcher = login(client, "dispatcher")
    storm = [p for p in premises_below(db_session, STORM_RECLOSER) if p.critical is None]
    transformer = db_session.scalar(select(Device).where(Device.code == HOSPITAL_TRANSFORMER))
    assert transformer is not None
    hospital_block = db_session.scalars(
        select(Premise).where(Premise.transformer_id == transformer.id).order_by(Premise.id)
    ).all()
    assert any(p.critical == "hospital" for p in hospital_block)
    neighbours = [p for p in hospital_block if p.critical is None]
    with frozen(client, NOW):
        storm_answers = [report(client, p) for p in storm[::9][:12]]
        report(client, storm[0], "wire_down", description="line down across the street")
        hospital_answers = [report(client, p) for p in neighbours[:3]]
    storm_outage = storm_answers[-1]["outage_id"]
    hospital_outage = hospital_answers[-1]["outage_id"]
    assert storm_outage != hospital_outage
    with frozen(client, NOW + 5 * MIN):
        sync(client, dispatcher)
        orders = {o["outage_id"]: o for o in live_orders(client, dispatcher)}
        plan = plan_and_apply(client, dispatcher)
    storm_order, hospital_order = orders[storm_outage], orders[hospital_outage]
    orders_by_id = {o["id"]: o for o in orders.values()}
    # Both are priority 1: the storm for its wire down and its hospital, the transformer for
    # its hospital; the storm is the more urgent.
    assert storm_order["urgency"]["priority"] == hospital_order["urgency"]["priority"] == 1
    assert storm_order["urgency"]["score"] > hospital_order["urgency"]["score"]
    assert plan["check"] == [] and plan["dropped"] == []
    routes = {r["crew"]: [v["work_order_id"] for v in r["visits"]] for r in plan["routes"]}
    with frozen(client, NOW + 6 * MIN):
        hospital_live = next(
            o for o in live_orders(client, dispatcher) if o["id"] == hospital_order["id"]
        )
        told = status_of(client, neighbours[0])
    eta = at(hospital_live["eta_at"])
    if settings.wait_cost_per_point:
        # The line crew goes to the storm, the idle crew straight to the hospital: on site
        # within minutes, not after the storm.
        assert routes["CREW-08"] == [storm_order["id"]]
        assert routes["CREW-06"] == [hospital_order["id"]]
        assert hospital_live["crew"] == "CREW-06"
        assert eta <= NOW + 10 * MIN
    else:
        # Unpriced, the wait loses to two minutes of driving: CREW-08 takes both, one outage
        # waits behind the other's repair inside the three-hour deadline (the old plan), and
        # CREW-06 stands idle.
        assert sorted(routes["CREW-08"]) == sorted([storm_order["id"], hospital_order["id"]])
        assert routes.get("CREW-06", []) == []
        second = routes["CREW-08"][1]
        second_live = next(o for o in live_orders(client, dispatcher) if o["id"] == second)
        first_repair_s = orders_by_id[routes["CREW-08"][0]]["repair_s"]
        assert at(second_live["eta_at"]) >= NOW + 5 * MIN + dt.timedelta(seconds=first_repair_s)
    # What the hospital's neighbours are told follows the crew that is coming.
    assert told["state"] == "outage"
    assert at(told["etr"]) >= eta + dt.timedelta(seconds=hospital_live["repair_s"])
