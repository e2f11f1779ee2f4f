"""The work-order lifecycle: status steps, a crew's own steps, assignment and the lock.

Assignment changes (crew, lock, unassign, cancelling an order with a crew) bump the
dispatch version; status steps do not (see ``dispatch/state.py``). A crew's status follows
its orders, and the steps that move an outage (restored, a new arrival time) go through
``dispatch/flows.py``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from dispatch.closing import require_close_loop
from dispatch.crews import check_own_order, refresh_crew_status, straight_line_eta
from dispatch.flows import feed_etr, restore_outage_of
from dispatch.models import STATUSES, Crew, WorkOrder
from dispatch.settings import DispatchSettings
from dispatch.state import TRANSITIONS, allowed, audit, bump_state, check_version, touch
from geo.exceptions import Forbidden, InvalidInput
from geo.models import User
from outages.exceptions import InvalidTransition

CREW_TARGETS = ("en_route", "on_site", "restored")
"""The steps a crew may take on its own orders; the rest are the dispatcher's."""
NEEDS_CREW = ("planned", "dispatched", "en_route", "on_site")
ASSIGNABLE = ("new", "planned", "dispatched", "en_route")


def transition(
    *,
    session: Session,
    order: WorkOrder,
    to: str,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
    note: str | None = None,
    expected_version: int | None = None,
) -> bool:
    """Move an order to ``to``; returns False when it already is there (nothing written).

    A repeat is not an error: the crew page retries queued updates after a network drop.
    Not allowed steps raise ``InvalidTransition`` with the allowed next states; ``closed``
    also needs the completion report, its accepted review and the return call.
    """
    if order.status == to:
        return False
    check_version(order, expected_version)
    _check_step(session, order, to)
    previous = order.status
    crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    order.status = to
    touch(order, now)
    _enter(session, order, crew, actor=actor, note=note, now=now, settings=settings)
    audit(
        session,
        order,
        "transition",
        actor,
        now,
        **{"from": previous, "to": to},
        note=note,
        crew=crew.code if crew else None,
    )
    session.flush()
    if crew is not None:
        refresh_crew_status(session=session, crew=crew, now=now, actor=actor)
    if to == "restored":
        restore_outage_of(session=session, order=order, settings=settings, now=now, actor=actor)
    elif to in ("en_route", "on_site") and crew is not None:
        arrival = now if to == "on_site" else (order.eta_at or now)
        feed_etr(
            session=session,
            order=order,
            crew=crew,
            arrival=arrival,
            settings=settings,
            now=now,
            actor=actor,
        )
    session.flush()
    return True


def _check_step(session: Session, order: WorkOrder, to: str) -> None:
    if to not in STATUSES:
        msg = f"unknown work order status {to!r}: use one of {', '.join(STATUSES)}"
        raise InvalidInput(msg)
    if to not in TRANSITIONS[order.status]:
        msg = f"work order #{order.id} is {order.status}: it cannot become {to}"
        raise InvalidTransition(msg, allowed(order))
    if to == "closed":
        require_close_loop(session=session, order=order)
    if to in NEEDS_CREW and order.crew_id is None:
        msg = f"work order #{order.id} has no crew: assign one before it becomes {to}"
        raise InvalidInput(msg)


