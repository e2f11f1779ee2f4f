"""The dispatch desk's heartbeat: what must happen every few seconds without a click.

Work orders follow the outages (new ones, roll-up merges, restorations), urgency points for
waiting time and the SLA clock grow, overdue orders are escalated, and queued customer
messages go out. Run by the web app on a timer and by ``stormdesk cycle`` on demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch.clocks import escalate_due
from dispatch.orders import sync_work_orders
from dispatch.settings import DispatchSettings
from outages.notify import Sender, send_pending

ACTOR = "system"


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did."""

    orders_created: int
    orders_cancelled: int
    escalations: int
    notifications_sent: int


def run_cycle(
    *, session: Session, now: dt.datetime, settings: DispatchSettings, sender: Sender
) -> CycleResult:
    """Sync orders with outages, escalate overdue orders, send queued notifications."""
    synced = sync_work_orders(session=session, now=now, settings=settings, actor=ACTOR)
    escalations = escalate_due(session=session, now=now, settings=settings)
    sent = send_pending(session=session, sender=sender, now=now)
    return CycleResult(
        orders_created=len(synced.created),
        orders_cancelled=len(synced.cancelled),
        escalations=len(escalations),
        notifications_sent=sent,
    )
