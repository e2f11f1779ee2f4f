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
from dispatch.crews import check_own_order, refresh_crew_status
from dispatch.flows import (
    EtrSource,
    arrived,
    feed_moved,
    restore_outage_of,
    undo_restore_of,
)
from dispatch.models import STATUSES, Crew, WorkOrder
from dispatch.sequence import Moved, place, retime_crew
from dispatch.settings import DispatchSettings
from dispatch.state import (
    TRANSITIONS,
    UNDO_RESTORE,
    allowed,
    audit,
    bump_state,
    check_version,
    touch,
)
from dispatch.tasks import check_restorable
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
    made_safe: bool = False,
    override_reason: str | None = None,
) -> bool:
    """Move an order to ``to``; returns False when it already is there (nothing written).

    A repeat is not an error: the crew page retries queued updates after a network drop.
    Not allowed steps raise ``InvalidTransition`` with the allowed next states; ``closed``
    also needs the completion report, its accepted review and the return call; ``restored``
    needs its make-safe tasks made safe (``made_safe``) or an ``override_reason``.
    """
    if order.status == to:
        return False
    check_version(order, expected_version)
    _check_step(session, order, to, now)
    if to == "restored":
        check_restorable(
            session=session,
            order=order,
            made_safe=made_safe,
            override_reason=override_reason,
            actor=actor,
            now=now,
        )
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
    _effects(session, order, crew, previous, actor=actor, now=now, settings=settings)
    session.flush()
    return True


def _effects(
    session: Session,
    order: WorkOrder,
    crew: Crew | None,
    previous: str,
    *,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """What a step does beyond the order: the outage, the crew's position, the route's ETAs."""
    to = order.status
    if to == "restored":
        restore_outage_of(session=session, order=order, settings=settings, now=now, actor=actor)
    elif to == "on_site" and previous == "restored":
        undo_restore_of(session=session, order=order, settings=settings, now=now, actor=actor)
    elif to == "on_site" and crew is not None:
        arrived(session=session, order=order, crew=crew, settings=settings, now=now, actor=actor)
    if crew is None:
        return
    moved = retime_crew(session=session, crew=crew, now=now, settings=settings, keep_later=True)
    source: EtrSource = "en_route" if to == "en_route" else "plan"
    feed_moved(
        session=session,
        moved=moved,
        crew=crew,
        source=source,
        settings=settings,
        now=now,
        actor=actor,
    )


def _check_undo_window(order: WorkOrder, now: dt.datetime) -> None:
    """A restoration can be undone for ``UNDO_RESTORE`` after it was reported."""
    if order.restored_at is None or now - order.restored_at > UNDO_RESTORE:
        msg = (
            f"work order #{order.id} was restored more than {int(UNDO_RESTORE.total_seconds())}"
            " s ago: it can no longer be undone; report a new fault instead"
        )
        raise InvalidTransition(msg, ["closed"])


def _check_step(session: Session, order: WorkOrder, to: str, now: dt.datetime) -> None:
    if to not in STATUSES:
        msg = f"unknown work order status {to!r}: use one of {', '.join(STATUSES)}"
        raise InvalidInput(msg)
    if to not in TRANSITIONS[order.status]:
        msg = f"work order #{order.id} is {order.status}: it cannot become {to}"
        raise InvalidTransition(msg, allowed(order))
    if to == "closed":
        require_close_loop(session=session, order=order)
    if order.status == "restored" and to == "on_site":
        _check_undo_window(order, now)
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
        order.pinned = False
        bump_state(session=session, now=now)
    elif to == "cancelled":
        order.cancel_reason = note or f"cancelled by {actor}"
        if crew is not None:
            bump_state(session=session, now=now)
    elif to == "on_site" and order.restored_at is not None:
        order.restored_at = None  # an undone restoration: the crew is still at work
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
    made_safe: bool = False,
    override_reason: str | None = None,
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
        made_safe=made_safe,
        override_reason=override_reason,
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
    position: int | None = None,
) -> bool:
    """A dispatcher sends a crew (or changes the lock, or unassigns with ``crew=None``).

    The order becomes ``dispatched`` (also from ``en_route``: a reassigned crew starts over)
    and takes its place in the crew's route: before the first stop of lower urgency, or at
    ``position`` (pinned). Its ETA follows the stops before it, and the outage ETR follows
    the ETA. Returns False when nothing changed (same crew, same lock, no position).
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
    if order.crew_id == crew.id and order.locked == lock and position is None:
        return False
    check_version(order, expected_version)
    _check_assignable(order, crew)
    if order.crew_id == crew.id:
        order.locked = lock
        order.pinned = lock and position is not None
        touch(order, now)
        bump_state(session=session, now=now)
        audit(
            session,
            order,
            "locked" if lock else "unlocked",
            actor,
            now,
            crew=crew.code,
            position=position,
        )
        if position is not None:
            _route_and_feed(session, order, crew, position, actor=actor, now=now, settings=settings)
        session.flush()
        return True
    _send(
        session, order, crew, lock=lock, position=position, actor=actor, now=now, settings=settings
    )
    return True


def _route_and_feed(
    session: Session,
    order: WorkOrder,
    crew: Crew,
    position: int | None,
    *,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    moved = place(
        session=session, order=order, crew=crew, position=position, now=now, settings=settings
    )
    if not any(m.order is order for m in moved) and order.eta_at is not None:
        moved.append(Moved(order=order, previous_eta=order.eta_at))
    feed_moved(
        session=session,
        moved=moved,
        crew=crew,
        source="assign",
        settings=settings,
        now=now,
        actor=actor,
    )


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
    position: int | None,
    actor: str,
    now: dt.datetime,
    settings: DispatchSettings,
) -> None:
    """Give the order to another crew (or its first): dispatched, in its route, ETA and ETR."""
    previous_crew = session.get(Crew, order.crew_id) if order.crew_id is not None else None
    previous_status = order.status
    order.crew_id = crew.id
    order.locked = lock
    order.pinned = lock and position is not None
    order.route_seq = None
    order.eta_at = None
    order.status = "dispatched"
    touch(order, now)
    session.flush()
    _route_and_feed(session, order, crew, position, actor=actor, now=now, settings=settings)
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
        position=order.route_seq,
        eta_at=order.eta_at.isoformat() if order.eta_at else None,
    )
    session.flush()
    for each in (previous_crew, crew):
        if each is not None:
            refresh_crew_status(session=session, crew=each, now=now, actor=actor)
    if previous_crew is not None:
        retime_crew(
            session=session, crew=previous_crew, now=now, settings=settings, keep_later=True
        )
    session.flush()
