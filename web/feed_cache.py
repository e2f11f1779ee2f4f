"""A short-lived in-process cache of built feeds (``feed_cache_s``, at most 30 s).

Public feeds are read by anyone at any rate; building one costs a few queries. Keeping the
text for a few seconds per worker bounds that cost, and with ``feed_max_age_s`` on the
client side a reader never sees data older than their sum (60 s at most, by the settings'
limits). The clock is the request's (``get_now``), so tests can step it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Built:
    body: str
    built_at: dt.datetime


class FeedCache:
    """Feed texts by key, each kept for a time from when it was built."""

    def __init__(self) -> None:
        self._items: dict[str, Built] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: dt.datetime, ttl_s: float, build: Callable[[], str]) -> Built:
        """The text for ``key`` if built less than ``ttl_s`` ago, else ``build()`` (kept)."""
        with self._lock:
            item = self._items.get(key)
        age_s = (now - item.built_at).total_seconds() if item is not None else None
        if item is not None and age_s is not None and 0 <= age_s < ttl_s:
            return item
        item = Built(build(), now)
        with self._lock:
            if len(self._items) > 1000:  # keys include query strings: never grow unbounded
                self._items.clear()
            self._items[key] = item
        return item
