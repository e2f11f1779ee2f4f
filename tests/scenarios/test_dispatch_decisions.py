"""Storm decisions a dispatcher checks first, played through the API with a frozen clock.

(b) A hospital feeder against a dozen one-customer faults with two crews: the feeder is served
    first, nothing less urgent is served in its place, the drop reasons are true.
(c) A dispatcher's lock on the top order of a busy crew: it keeps the crew, goes before the
    crew's less urgent stops, every arrival follows the one before, and no customer is told
    an ETR the crew cannot meet; a dispatcher's too-early ETR is not silently replaced.
(d) A crew restoring with open make-safe tasks: refused until they are made safe, restored,
    undone within two minutes, and what /status tells the customers at each step.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import solve_worker
from geo.models import Premise
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

HOSPITAL_FEEDER_DEVICE = "HEL-F01-R01"  # recloser above the Mannerheimintie hospital
MIN = dt.timedelta(minutes=1)


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


def _hospital_outage(client: TestClient, session: Session) -> tuple[list[Premise], int]:
    """Calls from below the recloser (one a wire down): one outage with the hospital."""
    below = premises_below(session, HOSPITAL_FEEDER_DEVICE)
    hospital = next(p for p in below if p.critical == "hospital")
    callers = [p for p in below if p.critical is None][::9][:12]
    answers = [report(client, p) for p in callers]
    report(client, callers[0], "wire_down", description="line down across the street")
    outage_ids = {a["outage_id"] for a in answers[-4:]}
    assert len(outage_ids) == 1, f"the calls must roll up into one outage, got {outage_ids}"
    return [hospital, *callers], outage_ids.pop()


def _one_customer_faults(session: Session, n: int) -> list[Premise]:
    """Premises on other feeders, one per transformer, for flicker calls (priority 4)."""
    rows = session.scalars(
        select(Premise)
        .where(Premise.feeder_id.is_not(None), Premise.critical.is_(None))
        .order_by(Premise.id)
    ).all()
    hospital_feeder = premises_below(session, HOSPITAL_FEEDER_DEVICE)[0].feeder_id
    seen: dict[int, Premise] = {}
    for premise in rows:
        if premise.feeder_id != hospital_feeder and premise.transformer_id is not None:
            seen.setdefault(premise.transformer_id, premise)
    return list(seen.values())[::3][:n]


def test_b_hospital_feeder_against_a_dozen_one_customer_faults_with_two_crews(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    only_crews(
        db_session,
        {"CREW-05": (dt.time(19), dt.time(22, 30)), "CREW-08": (dt.time(19), dt.time(22, 30))},
    )
    dispatcher = login(client, "dispatcher")
    with frozen(client, NOW):
        _, outage_id = _hospital_outage(client, db_session)
        for premise in _one_customer_faults(db_session, 12):
            report(client, premise, "flicker")
    with frozen(client, NOW + 5 * MIN):
        sync(client, dispatcher)
        orders = live_orders(client, dispatcher)
        top = orders[0]
        # One order for the outage (the wire down is its task), one per fault: 13 in all.
        assert top["outage_id"] == outage_id and top["open_tasks"] == 1
        assert len(orders) == 13
        assert [o["kind"] for o in orders].count("fault") == 12
        plan = plan_and_apply(client, dispatcher)
    assert plan["check"] == [], plan["check"]
    routes = {r["crew"]: r["visits"] for r in plan["routes"]}
    served = {v["work_order_id"]: crew for crew, visits in routes.items() for v in visits}
    # The hospital feeder is served, first on its crew.
    assert top["id"] in served
    assert routes[served[top["id"]]][0]["work_order_id"] == top["id"]
    # Two crews with two and a half hours cannot do all 13: what is left out says why, truly.
    assert plan["dropped"], "the crews have too little time for every fault"
    score = {o["id"]: o["urgency"]["score"] for o in orders}
    for dropped in plan["dropped"]:
        reason = dropped["reason"]
        assert "CREW-05" in reason and "CREW-08" in reason, reason
        more = sum(1 for oid in served if score[oid] > score[dropped["work_order_id"]])
        assert f"serve {more} more urgent" in reason, (reason, more)
        # ... and who could be called in: the crews with the skills that are off shift.
        assert "off shift with the skills: CREW-01 (from 06:00)" in reason, reason
    # Customers below the recloser are told an ETR the crew can meet.
    with frozen(client, NOW + 6 * MIN):
        crew_orders = live_orders(client, dispatcher)
        outage_order = next(o for o in crew_orders if o["id"] == top["id"])
        eta = at(outage_order["eta_at"])
        caller = premises_below(db_session, HOSPITAL_FEEDER_DEVICE)[5]
        told = status_of(client, caller)
    assert told["state"] == "outage"
    assert at(told["etr"]) >= eta + dt.timedelta(seconds=outage_order["repair_s"])


def test_c_a_lock_on_the_top_order_keeps_the_crew_and_an_etr_it_can_meet(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    only_crews(db_session, {"CREW-08": (dt.time(19), dt.time(23, 59))})
    dispatcher = login(client, "dispatcher")
    with frozen(client, NOW):
        for premise in _one_customer_faults(db_session, 3):
            report(client, premise, "flicker")
    with frozen(client, NOW + MIN):
        sync(client, dispatcher)
        plan_and_apply(client, dispatcher)
        busy = [o for o in live_orders(client, dispatcher) if o["crew"] == "CREW-08"]
        assert len(busy) == 3, "the crew has three faults on its route"
    with frozen(client, NOW + 2 * MIN):
        callers, outage_id = _hospital_outage(client, db_session)
    with frozen(client, NOW + 3 * MIN):
        sync(client, dispatcher)
        top = live_orders(client, dispatcher)[0]
        assert top["outage_id"] == outage_id
        crew_id = busy[0]["crew_id"]
        locked = client.post(
            f"/api/v1/work-orders/{top['id']}/assign",
            json={"crew_id": crew_id, "lock": True},
            headers=dispatcher,
        )
        assert locked.status_code == 200, locked.text
        route = sorted(
            (o for o in live_orders(client, dispatcher) if o["crew"] == "CREW-08"),
            key=lambda o: o["route_seq"],
        )
    # Locked without a pin: the crew is kept and the hospital feeder goes first, before
    # the three less urgent faults; each arrival comes after the stop before it.
    assert route[0]["id"] == top["id"]
    assert [o["route_seq"] for o in route] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(route):
        done = at(before["eta_at"]) + dt.timedelta(seconds=before["repair_s"])
        assert at(after["eta_at"]) >= done
    eta = at(route[0]["eta_at"])
    with frozen(client, NOW + 4 * MIN):
        told = status_of(client, callers[1])
        assert at(told["etr"]) >= eta + dt.timedelta(seconds=top["repair_s"])
        # A dispatcher's ETR earlier than the crew can make: both kept, the later one told.
        too_early = (eta + dt.timedelta(minutes=5)).isoformat()
        changed = client.patch(
            f"/api/v1/outages/{outage_id}",
            json={"action": "set_etr", "etr": too_early, "reason": "my estimate"},
            headers=dispatcher,
        )
        assert changed.status_code == 200, changed.text
        history = client.get(f"/api/v1/outages/{outage_id}/etr-history").json()
        told = status_of(client, callers[1])
    assert at(told["etr"]) >= eta + dt.timedelta(seconds=top["repair_s"])
    sources = [(h["source"], h["etr"]) for h in history]
    assert ("dispatcher", too_early.replace("+00:00", "Z")) in [
        (s, e.replace("+00:00", "Z")) for s, e in sources
    ]
    assert sources[-1][0] == "dispatch" and at(sources[-1][1]) == at(told["etr"])
    assert changed.json()["etr_conflict"] is not None


def test_d_restoring_with_open_make_safe_tasks(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    only_crews(db_session, {"CREW-08": (dt.time(19), dt.time(23, 59))})
    dispatcher = login(client, "dispatcher")
    crew = login(client, "crew08")
    with frozen(client, NOW):
        callers, outage_id = _hospital_outage(client, db_session)
        report(client, callers[3], "pole_damage", description="pole leaning over the road")
    with frozen(client, NOW + MIN):
        sync(client, dispatcher)
        order = live_orders(client, dispatcher)[0]
        assert order["outage_id"] == outage_id and order["open_tasks"] == 2
        assigned = client.post(
            f"/api/v1/work-orders/{order['id']}/assign",
            json={"crew_id": _crews(client, dispatcher)[0]["id"]},
            headers=dispatcher,
        )
        assert assigned.status_code == 200, assigned.text
    step = _stepper(client, order["id"], crew)
    with frozen(client, NOW + 2 * MIN):
        step("en_route")
    with frozen(client, NOW + 20 * MIN):
        on_site = step("on_site")
        outage = client.get(f"/api/v1/outages/{outage_id}").json()
        assert outage["status"] == "confirmed", "a crew on site confirms the outage"
        assert [t["status"] for t in on_site["tasks"]] == ["open", "open"]
    with frozen(client, NOW + 80 * MIN):
        refused = client.post(
            f"/api/v1/work-orders/{order['id']}/transition", json={"to": "restored"}, headers=crew
        )
        assert refused.status_code == 409
        assert "2 open make-safe tasks" in refused.json()["detail"]
        assert len(refused.json()["open_tasks"]) == 2
        assert status_of(client, callers[1])["state"] == "outage"
        restored = step("restored", made_safe=True)
        assert {t["status"] for t in restored["tasks"]} == {"made_safe"}
        assert status_of(client, callers[1])["state"] == "restored"
    with frozen(client, NOW + 81 * MIN):
        step("on_site", note="undo: the recloser tripped again")
        assert status_of(client, callers[1])["state"] == "outage"
        assert client.get(f"/api/v1/outages/{outage_id}").json()["status"] == "confirmed"
        step("restored")
    with frozen(client, NOW + 84 * MIN):
        late = client.post(
            f"/api/v1/work-orders/{order['id']}/transition", json={"to": "on_site"}, headers=crew
        )
        assert late.status_code == 409 and "can no longer be undone" in late.json()["detail"]
        assert status_of(client, callers[1])["state"] == "restored"


def _crews(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    answer = client.get("/api/v1/crews", headers=headers)
    assert answer.status_code == 200, answer.text
    return [
        {"id": f["properties"]["id"], "code": f["properties"]["code"]}
        for f in answer.json()["features"]
        if f["properties"]["code"] == "CREW-08"
    ]


def _stepper(client: TestClient, order_id: int, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    def step(to: str, **extra: object) -> dict[str, object]:
        answer = client.post(
            f"/api/v1/work-orders/{order_id}/transition", json={"to": to, **extra}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    return step
