"""The FastAPI application: ``create_app(settings)`` wires routers, errors and static files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from geo.database import engine_from_settings, make_sessionmaker
from web import errors
from web.admission import AdmissionGate
from web.api import (
    auth,
    departments,
    devices,
    dispatch_plan,
    geo,
    health,
    kb,
    layers,
    open311,
    outages,
    planned,
    reports,
    status,
    tickets,
)
from web.api import crew as crew_api
from web.api import dispatch as dispatch_api
from web.heartbeat import heartbeat
from web.pages import console, crew, status_page
from web.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the engine is made in the lifespan, never at import time."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engine_from_settings(settings)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            async with heartbeat(app):
                yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="stormdesk",
        version="0.1.0",
        description="Outage intake and repair dispatch for electric utilities.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(AdmissionGate, limit=settings.max_inflight_requests)
    errors.install(app)
    for router in (
        health.router,
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
        open311.router,
        dispatch_api.router,
        dispatch_plan.router,
        crew_api.router,
        crew.router,
        tickets.router,
        departments.router,
        kb.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
