"""The notification outbox: queued in the same transaction as the change, sent later.

Queuing in-transaction means a message exists exactly when its cause was committed; the
unique (event_key, premise) pair means a retried step never messages a customer twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from outages.models import Notification

log = logging.getLogger("stormdesk.notify")
CRITICAL_PRIORITY = 1
NORMAL_PRIORITY = 3

_QUEUE_OUTAGE = """
INSERT INTO notification (event_key, kind, premise_id, recipient, priority, message)
SELECT :key, :kind, p.id, p.phone,
       CASE WHEN p.critical IS NOT NULL THEN :critical ELSE :normal END, :message
FROM outage_premise op JOIN premise p ON p.id = op.premise_id
WHERE op.outage_id = :outage_id AND p.phone IS NOT NULL {extra}
ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
"""
_QUEUE_PLANNED = """
INSERT INTO notification (event_key, kind, premise_id, recipient, priority, message)
SELECT :key, :kind, p.id, p.phone,
       CASE WHEN p.critical IS NOT NULL THEN :critical ELSE :normal END, :message
FROM planned_outage_premise pp JOIN premise p ON p.id = pp.premise_id
WHERE pp.planned_outage_id = :planned_id AND p.phone IS NOT NULL
ON CONFLICT ON CONSTRAINT notification_once DO NOTHING
"""


def queue_outage_message(
    *,
    session: Session,
    outage_id: int,
    kind: str,
    event_key: str,
    message: str,
    premise_ids: list[int] | None = None,
) -> int:
    """Queue one message per affected premise with a phone; returns how many were new."""
    extra = "AND op.premise_id = ANY(:premises)" if premise_ids is not None else ""
    params = {
        "key": event_key,
        "kind": kind,
        "message": message,
        "outage_id": outage_id,
        "critical": CRITICAL_PRIORITY,
        "normal": NORMAL_PRIORITY,
    }
    if premise_ids is not None:
        params["premises"] = premise_ids
    result = session.execute(text(_QUEUE_OUTAGE.format(extra=extra)), params)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def queue_planned_message(
    *, session: Session, planned_id: int, kind: str, event_key: str, message: str
) -> int:
    """Queue one message per premise of a planned outage; returns how many were new."""
    result = session.execute(
        text(_QUEUE_PLANNED),
        {
            "key": event_key,
            "kind": kind,
            "message": message,
            "planned_id": planned_id,
            "critical": CRITICAL_PRIORITY,
            "normal": NORMAL_PRIORITY,
        },
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Sender(Protocol):
    """Delivers one message (SMS gateway, e-mail, push); raise to leave it queued."""

    def send(self, recipient: str, message: str) -> None: ...


class LoggingSender:
    """The default sender: writes messages to the log (a real gateway plugs in here)."""

    def send(self, recipient: str, message: str) -> None:
        log.info("notify %s: %s", recipient, message)


def send_pending(*, session: Session, sender: Sender, now: dt.datetime, limit: int = 500) -> int:
    """Send queued messages, critical customers first; concurrent workers skip each other."""
    batch = session.scalars(
        select(Notification)
        .where(Notification.status == "queued")
        .order_by(Notification.priority, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for note in batch:
        try:
            sender.send(note.recipient, note.message)
        except Exception:  # a failed delivery must not lose the others
            log.exception("sending notification %s failed", note.id)
            note.status = "failed"
            continue
        note.status = "sent"
        note.sent_at = now
        sent += 1
    session.flush()
    return sent
