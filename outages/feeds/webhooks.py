"""Partner webhooks: registration, the events the outage feed yields, signed delivery.

Events come from the public outage feed itself (``outages.feeds.geojson``): each dispatch
cycle compares the feed with the last published state (``feed_item_state``) and queues one
delivery per subscribed webhook for every item that started, changed or ended. So a partner
hears exactly what the public feed shows, with the same generalization and no personal
data, and the domain code that changes outages needs no hooks. While no webhook is active
the cycle computes nothing (the feed of a storm's outages is over a second of database
work); the first registration takes the feed's state instead, so a partner hears of
changes from its registration on, not of the whole past. Deliveries are an outbox
like customer notifications: queued in the cycle's transaction, posted by ``deliver_due``,
retried with exponential backoff, every attempt kept in the delivery's ``log``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound
from geo.locks import LockSpace, xact_lock
from outages.feeds.geojson import outage_features
from outages.feeds.models import EVENT_TYPES, FeedItemState, Webhook, WebhookDelivery
from outages.feeds.signing import SIGNATURE_HEADER, sign
from outages.settings import OutageSettings

log = logging.getLogger("stormdesk.webhooks")
USER_AGENT = "stormdesk-webhooks/1"
MAX_ERROR_CHARS = 300


class Poster(Protocol):
    """Posts one body; returns the HTTP status, raises ``OSError`` when nothing answered."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int: ...


class UrllibPoster:
    """The default poster: the standard library's HTTP client, no redirects followed."""

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:  # a 4xx/5xx answer is an answer
            return int(error.code)


@dataclass(frozen=True)
class Registered:
    """A new webhook and its secret, shown this once."""

    webhook: Webhook
    secret: str


def register_webhook(
    *,
    session: Session,
    url: str,
    events: list[str],
    description: str | None,
    actor: str,
    now: dt.datetime,
    settings: OutageSettings,
) -> Registered:
    """Register a partner endpoint (http or https) for ``events`` (empty: all of them).

    The first active webhook takes a snapshot of the feed (``snapshot_feed``): cycles
    before it kept no state, and it should hear what changes from now, not every outage
    already out as "started" (nor "ended" for those of a state left from earlier partners).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"url must be an absolute http(s) URL, got {url!r}"
        raise InvalidInput(msg)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        msg = f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        raise InvalidInput(msg)
    first = session.scalar(select(Webhook.id).where(Webhook.active).limit(1)) is None
    if first:
        snapshot_feed(session=session, now=now, settings=settings)
    secret = secrets.token_urlsafe(32)
    webhook = Webhook(
        url=url,
        secret=secret,
        events=sorted(set(events)),
        description=description,
        active=True,
        created_by=actor,
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    return Registered(webhook, secret)


def list_webhooks(*, session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def get_webhook(*, session: Session, webhook_id: int) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        msg = f"no webhook #{webhook_id}"
        raise NotFound(msg)
    return webhook


def delete_webhook(*, session: Session, webhook: Webhook) -> None:
    """Remove a webhook and its delivery log."""
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id))
    session.delete(webhook)
    session.flush()


def deliveries_of(*, session: Session, webhook: Webhook, limit: int = 100) -> list[WebhookDelivery]:
    """The newest deliveries of a webhook, each with its attempts."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook.id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def _queue(
    session: Session,
    hooks: list[Webhook],
    event: str,
    event_id: str,
    payload: dict[str, Any],
    now: dt.datetime,
) -> int:
    queued = 0
    for webhook in hooks:
        if webhook.events and event not in webhook.events:
            continue
        exists = session.scalar(
            select(WebhookDelivery.id).where(
                WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.event_id == event_id
            )
        )
        if exists is None:
            session.add(
                WebhookDelivery(
                    webhook_id=webhook.id,
                    event_id=event_id,
                    event=event,
                    payload=payload,
                    attempts=0,
                    next_attempt_at=now,
                    log=[],
                    created_at=now,
                )
            )
            queued += 1
    return queued


def _current_feed(
    session: Session, now: dt.datetime, settings: OutageSettings
) -> dict[str, tuple[str, dict[str, Any]]]:
    """The public feed's items by id, each with its digest; under the feed-events lock, so
    workers' cycles (and a registration's snapshot) take turns."""
    xact_lock(session, LockSpace.FEED_EVENTS, 0)
    return {
        fid: (hashlib.sha256(text.encode()).hexdigest(), json.loads(text))
        for fid, text in outage_features(session=session, now=now, cell_m=settings.feed_cell_m)
    }


