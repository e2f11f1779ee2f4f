"""The 95598 clocks: deadlines per order, at-risk and overdue checks, escalation (催办).

Commitments (configurable in ``DispatchSettings``): a crew on site within 45 / 90 / 120 minutes of
the first report in urban / rural / remote regions, power back within 3 / 4 / 6 hours.
Faults that cut no supply and endanger nobody run on the longer ``fault_*`` clocks; a booked
appointment replaces the on-site deadline with the end of the agreed slot.

Escalation levels, each raised at most once per order:

1. at risk: the ETA (or, on site, the ETA plus the repair time) is past the deadline;
2. on-site overdue: no crew on site by the on-site deadline;
3. restore overdue: not restored by the restore deadline.

An order jumping from 0 to 2 is escalated once, at level 2: the supervisor gets the worst
news, not a burst of three messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import BEFORE_SITE_STATUSES, LIVE_STATUSES, WorkOrder
from dispatch.settings import DispatchSettings
from geo.audit import record
from geo.models import Region
from outages.models import Notification

LEVEL_AT_RISK = 1
LEVEL_ONSITE_OVERDUE = 2
LEVEL_RESTORE_OVERDUE = 3
LEVEL_NAMES = {
    LEVEL_AT_RISK: "at risk",
    LEVEL_ONSITE_OVERDUE: "on-site deadline passed",
    LEVEL_RESTORE_OVERDUE: "restore deadline passed",
}
SUPERVISOR_PRIORITY = 1


@dataclass(frozen=True)
class Deadlines:
    onsite_due_at: dt.datetime
    restore_due_at: dt.datetime


@dataclass(frozen=True)
class Escalation:
    """One escalation raised by ``escalate_due``."""

    work_order_id: int
    level: int
    reason: str
    recipient: str


def deadlines(
    *,
    kind: str,
    first_report_at: dt.datetime,
    region_class: str | None,
    settings: DispatchSettings,
    appointment_end_at: dt.datetime | None = None,
    repair_s: int = 0,
) -> Deadlines:
    """The on-site and restore deadlines of an order.

    An unknown region class falls back to urban, the strictest commitment (as the default
    ETR does), so a data gap never loosens a promise.
    """
    if kind == "fault":
        onsite = first_report_at + dt.timedelta(hours=settings.fault_onsite_h)
        restore = first_report_at + dt.timedelta(hours=settings.fault_restore_h)
    else:
        region = region_class or "urban"
        onsite_min = settings.onsite_minutes_by_region_class
        restore_h = settings.etr_hours_by_region_class
        onsite = first_report_at + dt.timedelta(
            minutes=onsite_min.get(region, onsite_min.get("urban", 45.0))
        )
        restore = first_report_at + dt.timedelta(
            hours=restore_h.get(region, restore_h.get("urban", 3.0))
        )
    if appointment_end_at is not None:
        onsite = appointment_end_at
        restore = max(restore, appointment_end_at + dt.timedelta(seconds=repair_s))
    return Deadlines(onsite_due_at=onsite, restore_due_at=restore)


def onsite_overdue(order: WorkOrder, now: dt.datetime) -> bool:
    return order.status in BEFORE_SITE_STATUSES and now > order.onsite_due_at


def restore_overdue(order: WorkOrder, now: dt.datetime) -> bool:
    return order.status in LIVE_STATUSES and now > order.restore_due_at


def overdue(order: WorkOrder, now: dt.datetime) -> bool:
    """A deadline has passed and the step it guards has not happened."""
    return onsite_overdue(order, now) or restore_overdue(order, now)


def at_risk(order: WorkOrder, now: dt.datetime) -> bool:
    """Not yet overdue, but the known ETA says a deadline will be missed.

    Without an ETA (no crew yet) an order is never "at risk": it becomes overdue instead.
    """
    if order.status not in LIVE_STATUSES or overdue(order, now):
        return False
    if order.status in BEFORE_SITE_STATUSES:
        if order.eta_at is None:
            return False
        arrival = order.eta_at
        if arrival > order.onsite_due_at:
            return True
    else:
        arrival = order.on_site_at or now
    finish = max(arrival, now) + dt.timedelta(seconds=order.repair_s)
    return finish > order.restore_due_at


def level_now(order: WorkOrder, now: dt.datetime) -> int:
    """The escalation level an order deserves at ``now`` (0: none)."""
    if restore_overdue(order, now):
        return LEVEL_RESTORE_OVERDUE
    if onsite_overdue(order, now):
        return LEVEL_ONSITE_OVERDUE
    if at_risk(order, now):
        return LEVEL_AT_RISK
    return 0


def supervisor_of(region_code: str | None) -> str:
    """The outbox recipient for a region's supervisor."""
    return f"supervisor:{region_code or 'unassigned'}"


def escalate_due(
    *, session: Session, now: dt.datetime, settings: DispatchSettings
) -> list[Escalation]:
    """Escalate every live order whose level rose: an event, a supervisor message, a flag.

    Idempotent: a level is raised once per order, and the message key
    ``work_order:<id>:escalation:<level>`` is checked before queuing. Orders to raise are
    locked (``FOR UPDATE``) and re-read, so two concurrent runs cannot both raise a level.
    """
    # Read without locks, then lock and re-read only the orders whose level rose: crews'
    # status updates on every other order go on undisturbed during a storm.
    rising = [
        order.id
        for order in session.scalars(
            select(WorkOrder).where(WorkOrder.status.in_(LIVE_STATUSES)).order_by(WorkOrder.id)
        )
        if level_now(order, now) > order.escalation_level
    ]
    if not rising:
        return []
    orders = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.id.in_(rising))
        .order_by(WorkOrder.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    region_codes = dict(session.execute(select(Region.id, Region.code)).all())
    raised: list[Escalation] = []
    for order in orders:
        level = level_now(order, now)
        if level <= order.escalation_level:
            continue
        previous = order.escalation_level
        order.escalation_level = level
        order.escalated_at = now
        order.updated_at = now
        reason = LEVEL_NAMES[level]
        recipient = supervisor_of(region_codes.get(order.region_id) if order.region_id else None)
        due = order.restore_due_at if level == LEVEL_RESTORE_OVERDUE else order.onsite_due_at
        record(
            session=session,
            actor="clock",
            action="work_order.escalated",
            object_type="work_order",
            object_id=order.id,
            detail={
                "from": previous,
                "to": level,
                "reason": reason,
                "due_at": due.isoformat(),
                "eta_at": order.eta_at.isoformat() if order.eta_at else None,
            },
            at=now,
        )
        key = f"work_order:{order.id}:escalation:{level}"
        exists = session.scalar(select(Notification.id).where(Notification.event_key == key))
        if exists is None:
            session.add(
                Notification(
                    event_key=key,
                    kind="escalation",
                    premise_id=None,
                    recipient=recipient,
                    priority=SUPERVISOR_PRIORITY,
                    message=(
                        f"催办 work order #{order.id} ({order.kind}, priority {order.priority}): "
                        f"{reason}; due {due.isoformat(timespec='minutes')}."
                    ),
                    status="queued",
                )
            )
        raised.append(
            Escalation(work_order_id=order.id, level=level, reason=reason, recipient=recipient)
        )
    session.flush()
    return raised
