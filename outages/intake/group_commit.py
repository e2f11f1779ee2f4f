"""Group commit: concurrent single reports written together, one transaction, by the batch path.

A storm's single reports cost a transaction each: a dozen round trips, a commit (an fsync,
and on the two-site stack a wait for the standby) and a pooled connection held throughout.
``GroupWriter`` is one writer thread per app worker that takes every report waiting when it
becomes free and files them with ``outages.intake.batch.file_batch`` (whose answers the
tests prove equal to ``file_report``'s one by one) in one transaction; each request waits
for its answer, which is set only **after the commit**: a report answered is a report stored.

Nothing is grouped that the batch path would answer differently, and nothing fails because
of a neighbour:

- a report the batch path cannot file (not located: a 422 with its own message) and every
  report of a group whose ``file_batch`` raised (a key reused for another body, a bug, a
  lost connection) is handed back *before* anything was committed: its request then files
  it alone with ``file_report`` in its own unit of work, with the single path's own answer
  or error (``web.api.reports.post_report``);
- two reports with one idempotency key never share a group (the second waits for the next
  group, then replays the first's stored answer as the single path would);
- a failed commit is the one case where the outcome is unknown: those requests get the
  error (503 through ``web.errors``), never a second filing.

Reports are grouped by who files them (actor and agent rights, as ``file_batch`` takes one);
a group's reports share its latest request time as ``received_at`` (milliseconds apart, and
never before any of them arrived). Groups form by themselves: while the writer writes one,
the next fills, so a lone report waits for nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from geo.exceptions import DatabaseUnavailable
from geo.models import Feeder
from outages.intake.batch import file_batch
from outages.intake.batch_store import BatchStore
from outages.intake.topology_cache import TopologyCache
from outages.schemas import BatchReport, ReportAnswer, ReportCreate
from outages.settings import OutageSettings

log = logging.getLogger(__name__)

# How long a request waits for its group before it gives up (the answer is then unknown
# to it, as after a lost connection; a retry with the same key replays it).
WAIT_S = 60.0


@dataclass
class Pending:
    """One report waiting for its group; ``future`` gets its answer, or None: file it alone."""

    data: ReportCreate
    idempotency_key: str | None
    actor: str
    is_agent: bool
    now: dt.datetime
    future: Future[ReportAnswer | None] = field(default_factory=Future)


@dataclass
class GroupStats:
    """What the writer did, for benchmarks and tests."""

    groups: int = 0
    grouped: int = 0
    handed_back: int = 0
    failed_groups: int = 0
    largest: int = 0
    warmed_feeders: int = 0
    warm_s: float = 0.0


class GroupWriter:
    """The writer thread of one app worker; see the module docstring."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: OutageSettings,
        *,
        max_group: int = 500,
        warm: bool = False,
    ) -> None:
        if max_group < 1:
            msg = f"a group must hold at least one report, got max_group={max_group}"
            raise ValueError(msg)
        self.factory = factory
        self.settings = settings
        self.max_group = max_group
        self.warm = warm
        self.stats = GroupStats()
        self.topology = TopologyCache()
        self._queue: queue.Queue[Pending | None] = queue.Queue()
        self._carry: list[Pending] = []
        self._thread: threading.Thread | None = None
        # Set once the writer is ready for its first group (its cache preloaded, or not
        # wanted): the worker then freezes its start-up heap (web/heap.py).
        self.ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="intake-group-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then end the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=WAIT_S)
            self._thread = None

    @property
    def queued(self) -> int:
        """Reports waiting for the writer's next group (approximate, as ``qsize`` is)."""
        return self._queue.qsize()

    def submit(self, pending: Pending) -> Future[ReportAnswer | None]:
        if self._thread is None:
            pending.future.set_result(None)  # not running: the request files it alone
        else:
            self._queue.put(pending)
        return pending.future

    def warm_up(self) -> None:
        """Load the whole territory's trees into the cache before the first group.

        Lazily filled, the cache grows through a storm as reports reach new feeders, the
        first report of each pays for its load, and the worker's memory climbs for as long
        (the soak's "+5%"). Loaded here, in the writer's own thread, the reports that arrive
        meanwhile wait in the queue. A failure (the database not up yet) leaves the cache to
        fill lazily, as before.
        """
        started = time.monotonic()
        try:
            with self.factory() as session:
                self.stats.warmed_feeders = warm_topology(session, self.topology, self.settings)
                session.rollback()  # it only read
        except Exception:
            log.warning("the territory could not be preloaded; trees load as reports come")
            self.topology = TopologyCache()  # nothing half-loaded is kept
        self.stats.warm_s = time.monotonic() - started
        log.info(
            "group writer: %d feeders preloaded in %.1f s",
            self.stats.warmed_feeders,
            self.stats.warm_s,
        )

    def _run(self) -> None:
        if self.warm:
            self.warm_up()
        self.ready.set()
        while True:
            group, stopping = self._next_group()
            if group:
                self.write_group(group)
            if stopping and not self._carry:
                return

    def _next_group(self) -> tuple[list[Pending], bool]:
        """Everything waiting (up to ``max_group``), at most one report per key."""
        waiting, self._carry = self._carry, []
        stopping = False
        if not waiting:
            first = self._queue.get()
            if first is None:
                return [], True
            waiting.append(first)
        while len(waiting) < self.max_group:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                stopping = True
                break
            waiting.append(item)
        group, self._carry = form_group(waiting)
        return group, stopping

    def write_group(self, group: Sequence[Pending]) -> None:
        """File the group in one transaction and answer each report after the commit."""
        answers: list[ReportAnswer | None] = []
        session = self.factory()
        try:
            try:
                answers = self._file(session, group)
            except Exception:
                # Rolled back whole, so nothing of it is stored: each files alone.
                log.exception("a group of %d reports failed; they are filed one by one", len(group))
                with contextlib.suppress(Exception):  # a broken connection is dropped anyway
                    session.rollback()
                self.stats.failed_groups += 1
                self._hand_back(group)
                return
            try:
                session.commit()
            except Exception as exc:
                for item in group:
                    item.future.set_exception(exc)
                return
        finally:
            session.close()
        self.stats.groups += 1
        self.stats.largest = max(self.stats.largest, len(group))
        for item, answer in zip(group, answers, strict=True):
            if answer is None:
                self.stats.handed_back += 1
            else:
                self.stats.grouped += 1
            item.future.set_result(answer)

    def _hand_back(self, group: Sequence[Pending]) -> None:
        self.stats.handed_back += len(group)
        for item in group:
            item.future.set_result(None)

    def _file(self, session: Session, group: Sequence[Pending]) -> list[ReportAnswer | None]:
        """Each filer's reports through ``file_batch``; None where it could not file one."""
        answers: list[ReportAnswer | None] = [None] * len(group)
        filers: dict[tuple[str, bool], list[int]] = {}
        for i, item in enumerate(group):
            filers.setdefault((item.actor, item.is_agent), []).append(i)
        for (actor, is_agent), indexes in filers.items():
            items = [_batch_item(group[i]) for i in indexes]
            filed = file_batch(
                session=session,
                items=items,
                settings=self.settings,
                now=max(group[i].now for i in indexes),
                actor=actor,
                is_agent=is_agent,
                topology=self.topology,
            )
            for i, answer in zip(indexes, filed, strict=True):
                answers[i] = answer if isinstance(answer, ReportAnswer) else None
        return answers


