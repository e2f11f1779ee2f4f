"""Helpers for the open-feed tests: a frozen clock, outages and planned work on the demo
grid, staff tokens, and the demo's personal data to look for in public answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Device, Premise
from outages.models import Outage
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from outages.service import open_outage
from tests.outages.helpers import fuse_with_transformers
from web.deps import get_now, issue_token
from web.settings import Settings

NOW = dt.datetime(2026, 11, 23, 18, 0, tzinfo=dt.UTC)


class Clock:
    """The app's clock for one test: frozen, stepped by the test."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def step(self, seconds: float) -> dt.datetime:
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(client: TestClient) -> Iterator[Clock]:
    """Freeze the app's clock at ``NOW``; import this into a test module to use ``clock``."""
    frozen = Clock()
    client.app.dependency_overrides[get_now] = lambda: frozen.now  # type: ignore[attr-defined]
    yield frozen
    client.app.dependency_overrides.pop(get_now, None)  # type: ignore[attr-defined]


def staff_header(session: Session, settings: Settings, role: str) -> dict[str, str]:
    user = create_user(
        session=session, username=f"feeds-{role}", role=role, password="feeds-lantern-42"
    )
    return {"Authorization": f"Bearer {issue_token(user, settings)}"}


def fuse_outage(session: Session, settings: Settings, now: dt.datetime = NOW) -> Outage:
    """A confirmed outage on a fuse with several transformers (and premises) below it."""
    device, _ = fuse_with_transformers(session)
    return open_outage(
        session=session,
        device_code=device.code,
        cause="tree",
        confirmed=True,
        settings=settings,
        now=now,
        actor="dispatcher",
    )


def planned_on(
    session: Session, settings: Settings, *, days_ahead: float, now: dt.datetime = NOW
) -> int:
    """Planned work on a transformer of the demo grid, starting ``days_ahead`` from now."""
    device = session.scalars(
        select(Device).where(Device.kind == "transformer").order_by(Device.id)
    ).first()
    assert device is not None
    starts = now + dt.timedelta(days=days_ahead)
    read = create_planned(
        session=session,
        data=PlannedOutageCreate(
            reason="transformer maintenance",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=4),
            devices=[device.code],
        ),
        settings=settings,
        now=now,
        actor="dispatcher",
    )
    return read.id


def personal_strings(session: Session) -> list[str]:
    """Names, phones and accounts of the demo's customers: none may appear in a feed."""
    found: list[str] = []
    for premise in session.scalars(select(Premise)):
        for value in (premise.customer_name, premise.phone, premise.account):
            if value:
                found.append(value)
    return found
