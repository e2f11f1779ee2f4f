"""The append-only audit log: who did what, when, to which object."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from geo.models import Event


def record(
    *,
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: int | str | None,
    detail: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one event; it is written with the caller's transaction or not at all."""
    event = Event(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or {},
    )
    if at is not None:
        event.occurred_at = at
    session.add(event)
