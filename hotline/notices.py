"""Messages to callers about their tickets, queued in the outbox (``notification``) with the
step that causes them, so a message exists exactly when its step was committed."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hotline.models import Ticket
from outages.models import Notification

CUSTOMER_PRIORITY = 3
TYPE_NAMES = {
    "consultation": ("咨询", "consultation"),
    "complaint": ("投诉", "complaint"),
    "report": ("举报", "report"),
    "suggestion": ("意见建议", "suggestion"),
    "service_request": ("服务申请", "service request"),
}


def queue_customer_notice(
    *, session: Session, ticket: Ticket, kind: str, token: str | None = None
) -> bool:
    """Queue a bilingual SMS to the caller (when a phone is known); True when queued.

    ``filed`` carries the tracking token: it is the only time the token is given out.
    """
    if not ticket.caller_phone:
        return False
    zh, en = TYPE_NAMES[ticket.ticket_type]
    number = f"TK{ticket.id:06d}"
    if kind == "filed":
        message = (
            f"【95598】您的{zh}工单 {number} 已受理，查询码 {token}。"
            f" Your {en} {number} was received; tracking code {token}."
        )
    elif kind == "answered":
        message = (
            f"【95598】您的工单 {number} 已答复，我们将回访。"
            f" Your ticket {number} has been answered; we will call you back."
        )
    else:
        msg = f"no customer notice of kind {kind!r}"
        raise ValueError(msg)
    session.add(
        Notification(
            event_key=f"ticket:{ticket.id}:{kind}:{ticket.updated_at.isoformat()}",
            kind=f"ticket_{kind}",
            premise_id=ticket.premise_id,
            recipient=ticket.caller_phone,
            priority=CUSTOMER_PRIORITY,
            message=message,
            status="queued",
        )
    )
    return True