def warm_topology(session: Session, topology: TopologyCache, settings: OutageSettings) -> int:
    """Fill ``topology`` with every feeder's tree and its transformers' premises; returns
    how many feeders. The loads are ``BatchStore``'s own, so what is held is what a group
    would have loaded."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    store = BatchStore(session, connection.cursor(), settings, dt.datetime.now(dt.UTC), topology)
    feeders = list(session.scalars(select(Feeder.id)))
    store.load_trees(feeders)
    return len(feeders)


def form_group(waiting: Sequence[Pending]) -> tuple[list[Pending], list[Pending]]:
    """The group to write now and the reports left for the next: a key seen earlier in the
    group waits (the single path would replay the first filing's stored answer)."""
    group: list[Pending] = []
    carry: list[Pending] = []
    keys: set[str] = set()
    for item in waiting:
        key = item.idempotency_key
        if key is not None and key in keys:
            carry.append(item)
            continue
        if key is not None:
            keys.add(key)
        group.append(item)
    return group, carry


def _batch_item(pending: Pending) -> BatchReport:
    return BatchReport.model_validate(
        {**pending.data.model_dump(), "idempotency_key": pending.idempotency_key}
    )


async def grouped_answer(writer: GroupWriter, pending: Pending) -> ReportAnswer | None:
    """The answer of ``pending`` once its group committed, or None: file it alone.

    Awaited on the event loop, so a request waiting for its group holds no thread. The wait
    is shielded: a client that hangs up (or the timeout) must not cancel the future the
    writer will set, which would break the writer's loop.
    """
    waiting = asyncio.wrap_future(writer.submit(pending))
    try:
        return await asyncio.wait_for(asyncio.shield(waiting), WAIT_S)
    except TimeoutError as exc:
        msg = f"the report was not written within {WAIT_S:.0f} s: retry with the same key"
        raise DatabaseUnavailable(msg) from exc
