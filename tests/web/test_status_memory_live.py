"""The status memory in a running app, on committed data: NOTIFY, a lost listener, a scenario.

- An outage opened and then restored through the service shows in the memory's answer
  within a second (a NOTIFY, a reload), and the route answers it from memory.
- With the listener's backend terminated, the memory is not live and the route answers
  through the SQL path, a change made meanwhile included; the listener reconnects and
  reloads by itself, and memory answers again.
- A customer's view at a frozen clock through HTTP: the words of an outage with a crew en
  route, of planned work, of a quiet address and of an unknown account, byte for byte the
  same as the app answers with the memory off.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from dispatch.lifecycle import assign, transition
from dispatch.models import Crew
from dispatch.public_status import public_status
from dispatch.status_memory import StatusMemory
from geo.models import Device, Premise
from outages.models import Outage
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate, StatusAnswer, Where
from outages.service import restore_outage
from tests.dispatch.helpers import NOW, order_of, outage_on, sync
from web.deps import get_now, utc_now
from web.main import create_app
from web.settings import Settings

HOUR = dt.timedelta(hours=1)
# Clocks of the tests (NOW is 2026-11-23) are held: 60 days of restorations and planned work.
HISTORY_H = 24 * 60.0


def _memory_settings(settings: Settings, on: bool = True) -> Settings:
    return settings.model_copy(update={"status_memory": on, "status_memory_history_h": HISTORY_H})


@pytest.fixture
def live(
    settings: Settings, committed_dispatch: Engine
) -> Iterator[tuple[TestClient, StatusMemory]]:
    app = create_app(_memory_settings(settings))
    with TestClient(app) as client:
        memory: StatusMemory = app.state.status_memory
        assert memory.wait_live(30), "the status memory did not load"
        yield client, memory


def _wait(predicate: Callable[[], bool], timeout_s: float) -> float:
    """Seconds until ``predicate`` held; fails after ``timeout_s``."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout_s, "condition not reached in time"
        time.sleep(0.01)
    return time.monotonic() - started


def _devices_with_customers(session: Session, n: int) -> list[tuple[Device, str]]:
    """``n`` transformers, each with one of its customers' accounts."""
    found: dict[int, str] = {}
    for transformer_id, account in session.execute(
        select(Premise.transformer_id, Premise.account)
        .where(Premise.transformer_id.is_not(None))
        .order_by(Premise.id)
    ):
        found.setdefault(transformer_id, account)
        if len(found) == n:
            break
    pairs = []
    for transformer_id, account in found.items():
        device = session.get(Device, transformer_id)
        assert device is not None
        pairs.append((device, account))
    return pairs


def _state(memory: StatusMemory, settings: Settings, account: str) -> str | None:
    answer = memory.answer(account, settings=settings, now=utc_now(), staff=False)
    return answer.state if answer is not None else None


def test_an_outage_and_its_restoration_show_within_a_second(
    live: tuple[TestClient, StatusMemory], committed_dispatch: Engine, settings: Settings
) -> None:
    client, memory = live
    with Session(committed_dispatch) as session:
        ((device, account),) = _devices_with_customers(session, 1)
    answered = memory.answered
    assert client.get("/api/v1/status", params={"account": account}).json()["state"] == "normal"
    assert memory.answered == answered + 1  # from memory
    with Session(committed_dispatch) as session, session.begin():
        outage_id = outage_on(session, settings, device, at=utc_now()).id
    assert _wait(lambda: _state(memory, settings, account) == "outage", 1.0) < 1.0
    answer = client.get("/api/v1/status", params={"account": account}).json()
    assert (answer["state"], answer["outage_id"]) == ("outage", outage_id)
    with Session(committed_dispatch) as session, session.begin():
        outage = session.get(Outage, outage_id)
        assert outage is not None
        restore_outage(
            session=session,
            outage=outage,
            device_code=None,
            settings=settings,
            now=utc_now(),
            actor="crew",
        )
    assert _wait(lambda: _state(memory, settings, account) == "restored", 1.0) < 1.0
    # And what memory says is what the statement says, at one clock.
    at = utc_now()
    with Session(committed_dispatch) as session:
        expected = public_status(
            session=session, where=Where(account=account), settings=settings, now=at
        )
    assert memory.answer(account, settings=settings, now=at, staff=False) == expected


