"""HMAC-SHA256 signatures of webhook deliveries, and their check (for partners and tests).

The header is ``Stormdesk-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256 with the webhook's secret over ``"<t>." + body``. Signing the time with the
body lets a receiver refuse replays older than a few minutes (``tolerance_s``).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Stormdesk-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Stormdesk-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, body: bytes, header: str, now: int, tolerance_s: int = DEFAULT_TOLERANCE_S
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance_s`` of ``now``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
