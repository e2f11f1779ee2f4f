"""The one-statement status lookup answers exactly what the query-by-query lookup answered.

A seeded scene on the demo grid holds every state a customer can be in: outages whose
orders have no crew, a crew assigned, en route and on site; an outage partly restored and
one restored an hour ago; planned work now (one over an outage), planned work in 2 and 5
days, one in 9 days and a cancelled one. Every premise of the touched feeders (and a
sample of the rest) is looked up by account, and some by address and by point, at four
clocks (now, 2 h on, 4 h on, 3 days on: planned work ends, restorations age, the coming
week moves), through ``dispatch.public_status`` and ``tests/dispatch/status_reference.py``.
Answers, or the errors raised, must be equal; anonymous by-account answers must equal the
reference's without the place.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.lifecycle import assign, transition
from dispatch.models import Crew
from dispatch.public_status import public_status
from geo.models import Device, Premise
from outages.models import PlannedOutage
from outages.planned import create_planned, update_planned
from outages.schemas import PlannedOutageCreate, PlannedOutageUpdate, StatusAnswer, Where
from outages.service import restore_outage
from tests.dispatch.helpers import NOW, order_of, outage_on, sync
from tests.dispatch.status_reference import reference_status
from tests.outages.helpers import fuse_with_transformers
from web.settings import Settings

HOUR = dt.timedelta(hours=1)
CLOCKS = (NOW, NOW + 2 * HOUR, NOW + 4 * HOUR, NOW + dt.timedelta(days=3))
PLACE = ("address", "premise_id", "lon", "lat")


def _transformers(session: Session, rng: random.Random, n: int, besides: list[int]) -> list[Device]:
    """``n`` transformers with three customers or more, not in ``besides``: outages on them
    never nest."""
    served = (
        select(Premise.transformer_id)
        .where(Premise.transformer_id.is_not(None))
        .group_by(Premise.transformer_id)
        .having(func.count() >= 3)
    )
    devices = session.scalars(
        select(Device).where(Device.id.in_(served), Device.id.not_in(besides)).order_by(Device.id)
    )
    return rng.sample(list(devices), n)


def _planned(
    session: Session, settings: Settings, device: Device, starts: dt.datetime, hours: float
) -> PlannedOutage:
    read = create_planned(
        session=session,
        data=PlannedOutageCreate(
            reason="transformer replacement" if hours < 5 else "cable replacement",
            starts_at=starts,
            ends_at=starts + hours * HOUR,
            devices=[device.code],
        ),
        settings=settings,
        now=NOW - dt.timedelta(days=10),
        actor="dispatcher",
    )
    planned = session.get(PlannedOutage, read.id)
    assert planned is not None
    return planned


def _crew_for(session: Session, skills: list[str], taken: set[int]) -> Crew:
    for crew in session.scalars(select(Crew).order_by(Crew.id)):
        if crew.id not in taken and set(skills) <= set(crew.skills):
            taken.add(crew.id)
            return crew
    raise AssertionError(f"no free demo crew has the skills {skills}")


def _scene(session: Session, settings: Settings, seed: int) -> list[Premise]:
    """Build the scene (see the module docstring); returns the premises to look up."""
    rng = random.Random(seed)
    fuse, below = fuse_with_transformers(session)  # an outage over two transformers or more
    devices = [fuse, *_transformers(session, rng, 8, besides=below)]
    partly, _, assigned, en_route, on_site, restored, planned_over, planned_now, ahead = devices
    outages = {d.code: outage_on(session, settings, d) for d in devices[:7]}
    sync(session, settings)
    taken: set[int] = set()
    for device, steps in (
        (assigned, ()),
        (en_route, ("en_route",)),
        (on_site, ("en_route", "on_site")),
    ):
        order = order_of(session, outages[device.code].id)
        crew = _crew_for(session, order.required_skills, taken)
        assert assign(
            session=session,
            order=order,
            crew=crew,
            lock=False,
            actor="d",
            now=NOW,
            settings=settings,
        )
        for step in steps:
            transition(
                session=session, order=order, to=step, actor="crew", now=NOW, settings=settings
            )
    part = session.get(Device, below[0])
    assert part is not None
    for device, code, at in ((partly, part.code, NOW), (restored, None, NOW - HOUR)):
        restore_outage(
            session=session,
            outage=outages[device.code],
            device_code=code,
            settings=settings,
            now=at,
            actor="crew",
        )
    _planned(session, settings, planned_over, NOW - HOUR, 3)  # over a known outage
    _planned(session, settings, planned_now, NOW - HOUR, 3)
    for days, hours in ((2, 4), (5, 8), (9, 4)):
        _planned(session, settings, ahead, NOW + dt.timedelta(days=days), hours)
    cancelled = _planned(session, settings, ahead, NOW + dt.timedelta(days=3), 4)
    update_planned(
        session=session,
        planned=cancelled,
        data=PlannedOutageUpdate(status="cancelled"),
        settings=settings,
        now=NOW,
        actor="dispatcher",
    )
    session.flush()
    ids = {d.id for d in devices} | set(below)
    everyone = session.scalars(select(Premise).order_by(Premise.id)).all()
    touched = [p for p in everyone if p.transformer_id in ids]
    others = [p for p in everyone if p.transformer_id not in ids]
    return rng.sample(touched, min(len(touched), 150)) + rng.sample(others, 40)


def _outcome(lookup: Callable[[], StatusAnswer]) -> StatusAnswer | tuple[str, str]:
    try:
        return lookup()
    except Exception as exc:  # the errors themselves are compared
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_statement_answers_as_the_query_by_query_lookup(
    db_session: Session, settings: Settings, seed: int
) -> None:
    premises = _scene(db_session, settings, seed)
    seen: dict[str, int] = {}
    for n, premise in enumerate(premises):
        point = to_shape(premise.geom)
        wheres = [Where(account=premise.account)]
        if n % 5 == 0:
            wheres.append(Where(address=premise.address))
        if n % 7 == 0:  # on the premise, and ~40-200 m off it (perhaps no premise near)
            wheres.append(Where(lon=point.x, lat=point.y))
            off = 0.0004 * (1 + n % 5)
            wheres.append(Where(lon=point.x + off, lat=point.y - off / 2))
        for where in wheres:
            for now in CLOCKS:

                def new(w: Where = where, t: dt.datetime = now) -> StatusAnswer:
                    return public_status(
                        session=db_session, where=w, settings=settings, now=t, staff=True
                    )

                def old(w: Where = where, t: dt.datetime = now) -> StatusAnswer:
                    return reference_status(session=db_session, where=w, settings=settings, now=t)

                expected = _outcome(old)
                assert _outcome(new) == expected, (where, now)
                if isinstance(expected, StatusAnswer):
                    stage = f"/{expected.crew_stage}" if expected.crew_stage else ""
                    key, coming = expected.state + stage, len(expected.upcoming_planned)
                    seen[key] = max(seen.get(key, 0), coming)
                if where.account and isinstance(expected, StatusAnswer):
                    anonymous = public_status(
                        session=db_session, where=where, settings=settings, now=now
                    )
                    assert anonymous == expected.model_copy(update=dict.fromkeys(PLACE))
    # The scene reached every state the answer can take.
    assert set(seen) >= {
        "normal",
        "planned",
        "restored",
        "outage/waiting",
        "outage/assigned",
        "outage/en_route",
        "outage/on_site",
    }, sorted(seen)
    assert max(seen.values()) >= 2, "some answer lists two coming planned outages"
