"""The 95598 closing loop and appointments: the crew's completion report, the supervisor's
review, the return call (回访) to the customer, and booked slots for non-urgent faults.

An order closes (``restored -> closed``, in ``dispatch/lifecycle.py``) only once all three
steps of the loop are done; ``require_close_loop`` names the missing ones.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.exceptions import CloseRefused
from dispatch.models import CompletionReport, WorkOrder
from dispatch.orders import refresh_orders
from dispatch.schemas import CompletionCreate
from dispatch.settings import DispatchSettings
from dispatch.state import allowed, audit, bump_state, touch
from geo.exceptions import InvalidInput
from outages.exceptions import InvalidTransition

BOOKABLE = ("new", "planned", "dispatched")
"""Statuses in which a customer's slot can still be booked (no crew has set out)."""


def completion_of(*, session: Session, order: WorkOrder) -> CompletionReport | None:
    return session.scalar(
        select(CompletionReport).where(CompletionReport.work_order_id == order.id)
    )


def file_completion(
    *, session: Session, order: WorkOrder, data: CompletionCreate, actor: str, now: dt.datetime
) -> CompletionReport:
    """The crew's report: cause found, action taken, device, materials.

    Filed on site or after restoration; refiling replaces a report not yet accepted.
    """
    if order.status not in ("on_site", "restored"):
        msg = (
            f"work order #{order.id} is {order.status}: the completion report is filed "
            "on site or after restoration"
        )
        raise InvalidTransition(msg, allowed(order))
    report = completion_of(session=session, order=order)
    if report is not None and report.review_ok:
        msg = f"the completion report of work order #{order.id} is already accepted"
        raise InvalidTransition(msg, allowed(order))
    if report is None:
        report = CompletionReport(work_order_id=order.id)
        session.add(report)
    report.cause_found = data.cause_found
    report.action = data.action
    report.device_code = data.device_code
    report.materials = [m.model_dump() for m in data.materials]
    report.filed_by, report.filed_at = actor, now
    report.reviewed_by = report.reviewed_at = report.review_ok = report.review_note = None
    touch(order, now)
    audit(
        session,
        order,
        "completion_filed",
        actor,
        now,
        cause_found=data.cause_found,
        action_taken=data.action,
        device=data.device_code,
        materials=report.materials,
    )
    session.flush()
    return report


def review_completion(
    *,
    session: Session,
    order: WorkOrder,
    ok: bool,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> CompletionReport:
    """A supervisor accepts the report, or rejects it (with a note) for the crew to refile."""
    report = completion_of(session=session, order=order)
    if report is None:
        msg = f"work order #{order.id} has no completion report to review yet"
        raise InvalidTransition(msg, allowed(order))
    if order.status != "restored":
        msg = f"work order #{order.id} is {order.status}: review it once power is restored"
        raise InvalidTransition(msg, allowed(order))
    if report.review_ok:
        msg = f"the completion report of work order #{order.id} is already accepted"
        raise InvalidTransition(msg, allowed(order))
    if not ok and not note:
        msg = "a rejected report needs a note telling the crew what to fix"
        raise InvalidInput(msg)
    report.reviewed_by, report.reviewed_at = actor, now
    report.review_ok, report.review_note = ok, note
    touch(order, now)
    audit(session, order, "completion_reviewed", actor, now, ok=ok, note=note)
    session.flush()
    return report


def record_return_call(
    *,
    session: Session,
    order: WorkOrder,
    customer_reached: bool,
    satisfied: bool | None,
    note: str | None,
    actor: str,
    now: dt.datetime,
) -> CompletionReport:
    """The return call (回访) after an accepted review; a later attempt replaces an earlier one."""
    report = completion_of(session=session, order=order)
    if report is None or not report.review_ok:
        msg = f"work order #{order.id}: the return call follows an accepted completion review"
        raise InvalidTransition(msg, allowed(order))
    if order.status != "restored":
        msg = f"work order #{order.id} is {order.status}: no return call is due"
        raise InvalidTransition(msg, allowed(order))
    if not customer_reached:
        satisfied = None
    report.return_call_at, report.return_call_by = now, actor
    report.customer_reached, report.satisfied = customer_reached, satisfied
    report.return_call_note = note
    touch(order, now)
    audit(
        session,
        order,
        "return_call",
        actor,
        now,
        customer_reached=customer_reached,
        satisfied=satisfied,
        note=note,
    )
    session.flush()
    return report


def require_close_loop(*, session: Session, order: WorkOrder) -> None:
    """Refuse to close before the report is accepted and the return call is recorded."""
    report = completion_of(session=session, order=order)
    missing = []
    if report is None:
        missing.append("completion report")
    elif not report.review_ok:
        missing.append("accepted review")
    if report is None or report.return_call_at is None:
        missing.append("return call")
    if missing:
        msg = f"work order #{order.id} cannot close yet: missing {', '.join(missing)}"
        raise CloseRefused(msg, missing)


def book_appointment(
    *,
    session: Session,
    order: WorkOrder,
    start_at: dt.datetime,
    end_at: dt.datetime,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """Book the slot a customer agreed for a non-urgent fault; it becomes the job's window.

    The slot must lie in the future, within business hours on one local day, and last at
    most ``appointment_max_h``. The on-site deadline becomes the end of the slot.
    """
    if order.kind != "fault" or order.priority < 3:
        msg = (
            f"work order #{order.id} ({order.kind}, priority {order.priority}) is urgent: "
            "only faults of priority 3-4 are booked; urgent work is served at once"
        )
        raise InvalidInput(msg)
    if order.status not in BOOKABLE:
        msg = f"work order #{order.id} is {order.status}: too late to book a slot"
        raise InvalidTransition(msg, allowed(order))
    for name, value in (("start_at", start_at), ("end_at", end_at)):
        if value.tzinfo is None:
            msg = f"{name} must carry a UTC offset, e.g. 2026-11-24T09:00:00+02:00"
            raise InvalidInput(msg)
    if start_at <= now:
        msg = f"slot start {start_at.isoformat()} is not in the future"
        raise InvalidInput(msg)
    if end_at <= start_at:
        msg = "slot end must be after its start"
        raise InvalidInput(msg)
    if end_at - start_at > dt.timedelta(hours=settings.appointment_max_h):
        msg = f"a slot lasts at most {settings.appointment_max_h:g} h"
        raise InvalidInput(msg)
    zone = ZoneInfo(settings.timezone)
    start_local, end_local = start_at.astimezone(zone), end_at.astimezone(zone)
    day_start, day_end = settings.appointment_day_start, settings.appointment_day_end
    if (
        start_local.date() != end_local.date()
        or start_local.time() < day_start
        or end_local.time() > day_end
    ):
        msg = (
            f"slots lie within business hours, {day_start:%H:%M}-{day_end:%H:%M} "
            f"({settings.timezone}) on one day"
        )
        raise InvalidInput(msg)
    order.appointment_start_at, order.appointment_end_at = start_at, end_at
    touch(order, now)
    if order.crew_id is not None:
        bump_state(session=session, now=now)
    audit(
        session,
        order,
        "appointment_booked",
        actor,
        now,
        start_at=start_at.isoformat(),
        end_at=end_at.isoformat(),
    )
    refresh_orders(session=session, orders=[order], now=now, settings=settings)