def snapshot_feed(*, session: Session, now: dt.datetime, settings: OutageSettings) -> int:
    """Replace the published state with the feed as it is, queueing nothing; returns how
    many items it holds."""
    current = _current_feed(session, now, settings)
    session.execute(delete(FeedItemState))
    session.add_all(
        FeedItemState(item_id=item_id, digest=digest, feature=feature, updated_at=now)
        for item_id, (digest, feature) in current.items()
    )
    session.flush()
    return len(current)


def queue_feed_events(*, session: Session, now: dt.datetime, settings: OutageSettings) -> int:
    """Compare the outage feed with its last published state; queue an event per change.

    Returns how many deliveries were queued. Without an active webhook nothing is computed:
    the state waits, as it was, for the next registration's snapshot.
    """
    hooks = list(session.scalars(select(Webhook).where(Webhook.active).order_by(Webhook.id)))
    if not hooks:
        return 0
    current = _current_feed(session, now, settings)
    published = {s.item_id: s for s in session.scalars(select(FeedItemState))}
    queued = 0
    for item_id, (digest, feature) in current.items():
        state = published.get(item_id)
        if state is not None and state.digest == digest:
            continue
        event = "outage.started" if state is None else "outage.updated"
        payload = _payload(event, f"{item_id}:{digest[:16]}", now, feature)
        queued += _queue(session, hooks, event, payload["id"], payload, now)
        if state is None:
            session.add(
                FeedItemState(item_id=item_id, digest=digest, feature=feature, updated_at=now)
            )
        else:
            state.digest, state.feature, state.updated_at = digest, feature, now
    for item_id, state in published.items():
        if item_id not in current:
            payload = _payload(
                "outage.ended", f"{item_id}:ended:{state.digest[:16]}", now, state.feature
            )
            queued += _queue(session, hooks, "outage.ended", payload["id"], payload, now)
            session.delete(state)
    session.flush()
    return queued


def _payload(
    event: str, event_id: str, now: dt.datetime, feature: dict[str, Any]
) -> dict[str, Any]:
    return {"id": event_id, "type": event, "occurred_at": now.isoformat(), "feature": feature}


def queue_ping(*, session: Session, webhook: Webhook, now: dt.datetime) -> WebhookDelivery:
    """A test event for one webhook (the admin's "test" button), due at once."""
    event_id = f"ping:{now.isoformat()}:{secrets.token_hex(4)}"
    delivery = WebhookDelivery(
        webhook_id=webhook.id,
        event_id=event_id,
        event="ping",
        payload=_payload("ping", event_id, now, {}),
        attempts=0,
        next_attempt_at=now,
        log=[],
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def backoff_s(attempts: int, settings: OutageSettings) -> float:
    """Seconds before attempt ``attempts + 1``: base, 2 x base, 4 x base, ... capped."""
    return float(
        min(settings.webhook_retry_base_s * 2 ** (attempts - 1), settings.webhook_retry_max_s)
    )


def attempt(
    *,
    session: Session,
    delivery: WebhookDelivery,
    webhook: Webhook,
    poster: Poster,
    now: dt.datetime,
    settings: OutageSettings,
) -> bool:
    """Post one delivery once, signed; record the attempt and schedule a retry on failure."""
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Stormdesk-Event": delivery.event,
        "Stormdesk-Delivery": str(delivery.id),
        SIGNATURE_HEADER: sign(webhook.secret, body, timestamp),
    }
    started = time.monotonic()
    code: int | None = None
    error: str | None = None
    try:
        code = poster.post(webhook.url, body, headers, settings.webhook_timeout_s)
    except (OSError, ValueError) as exc:  # refused, timed out, unresolvable
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    ok = code is not None and 200 <= code < 300
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_error = code, error
    delivery.log = [
        *delivery.log,
        {
            "at": now.isoformat(),
            "status_code": code,
            "error": error,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        },
    ]
    if ok:
        delivery.status, delivery.delivered_at = "delivered", now
    elif delivery.attempts >= settings.webhook_max_attempts:
        delivery.status = "failed"
    else:
        delivery.next_attempt_at = now + dt.timedelta(
            seconds=backoff_s(delivery.attempts, settings)
        )
    session.flush()
    return ok


def deliver_due(
    *,
    session: Session,
    poster: Poster,
    now: dt.datetime,
    settings: OutageSettings,
    limit: int = 100,
) -> int:
    """Post the deliveries that are due; returns how many were delivered. Concurrent
    workers skip each other's rows."""
    due = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    delivered = 0
    for delivery, webhook in due:
        ok = attempt(
            session=session,
            delivery=delivery,
            webhook=webhook,
            poster=poster,
            now=now,
            settings=settings,
        )
        if not ok:
            log.warning(
                "webhook %s delivery %s failed (%s)",
                webhook.id,
                delivery.id,
                delivery.last_error or delivery.last_status_code,
            )
        delivered += ok
    return delivered
