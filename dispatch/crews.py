"""Crews: their shifts, positions and status, who may act for them, and help requests.

A crew's status follows its orders (``on_site`` or ``en_route`` while one of its orders is,
else ``available``); its live position arrives from the crew page every few seconds.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch.exceptions import CrewNotFound
from dispatch.flows import feed_moved
from dispatch.models import LIVE_STATUSES, Crew, WorkOrder
from dispatch.schemas import CrewCollection, CrewFeature, CrewProperties
from dispatch.sequence import retime_crew
from dispatch.settings import DispatchSettings
from geo.audit import record
from geo.exceptions import Forbidden, InvalidInput
from geo.models import Event, Region, User

HELP_ACTION = "work_order.help_requested"


def get_crew(*, session: Session, crew_id: int) -> Crew:
    crew = session.get(Crew, crew_id)
    if crew is None:
        msg = f"no crew #{crew_id}"
        raise CrewNotFound(msg)
    return crew


def on_shift(*, crew: Crew, now: dt.datetime, settings: DispatchSettings) -> bool:
    """Whether local ``now`` falls in the crew's shift; night shifts end before they start
    (19:00-07:00) and wrap past midnight. Equal start and end mean round the clock."""
    local = now.astimezone(ZoneInfo(settings.timezone)).time()
    start, end = crew.shift_start, crew.shift_end
    if start == end:
        return True
    if start < end:
        return start <= local < end
    return local >= start or local < end


# --- who may act for a crew ----------------------------------------------------------------


def check_own_order(*, user: User, order: WorkOrder) -> None:
    """A crew acts on its own orders only; dispatchers (and admins) on any."""
    if user.role == "crew" and (user.crew_id is None or order.crew_id != user.crew_id):
        msg = f"work order #{order.id} is not assigned to your crew"
        raise Forbidden(msg)


def check_own_crew(*, user: User, crew: Crew) -> None:
    """A crew posts its own position only; dispatchers (and admins) any crew's."""
    if user.role == "crew" and user.crew_id != crew.id:
        msg = f"you may post the position of your own crew only, not {crew.code}"
        raise Forbidden(msg)


# --- positions and status ------------------------------------------------------------------


def refresh_crew_status(*, session: Session, crew: Crew, now: dt.datetime, actor: str) -> None:
    """A crew is ``on_site`` or ``en_route`` while one of its orders is; else ``available``."""
    statuses = set(
        session.scalars(
            select(WorkOrder.status).where(
                WorkOrder.crew_id == crew.id, WorkOrder.status.in_(("en_route", "on_site"))
            )
        )
    )
    status = "on_site" if "on_site" in statuses else "en_route" if statuses else "available"
    if crew.status != status:
        record(
            session=session,
            actor=actor,
            action="crew.status_changed",
            object_type="crew",
            object_id=crew.id,
            detail={"from": crew.status, "to": status},
            at=now,
        )
        crew.status = status


def post_position(
    *,
    session: Session,
    crew: Crew,
    lon: float,
    lat: float,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """The crew page posts where the crew is; the arrivals of its route follow.

    Not audited (it arrives every few seconds). Arrivals only move later here, and an ETR
    only when the crew could no longer make it (``dispatch.flows.feed_etr``), so customers
    are not messaged on every position.
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or not (
        math.isfinite(lon) and math.isfinite(lat)
    ):
        msg = f"position ({lon}, {lat}) is not a lon/lat in EPSG:4326"
        raise InvalidInput(msg)
    session.execute(
        text(
            "UPDATE crew SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
            "position_at = :now, position_source = 'gps' WHERE id = :id"
        ),
        {"lon": lon, "lat": lat, "now": now, "id": crew.id},
    )
    session.expire(crew, ["geom", "position_at", "position_source"])
    moved = retime_crew(session=session, crew=crew, now=now, settings=settings, keep_later=True)
    feed_moved(
        session=session,
        moved=moved,
        crew=crew,
        source="position",
        settings=settings,
        now=now,
        actor="crew position",
    )
    session.flush()


# --- help requests -------------------------------------------------------------------------


def request_help(
    *,
    session: Session,
    order: WorkOrder,
    note: str | None,
    request_id: str | None,
    actor: str,
    now: dt.datetime,
) -> bool:
    """A crew needs help on its job: recorded in the audit log for the dispatcher.

    Returns False when a request with this ``request_id`` was already recorded: the crew
    page retries queued requests after a network drop, and a retry must not ask twice.
    """
    seen = request_id is not None and (
        session.scalar(
            select(Event.id)
            .where(
                Event.action == HELP_ACTION,
                Event.object_type == "work_order",
                Event.object_id == str(order.id),
                Event.detail["request_id"].astext == request_id,
            )
            .limit(1)
        )
        is not None
    )
    if seen:
        return False
    record(
        session=session,
        actor=actor,
        action=HELP_ACTION,
        object_type="work_order",
        object_id=order.id,
        detail={
            "note": note,
            "request_id": request_id,
            "crew_id": order.crew_id,
            "status": order.status,
        },
        at=now,
    )
    return True


# --- the map layer -------------------------------------------------------------------------


def _position_source(crew: Crew) -> Literal["live", "stop", "depot"]:
    if crew.geom is None:
        return "depot"
    return "stop" if crew.position_source == "stop" else "live"


def crew_collection(
    *, session: Session, now: dt.datetime, settings: DispatchSettings
) -> CrewCollection:
    """Crews as a GeoJSON FeatureCollection: live position, else the depot."""
    rows = session.execute(
        select(
            Crew,
            func.ST_X(func.coalesce(Crew.geom, Crew.depot_geom)),
            func.ST_Y(func.coalesce(Crew.geom, Crew.depot_geom)),
            Region.code,
        )
        .outerjoin(Region, Region.id == Crew.region_id)
        .order_by(Crew.code)
    )
    orders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for order_id, crew_id, status in session.execute(
        select(WorkOrder.id, WorkOrder.crew_id, WorkOrder.status)
        .where(WorkOrder.crew_id.is_not(None), WorkOrder.status.in_(LIVE_STATUSES))
        .order_by(WorkOrder.route_seq.nulls_last(), WorkOrder.urgency_score.desc(), WorkOrder.id)
    ):
        assert crew_id is not None
        orders[crew_id].append((order_id, status))
    features = []
    for crew, lon, lat, region in rows:
        mine = orders.get(crew.id, [])
        busy = [oid for oid, status in mine if status in ("on_site", "en_route")]
        current = busy[0] if busy else (mine[0][0] if mine else None)
        features.append(
            CrewFeature(
                id=crew.id,
                geometry={"type": "Point", "coordinates": [lon, lat]},
                properties=CrewProperties(
                    id=crew.id,
                    code=crew.code,
                    name=crew.name,
                    skills=sorted(crew.skills),
                    status=crew.status,
                    region=region,
                    shift_start=crew.shift_start,
                    shift_end=crew.shift_end,
                    on_shift=on_shift(crew=crew, now=now, settings=settings),
                    position_source=_position_source(crew),
                    position_at=crew.position_at,
                    current_order_id=current,
                    open_orders=len(mine),
                ),
            )
        )
    return CrewCollection(features=features)
