"""The worker's region index: which region a request is about, before it is let in.

``RegionIndex`` keeps a ``geo.region_lookup.RegionLookup`` in memory, loaded at start-up
and reloaded when PostgreSQL notifies ``territory_changed`` (statement triggers on
``region`` and ``premise``, migration 0015): a thread of its own LISTENs on a dedicated
connection, and reconnects (and reloads, as it may have missed a notice) after the
database went away. ``region_of`` reads a request's region from what the admission gate
already holds: the body ``web.admission.BodyLimits`` read, or the query string.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from urllib.parse import parse_qs

import psycopg
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Scope

from geo.region_lookup import TERRITORY_CHANNEL, RegionLookup, load_region_lookup

log = logging.getLogger(__name__)

BODY_KEY = "stormdesk.body"
# Reports are a few hundred bytes: a larger body is not parsed in the event loop for this.
MAX_PARSED_BODY = 16 * 1024
REPORT_PATH = "/api/v1/reports"
STATUS_PATH = "/api/v1/status"
RECONNECT_S = 1.0


class RegionIndex:
    """The lookup and the thread that keeps it fresh; ``lookup`` is None until loaded."""

    def __init__(self, factory: sessionmaker[Session], conninfo: str) -> None:
        self.factory = factory
        self.conninfo = conninfo
        self.lookup: RegionLookup | None = None
        self.loads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def load(self) -> None:
        with self.factory() as session:
            lookup = load_region_lookup(session=session)
        self.loads += 1  # counted first: whoever sees the new lookup sees the count
        self.lookup = lookup

    def start(self) -> None:
        try:
            self.load()
        except Exception:  # the database may be down at start: the listener retries
            log.exception("region index not loaded at start; retrying in the background")
        self._thread = threading.Thread(target=self._listen, name="region-index", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {TERRITORY_CHANNEL}")
                    # Always, once LISTEN holds: a change committed after the load in
                    # start() but before this LISTEN (or while we were away) sent its
                    # notice to nobody.
                    self.load()
                    while not self._stop.is_set():
                        changed = False
                        for _ in conn.notifies(timeout=0.5):
                            changed = True
                        if changed:
                            self.load()
            except Exception:
                log.exception("region index listener lost its connection; reconnecting")
                self._stop.wait(RECONNECT_S)

    def region_of(self, scope: Scope) -> str | None:
        """The region code a request is about, None when it does not say cheaply."""
        lookup = self.lookup
        if lookup is None:
            return None
        path = scope["path"]
        if path == REPORT_PATH and scope["method"] == "POST":
            body = scope.get(BODY_KEY)
            if not body or len(body) > MAX_PARSED_BODY:
                return None
            try:
                data = json.loads(body)
            except ValueError:
                return None
            return _region(lookup, data if isinstance(data, dict) else {})
        if path == STATUS_PATH:
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            return _region(lookup, {k: v[0] for k, v in query.items()})
        return None


def _region(lookup: RegionLookup, where: dict[str, object]) -> str | None:
    account = where.get("account")
    if isinstance(account, str):
        return lookup.of_account(account)
    try:
        lon, lat = float(where["lon"]), float(where["lat"])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lookup.of_point(lon, lat)


def wait_loaded(index: RegionIndex, timeout_s: float) -> bool:
    """Whether the index got loaded within ``timeout_s`` (tests and benchmarks)."""
    deadline = time.monotonic() + timeout_s
    while index.lookup is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return index.lookup is not None
