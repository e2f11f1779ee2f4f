"""Partner webhooks, their delivery log, and the last published state of each feed item."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models import Base

DELIVERY_STATUSES = ("pending", "delivered", "failed")
EVENT_TYPES = ("outage.started", "outage.updated", "outage.ended", "ping")


class Webhook(Base):
    """A partner's endpoint: what it hears (``events``, empty for all) and its HMAC key.

    The secret signs every delivery (``outages.feeds.signing``); it is shown once, when the
    webhook is registered, and never listed.
    """

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event for one webhook, with every attempt in ``log``: the delivery log.

    Pending deliveries are retried with exponential backoff (``next_attempt_at``) until
    delivered or ``webhook_max_attempts`` is spent (then failed).
    """

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name="webhook_delivery_status"
        ),
        UniqueConstraint("webhook_id", "event_id", name="webhook_delivery_once"),
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("webhook.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class FeedItemState(Base):
    """The last published version of each feed item (``outage-5``, ``planned-3``): the
    dispatch cycle compares the feed with it to know what started, changed or ended."""

    __tablename__ = "feed_item_state"

    item_id: Mapped[str] = mapped_column(Text, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    feature: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
