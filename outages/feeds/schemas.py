"""Webhook registration and delivery-log models (Pydantic) for the admin routes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from geo.types import Text


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Text = Field(min_length=8, max_length=2000, description="http(s) URL to POST to")
    events: list[Text] = Field(
        default_factory=list,
        max_length=10,
        description="Event types to hear (outage.started, outage.updated, outage.ended, "
        "ping); empty for all",
    )
    description: Text | None = Field(default=None, max_length=500)


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_by: str
    created_at: dt.datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The HMAC-SHA256 key; shown only in this answer")


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str | None
    log: list[dict[str, Any]]
    created_at: dt.datetime
    delivered_at: dt.datetime | None
