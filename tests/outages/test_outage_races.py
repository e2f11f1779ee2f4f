"""Outage steps under concurrency: real threads, each with its own connection and
transaction, against the real PostgreSQL (committed data, emptied afterwards).

A restore racing a confirm, ten confirms at once, and racing ETR updates: each runs one
step after the other (``outages.service.lock_outage``), so the state stays one a single
dispatcher could have made.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from dispatch import outage_steps
from geo.models import Device, Event
from outages import operations
from outages.exceptions import InvalidTransition
from outages.models import EtrChange, Outage
from outages.schemas import OutageUpdate
from web.settings import Settings

NOW = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)
# ``event`` too: ids restart, and a later outage must not inherit this one's trail.
TABLES = "notification, etr_change, outage_premise, report, outage, work_order, event"


@pytest.fixture
def outage_id(engine: Engine, settings: Settings) -> Iterator[int]:
    """A suspected outage on a recloser, committed; the outage tables are emptied after."""
    with Session(engine) as session, session.begin():
        code = session.scalar(
            select(Device.code).where(Device.kind == "recloser").order_by(Device.id).limit(1)
        )
        assert code is not None
        outage = operations.open_on_device(
            session=session,
            device_code=code,
            cause=None,
            confirmed=False,
            settings=settings,
            now=NOW,
            actor="race-test",
        )
        created = outage.id
    yield created
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))


def _race(engine: Engine, steps: list[Callable[[Session], None]]) -> list[BaseException | None]:
    """Run each step in its own thread and transaction, all released at once."""
    barrier = threading.Barrier(len(steps))
    results: list[BaseException | None] = [None] * len(steps)

    def run(i: int) -> None:
        barrier.wait()
        try:
            with Session(engine) as session, session.begin():
                steps[i](session)
        except BaseException as exc:  # the test reads what each step raised
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _step(outage_id: int, settings: Settings, **data: object) -> Callable[[Session], None]:
    def step(session: Session) -> None:
        outage = session.get(Outage, outage_id)
        assert outage is not None
        outage_steps.update_outage(
            session=session,
            outage=outage,
            data=OutageUpdate.model_validate(data),
            settings=settings,
            now=NOW,
            actor="race-test",
        )

    return step


def _audit(engine: Engine, outage_id: int, action: str) -> int:
    with Session(engine) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Event)
                .where(Event.object_id == str(outage_id), Event.action == action)
            )
            or 0
        )


def test_ten_concurrent_confirms_one_wins_nine_are_409(
    engine: Engine, settings: Settings, outage_id: int
) -> None:
    results = _race(engine, [_step(outage_id, settings, action="confirm")] * 10)
    refused = [r for r in results if r is not None]
    assert len(refused) == 9, results
    assert all(isinstance(r, InvalidTransition) and r.allowed == ["restored"] for r in refused)
    assert _audit(engine, outage_id, "outage.confirmed") == 1


@pytest.mark.parametrize("rounds", range(3))
def test_restore_racing_confirm_never_leaves_a_confirmed_restored_outage(
    engine: Engine, settings: Settings, outage_id: int, rounds: int
) -> None:
    results = _race(
        engine,
        [
            _step(outage_id, settings, action="restore", made_safe=True),
            _step(outage_id, settings, action="confirm"),
        ],
    )
    with Session(engine) as session:
        outage = session.get(Outage, outage_id)
        assert outage is not None
        dark = session.execute(
            text(
                "SELECT count(*) FROM outage_premise WHERE outage_id = :o AND restored_at IS NULL"
            ),
            {"o": outage_id},
        ).scalar_one()
    assert results[0] is None
    if results[1] is None:  # the confirm ran first, then the restore
        assert outage.confirmed_at is not None
    else:  # the restore ran first: confirming a restored outage is a 409
        assert isinstance(results[1], InvalidTransition)
    assert outage.status == "restored"
    assert dark == 0


def test_racing_etr_updates_leave_the_last_history_entry_as_the_etr(
    engine: Engine, settings: Settings, outage_id: int
) -> None:
    etrs = [NOW + dt.timedelta(hours=2, minutes=m) for m in range(8)]
    steps = [_step(outage_id, settings, action="set_etr", etr=etr.isoformat()) for etr in etrs]
    assert _race(engine, steps) == [None] * len(steps)
    with Session(engine) as session:
        outage = session.get(Outage, outage_id)
        history = list(
            session.scalars(
                select(EtrChange).where(EtrChange.outage_id == outage_id).order_by(EtrChange.id)
            )
        )
    assert outage is not None
    assert outage.etr_at == history[-1].etr_at
    # Each entry's "previous" is the entry before it: no two writers saw the same ETR.
    for before, after in itertools.pairwise(history):
        assert after.previous_etr_at == before.etr_at
