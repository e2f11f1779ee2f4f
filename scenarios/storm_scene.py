"""Where a simulated storm strikes: the tripped recloser, the planned work beside it, and
the customers who can call (below the recloser, upstream on its feeder, inside the planned
work). Kept apart from the calls themselves (scenarios/storm.py) so the choice of place can
be read, and changed, without the call mix.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from outages.planned import create_planned
from outages.schemas import PlannedOutageCreate
from outages.settings import OutageSettings
from outages.topology import load_feeder_tree

ACTOR = "storm-simulator"
PLANNED_REASON = "transformer replacement"


@dataclass(frozen=True)
class Caller:
    premise_id: int
    account: str
    phone: str | None
    address: str
    lon: float
    lat: float


def callers(session: Session, where: str, params: dict[str, object]) -> list[Caller]:
    rows = session.execute(
        text(
            "SELECT id, account, phone, address, ST_X(geom) AS lon, ST_Y(geom) AS lat "
            f"FROM premise WHERE {where} ORDER BY id"
        ),
        params,
    ).all()
    return [Caller(r.id, r.account, r.phone, r.address, float(r.lon), float(r.lat)) for r in rows]


def busy_feeders(session: Session, now: dt.datetime) -> set[int]:
    """Feeders with an active outage or planned work: a new storm goes elsewhere."""
    busy = session.scalars(
        text("SELECT feeder_id FROM outage WHERE status IN ('suspected', 'confirmed')")
    ).all()
    planned = session.scalars(
        text(
            "SELECT DISTINCT p.feeder_id FROM planned_outage_premise pp "
            "JOIN planned_outage po ON po.id = pp.planned_outage_id "
            "JOIN premise p ON p.id = pp.premise_id "
            "WHERE po.status = 'scheduled' AND po.ends_at > :now"
        ),
        {"now": now},
    ).all()
    return {int(f) for f in (*busy, *planned) if f is not None}


def pick_recloser(
    session: Session, rng: random.Random, busy: set[int]
) -> tuple[int, str, str, int, list[int]]:
    """A recloser with at least two transformers with customers below it, on a quiet feeder."""
    candidates = []
    for device_id, code, kind, feeder_id in session.execute(
        text("SELECT id, code, kind, feeder_id FROM device WHERE kind = 'recloser' ORDER BY id")
    ).all():
        if feeder_id in busy:
            continue
        tree = load_feeder_tree(session=session, feeder_id=feeder_id)
        below = tree.below(device_id)
        transformers = [d for d in below if tree.direct_customers.get(d, 0) > 0]
        if len(transformers) >= 2:
            candidates.append((device_id, code, kind, feeder_id, sorted(below)))
    if not candidates:
        msg = (
            "no recloser with two or more loaded transformers below it on a feeder without "
            "an active outage: restore the outages of earlier storms, or reset the demo"
        )
        raise InvalidInput(msg)
    return rng.choice(candidates)


def pick_planned_device(
    session: Session, rng: random.Random, busy: set[int], feeder_id: int
) -> str:
    rows = session.execute(
        text(
            "SELECT d.code, d.feeder_id, count(p.id) AS n FROM device d "
            "JOIN premise p ON p.transformer_id = d.id "
            "WHERE d.kind = 'transformer' GROUP BY d.id, d.code, d.feeder_id "
            "HAVING count(p.id) BETWEEN 8 AND 80 ORDER BY d.id"
        )
    ).all()
    codes = [r.code for r in rows if r.feeder_id != feeder_id and r.feeder_id not in busy]
    if not codes:
        msg = "no transformer with 8-80 customers on another quiet feeder for the planned work"
        raise InvalidInput(msg)
    return rng.choice(codes)


@dataclass(frozen=True)
class Scene:
    """Where the storm strikes: the tripped recloser, the planned work, who can call."""

    recloser_id: int
    recloser: str
    kind: str
    feeder: str
    planned_outage_id: int
    planned_device: str
    planned_customers: int
    below: list[Caller]
    upstream: list[Caller]
    in_planned: list[Caller]


def set_scene(
    session: Session,
    settings: OutageSettings,
    rng: random.Random,
    *,
    start: dt.datetime,
    now: dt.datetime,
) -> Scene:
    """Pick the recloser and the planned work on quiet feeders and announce the planned work.

    The planned outage is announced 45 minutes before the storm and began 30 minutes
    before it, so its customers' calls come back ``planned``.
    """
    busy = busy_feeders(session, now)
    recloser_id, recloser, kind, feeder_id, below_ids = pick_recloser(session, rng, busy)
    planned_device = pick_planned_device(session, rng, busy, feeder_id)
    feeder = session.execute(
        text("SELECT code FROM feeder WHERE id = :f"), {"f": feeder_id}
    ).scalar_one()

    planned = create_planned(
        session=session,
        data=PlannedOutageCreate(
            reason=PLANNED_REASON,
            starts_at=start - dt.timedelta(minutes=30),
            ends_at=now + dt.timedelta(hours=2),
            devices=[planned_device],
        ),
        settings=settings,
        now=start - dt.timedelta(minutes=45),
        actor=ACTOR,
    )
    return Scene(
        recloser_id=recloser_id,
        recloser=recloser,
        kind=kind,
        feeder=feeder,
        planned_outage_id=planned.id,
        planned_device=planned_device,
        planned_customers=planned.customers_affected,
        below=callers(session, "transformer_id = ANY(:d)", {"d": below_ids}),
        upstream=callers(
            session,
            "feeder_id = :f AND NOT (transformer_id = ANY(:d))",
            {"f": feeder_id, "d": below_ids},
        ),
        in_planned=callers(
            session,
            "id IN (SELECT premise_id FROM planned_outage_premise WHERE planned_outage_id = :p)",
            {"p": planned.id},
        ),
    )