def _enter(
    session: Session,
    order: WorkOrder,
    crew: Crew | None,
    *,
    actor: str,
    note: str | None,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """What entering ``order.status`` does to the order itself."""
    to = order.status
    if to == "new":  # unassign
        order.crew_id, order.locked, order.route_seq, order.eta_at = None, False, None, None
        bump_state(session=session, now=now)
    elif to == "cancelled":
        order.cancel_reason = note or f"cancelled by {actor}"
        if crew is not None:
            bump_state(session=session, now=now)
    elif to in ("dispatched", "en_route") and crew is not None:
        order.eta_at = straight_line_eta(
            session=session, crew=crew, order=order, now=now, settings=settings
        )
    elif to == "on_site":
        order.on_site_at = now
    elif to == "restored":
        order.restored_at = now
    elif to == "closed":
        order.closed_at = now


def request_transition(
    *,
    session: Session,
    order: WorkOrder,
    to: str,
    user: User,
    now: dt.datetime,
    settings: DispatchSettings,
    note: str | None = None,
    expected_version: int | None = None,
) -> bool:
    """A step asked for by ``user``: crews take ``CREW_TARGETS`` steps on their own orders.

    A planned job is in the crew's route: a crew setting out on it (``en_route``) dispatches
    it first, in the same transaction.
    """
    check_own_order(user=user, order=order)
    by_crew = user.role == "crew"
    if by_crew and to not in CREW_TARGETS and to != order.status:
        msg = f"crews may set {', '.join(CREW_TARGETS)}; ask the dispatcher for {to}"
        raise Forbidden(msg)
    if by_crew and to == "en_route" and order.status == "planned":
        transition(
            session=session,
            order=order,
            to="dispatched",
            actor=user.username,
            now=now,
            settings=settings,
            note="dispatched by the crew setting out",
            expected_version=expected_version,
        )
        expected_version = None
    return transition(
        session=session,
        order=order,
        to=to,
        actor=user.username,
        now=now,
        settings=settings,
        note=note,
        expected_version=expected_version,
    )


def assign(
    *,
    session: Session,
    order: WorkOrder,
    crew: Crew | None,
    lock: bool,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
    expected_version: int | None = None,
) -> bool:
    """A dispatcher sends a crew (or changes the lock, or unassigns with ``crew=None``).

    The order becomes ``dispatched`` (also from ``en_route``: a reassigned crew starts over),
    its ETA comes from the crew's position, and the outage ETR follows. Returns False when
    nothing changed (same crew, same lock).
    """
    if crew is None:
        if order.crew_id is None:
            return False
        return transition(
            session=session,
            order=order,
            to="new",
            actor=actor,
            now=now,
            settings=settings,
            note="unassigned",
            expected_version=expected_version,
        )
    if order.crew_id == crew.id and order.locked == lock:
        return False
    check_version(order, expected_version)
    _check_assignable(order, crew)
    if order.crew_id == crew.id:
        order.locked = lock
        touch(order, now)
        bump_state(session=session, now=now)
        audit(session, order, "locked" if lock else "unlocked", actor, now, crew=crew.code)
        session.flush()
        return True
    _send(session, order, crew, lock=lock, actor=actor, now=now, settings=settings)
    return True


def _check_assignable(order: WorkOrder, crew: Crew) -> None:
    if order.status not in ASSIGNABLE:
        msg = (
            f"work order #{order.id} is {order.status}: only orders whose crew is not yet on "
            f"site can be (re)assigned ({', '.join(ASSIGNABLE)})"
        )
        raise InvalidTransition(msg, allowed(order))
    missing = sorted(set(order.required_skills) - set(crew.skills))
    if missing:
        msg = f"crew {crew.code} lacks skills {missing} needed by work order #{order.id}"
        raise InvalidInput(msg)


def _send(
    session: Session,
    order: WorkOrder,
    crew: Crew,
    *,
    lock: bool,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """Give the order to another crew (or its first): dispatched, with a fresh ETA and ETR."""
    previous_crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    previous_status = order.status
    order.crew_id = crew.id
    order.locked = lock
    order.route_seq = None
    order.status = "dispatched"
    touch(order, now)
    session.flush()
    eta_at = straight_line_eta(session=session, crew=crew, order=order, now=now, settings=settings)
    order.eta_at = eta_at
    bump_state(session=session, now=now)
    audit(
        session,
        order,
        "reassigned" if previous_crew else "assigned",
        actor,
        now,
        from_crew=previous_crew.code if previous_crew else None,
        to_crew=crew.code,
        **{"from": previous_status, "to": "dispatched"},
        locked=lock,
        eta_at=eta_at.isoformat(),
    )
    session.flush()
    for each in (previous_crew, crew):
        if each is not None:
            refresh_crew_status(session=session, crew=each, now=now, actor=actor)
    feed_etr(
        session=session,
        order=order,
        crew=crew,
        arrival=eta_at,
        settings=settings,
        now=now,
        actor=actor,
    )
    session.flush()
