"""``since=`` deltas for map layers: only the features that changed since a cursor, plus the
ids of those that went away.

A cursor is the content hash of the layer as the client last got it (the same value as its
ETag, unquoted). Each worker remembers the feature digests of the last layer versions it
served, per layer, audience and bbox; a delta is the new layer against the remembered one.
A cursor the worker does not know (another worker, a restart, an old one) gets the whole
layer marked ``"full": true`` - correct, only heavier - and a cursor for next time.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

# Versions remembered per worker: enough for many consoles on a few layers and bboxes.
MAX_SNAPSHOTS = 512


def _digest(feature: Any) -> str:
    text = json.dumps(feature, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def cursor_of(body: str) -> str:
    """The cursor naming this version of a layer (its ETag without the quotes)."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


class LayerDeltas:
    """Remembered layer versions and the deltas between them."""

    def __init__(self, max_snapshots: int = MAX_SNAPSHOTS) -> None:
        self.max_snapshots = max_snapshots
        self._snapshots: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def _remember(self, key: tuple[str, str], digests: dict[str, str]) -> None:
        with self._lock:
            self._snapshots[key] = digests
            self._snapshots.move_to_end(key)
            while len(self._snapshots) > self.max_snapshots:
                self._snapshots.popitem(last=False)

    def _recall(self, key: tuple[str, str]) -> dict[str, str] | None:
        with self._lock:
            found = self._snapshots.get(key)
            if found is not None:
                self._snapshots.move_to_end(key)
            return found

    def delta(self, *, scope: str, body: str, since: str | None) -> str:
        """The layer ``body`` (a FeatureCollection) as a delta against cursor ``since``.

        ``scope`` names the layer, audience and bbox: a cursor is only meaningful within
        one. The answer is a FeatureCollection with foreign members (RFC 7946 6.1):
        ``cursor``, ``full``, and, for a delta, ``since`` and ``removed``.
        """
        collection = json.loads(body)
        features = collection["features"]
        digests = {str(f["id"]): _digest(f) for f in features}
        cursor = cursor_of(body)
        self._remember((scope, cursor), digests)
        old = self._recall((scope, since)) if since else None
        if old is None:
            answer = {"type": "FeatureCollection", "cursor": cursor, "full": True}
            answer["features"] = features
        else:
            changed = [f for f in features if old.get(str(f["id"])) != digests[str(f["id"])]]
            removed = sorted(set(old) - set(digests))
            answer = {
                "type": "FeatureCollection",
                "cursor": cursor,
                "since": since,
                "full": False,
                "removed": removed,
                "features": changed,
            }
        return json.dumps(answer, separators=(",", ":"))
