"""Advisory-lock namespaces in one place, so no two domains can take the same lock by accident.

PostgreSQL's two-key advisory locks are ``(namespace, key)``; every namespace stormdesk uses
is a member of ``LockSpace``. All locks are transaction-scoped: commit or rollback releases them.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import text
from sqlalchemy.orm import Session


class LockSpace(IntEnum):
    """The namespace of an advisory lock (the first of its two keys)."""

    FEEDER = 1  # intake: reports below one feeder cannot race into separate outages
    IDEMPOTENCY = 2  # intake: retries of one key wait for the first attempt
    DISPATCH_SYNC = 3  # dispatch: one work-order sync at a time
    FEED_EVENTS = 4  # feeds: one worker at a time turns feed changes into webhook events


def xact_lock(session: Session, space: LockSpace, key: int | str) -> None:
    """Take a transaction-scoped advisory lock; a text key is hashed with ``hashtext``."""
    if isinstance(key, str):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(:k))"), {"ns": int(space), "k": key}
        )
    else:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :k)"), {"ns": int(space), "k": int(key)}
        )
