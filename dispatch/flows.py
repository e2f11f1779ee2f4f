"""Effects of dispatch on the outages: a restored order restores its outage, and a crew's
arrival (from a status step or an applied plan) becomes the outage's ETR.

Kept in one place so the only writes dispatch makes into ``outages/`` are easy to find; both
go through the outage service, which tells customers when their ETR moves enough.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.models import Crew, WorkOrder
from dispatch.sequence import Moved
from dispatch.settings import DispatchSettings
from outages import service as outages
from outages.models import ACTIVE_OUTAGE_STATUSES, EtrChange, Outage


def survivor(*, session: Session, outage: Outage) -> Outage:
    """The outage a merged one rolled up into (following the chain), or the outage itself."""
    seen = {outage.id}
    while outage.merged_into_id is not None and outage.merged_into_id not in seen:
        nxt = session.get(Outage, outage.merged_into_id)
        if nxt is None:
            break
        seen.add(nxt.id)
        outage = nxt
    return outage


def restore_outage_of(
    *,
    session: Session,
    order: WorkOrder,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """A crew reporting power back restores its outage, so customers see it on the status page."""
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None:
        return
    outage = survivor(session=session, outage=outage)
    if outage.status in ACTIVE_OUTAGE_STATUSES:
        outages.restore_outage(
            session=session,
            outage=outage,
            device_code=None,
            settings=settings,
            now=now,
            actor=actor,
        )


GPS_FRESH_MIN = 5.0
"""A crew position older than this is not where the crew is now."""

EtrSource = Literal["plan", "assign", "en_route", "on_site", "position"]
"""What moved a crew's arrival. Only ``on_site`` (the crew at the fault, saying how long the
repair takes) may bring an ETR forward; the others only push it back."""


def latest_dispatcher_etr(*, session: Session, outage: Outage) -> dt.datetime | None:
    """The ETR a dispatcher last set by hand, if any: it is never silently replaced."""
    return session.scalar(
        select(EtrChange.etr_at)
        .where(EtrChange.outage_id == outage.id, EtrChange.source == "dispatcher")
        .order_by(EtrChange.id.desc())
        .limit(1)
    )


def feed_etr(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew,
    arrival: dt.datetime,
    source: EtrSource,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """The outage's ETR follows its crew: arrival + repair time, with three rules.

    - It moves later whenever the crew cannot make the ETR customers were told; it moves
      earlier only when the crew on site says so (``source="on_site"``).
    - A dispatcher's own ETR is never silently replaced: the later of the two is told, and
      both stay in the ETR history (the outage shows the conflict).
    - No customer is told an ETR earlier than the arrival plus the minimum repair time.
    A position update (``source="position"``) moves the ETR only when that last rule would
    break, so a crew's GPS stream does not rewrite the ETR every few seconds.
    """
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None:
        return
    outages.lock_outage(session=session, outage=outage)  # decide on the committed ETR
    if outage.status not in ACTIVE_OUTAGE_STATUSES:
        return
    start = max(arrival, now)
    planned = (start + dt.timedelta(seconds=order.repair_s)).replace(microsecond=0)
    floor = (start + dt.timedelta(minutes=settings.min_repair_min)).replace(microsecond=0)
    current = outage.etr_at
    manual = latest_dispatcher_etr(session=session, outage=outage)
    if source == "on_site":
        etr = max(planned, manual) if manual is not None else planned
    elif source == "position":
        if current is not None and current >= floor:
            return
        etr = planned
    else:
        etr = planned if current is None else max(planned, current)
    if etr == current:
        return
    why = f"crew {crew.code} {order.status.replace('_', ' ')}: arrival "
    why += f"{arrival.isoformat(timespec='minutes')} + {order.repair_s // 60} min repair"
    if manual is not None and etr > manual:
        why += f", later than the dispatcher's {manual.isoformat(timespec='minutes')}"
    outages.change_etr(
        session=session,
        outage=outage,
        etr_at=etr,
        reason=why,
        source="dispatch",
        settings=settings,
        now=now,
        actor=actor,
    )


def set_dispatcher_etr(
    *,
    session: Session,
    outage: Outage,
    etr_at: dt.datetime,
    reason: str | None,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """A dispatcher's ETR: recorded as given, and told unless its crew cannot make it.

    When the outage's crew arrives too late for it (arrival + repair is later), customers are
    told that later time in a second history entry, so both stay visible and the console
    shows the conflict instead of a promise the crew cannot keep.
    """
    outages.change_etr(
        session=session,
        outage=outage,
        etr_at=etr_at,
        reason=reason or "set by the dispatcher",
        source="dispatcher",
        settings=settings,
        now=now,
        actor=actor,
    )
    order = session.scalar(
        select(WorkOrder).where(
            WorkOrder.kind == "outage",
            WorkOrder.outage_id == outage.id,
            WorkOrder.status.in_(("planned", "dispatched", "en_route")),
            WorkOrder.eta_at.is_not(None),
        )
    )
    crew = session.get(Crew, order.crew_id) if order and order.crew_id is not None else None
    if order is not None and crew is not None and order.eta_at is not None:
        feed_etr(
            session=session,
            order=order,
            crew=crew,
            arrival=order.eta_at,
            source="assign",
            settings=settings,
            now=now,
            actor=actor,
        )


def feed_moved(
    *,
    session: Session,
    moved: Sequence[Moved],
    crew: Crew,
    source: EtrSource,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Feed the ETR of every outage order whose arrival moved in the crew's route."""
    for change in moved:
        if change.order.eta_at is not None:
            feed_etr(
                session=session,
                order=change.order,
                crew=crew,
                arrival=change.order.eta_at,
                source=source,
                settings=settings,
                now=now,
                actor=actor,
            )


def arrived(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """The crew is on site: its outage is confirmed (a crew has seen it), the ETR is the
    crew's repair time from now, and without shared GPS the crew is placed at the stop."""
    if (
        crew.position_source != "gps"
        or crew.position_at is None
        or crew.position_at < now - (dt.timedelta(minutes=GPS_FRESH_MIN))
    ):
        session.execute(
            text(
                "UPDATE crew SET geom = (SELECT geom FROM work_order WHERE id = :w), "
                "position_at = :now, position_source = 'stop' WHERE id = :c"
            ),
            {"w": order.id, "now": now, "c": crew.id},
        )
        session.expire(crew, ["geom", "position_at", "position_source"])
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None:
        return
    outage = survivor(session=session, outage=outage)
    if outage.status == "suspected":
        outages.confirm_outage(
            session=session, outage=outage, settings=settings, now=now, actor=actor
        )
    feed_etr(
        session=session,
        order=order,
        crew=crew,
        arrival=now,
        source="on_site",
        settings=settings,
        now=now,
        actor=actor,
    )


def undo_restore_of(
    *,
    session: Session,
    order: WorkOrder,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """A Restored tap taken back: the outage it restored is dark again."""
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None:
        return
    outage = survivor(session=session, outage=outage)
    if outage.status == "restored":
        outages.reopen_outage(
            session=session, outage=outage, settings=settings, now=now, actor=actor
        )
