"""Power status of a premise as its customer may see it: normal, outage, planned, restored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from outages.intake.locate import locate_report
from outages.models import ACTIVE_OUTAGE_STATUSES
from outages.schemas import StatusAnswer, Where
from outages.settings import OutageSettings
from outages.wording import local_time

UPCOMING_DAYS = 7


def lookup_status(
    *, session: Session, where: Where, settings: OutageSettings, now: dt.datetime
) -> StatusAnswer:
    """Locate the caller (address, point, account) and answer with the premise's status."""
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    assert located.proxy_premise_id is not None  # may_file_unlocated=False guarantees it
    # A premise found by account, phone or address comes with its own coordinates; a point
    # carries the caller's, so the premise's are looked up.
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


# Everything the answer needs about one premise in one statement (one round trip instead
# of five): the planned outage covering it now, the active outage it is dark in, the last
# restoration within the window, and the planned work of the coming week. The orderings are
# those of ``outages.intake.session_store`` (planned: latest end, then id; outage: lowest id).
_STATUS_SQL = text(
    """
    SELECT p.address, ST_X(p.geom) AS lon, ST_Y(p.geom) AS lat,
           pl.id AS planned_id, pl.starts_at, pl.ends_at, pl.reason,
           o.id AS outage_id, o.etr_at, o.cause, o.customers_affected,
           (SELECT max(op.restored_at) FROM outage_premise op
             WHERE op.premise_id = p.id AND op.restored_at >= :since) AS restored_at,
           (SELECT coalesce(json_agg(json_build_object('id', u.id, 'starts_at', u.starts_at,
                    'ends_at', u.ends_at, 'reason', u.reason) ORDER BY u.starts_at), '[]')
              FROM planned_outage u JOIN planned_outage_premise up ON up.planned_outage_id = u.id
             WHERE up.premise_id = p.id AND u.status = 'scheduled'
               AND u.starts_at > :now AND u.starts_at <= :horizon) AS upcoming
      FROM premise p
      LEFT JOIN LATERAL (
            SELECT x.id, x.starts_at, x.ends_at, x.reason FROM planned_outage x
              JOIN planned_outage_premise xp ON xp.planned_outage_id = x.id
             WHERE xp.premise_id = p.id AND x.status = 'scheduled'
               AND x.starts_at <= :now AND x.ends_at > :now
             ORDER BY x.ends_at DESC, x.id LIMIT 1) pl ON true
      LEFT JOIN LATERAL (
            SELECT y.id, y.etr_at, y.cause, y.customers_affected FROM outage y
              JOIN outage_premise yp ON yp.outage_id = y.id
             WHERE yp.premise_id = p.id AND yp.restored_at IS NULL
               AND y.status IN :active
             ORDER BY y.id LIMIT 1) o ON true
     WHERE p.id = :premise
    """
).bindparams(bindparam("active", expanding=True))


def status_of_premise(
    *,
    session: Session,
    premise_id: int,
    settings: OutageSettings,
    now: dt.datetime,
    lonlat: tuple[float | None, float | None] | None = None,
) -> StatusAnswer:
    """The state of one premise now, and planned outages coming in the next week."""
    row = session.execute(
        _STATUS_SQL,
        {
            "premise": premise_id,
            "now": now,
            "since": now - dt.timedelta(hours=settings.restored_recently_h),
            "horizon": now + dt.timedelta(days=UPCOMING_DAYS),
            "active": list(ACTIVE_OUTAGE_STATUSES),
        },
    ).one()
    lon, lat = lonlat if lonlat is not None else (row.lon, row.lat)
    base = {"address": row.address, "premise_id": premise_id, "lon": lon, "lat": lat}
    upcoming = [
        {
            "id": u["id"],
            "starts_at": dt.datetime.fromisoformat(u["starts_at"]),
            "ends_at": dt.datetime.fromisoformat(u["ends_at"]),
            "reason": u["reason"],
        }
        for u in row.upcoming
    ]
    if row.planned_id is not None:
        return StatusAnswer(
            state="planned",
            message=(
                f"Planned work: {row.reason}. Power is planned back by "
                f"{local_time(row.ends_at, settings)}."
            ),
            planned_outage_id=row.planned_id,
            window_start=row.starts_at,
            window_end=row.ends_at,
            reason=row.reason,
            etr=row.ends_at,
            upcoming_planned=upcoming,
            **base,
        )
    if row.outage_id is not None:
        when = f" Expected back by {local_time(row.etr_at, settings)}." if row.etr_at else ""
        return StatusAnswer(
            state="outage",
            message=f"There is a power outage in your area and we are working on it.{when}",
            outage_id=row.outage_id,
            etr=row.etr_at,
            cause=row.cause,
            customers_affected=row.customers_affected,
            upcoming_planned=upcoming,
            **base,
        )
    if row.restored_at is not None:
        return StatusAnswer(
            state="restored",
            message=f"Power was restored at {local_time(row.restored_at, settings)}.",
            restored_at=row.restored_at,
            upcoming_planned=upcoming,
            **base,
        )
    return StatusAnswer(
        state="normal",
        message="No known outage at this address.",
        upcoming_planned=upcoming,
        **base,
    )
