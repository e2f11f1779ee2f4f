"""The dispatch desk's heartbeat: what must happen every few seconds without a click.

Work orders follow the outages (new ones, roll-up merges, restorations), urgency points for
waiting time and the SLA clock grow, overdue orders are escalated, queued customer
messages go out, and partners' webhooks hear what changed in the public outage feed.
Run by the web app on a timer and by ``stormdesk cycle`` on demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dispatch.clocks import escalate_due
from dispatch.orders import sync_work_orders
from dispatch.settings import DispatchSettings
from outages.feeds.webhooks import Poster, UrllibPoster, deliver_due, queue_feed_events
from outages.notify import Sender, send_pending

ACTOR = "system"


@dataclass(frozen=True)
class CycleResult:
    """What one cycle did."""

    orders_created: int
    orders_cancelled: int
    escalations: int
    notifications_sent: int
    webhook_events: int = 0
    webhooks_delivered: int = 0


def run_cycle(
    *,
    session: Session,
    now: dt.datetime,
    settings: DispatchSettings,
    sender: Sender,
    poster: Poster | None = None,
) -> CycleResult:
    """Sync orders with outages, escalate overdue orders, send queued notifications,
    queue and post webhook deliveries."""
    synced = sync_work_orders(session=session, now=now, settings=settings, actor=ACTOR)
    escalations = escalate_due(session=session, now=now, settings=settings)
    sent = send_pending(session=session, sender=sender, now=now)
    events = queue_feed_events(session=session, now=now, settings=settings)
    delivered = deliver_due(
        session=session, poster=poster or UrllibPoster(), now=now, settings=settings
    )
    return CycleResult(
        orders_created=len(synced.created),
        orders_cancelled=len(synced.cancelled),
        escalations=len(escalations),
        notifications_sent=sent,
        webhook_events=events,
        webhooks_delivered=delivered,
    )
