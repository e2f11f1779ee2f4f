"""The status lookup as it was before it became one statement: the reference answer.

Kept only here, for ``tests/dispatch/test_status_equivalence.py``: locate the caller, then
one query each for the premise's point, the planned work now, the active outage, the latest
restoration, the coming week's planned work and the outage order's crew stage. The one
statement of ``dispatch.public_status`` must answer exactly what this answers.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.public_view import crew_stages
from geo.models import Premise
from outages.etr_range import etr_range
from outages.intake.locate import locate_report
from outages.models import PlannedOutage, PlannedOutagePremise
from outages.planned import planned_covering
from outages.planned_reasons import reason_texts
from outages.schemas import StatusAnswer, Where
from outages.service import active_outage_of
from outages.settings import OutageSettings
from outages.wording import local_time

UPCOMING_DAYS = 7


def reference_status(
    *, session: Session, where: Where, settings: OutageSettings, now: dt.datetime
) -> StatusAnswer:
    """A customer's status with the crew's stage and the ETR range, query by query."""
    answer = lookup_status(session=session, where=where, settings=settings, now=now)
    if answer.state != "outage" or answer.outage_id is None:
        return answer
    stage, _ = crew_stages(session=session, outage_ids=[answer.outage_id])[answer.outage_id]
    span = etr_range(etr_at=answer.etr, stage=stage, now=now)
    answer.crew_stage = stage
    if span is not None:
        answer.etr_earliest, answer.etr_latest = span.earliest_at, span.latest_at
        answer.etr_overdue = span.overdue
    return answer


def lookup_status(
    *, session: Session, where: Where, settings: OutageSettings, now: dt.datetime
) -> StatusAnswer:
    """Locate the caller (address, point, account) and answer with the premise's status."""
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    assert located.proxy_premise_id is not None  # may_file_unlocated=False guarantees it
    known_lonlat = (
        (located.lon, located.lat)
        if located.located_by in ("account", "phone", "address")
        else None
    )
    answer = status_of_premise(
        session=session,
        premise_id=located.proxy_premise_id,
        settings=settings,
        now=now,
        lonlat=known_lonlat,
    )
    if located.premise_id is None:  # a bare point: report on the grid there, not a customer
        answer.address, answer.premise_id = None, None
        answer.lon, answer.lat = located.lon, located.lat
    return answer


def status_of_premise(
    *,
    session: Session,
    premise_id: int,
    settings: OutageSettings,
    now: dt.datetime,
    lonlat: tuple[float | None, float | None] | None = None,
) -> StatusAnswer:
    """The state of one premise now, and planned outages coming in the next week."""
    premise = session.get(Premise, premise_id)
    assert premise is not None
    if lonlat is None:
        row = session.execute(
            text("SELECT ST_X(geom), ST_Y(geom) FROM premise WHERE id = :id"), {"id": premise_id}
        ).one()
        lonlat = (row[0], row[1])
    lon, lat = lonlat
    base = {
        "address": premise.address,
        "premise_id": premise.id,
        "lon": lon,
        "lat": lat,
        "checked_at": now,
    }
    upcoming = _upcoming(session, premise_id, now)
    planned = planned_covering(session=session, premise_id=premise_id, now=now)
    if planned is not None:
        return StatusAnswer(
            state="planned",
            message=(
                f"Planned work: {planned.reason}. Power is planned back by "
                f"{local_time(planned.ends_at, settings)}."
            ),
            planned_outage_id=planned.id,
            window_start=planned.starts_at,
            window_end=planned.ends_at,
            reason=planned.reason,
            reason_texts=reason_texts(planned.reason),
            known_outage=True,
            etr=planned.ends_at,
            upcoming_planned=upcoming,
            **base,
        )
    outage = active_outage_of(session=session, premise_id=premise_id)
    if outage is not None:
        when = f" Expected back by {local_time(outage.etr_at, settings)}." if outage.etr_at else ""
        return StatusAnswer(
            state="outage",
            message=f"There is a power outage in your area and we are working on it.{when}",
            outage_id=outage.id,
            etr=outage.etr_at,
            cause=outage.cause,
            customers_affected=outage.customers_affected,
            known_outage=True,
            upcoming_planned=upcoming,
            **base,
        )
    restored_at = session.execute(
        text(
            "SELECT max(restored_at) FROM outage_premise "
            "WHERE premise_id = :p AND restored_at >= :since"
        ),
        {"p": premise_id, "since": now - dt.timedelta(hours=settings.restored_recently_h)},
    ).scalar()
    if restored_at is not None:
        return StatusAnswer(
            state="restored",
            message=f"Power was restored at {local_time(restored_at, settings)}.",
            restored_at=restored_at,
            upcoming_planned=upcoming,
            **base,
        )
    return StatusAnswer(
        state="normal",
        message="No known outage at this address.",
        upcoming_planned=upcoming,
        **base,
    )


def _upcoming(session: Session, premise_id: int, now: dt.datetime) -> list[dict[str, object]]:
    rows = session.scalars(
        select(PlannedOutage)
        .join(PlannedOutagePremise, PlannedOutagePremise.planned_outage_id == PlannedOutage.id)
        .where(
            PlannedOutagePremise.premise_id == premise_id,
            PlannedOutage.status == "scheduled",
            PlannedOutage.starts_at > now,
            PlannedOutage.starts_at <= now + dt.timedelta(days=UPCOMING_DAYS),
        )
        .order_by(PlannedOutage.starts_at)
    ).all()
    return [
        {
            "id": p.id,
            "starts_at": p.starts_at,
            "ends_at": p.ends_at,
            "reason": p.reason,
            "reason_texts": reason_texts(p.reason),
        }
        for p in rows
    ]
