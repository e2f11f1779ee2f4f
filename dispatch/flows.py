"""Effects of dispatch on the outages: a restored order restores its outage, and a crew's
arrival (from a status step or an applied plan) becomes the outage's ETR.

Kept in one place so the only writes dispatch makes into ``outages/`` are easy to find; both
go through the outage service, which tells customers when their ETR moves enough.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch.models import Crew, WorkOrder
from dispatch.settings import DispatchSettings
from outages import service as outages
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage


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


def feed_etr(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew,
    arrival: dt.datetime,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Outage ETR = crew arrival + repair time (customers are told when it moves enough)."""
    if order.kind != "outage" or order.outage_id is None:
        return
    outage = session.get(Outage, order.outage_id)
    if outage is None or outage.status not in ACTIVE_OUTAGE_STATUSES:
        return
    etr = (max(arrival, now) + dt.timedelta(seconds=order.repair_s)).replace(microsecond=0)
    if outage.etr_at == etr:
        return
    outages.change_etr(
        session=session,
        outage=outage,
        etr_at=etr,
        reason=(
            f"crew {crew.code} {order.status.replace('_', ' ')}: arrival "
            f"{arrival.isoformat(timespec='minutes')} + {order.repair_s // 60} min repair"
        ),
        source="dispatch",
        settings=settings,
        now=now,
        actor=actor,
    )
