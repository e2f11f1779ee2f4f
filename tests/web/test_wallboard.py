"""The wallboard, its stream and /metrics agree with a recount of the records one by one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.clocks import overdue
from dispatch.models import LIVE_STATUSES, WorkOrder
from dispatch.orders import sync_work_orders
from geo.models import Region
from hotline.models import OPEN_STATUSES, Ticket
from hotline.trail import clock_of, trails
from scenarios.storm import play_storm
from tests.hotline.helpers import Desk, complaint, local, make_desk, premise_in
from web.settings import Settings


@pytest.fixture
def desk(client: TestClient, db_session: Session, settings: Settings) -> Desk:
    desk = make_desk(db_session, client, local("2026-05-04 09:00"))
    premise = premise_in(db_session, "HEL-R1")
    for _ in range(2):
        filed = client.post("/api/v1/tickets", json=complaint(premise), headers=desk.h("agent"))
        assert filed.status_code == 201, filed.text
    storm_end = local("2026-05-05 08:30")
    play_storm(session=db_session, settings=settings, now=storm_end, seed=8, reports=60)
    sync_work_orders(session=db_session, now=storm_end, settings=settings, actor="dispatcher")
    db_session.flush()
    # A day and two hours after filing: the tickets' 24-hour contact clock ran out, and the
    # storm's orders are past their 45-minute on-site deadline.
    desk.clock.now = local("2026-05-05 11:00")
    return desk


def _recount(session: Session, now: dt.datetime, settings: Settings) -> dict[str, dict[str, int]]:
    """Per region, one record at a time, with the clocks' own functions."""
    codes = dict(session.execute(select(Region.id, Region.code)).all())
    out: dict[str, dict[str, int]] = {}

    def bump(region_id: int | None, key: str) -> None:
        row = out.setdefault(codes.get(region_id, "unknown"), {})
        row[key] = row.get(key, 0) + 1

    for order in session.scalars(select(WorkOrder).where(WorkOrder.status.in_(LIVE_STATUSES))):
        bump(order.region_id, "orders_live")
        if overdue(order, now):
            bump(order.region_id, "orders_overdue")
    tickets = list(session.scalars(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))))
    steps = trails(session=session, ticket_ids=[t.id for t in tickets])
    for ticket in tickets:
        bump(ticket.region_id, "tickets_open")
        clock = clock_of(ticket=ticket, trail=steps[ticket.id], now=now, settings=settings)
        if clock.overdue or clock.contact_overdue:
            bump(ticket.region_id, "tickets_overdue")
    return out


KEYS = ("orders_live", "orders_overdue", "tickets_open", "tickets_overdue")


def test_wallboard_stream_and_metrics_equal_a_recount(
    desk: Desk, client: TestClient, db_session: Session, settings: Settings
) -> None:
    now = desk.clock.now
    expected = _recount(db_session, now, settings)
    assert sum(r.get("orders_overdue", 0) for r in expected.values()) >= 1
    assert sum(r.get("tickets_overdue", 0) for r in expected.values()) >= 2

    board = client.get("/api/v1/wallboard", headers=desk.h("supervisor"))
    assert board.status_code == 200, board.text
    snapshot = board.json()
    for row in snapshot["regions"]:
        for key in KEYS:
            assert row[key] == expected.get(row["region"], {}).get(key, 0), (row["region"], key)
    for key in KEYS:
        assert snapshot["total"][key] == sum(r.get(key, 0) for r in expected.values())

    with client.stream(
        "GET", "/api/v1/wallboard/stream?events=1", headers=desk.h("agent")
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    assert body.startswith("event: board\n")
    streamed = json.loads(body.split("data: ", 1)[1])
    assert streamed["total"] == snapshot["total"]

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    values = {
        (sample.name, sample.labels.get("region")): sample.value
        for family in text_string_to_metric_families(metrics.text)
        for sample in family.samples
    }
    for key in KEYS:
        assert values[(f"stormdesk_{key}", "total")] == snapshot["total"][key]
        for row in snapshot["regions"]:
            assert values[(f"stormdesk_{key}", row["region"])] == row[key]
    # Counts only: no phone number, name or account reaches the public metrics.
    assert "+358" not in metrics.text and "Wang" not in metrics.text


def test_wallboard_needs_a_staff_login(client: TestClient) -> None:
    assert client.get("/api/v1/wallboard").status_code == 401
    assert client.get("/api/v1/wallboard/stream?events=1").status_code == 401


def test_report_and_wallboard_pages_are_offline_shells(client: TestClient) -> None:
    for path in ("/reports", "/wallboard"):
        page = client.get(path)
        assert page.status_code == 200
        assert "/static/reports.js" in page.text
        # No outside request: every script and stylesheet is served by the app.
        assert "http://" not in page.text and "https://" not in page.text
        # A shell: no figures before a login fetches them.
        assert "stormdesk_" not in page.text and "<table" not in page.text
