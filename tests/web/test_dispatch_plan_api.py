"""The planning API: propose, read, apply (409 on a stale state), current routes, and the
server answering other requests while a solve runs in the worker process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dispatch import solve_worker
from tests.dispatch.helpers import NOW, frozen, login
from tests.dispatch.test_planning import make_orders
from web.settings import Settings


@pytest.fixture(scope="module", autouse=True)
def _stop_worker() -> Iterator[None]:
    yield
    solve_worker.shutdown()


def test_plan_apply_and_409_for_the_second_plan_of_the_same_state(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings, n=4)
    headers = login(client, "dispatcher")
    with frozen(client, NOW):
        first = client.post("/api/v1/dispatch/plan", json={"time_limit_s": 0.5}, headers=headers)
        second = client.post("/api/v1/dispatch/plan", json={"time_limit_s": 0.5}, headers=headers)
        assert first.status_code == 200, first.text
        assert second.status_code == 200, second.text
        plan = first.json()
        assert plan["status"] == "proposed"
        assert plan["check"] == []
        assert plan["summary"]["served"] == len(orders)
        assert plan["based_on_version"] == second.json()["based_on_version"]
        read = client.get(f"/api/v1/dispatch/plans/{plan['id']}", headers=headers)
        assert read.status_code == 200
        assert read.json()["routes"] == plan["routes"]
        applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=headers)
        assert applied.status_code == 200, applied.text
        assert sorted(applied.json()["changed"]) == sorted(o.id for o in orders)
        stale = client.post(f"/api/v1/dispatch/plans/{second.json()['id']}/apply", headers=headers)
        assert stale.status_code == 409
        assert "re-plan" in stale.json()["detail"]
        assert stale.json()["current_version"] == applied.json()["version"]
        current = client.get("/api/v1/dispatch/current", headers=headers).json()
        assert current["plan_id"] == plan["id"]
        assert current["replan_suggested"] is False
        assert {v["work_order_id"] for r in current["routes"] for v in r["visits"]} == {
            o.id for o in orders
        }
        work_orders = client.get("/api/v1/work-orders?live=true", headers=headers).json()
        assert {o["status"] for o in work_orders} == {"planned"}


def test_planning_needs_a_dispatcher_and_a_sane_time_limit(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    agent = login(client, "agent")
    assert client.post("/api/v1/dispatch/plan", json={}, headers=agent).status_code == 403
    dispatcher = login(client, "dispatcher")
    too_long = client.post("/api/v1/dispatch/plan", json={"time_limit_s": 60}, headers=dispatcher)
    assert too_long.status_code == 422
    assert client.get("/api/v1/dispatch/plans/999999", headers=dispatcher).status_code == 404


def test_unassigned_priority_1_suggests_a_replan(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    orders = make_orders(db_session, settings, n=2)
    orders[1].priority = 1
    db_session.flush()
    with frozen(client, NOW):
        current = client.get("/api/v1/dispatch/current", headers=login(client, "dispatcher"))
    assert current.json()["unassigned_priority_1"] == [orders[1].id]
    assert current.json()["replan_suggested"] is True


def test_server_answers_during_a_solve(
    client: TestClient, db_session: Session, settings: Settings
) -> None:
    make_orders(db_session, settings, n=6)
    headers = login(client, "dispatcher")
    solve_worker.warm_up()
    answer: dict[str, object] = {}

    def plan() -> None:
        started = time.perf_counter()
        with frozen(client, NOW):
            response = client.post(
                "/api/v1/dispatch/plan", json={"time_limit_s": 3}, headers=headers
            )
        answer["status"] = response.status_code
        answer["elapsed_s"] = time.perf_counter() - started

    thread = threading.Thread(target=plan)
    thread.start()
    time.sleep(0.8)  # the problem is built and the worker is solving
    latencies = []
    while thread.is_alive() and len(latencies) < 5:
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        latencies.append(time.perf_counter() - started)
        time.sleep(0.2)
    thread.join()
    assert answer["status"] == 200
    assert float(answer["elapsed_s"]) >= 2.5  # type: ignore[arg-type]
    assert len(latencies) >= 3
    assert max(latencies) < 0.5, latencies
