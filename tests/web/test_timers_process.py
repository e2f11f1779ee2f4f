"""`stormdesk serve` runs the dispatch cycle in one timers process beside its workers.

Played for real: `stormdesk serve --workers 2` on the test database, reports filed over HTTP,
and the work orders the dispatcher would see appear without anyone running a cycle. The
timers process is then killed outright (an OOM kill) and the server starts another, which
makes the next outage's order; when the server stops, its timers process goes with it.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from dispatch.models import WorkOrder
from tests.deploy.conftest import serving
from tests.outages.helpers import file
from web.cli import app as cli
from web.settings import Settings
from web.timers import run_timers

TIMERS_LINE = re.compile(r"timers process (\d+) runs every")


def _wait(predicate: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is gone for our purposes.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


# What a dispatch cycle writes beside orders: the feeds' last-seen outages and the webhook
# deliveries. Left behind, the next test's cycle would announce these outages as ended.
CYCLE_TABLES = ("feed_item_state", "webhook_delivery")


@pytest.fixture
def cycled(committed_dispatch: Engine) -> Iterator[Engine]:
    """``committed_dispatch``, plus what real dispatch cycles left, emptied afterwards."""
    yield committed_dispatch
    with committed_dispatch.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(CYCLE_TABLES)}"))


@pytest.fixture
def served(db_url: str, cycled: Engine) -> Iterator[tuple[str, Path]]:
    with serving(
        db_url,
        "stormdesk-timers-",
        env={"STORMDESK_CYCLE_INTERVAL_S": "0.3"},
        args=["--workers", "2", "--no-access-log"],
    ) as running:
        yield running


def _tail(log: Path) -> str:
    return log.read_text()[-3000:] if log.exists() else "(no log)"


def _timers_pids(log: Path) -> list[int]:
    return [int(pid) for pid in TIMERS_LINE.findall(log.read_text())]


def _two_accounts(engine: Engine) -> list[str]:
    """Accounts on two different feeders, so each report opens an outage of its own."""
    with Session(engine) as session:
        rows = session.execute(
            text(
                "SELECT DISTINCT ON (feeder_id) account FROM premise "
                "WHERE transformer_id IS NOT NULL ORDER BY feeder_id, id LIMIT 2"
            )
        ).all()
    return [row.account for row in rows]


def _orders_for(engine: Engine, outage_id: int) -> int:
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.outage_id == outage_id)
        )
    return int(count or 0)


def _report(base: str, account: str) -> int:
    answer = httpx.post(
        f"{base}/api/v1/reports", json={"account": account, "category": "no_power"}, timeout=30
    )
    assert answer.status_code == 201, answer.text
    outage_id = answer.json()["outage_id"]
    assert outage_id, answer.json()
    return int(outage_id)


def test_the_server_s_timers_process_makes_orders_and_is_restarted_when_killed(
    served: tuple[str, Path], cycled: Engine
) -> None:
    base, log = served
    first_pid = _wait(lambda: _timers_pids(log), 60, f"a timers process; log:\n{_tail(log)}")
    assert isinstance(first_pid, list) and len(first_pid) == 1, (
        "one timers process, not one per worker"
    )
    pid = first_pid[0]
    assert _alive(pid)
    first, second = _two_accounts(cycled)

    outage = _report(base, first)
    _wait(lambda: _orders_for(cycled, outage) == 1, 30, "the first outage's order")

    os.kill(pid, signal.SIGKILL)
    restarted = _wait(
        lambda: [p for p in _timers_pids(log) if p != pid],
        60,
        f"a new timers process:\n{_tail(log)}",
    )
    assert isinstance(restarted, list) and len(restarted) == 1
    later = _report(base, second)
    _wait(lambda: _orders_for(cycled, later) == 1, 30, "the next outage's order")
    assert _orders_for(cycled, outage) == 1, "still one order for the first outage"
    assert "the timers process exited" in log.read_text()

    served_pid = restarted[0]
    assert _alive(served_pid)
    # Stopping the server stops its timers (the fixture's terminate, here by hand).
    os.kill(_server_pid(served_pid), signal.SIGTERM)
    _wait(lambda: not _alive(served_pid), 60, "the timers process ending with its server")


def _server_pid(child: int) -> int:
    for line in Path(f"/proc/{child}/status").read_text().splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no parent for {child}")


def test_run_timers_keeps_going_when_a_round_fails(settings: Settings) -> None:
    """A database that cannot be reached fails every round; the loop logs and goes on."""
    broken = settings.model_copy(
        update={"database_url": "postgresql://nobody@127.0.0.1:1/none", "cycle_interval_s": 0.01}
    )
    stop = threading.Event()
    assert run_timers(broken, stop, rounds=3) == 3


def test_run_timers_makes_the_order_of_a_committed_outage(
    settings: Settings, cycled: Engine
) -> None:
    ticking = settings.model_copy(update={"cycle_interval_s": 0.01})
    stop = threading.Event()
    stop.set()
    assert run_timers(ticking, stop) == 0, "asked to stop before the first round"
    account = _two_accounts(cycled)[0]
    with Session(cycled) as session:
        answer = file(session, settings, account=account)
        session.commit()
    assert answer.outage_id
    assert _orders_for(cycled, answer.outage_id) == 0
    assert run_timers(ticking, threading.Event(), rounds=2) == 2
    assert _orders_for(cycled, answer.outage_id) == 1, "one order, not one per round"


def test_serve_and_timers_refuse_settings_that_cannot_work(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    wrong = runner.invoke(cli, ["serve", "--timers", "sometimes"])
    assert wrong.exit_code != 0
    assert "--timers" in wrong.output and "process, worker, off" in wrong.output
    monkeypatch.setenv("STORMDESK_CYCLE_INTERVAL_S", "0")
    never = runner.invoke(cli, ["timers"])
    assert never.exit_code != 0
    assert "STORMDESK_CYCLE_INTERVAL_S is 0" in never.output
