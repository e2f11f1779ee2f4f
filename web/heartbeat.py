"""Run the dispatch cycle on a timer inside the web app (``Settings.cycle_interval_s``)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from dispatch.cycle import run_cycle
from outages.notify import LoggingSender

log = logging.getLogger("stormdesk.heartbeat")


def _cycle_once(app: FastAPI) -> None:
    factory = app.state.sessionmaker
    with factory() as session, session.begin():
        result = run_cycle(
            session=session,
            now=dt.datetime.now(dt.UTC),
            settings=app.state.settings,
            sender=LoggingSender(),
        )
    app.state.cycles_run += 1
    if (
        result.orders_created
        or result.escalations
        or result.notifications_sent
        or (result.webhook_events or result.webhooks_delivered)
    ):
        log.info("dispatch cycle: %s", result)


async def _loop(app: FastAPI, interval_s: float) -> None:
    while True:
        try:
            # In a worker thread: the cycle's queries must not stall the event loop.
            await run_in_threadpool(_cycle_once, app)
        except Exception:  # one failed cycle must not stop the next ones
            log.exception("dispatch cycle failed")
        await asyncio.sleep(interval_s)


@contextlib.asynccontextmanager
async def heartbeat(app: FastAPI) -> AsyncIterator[None]:
    """Keep the cycle running while the app serves; off when the interval is 0."""
    app.state.cycles_run = 0
    interval_s = app.state.settings.cycle_interval_s
    if interval_s <= 0:
        yield
        return
    task = asyncio.create_task(_loop(app, interval_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
