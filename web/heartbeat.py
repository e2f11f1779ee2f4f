"""The centre's timers: the dispatch cycle, ticket urging (催办) and storm mode's automatic
trigger, each in its own transaction so one failing does not hold back the others.

``stormdesk serve`` runs them in a process of their own (``web/timers.py``), so a storm's
dispatch cycles do not share a web worker's GIL with the reports they follow. An app built
with ``cycle_interval_s > 0`` runs them itself (``heartbeat``): tests and embedded uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from dispatch.cycle import CycleResult, run_cycle
from hotline.storm_mode import check_auto_trigger
from hotline.urging import urge_due
from outages.notify import LoggingSender
from web.settings import Settings

log = logging.getLogger("stormdesk.heartbeat")


def cycle_once(factory: sessionmaker[Session], settings: Settings) -> CycleResult:
    """One dispatch cycle in its own transaction, logged when it changed anything."""
    with factory() as session, session.begin():
        result = run_cycle(
            session=session,
            now=dt.datetime.now(dt.UTC),
            settings=settings,
            sender=LoggingSender(),
        )
    if (
        result.orders_created
        or result.escalations
        or result.notifications_sent
        or (result.webhook_events or result.webhooks_delivered)
    ):
        log.info("dispatch cycle: %s", result)
    return result


def hotline_once(factory: sessionmaker[Session], settings: Settings) -> int:
    """Urge late tickets, then let storm mode's trigger look at the last calls; the number
    of clocks urged."""
    now = dt.datetime.now(dt.UTC)
    with factory() as session, session.begin():
        urged = urge_due(session=session, now=now, settings=settings)
        switched = check_auto_trigger(session=session, now=now, settings=settings)
    if urged:
        log.info("urged %d ticket clocks", len(urged))
    if switched is not None:
        log.warning("storm mode on: %s", switched.reason)
    return len(urged)


def _cycle_once(app: FastAPI) -> None:
    cycle_once(app.state.sessionmaker, app.state.settings)
    app.state.cycles_run += 1


def _hotline_once(app: FastAPI) -> None:
    app.state.urges_sent += hotline_once(app.state.sessionmaker, app.state.settings)
    app.state.hotline_runs += 1


async def _loop(app: FastAPI, interval_s: float) -> None:
    while True:
        # In a worker thread: the queries must not stall the event loop. Shielded, so that
        # shutting down waits for a job in progress instead of leaving its thread holding a
        # connection of an engine that is being disposed.
        for name, job in (("dispatch cycle", _cycle_once), ("hotline timers", _hotline_once)):
            running = asyncio.ensure_future(run_in_threadpool(job, app))
            app.state.heartbeat_job = running
            try:
                await asyncio.shield(running)
            except asyncio.CancelledError:
                raise
            except Exception:  # one failed run must not stop the next ones
                log.exception("%s failed", name)
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def heartbeat(app: FastAPI) -> AsyncIterator[None]:
    """Keep the cycle running while the app serves; off when the interval is 0."""
    app.state.cycles_run = 0
    app.state.hotline_runs = 0
    app.state.urges_sent = 0
    interval_s = app.state.settings.cycle_interval_s
    if interval_s <= 0:
        yield
        return
    app.state.heartbeat_job = None
    task = asyncio.create_task(_loop(app, interval_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        running = app.state.heartbeat_job
        if running is not None and not running.done():
            with contextlib.suppress(Exception):
                await running