def test_a_lost_listener_falls_back_to_the_database_and_comes_back(
    live: tuple[TestClient, StatusMemory], committed_dispatch: Engine, settings: Settings
) -> None:
    client, memory = live
    memory.reconnect_s = 3.0  # room to ask while it is away
    with Session(committed_dispatch) as session:
        ((device, account),) = _devices_with_customers(session, 1)
    pid = memory.listener_pid
    with committed_dispatch.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    _wait(lambda: not memory.live, 2.0)
    # A change while nobody listens: its notice is lost.
    with Session(committed_dispatch) as session, session.begin():
        outage_id = outage_on(session, settings, device, at=utc_now()).id
    answered = memory.answered
    answer = client.get("/api/v1/status", params={"account": account})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["outage_id"]) == ("outage", outage_id)
    assert memory.answered == answered, "answered from memory while not live"
    # The listener reconnects, reloads what it may have missed, and answers again.
    assert memory.wait_live(15)
    assert memory.listener_pid != pid
    assert _state(memory, settings, account) == "outage"
    answered = memory.answered
    assert client.get("/api/v1/status", params={"account": account}).json()["state"] == "outage"
    assert memory.answered == answered + 1


def _crew_for(session: Session, skills: list[str]) -> Crew:
    for crew in session.scalars(select(Crew).order_by(Crew.id)):
        if set(skills) <= set(crew.skills):
            return crew
    raise AssertionError(f"no demo crew has the skills {skills}")


def _scene(engine: Engine, settings: Settings) -> dict[str, str]:
    """Committed: an outage whose crew is en route, planned work now, a quiet customer."""
    with Session(engine) as session, session.begin():
        (out, _), (planned, _), _ = pairs = _devices_with_customers(session, 3)
        outage = outage_on(session, settings, out, at=NOW - HOUR)
        outage.cause = "storm damage"
        sync(session, settings, at=NOW - HOUR)
        order = order_of(session, outage.id)
        crew = _crew_for(session, order.required_skills)
        assign(
            session=session,
            order=order,
            crew=crew,
            lock=False,
            actor="d",
            now=NOW - HOUR,
            settings=settings,
        )
        transition(
            session=session, order=order, to="en_route", actor="crew", now=NOW, settings=settings
        )
        create_planned(
            session=session,
            data=PlannedOutageCreate(
                reason="transformer replacement",
                starts_at=NOW - HOUR,
                ends_at=NOW + 2 * HOUR,
                devices=[planned.code],
            ),
            settings=settings,
            now=NOW - dt.timedelta(days=10),
            actor="dispatcher",
        )
        return {"outage": pairs[0][1], "planned": pairs[1][1], "quiet": pairs[2][1]}


def _ask(settings: Settings, accounts: dict[str, str]) -> dict[str, tuple[int, bytes]]:
    """Each account's answer (status code and body) at NOW from an app built on ``settings``."""
    app = create_app(settings)

    async def frozen() -> dt.datetime:
        return NOW

    app.dependency_overrides[get_now] = frozen
    with TestClient(app) as client:
        memory: StatusMemory | None = app.state.status_memory
        if memory is not None:
            assert memory.wait_live(30)
            # The scene is committed before the app starts: the first load holds it.
            assert memory.answer(accounts["outage"], settings=settings, now=NOW, staff=False)
        answers = {}
        for name, account in {**accounts, "unknown": "NO-SUCH-ACCOUNT"}.items():
            r = client.get("/api/v1/status", params={"account": account})
            answers[name] = (r.status_code, r.content)
        if memory is not None:
            assert memory.answered >= 4  # the unknown account went to the database
    return answers


