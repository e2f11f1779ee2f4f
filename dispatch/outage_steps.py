"""A dispatcher's step on an outage from the console or the API, with what dispatch adds.

Restoring a whole outage checks its order's make-safe tasks (made safe, overridden, or
refused), and a dispatcher's ETR goes through ``flows.set_dispatcher_etr`` so it is never a
promise the crew cannot keep; every other step is the outage service's own.

Locks are taken in the order every dispatch path takes them, work order first, then the
outage (``outages.service.lock_outage``: feeder, then row): a crew's Restored tap holds its
order and then restores the outage, so a dispatcher's restore of the same outage must not
hold the outage while it waits for the order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.flows import set_dispatcher_etr
from dispatch.models import WorkOrder
from dispatch.settings import DispatchSettings
from dispatch.tasks import check_outage_restorable
from outages import service as outages
from outages.models import Outage
from outages.schemas import OutageUpdate


def update_outage(
    *,
    session: Session,
    outage: Outage,
    data: OutageUpdate,
    settings: DispatchSettings,
    now: dt.datetime,
    actor: str,
) -> None:
    """Apply one step (confirm, restore, close, ETR, cause) as the module docstring says."""
    session.execute(
        select(WorkOrder.id)
        .where(WorkOrder.kind == "outage", WorkOrder.outage_id == outage.id)
        .order_by(WorkOrder.id)
        .with_for_update()
    )
    outages.lock_outage(session=session, outage=outage)
    if data.action == "restore" and data.device is None:
        check_outage_restorable(
            session=session,
            outage=outage,
            made_safe=data.made_safe,
            override_reason=data.override_reason,
            actor=actor,
            now=now,
        )
    if data.action == "set_etr" and data.etr is not None:
        set_dispatcher_etr(
            session=session,
            outage=outage,
            etr_at=data.etr,
            reason=data.reason,
            settings=settings,
            now=now,
            actor=actor,
        )
        return
    outages.update_outage(
        session=session, outage=outage, data=data, settings=settings, now=now, actor=actor
    )
