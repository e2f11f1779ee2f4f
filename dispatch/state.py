"""What every change to a work order shares: the transition table, the order's own version,
its audit record, and the global ``dispatch_state.version`` plans are made against.

Assignment changes (crew, lock) bump the global version; crew status steps (en route, on
site) do not, so a storm's stream of crew updates does not invalidate the plan a dispatcher
is reviewing. Every change is written to the audit log (who, when, from, to) in the caller's
transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.crews import refresh_crew_status
from dispatch.exceptions import StaleVersion
from dispatch.models import Crew, DispatchState, WorkOrder
from geo.audit import record

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("planned", "dispatched", "cancelled"),
    "planned": ("dispatched", "new", "cancelled"),
    "dispatched": ("en_route", "planned", "new", "cancelled"),
    "en_route": ("on_site", "dispatched", "cancelled"),
    "on_site": ("restored", "dispatched"),
    "restored": ("closed", "on_site"),
    "closed": (),
    "cancelled": (),
}
"""Allowed next states. Back-steps: ``dispatched -> new`` unassigns, ``en_route ->
dispatched`` turns a crew back, ``on_site -> dispatched`` leaves a job to finish later
(or to hand to another crew), ``restored -> on_site`` undoes a Restored tap within two
minutes. ``restored -> closed`` needs the 95598 loop (``closing``)."""


UNDO_RESTORE = dt.timedelta(minutes=2)
"""How long a crew (or dispatcher) may take back a Restored tap."""


def allowed(order: WorkOrder) -> list[str]:
    """The order's allowed next states, as errors and answers list them."""
    return list(TRANSITIONS[order.status])


def state_version(*, session: Session) -> int:
    """The current dispatch version (plans record it; see ``DispatchState``)."""
    return int(session.execute(select(DispatchState.version).where(DispatchState.id == 1)).one()[0])


def bump_state(*, session: Session, now: dt.datetime) -> int:
    """Raise the dispatch version after an assignment change; plans made before go stale.

    The row lock this takes serializes assignment changes until the transaction ends.
    """
    return int(
        session.execute(
            text(
                "UPDATE dispatch_state SET version = version + 1, updated_at = :now "
                "WHERE id = 1 RETURNING version"
            ),
            {"now": now},
        ).scalar_one()
    )


def check_version(order: WorkOrder, expected: int | None) -> None:
    """Refuse a change made from a stale copy of the order (``None``: the client sent none)."""
    if expected is not None and expected != order.version:
        msg = (
            f"work order #{order.id} is at version {order.version}, not {expected}: "
            "someone changed it meanwhile; reload it and try again"
        )
        raise StaleVersion(msg, order.version)


def touch(order: WorkOrder, now: dt.datetime) -> None:
    order.version += 1
    order.updated_at = now


def audit(
    session: Session, order: WorkOrder, action: str, actor: str, now: dt.datetime, **detail: Any
) -> None:
    record(
        session=session,
        actor=actor,
        action=f"work_order.{action}",
        object_type="work_order",
        object_id=order.id,
        detail=detail,
        at=now,
    )


def new_order(*, now: dt.datetime, **fields: Any) -> WorkOrder:
    """A fresh order: status new, version 1, unscored until the sync refreshes its urgency."""
    return WorkOrder(
        status="new",
        created_at=now,
        updated_at=now,
        version=1,
        escalation_level=0,
        locked=False,
        pinned=False,
        priority=3,
        urgency_score=0.0,
        urgency_breakdown=[],
        **fields,
    )


def cancel_order(
    session: Session, order: WorkOrder, *, reason: str, actor: str, now: dt.datetime
) -> None:
    """Cancel an order with its reason; a crew it had goes back to its other work."""
    previous = order.status
    order.status = "cancelled"
    order.cancel_reason = reason
    touch(order, now)
    audit(
        session,
        order,
        "transition",
        actor,
        now,
        **{"from": previous, "to": "cancelled"},
        note=reason,
    )
    if order.crew_id is not None:
        bump_state(session=session, now=now)
        session.flush()
        crew = session.get(Crew, order.crew_id)
        if crew is not None:
            refresh_crew_status(session=session, crew=crew, now=now, actor=actor)
