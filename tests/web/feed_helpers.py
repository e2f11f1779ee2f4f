"""Helpers for the open-feed tests: a frozen clock, outages and planned work on the demo
grid, staff tokens, and the demo's personal data to look for in public answers."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.auth import create_user
from geo.models import Device, Premise
from outages.feeds.signing import SIGNATURE_HEADER, verify
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


@dataclass
class Receiver:
    """A partner's endpoint on 127.0.0.1: answers the queued status codes (then 200) and
    keeps every request with whether its signature checked out."""

    url: str = ""
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    """A webhook receiver on loopback; set ``secret`` to check signatures."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            header = self.headers.get(SIGNATURE_HEADER, "")
            stamp = int(dict(p.split("=", 1) for p in header.split(","))["t"]) if header else 0
            state.received.append(
                {
                    "event": self.headers.get("Stormdesk-Event"),
                    "body": json.loads(body),
                    "signed": verify(state.secret, body, header, now=stamp),
                    "fresh_check": verify(state.secret, body, header, now=stamp + 301),
                }
            )
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/stormdesk"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
