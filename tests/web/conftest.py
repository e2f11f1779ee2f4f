"""Web fixtures: the real app served by uvicorn on 127.0.0.1 for browser tests.

(The in-process ``client`` fixture lives in ``tests/conftest.py``.)
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import Engine, text

from web.deps import get_now
from web.main import create_app
from web.settings import Settings

STARTUP_TIMEOUT_S = 20.0
LIVE_NOW = dt.datetime.combine(dt.date.today(), dt.time(18, 0), tzinfo=dt.UTC)
"""The live server's frozen clock: today 20:00 in Helsinki, when the night crews and the
round-the-clock crews are on shift."""
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium tries Google's hosts at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium driven by Playwright (it cannot download browsers here).

    One per test module, not per session: while Playwright's sync API is open its event loop
    counts as running in this thread, and every later test that calls ``asyncio.run`` (the
    admission, quota and slow-client tests) would fail."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """Base URL of the app running in a background thread against the test database.

    It reads committed data only (the demo city), not a test's rolled-back transaction.
    The socket is bound here, before the thread starts, so the port cannot be taken meanwhile.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(settings)
    # The server's clock stands still (browser tests must not depend on the hour they run:
    # crews' shifts decide who is planned).
    app.dependency_overrides[get_now] = lambda: LIVE_NOW
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the live server did not start; run with -s to see uvicorn's log"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


INTAKE_TABLES = (
    "notification",
    "etr_change",
    "outage_premise",
    "planned_outage_premise",
    "report",
    "outage",
    "planned_outage",
    # Ids restart, so the audit trail goes too: a later outage must not inherit another's.
    "event",
)


@pytest.fixture
def committed_intake(engine: Engine) -> Iterator[Engine]:
    """For tests whose requests commit through ``live_server``: intake tables are emptied
    afterwards, so later tests again see only the demo city."""
    yield engine
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(INTAKE_TABLES)} RESTART IDENTITY CASCADE"))


DISPATCH_TABLES = ("completion_report", "work_order", "dispatch_plan")


@pytest.fixture
def committed_dispatch(committed_intake: Engine) -> Iterator[Engine]:
    """For tests that commit work orders and plans through ``live_server``: afterwards the
    dispatch tables are emptied, crews go back to their depots, and ``dispatch_state`` goes
    back to version 0 (``committed_intake`` then empties the intake tables)."""
    yield committed_intake
    with committed_intake.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(DISPATCH_TABLES)} RESTART IDENTITY CASCADE"))
        conn.execute(text("UPDATE dispatch_state SET version = 0"))
        conn.execute(text("UPDATE crew SET geom = NULL, position_at = NULL, status = 'available'"))
