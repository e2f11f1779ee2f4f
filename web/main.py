"""The FastAPI application: ``create_app(settings)`` wires routers, errors and static files."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, make_url
from starlette.middleware.gzip import GZipMiddleware

from dispatch.status_memory import StatusMemory
from geo.database import engine_from_settings, make_engine, make_sessionmaker
from outages.intake.group_commit import GroupWriter
from web import errors, openapi
from web.admission import AdmissionGate, BodyLimits, BodyRule, Limits
from web.api import (
    auth,
    callers,
    calls,
    departments,
    devices,
    dispatch_plan,
    feeds,
    geo,
    health,
    kb,
    layers,
    open311,
    outages,
    planned,
    public_map,
    reports,
    search,
    stats,
    status,
    storm_mode,
    tickets,
    wallboard,
    webhooks,
)
from web.api import crew as crew_api
from web.api import dispatch as dispatch_api
from web.feed_cache import FeedCache
from web.heap import freeze_when_loaded
from web.heartbeat import heartbeat
from web.layer_deltas import LayerDeltas
from web.pages import console, crew, desk, landing, outages_page, status_page
from web.pages import reports as reports_pages
from web.region_index import RegionIndex
from web.region_quota import QuotaPlan
from web.settings import Settings
from web.status_index import start_status_memory

STATIC_DIR = Path(__file__).parent / "static"
# Smaller answers gain little from gzip and cost a deflate stream each.
GZIP_MIN_BYTES = 1000


# How long a worker waits for its caches before it freezes whatever is loaded (the writer's
# preload of 200,000 premises takes about 4 s).
FREEZE_WAIT_S = 120.0


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is made in the lifespan, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_from_settings(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        # Read-only routes (web.deps.ReadSessionDep): each statement on its own, no BEGIN/COMMIT.
        app.state.read_sessionmaker = make_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        writer, writer_engine = start_group_writer(settings)
        app.state.group_writer = writer
        index = None
        if settings.region_quotas:
            index = RegionIndex(app.state.sessionmaker, libpq_url(settings))
            index.start()
        app.state.region_index = index
        memory = start_status_memory(settings, libpq_url(settings))
        app.state.status_memory = memory
        freezing = start_heap_freeze(settings, writer, index, memory)
        try:
            async with heartbeat(app):
                yield
        finally:
            if freezing is not None:
                freezing.cancel()
            if memory is not None:
                memory.stop()
            if index is not None:
                index.stop()
            if writer is not None:
                writer.stop()
            if writer_engine is not None:
                writer_engine.dispose()
            engine.dispose()

    app = FastAPI(
        title="stormdesk",
        version="0.1.0",
        description="Outage intake and repair dispatch for electric utilities.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    limits = admission_limits(settings)
    # Added last runs first: the body is read (BodyLimits) before a slot is taken.
    app.add_middleware(AdmissionGate, limits=limits, quotas=quota_plan(settings))
    app.add_middleware(BodyLimits, limits=limits)
    # Outermost: every answer, errors and 503s too, leaves compressed when worth it (JSON
    # and GeoJSON shrink 5-10x; nginx in deploy/ does the same in production).
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    app.state.feed_cache = FeedCache()
    app.state.layer_deltas = LayerDeltas()
    errors.install(app)
    for router in (
        health.router,
        landing.router,
        auth.router,
        geo.router,
        layers.router,
        console.router,
        reports.router,
        outages.router,
        devices.router,
        planned.router,
        status.router,
        status_page.router,
        public_map.router,
        outages_page.router,
        open311.router,
        dispatch_api.router,
        dispatch_plan.router,
        crew_api.router,
        crew.router,
        desk.router,
        tickets.router,
        departments.router,
        kb.router,
        feeds.router,
        webhooks.router,
        calls.router,
        callers.router,
        storm_mode.router,
        stats.router,
        wallboard.router,
        reports_pages.router,
        search.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi.install(app)
    return app


def start_group_writer(settings: Settings) -> tuple[GroupWriter | None, Engine | None]:
    """The worker's group-commit writer, on an engine of its own: its one connection is
    never waited for behind requests that hold the app pool's (and keeps its prepared
    statements)."""
    if not settings.intake_group_commit:
        return None, None
    engine = make_engine(settings.resolved_database_url(), pool_size=1)
    writer = GroupWriter(
        make_sessionmaker(engine),
        settings,
        max_group=settings.intake_group_max,
        warm=settings.intake_warm_topology,
    )
    writer.start()
    return writer, engine


def start_heap_freeze(
    settings: Settings,
    writer: GroupWriter | None,
    index: RegionIndex | None,
    memory: StatusMemory | None,
) -> asyncio.Task[int] | None:
    """The task that freezes the worker's heap once its caches are loaded (web/heap.py)."""
    if not settings.freeze_startup_heap:
        return None
    loaded: list[Callable[[], bool]] = []
    if writer is not None:
        loaded.append(writer.ready.is_set)
    if index is not None:
        loaded.append(lambda: index.lookup is not None)
    if memory is not None:
        loaded.append(lambda: memory.live)
    return asyncio.create_task(freeze_when_loaded(loaded, timeout_s=FREEZE_WAIT_S))


def quota_plan(settings: Settings) -> QuotaPlan | None:
    if not settings.region_quotas:
        return None
    return QuotaPlan(
        lanes=tuple(settings.region_quota_lanes),
        lendable_share=settings.region_lendable_share,
        borrowing_share=settings.region_borrowing_share,
        queue_limit=settings.region_queue_limit,
    )


def libpq_url(settings: Settings) -> str:
    """The database URL as psycopg takes it (without SQLAlchemy's driver name)."""
    url = make_url(settings.resolved_database_url()).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def admission_limits(settings: Settings) -> Limits:
    return Limits(
        body=BodyRule(max_bytes=settings.max_body_bytes, max_json_keys=settings.max_json_keys),
        batch_body=BodyRule(
            max_bytes=settings.max_batch_body_bytes, max_json_keys=settings.max_batch_json_keys
        ),
        body_timeout_s=settings.body_timeout_s,
        min_body_rate_bps=settings.min_body_rate_bps,
        main_slots=settings.max_inflight_requests,
        health_slots=settings.health_slots,
        public_read_slots=settings.public_read_slots,
        intake_slots=settings.intake_slots if settings.intake_group_commit else None,
    )
