"""Helpers for dispatch tests: outages on the demo grid, crews, logins, a frozen clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import Crew, WorkOrder
from dispatch.orders import sync_work_orders
from geo.models import Device, Feeder, Region
from outages.models import Outage
from outages.service import open_outage
from tests.outages.helpers import NOW
from web.deps import get_now
from web.settings import Settings

__all__ = ["NOW"]


def urban_device(session: Session, kind: str = "fuse") -> Device:
    """A device of ``kind`` in an urban region (45 min on site, 3 h restore)."""
    device = session.scalar(
        select(Device)
        .join(Feeder, Feeder.id == Device.feeder_id)
        .join(Region, Region.id == Feeder.region_id)
        .where(Device.kind == kind, Region.region_class == "urban")
        .order_by(Device.id)
        .limit(1)
    )
    assert device is not None, f"the demo grid has no urban {kind}"
    return device


def outage_on(
    session: Session, settings: Settings, device: Device, at: dt.datetime = NOW
) -> Outage:
    return open_outage(
        session=session,
        device_code=device.code,
        cause=None,
        confirmed=True,
        settings=settings,
        now=at,
        actor="dispatcher",
    )


def sync(session: Session, settings: Settings, at: dt.datetime = NOW) -> None:
    sync_work_orders(session=session, now=at, settings=settings, actor="dispatcher")


def order_of(session: Session, outage_id: int) -> WorkOrder:
    order = session.scalar(
        select(WorkOrder).where(WorkOrder.outage_id == outage_id, WorkOrder.status != "cancelled")
    )
    assert order is not None
    return order


def crew(session: Session, code: str) -> Crew:
    found = session.scalar(select(Crew).where(Crew.code == code))
    assert found is not None
    return found


def login(client: TestClient, username: str) -> dict[str, str]:
    """Bearer header of a demo login (password ``<username>-demo-pass``)."""
    answer = client.post(
        "/api/v1/auth/token", data={"username": username, "password": f"{username}-demo-pass"}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@contextmanager
def frozen(client: TestClient, at: dt.datetime) -> Iterator[None]:
    """The app's clock stands still at ``at``."""
    app = client.app
    app.dependency_overrides[get_now] = lambda: at  # type: ignore[attr-defined]
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]
