"""Partner webhooks (admin): register, list, delete, test, and read the delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from geo.models import User
from outages.feeds import webhooks
from outages.feeds.models import Webhook
from outages.feeds.schemas import DeliveryRead, WebhookCreate, WebhookCreated, WebhookRead
from web.deps import IdPath, NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Admin = Annotated[User, Depends(require_role("admin"))]


def valid_webhook_id(webhook_id: IdPath, session: SessionDep, _user: Admin) -> Webhook:
    return webhooks.get_webhook(session=session, webhook_id=webhook_id)


WebhookDep = Annotated[Webhook, Depends(valid_webhook_id)]


@router.post("", response_model=WebhookCreated, status_code=201)
def register(
    data: WebhookCreate, user: Admin, session: SessionDep, settings: SettingsDep, now: NowDep
) -> WebhookCreated:
    """Register a partner endpoint; the answer holds its signing secret, shown only here."""
    made = webhooks.register_webhook(
        session=session,
        url=data.url,
        events=list(data.events),
        description=data.description,
        actor=user.username,
        now=now,
        settings=settings,
    )
    read = WebhookRead.model_validate(made.webhook)
    return WebhookCreated(**read.model_dump(), secret=made.secret)


@router.get("", response_model=list[WebhookRead])
def list_all(user: Admin, session: SessionDep) -> list[WebhookRead]:
    """Every registered webhook (secrets are never listed)."""
    return [WebhookRead.model_validate(w) for w in webhooks.list_webhooks(session=session)]


@router.delete("/{webhook_id}", status_code=204)
def remove(user: Admin, webhook: WebhookDep, session: SessionDep) -> Response:
    """Delete a webhook and its delivery log."""
    webhooks.delete_webhook(session=session, webhook=webhook)
    return Response(status_code=204)


@router.post("/{webhook_id}/test", response_model=DeliveryRead)
def test(
    user: Admin, webhook: WebhookDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> DeliveryRead:
    """Send a signed ``ping`` now; the answer is its delivery (status code, error)."""
    delivery = webhooks.queue_ping(session=session, webhook=webhook, now=now)
    webhooks.attempt(
        session=session,
        delivery=delivery,
        webhook=webhook,
        poster=webhooks.UrllibPoster(),
        now=now,
        settings=settings,
    )
    return DeliveryRead.model_validate(delivery)


@router.get("/{webhook_id}/deliveries", response_model=list[DeliveryRead])
def deliveries(user: Admin, webhook: WebhookDep, session: SessionDep) -> list[DeliveryRead]:
    """The webhook's newest deliveries, each with every attempt (the delivery log)."""
    return [
        DeliveryRead.model_validate(d)
        for d in webhooks.deliveries_of(session=session, webhook=webhook)
    ]
