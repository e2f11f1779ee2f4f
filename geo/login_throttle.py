"""Login throttling: after a few failures a username (or a client address) is locked out for
a time that doubles with every further failure, so guessing costs hours, not seconds.

The counts live in ``login_throttle`` (one row per key), so every worker and every site
counts the same attempts. An address gets more free failures than a name: many people can
sit behind one office's address.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from geo.exceptions import TooManyAttempts
from geo.models import LoginThrottle

FREE_FAILURES = {"user": 5, "addr": 20}
"""Failures allowed before the first lockout, per kind of key."""
FIRST_LOCK_S = 1.0
MAX_LOCK_S = 900.0
FORGET_AFTER = dt.timedelta(minutes=30)
"""Failures older than this (since the last one) are forgotten."""


def keys_for(*, username: str, address: str | None) -> list[str]:
    keys = [f"user:{username}"]
    if address:
        keys.append(f"addr:{address}")
    return keys


def check(*, session: Session, keys: list[str], now: dt.datetime) -> None:
    """``TooManyAttempts`` while any of the keys is locked out, with the seconds left."""
    until = session.scalar(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc())
        .limit(1)
    )
    if until is not None:
        wait_s = max(1, math.ceil((until - now).total_seconds()))
        msg = f"too many failed logins: try again in {wait_s} s"
        raise TooManyAttempts(msg, retry_after_s=wait_s)


def fail(*, session: Session, keys: list[str], now: dt.datetime) -> None:
    """Count a failure on every key (one statement each, safe under concurrent attempts)."""
    for key in keys:
        free = FREE_FAILURES[key.split(":", 1)[0]]
        session.execute(
            text(
                "INSERT INTO login_throttle AS t (key, failures, last_failure_at) "
                "VALUES (:key, 1, :now) "
                "ON CONFLICT (key) DO UPDATE SET "
                "failures = CASE WHEN t.last_failure_at < :forget THEN 1 "
                "ELSE t.failures + 1 END, last_failure_at = :now"
            ),
            {"key": key, "now": now, "forget": now - FORGET_AFTER},
        )
        session.execute(
            text(
                "UPDATE login_throttle SET locked_until = CASE WHEN failures > :free THEN "
                ":now + make_interval(secs => least(:max, :first * 2 ^ (failures - :free - 1))) "
                "END WHERE key = :key"
            ),
            {"key": key, "now": now, "free": free, "max": MAX_LOCK_S, "first": FIRST_LOCK_S},
        )


def succeed(*, session: Session, username: str) -> None:
    """A correct password clears the name's count (not the address's: one good login from
    an address must not reset a guessing run from it)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == f"user:{username}"))
