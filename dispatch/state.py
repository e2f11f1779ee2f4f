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

from dispatch.exceptions import StaleVersion
from dispatch.models import DispatchState, WorkOrder
from geo.audit import record

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("planned", "dispatched", "cancelled"),
    "planned": ("dispatched", "new", "cancelled"),
    "dispatched": ("en_route", "planned", "new", "cancelled"),
    "en_route": ("on_site", "dispatched", "cancelled"),
    "on_site": ("restored", "dispatched"),
    "restored": ("closed",),
    "closed": (),
    "cancelled": (),
}
"""Allowed next states. Back-steps: ``dispatched -> new`` unassigns, ``en_route ->
dispatched`` turns a crew back, ``on_site -> dispatched`` leaves a job to finish later
(or to hand to another crew). ``restored -> closed`` needs the 95598 loop (``closing``)."""


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
