"""A worker's copy of what a customer's status answer reads, kept fresh by LISTEN/NOTIFY.

In a storm the status page and the hotline ask ``GET /api/v1/status?account=`` more than
anything else, and even as one statement (``dispatch.public_status``) each lookup took a
database round trip, a pooled connection and a thread: about 0.4x the rate of ``/healthz``.
The facts behind the answer change far less often than they are asked for, so each worker
holds them in memory and answers a lookup by account without the database:

- ``Premises``: account -> premise id, address and point (the slow part to load: about a
  second for 200,000 premises), reloaded only when the ``premise`` table changed;
- ``Facts``: the active outage each premise is out in (the oldest by id, as the statement
  picks), those outages' ETR, cause and size, their live orders' status and crew (the crew's
  stage), each premise's latest restoration since ``horizon`` and the scheduled planned work
  ending after it (tens of milliseconds), reloaded on any change.

Migration 0019 makes PostgreSQL NOTIFY ``status_changed`` with the table's name on every
statement that changes those tables. ``StatusMemory`` LISTENs on a connection of its own in a
thread and reloads what changed, at most one reload per ``min_interval_s`` (notices that
arrive meanwhile are coalesced into the next), so an answer is at most about a second old.
While the listener is not connected (a database restart, a terminated backend) notices may
be lost, so the memory is not ``live`` and callers take the SQL path; the thread reconnects
by itself and reloads everything before it is live again.

The answer is worded by ``dispatch.public_status.worded_status`` from the same facts the
statement reads, so both paths give the same bytes; ``tests/dispatch/test_status_memory.py``
holds them equal over a scene at many clocks. What memory does not hold, it does not guess:
an account it does not know, or a clock so far back that a restoration or planned work it
left out could matter (before ``horizon`` + ``restored_recently_h``), is answered ``None``
and the caller asks the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from dispatch.public_status import without_place, worded_status
from outages.models import ACTIVE_OUTAGE_STATUSES
from outages.schemas import StatusAnswer
from outages.settings import OutageSettings
from outages.status import UPCOMING_DAYS, OutageNow, PlannedNow, PremiseStatus

log = logging.getLogger(__name__)

CHANNEL = "status_changed"
PREMISE_TABLE = "premise"
# A listener that has not looked at its connection for this long is treated as gone.
STALE_BEAT_S = 5.0
RECONNECT_S = 1.0
POLL_S = 0.25

_PREMISES_SQL = (
    "SELECT account, id, address, ST_X(geom), ST_Y(geom) FROM premise WHERE account IS NOT NULL"
)
# The rules of dispatch.public_status._STATUS_SQL's laterals, for every premise at once.
# A storm has tens of thousands of premises out, reloaded twice a second: the pairs come as
# two arrays of one row (one aggregation step feeds both, so they align), read in binary,
# and the lowest outage of each premise is taken in Python. Grouping in SQL and a row per
# premise cost 76 ms of wall and 41 ms of this worker's CPU at 43k premises, this 18 and 6.
_OUTAGE_OF_SQL = (
    "SELECT array_agg(op.premise_id), array_agg(o.id) "
    "FROM outage_premise op JOIN outage o ON o.id = op.outage_id "
    "WHERE op.restored_at IS NULL AND o.status = ANY(%(active)s)"
)
_OUTAGES_SQL = (
    "SELECT id, etr_at, cause, customers_affected FROM outage WHERE status = ANY(%(active)s)"
)
_ORDERS_SQL = (
    "SELECT w.outage_id, w.status, w.crew_id FROM work_order w JOIN outage o ON o.id = w.outage_id "
    "WHERE w.kind = 'outage' AND w.status <> 'cancelled' AND o.status = ANY(%(active)s)"
)
_RESTORED_SQL = (
    "SELECT array_agg(premise_id), array_agg(restored_at) FROM outage_premise "
    "WHERE restored_at >= %(horizon)s"
)
_PLANNED_SQL = (
    "SELECT pp.premise_id, po.id, po.reason, po.starts_at, po.ends_at "
    "FROM planned_outage_premise pp JOIN planned_outage po ON po.id = pp.planned_outage_id "
    "WHERE po.status = 'scheduled' AND po.ends_at > %(horizon)s "
    "ORDER BY pp.premise_id, po.starts_at, po.id"
)


@dataclass(frozen=True)
class Premises:
    """Every premise with an account: the account's row in parallel arrays (compact: a
    200,000-premise territory in tens of MB, not a Python object per field)."""

    row_of: dict[str, int]
    ids: array[int]
    lons: array[float]
    lats: array[float]
    addresses: list[str]
    seconds: float


@dataclass(frozen=True)
class Facts:
    """What can put a premise out, as of one snapshot of the database.

    ``restored`` holds each premise's latest restoration at or after ``horizon`` and
    ``planned`` the scheduled work ending after it, so an answer is exact for clocks with
    ``now - restored_recently_h >= horizon``."""

    horizon: dt.datetime
    outage_of: dict[int, int]
    outages: dict[int, OutageNow]
    orders: dict[int, tuple[str, int | None]]
    restored: dict[int, dt.datetime]
    planned: dict[int, tuple[PlannedNow, ...]]
    seconds: float


def load_premises(conn: psycopg.Connection[Any]) -> Premises:
    """The premises by account, read on ``conn``."""
    started = time.perf_counter()
    row_of: dict[str, int] = {}
    ids: array[int] = array("q")
    lons: array[float] = array("d")
    lats: array[float] = array("d")
    addresses: list[str] = []
    for account, premise_id, address, lon, lat in conn.execute(_PREMISES_SQL):
        row_of[account] = len(addresses)
        ids.append(premise_id)
        lons.append(lon)
        lats.append(lat)
        addresses.append(address)
    return Premises(row_of, ids, lons, lats, addresses, time.perf_counter() - started)


def load_facts(conn: psycopg.Connection[Any], *, horizon: dt.datetime) -> Facts:
    """Outages, orders, restorations since ``horizon`` and planned work, read on ``conn``
    (the caller makes it one snapshot: a repeatable-read transaction)."""
    started = time.perf_counter()
    params = {"active": list(ACTIVE_OUTAGE_STATUSES), "horizon": horizon}
    binary = conn.cursor(binary=True)
    outage_of: dict[int, int] = {}
    for premise_id, outage_id in _pairs(binary, _OUTAGE_OF_SQL, params):
        if outage_id < outage_of.get(premise_id, outage_id + 1):
            outage_of[premise_id] = outage_id
    outages = {r[0]: OutageNow(*r) for r in conn.execute(_OUTAGES_SQL, params)}
    orders = {o: (status, crew) for o, status, crew in conn.execute(_ORDERS_SQL, params)}
    restored: dict[int, dt.datetime] = {}
    for premise_id, restored_at in _pairs(binary, _RESTORED_SQL, params):
        latest = restored.get(premise_id)
        if latest is None or restored_at > latest:
            restored[premise_id] = restored_at
    planned: dict[int, list[PlannedNow]] = {}
    for premise_id, *work in conn.execute(_PLANNED_SQL, params):
        planned.setdefault(premise_id, []).append(PlannedNow(*work))
    return Facts(
        horizon=horizon,
        outage_of=outage_of,
        outages=outages,
        orders=orders,
        restored=restored,
        planned={p: tuple(items) for p, items in planned.items()},
        seconds=time.perf_counter() - started,
    )


def _pairs(cur: psycopg.Cursor[Any], sql: str, params: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """The rows of a statement that answers its two columns as two arrays in one row."""
    row = cur.execute(sql, params).fetchone()
    if row is None or row[0] is None:  # array_agg of no rows is NULL
        return iter(())
    return zip(row[0], row[1], strict=True)


def answer_from(
    premises: Premises,
    facts: Facts,
    account: str,
    *,
    settings: OutageSettings,
    now: dt.datetime,
    staff: bool,
) -> StatusAnswer | None:
    """The status answer ``dispatch.public_status`` gives for ``account`` at ``now``, from
    memory; None when memory cannot be sure (unknown account, a clock before it holds)."""
    since = now - dt.timedelta(hours=settings.restored_recently_h)
    if since < facts.horizon:
        return None
    row = premises.row_of.get(account)
    if row is None:  # perhaps a premise added since the last load: the database knows
        return None
    premise_id = premises.ids[row]
    work = facts.planned.get(premise_id, ())
    covering = [p for p in work if p.starts_at <= now < p.ends_at]
    until = now + dt.timedelta(days=UPCOMING_DAYS)
    outage_id = facts.outage_of.get(premise_id)
    outage = facts.outages[outage_id] if outage_id is not None else None
    restored = facts.restored.get(premise_id)
    order_status, crew_id = (
        facts.orders.get(outage_id, (None, None)) if outage_id is not None else (None, None)
    )
    status = PremiseStatus(
        premise_id=premise_id,
        address=premises.addresses[row],
        lon=premises.lons[row],
        lat=premises.lats[row],
        # The statement's ORDER BY ends_at DESC, id LIMIT 1.
        planned=max(covering, key=lambda p: (p.ends_at, -p.id)) if covering else None,
        outage=outage,
        restored_at=restored if restored is not None and restored >= since else None,
        upcoming=[p for p in work if now < p.starts_at <= until],
    )
    answer = worded_status(
        status, order_status=order_status, order_crew_id=crew_id, settings=settings, now=now
    )
    return answer if staff else without_place(answer)


class StatusMemory:
    """The worker's premises and facts, and the thread that keeps them fresh.

    Parameters
    ----------
    conninfo
        A libpq URL: the thread opens two connections, one that only LISTENs and one
        that reloads (a reload never delays reading the notices that arrive meanwhile).
    history_h
        How far back restorations and planned work are held: lookups at clocks up to
        ``history_h - restored_recently_h`` hours before the last reload are answered
        from memory (tests freeze clocks in the past), earlier ones by the database.
    min_interval_s
        The least time between two reloads: notices in between are coalesced.
    """

    def __init__(
        self, conninfo: str, *, history_h: float = 24.0, min_interval_s: float = 0.5
    ) -> None:
        self.conninfo = conninfo
        self.history = dt.timedelta(hours=history_h)
        self.min_interval_s = min_interval_s
        self.reconnect_s = RECONNECT_S
        self.premises: Premises | None = None
        self.facts: Facts | None = None
        self.loads: Counter[str] = Counter()
        self.answered = 0  # from memory (the event loop's thread only counts these)
        self._connected = False
        self._beat = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listener_pid: int | None = None
        """The backend pid of the LISTEN connection (tests terminate it)."""

    @property
    def live(self) -> bool:
        """Whether answers from memory are current: the listener is connected, looked at
        its notices lately, and everything was loaded since it connected."""
        return (
            self._connected
            and self.premises is not None
            and self.facts is not None
            and time.monotonic() - self._beat < STALE_BEAT_S
        )

    def answer(
        self, account: str, *, settings: OutageSettings, now: dt.datetime, staff: bool
    ) -> StatusAnswer | None:
        """The answer for ``account`` from memory, None when the database must answer."""
        premises, facts = self.premises, self.facts
        if premises is None or facts is None or not self.live:
            return None
        answer = answer_from(premises, facts, account, settings=settings, now=now, staff=staff)
        if answer is not None:
            self.answered += 1
        return answer

    def start(self) -> None:
        """Load and listen in the background: until loaded, callers use the database."""
        self._thread = threading.Thread(target=self._run, name="status-memory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait_live(self, timeout_s: float) -> bool:
        """Whether the memory became live within ``timeout_s`` (tests and benchmarks)."""
        deadline = time.monotonic() + timeout_s
        while not self.live and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.live

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                log.exception("status memory lost its database connection; reconnecting")
            finally:
                self._connected = False
            self._stop.wait(self.reconnect_s)

    def _listen(self) -> None:
        with (
            psycopg.connect(self.conninfo, autocommit=True) as listener,
            psycopg.connect(self.conninfo, autocommit=True) as loader,
        ):
            listener.execute(f"LISTEN {CHANNEL}")
            self.listener_pid = listener.info.backend_pid
            # Everything, after LISTEN: a change committed from here on is noticed.
            self._reload(loader, {PREMISE_TABLE})
            self._connected = True
            last = time.monotonic()
            pending: set[str] = set()
            while not self._stop.is_set():
                self._beat = time.monotonic()
                if pending:  # gather what else comes until the next reload is due
                    due = last + self.min_interval_s - self._beat
                    notices = listener.notifies(timeout=max(0.01, due))
                else:  # wake at the first notice
                    notices = listener.notifies(timeout=POLL_S, stop_after=1)
                for notice in notices:
                    pending.add(notice.payload)
                if pending and time.monotonic() >= last + self.min_interval_s:
                    changed, pending = pending, set()
                    last = time.monotonic()
                    self._reload(loader, changed)

    def _reload(self, conn: psycopg.Connection[Any], changed: set[str]) -> None:
        if PREMISE_TABLE in changed or self.premises is None:
            premises = load_premises(conn)
            self.premises = premises
            self.loads["premises"] += 1
            log.info("status memory: %d premises in %.3f s", len(premises.ids), premises.seconds)
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            facts = load_facts(conn, horizon=dt.datetime.now(dt.UTC) - self.history)
        self.facts = facts
        self.loads["facts"] += 1
        log.debug("status memory: facts in %.3f s", facts.seconds)
