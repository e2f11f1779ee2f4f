"""The status memory answers exactly what the one statement answers, byte for byte.

The scene of ``test_status_equivalence`` (outages waiting for a crew, assigned, en route
and on site; one partly restored, one restored an hour before; planned work now, one over
an outage, and in 2, 5 and 9 days; a cancelled one), with one more outage that has no order
yet, is loaded into ``Premises`` and
``Facts`` from the test's own connection, and every premise of the touched feeders and a
sample of the rest is asked by account at twelve clocks: before, inside and at the end of
the planned work now, at the moment a restoration ages out of ``restored_recently_h`` and
just after, at the start of the planned work in two days and around the week's edges.
Memory's answer must equal ``dispatch.public_status``'s, as a model and as JSON, for staff
and for the public; an unknown account and a clock memory does not hold answer None.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from dispatch.public_status import public_status
from dispatch.status_memory import Facts, Premises, answer_from, load_facts, load_premises
from geo.models import Device
from outages.schemas import StatusAnswer, Where
from outages.service import restore_outage
from tests.dispatch.helpers import NOW, outage_on
from tests.dispatch.test_status_equivalence import _scene
from web.settings import Settings

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
# The planned work now runs NOW - 1 h .. NOW + 2 h; the restoration was at NOW - 1 h and
# restored_recently_h is 6; planned work starts at NOW + 2, 5 and 9 days.
CLOCKS = (
    NOW - 3 * HOUR,
    NOW - HOUR,
    NOW - 30 * dt.timedelta(minutes=1),
    NOW,
    NOW + 2 * HOUR - SECOND,
    NOW + 2 * HOUR,
    NOW + 5 * HOUR,
    NOW + 5 * HOUR + SECOND,
    NOW + 2 * DAY,
    NOW + 2 * DAY + SECOND,
    NOW + 3 * DAY,
    NOW + 9 * DAY - SECOND,
)


def _load(session: Session, horizon: dt.datetime) -> tuple[Premises, Facts]:
    conn: Any = session.connection().connection.driver_connection
    return load_premises(conn), load_facts(conn, horizon=horizon)


@pytest.mark.parametrize("seed", [1, 2])
def test_memory_answers_as_the_one_statement(
    db_session: Session, settings: Settings, seed: int
) -> None:
    premises_seen = _scene(db_session, settings, seed)
    # And an outage no order follows yet (the scene's orders were made before it).
    lone = db_session.get(Device, premises_seen[-1].transformer_id)
    assert lone is not None
    outage_on(db_session, settings, lone, at=NOW - HOUR)
    # And one above it: the lone transformer's premises are under two outages, and the
    # statement names the lower id.
    above = db_session.get(Device, lone.upstream_id)
    assert above is not None
    outage_on(db_session, settings, above, at=NOW - HOUR)
    # And a transformer away from the scene out and restored twice: memory holds the later
    # restoration (the scene's sample ends with 40 premises it did not touch).
    twice = next(
        d
        for p in premises_seen[-40:]
        if (d := db_session.get(Device, p.transformer_id)) is not None
        and d.id != lone.id
        and d.upstream_id != lone.upstream_id
    )
    for out, back in ((3 * HOUR, 2 * HOUR), (90 * MINUTE, 75 * MINUTE)):
        outage = outage_on(db_session, settings, twice, at=NOW - out)
        restore_outage(
            session=db_session,
            outage=outage,
            device_code=None,
            settings=settings,
            now=NOW - back,
            actor="crew",
        )
    db_session.flush()
    twice_premise = next(p for p in premises_seen if p.transformer_id == twice.id)
    premises, facts = _load(db_session, NOW - 30 * DAY)
    assert any(o not in facts.orders for o in facts.outages), "an outage without an order"
    assert facts.restored[twice_premise.id] == NOW - 75 * MINUTE
    seen: set[str] = set()
    for premise in premises_seen:
        for now in CLOCKS:
            for staff in (True, False):
                where = Where(account=premise.account)
                expected = public_status(
                    session=db_session, where=where, settings=settings, now=now, staff=staff
                )
                got = answer_from(
                    premises, facts, premise.account, settings=settings, now=now, staff=staff
                )
                assert isinstance(got, StatusAnswer), (premise.account, now)
                assert got == expected, (premise.account, now, staff)
                assert got.model_dump_json() == expected.model_dump_json()
                stage = f"/{expected.crew_stage}" if expected.crew_stage else ""
                seen.add(expected.state + stage)
    assert seen >= {
        "normal",
        "planned",
        "restored",
        "outage/waiting",
        "outage/assigned",
        "outage/en_route",
        "outage/on_site",
    }, sorted(seen)


def test_memory_declines_what_it_does_not_hold(db_session: Session, settings: Settings) -> None:
    premises_seen = _scene(db_session, settings, 3)
    account = premises_seen[0].account
    premises, facts = _load(db_session, NOW - DAY)
    unknown = answer_from(premises, facts, "NO-SUCH", settings=settings, now=NOW, staff=True)
    assert unknown is None
    # restored_recently_h is 6: at NOW - 19 h a restoration at NOW - 25 h would count.
    early = NOW - DAY + dt.timedelta(hours=settings.restored_recently_h) - SECOND
    assert answer_from(premises, facts, account, settings=settings, now=early, staff=True) is None
    assert answer_from(premises, facts, account, settings=settings, now=early + SECOND, staff=True)