def test_what_a_customer_is_told_at_a_frozen_clock(
    settings: Settings, committed_dispatch: Engine
) -> None:
    accounts = _scene(committed_dispatch, settings)
    from_memory = _ask(_memory_settings(settings), accounts)
    assert from_memory == _ask(_memory_settings(settings, on=False), accounts)  # same bytes
    told = {
        name: StatusAnswer.model_validate_json(body)
        for name, (code, body) in from_memory.items()
        if code == 200
    }
    outage = told["outage"]
    assert outage.state == "outage" and outage.crew_stage == "en_route"
    assert outage.message == (
        "There is a power outage in your area and we are working on it. "
        "Expected back by 22:00 on 23 Nov."
    )
    assert outage.cause == "storm damage"
    at = dt.datetime.fromisoformat
    assert outage.etr == at("2026-11-23T20:00:00+00:00")
    assert (outage.etr_earliest, outage.etr_latest, outage.etr_overdue) == (
        at("2026-11-23T19:30:00+00:00"),
        at("2026-11-23T21:00:00+00:00"),
        False,
    )
    assert outage.address is None and outage.lon is None  # an account alone tells no place
    planned = told["planned"]
    assert planned.state == "planned" and planned.reason == "transformer replacement"
    assert planned.message == (
        "Planned work: transformer replacement. Power is planned back by 22:00 on 23 Nov."
    )
    assert (planned.window_start, planned.window_end) == (NOW - HOUR, NOW + 2 * HOUR)
    assert told["quiet"].message == "No known outage at this address."
    assert all(a.checked_at == NOW for a in told.values())
    code, body = from_memory["unknown"]
    assert code == 422
    assert b"account 'NO-SUCH-ACCOUNT' is not known: check the number on your bill" in body


def test_a_customer_follows_the_crew_step_by_step_from_memory(
    live: tuple[TestClient, StatusMemory], committed_dispatch: Engine, settings: Settings
) -> None:
    """The storm night as the customer sees it: each of the crew's taps (assigned, on the
    way, on site, restored) reaches the status by account within a second, answered from
    the worker's memory and never naming the crew."""
    client, memory = live
    with Session(committed_dispatch) as session, session.begin():
        ((device, account),) = _devices_with_customers(session, 1)
        outage = outage_on(session, settings, device, at=utc_now())
        sync(session, settings, at=utc_now())
        outage_id = outage.id
        order = order_of(session, outage_id)
        crew = _crew_for(session, order.required_skills)
        order_id, crew_code = order.id, crew.code
        assign(
            session=session,
            order=order,
            crew=crew,
            lock=False,
            actor="dispatcher",
            now=utc_now(),
            settings=settings,
        )

    def stage() -> str | None:
        answer = memory.answer(account, settings=settings, now=utc_now(), staff=False)
        return answer.crew_stage if answer is not None and answer.state == "outage" else None

    assert _wait(lambda: stage() == "assigned", 1.0) < 1.0
    for step in ("en_route", "on_site"):
        with Session(committed_dispatch) as session, session.begin():
            order = order_of(session, outage_id)
            assert order.id == order_id
            transition(
                session=session,
                order=order,
                to=step,
                actor="crew",
                now=utc_now(),
                settings=settings,
                made_safe=True,
            )
        assert _wait(lambda step=step: stage() == step, 1.0) < 1.0
        answered = memory.answered
        told = client.get("/api/v1/status", params={"account": account})
        assert memory.answered == answered + 1  # from memory, not the database
        assert told.json()["crew_stage"] == step
        assert crew_code not in told.text  # the stage, never which crew
    with Session(committed_dispatch) as session, session.begin():
        order = order_of(session, outage_id)
        transition(
            session=session,
            order=order,
            to="restored",
            actor="crew",
            now=utc_now(),
            settings=settings,
            made_safe=True,
        )
    assert _wait(lambda: _state(memory, settings, account) == "restored", 1.0) < 1.0
    told = client.get("/api/v1/status", params={"account": account}).json()
    assert told["state"] == "restored" and told["message"].startswith("Power was restored at")
