"""The live wallboard (a snapshot, and a server-sent event stream of snapshots) and the
Prometheus metrics, all from one ``hotline.stats.wallboard`` snapshot."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from geo.models import User
from hotline.stats.wallboard import Board, RegionBoard, wallboard
from web.deps import (
    NowDep,
    SessionDep,
    SettingsDep,
    background_session,
    get_now,
    require_role,
    utc_now,
)
from web.settings import Settings

router = APIRouter(tags=["wallboard"])
WALLBOARD_ROLES = ("supervisor", "dispatcher", "agent")
Viewer = Annotated[User, Depends(require_role(*WALLBOARD_ROLES))]
REFRESH_S = 2.0
# Snapshots computed at once across every open stream: each takes a thread and a connection.
_SNAPSHOT_THREADS = anyio.CapacityLimiter(2)


@router.get("/api/v1/wallboard")
def wallboard_snapshot(
    _user: Viewer, session: SessionDep, settings: SettingsDep, now: NowDep
) -> JSONResponse:
    """The wallboard now: per region and in total."""
    return JSONResponse(wallboard(session=session, now=now, settings=settings).as_dict())


def _snapshot(request: Request, settings: Settings, clock: Callable[[], dt.datetime]) -> Board:
    with background_session(request.app) as session:
        return wallboard(session=session, now=clock(), settings=settings)


@router.get("/api/v1/wallboard/stream")
def wallboard_stream(
    _user: Viewer,
    request: Request,
    settings: SettingsDep,
    events: Annotated[
        int | None, Query(ge=1, le=100_000, description="Stop after this many events.")
    ] = None,
) -> StreamingResponse:
    """Server-sent events: one wallboard snapshot every 2 seconds (``event: board``)."""
    # The app's clock, so a test that freezes it freezes the stream too.
    clock = request.app.dependency_overrides.get(get_now, utc_now)

    async def stream() -> AsyncIterator[str]:
        sent = 0
        while events is None or sent < events:
            board = await anyio.to_thread.run_sync(
                _snapshot, request, settings, clock, limiter=_SNAPSHOT_THREADS
            )
            yield f"event: board\ndata: {json.dumps(board.as_dict())}\n\n"
            sent += 1
            if events is not None and sent >= events:
                break
            await asyncio.sleep(REFRESH_S)
            if await request.is_disconnected():
                break

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


GAUGES: tuple[tuple[str, str], ...] = (
    ("contacts_today", "Customer contacts since local midnight"),
    ("calls_waiting", "Calls waiting in the queue now"),
    ("longest_wait_s", "Longest wait of a call in the queue now (seconds)"),
    ("service_level", "Share of today's calls answered within 20 s"),
    ("answer_rate", "Share of today's calls answered"),
    ("abandon_rate", "Share of today's calls abandoned"),
    ("orders_live", "Work orders a crew still has to serve"),
    ("orders_overdue", "Live work orders past a 95598 deadline"),
    ("tickets_open", "Open tickets"),
    ("tickets_overdue", "Open tickets past their contact or answer clock"),
    ("predicted_breaches", "Orders predicted to miss a deadline in the next 30 minutes"),
    ("predicted_service_level", "Service level predicted for the next 30 minutes"),
    (
        "predicted_late_calls",
        "Calls predicted to wait past 20 s or hang up in the next 30 minutes "
        "(forecast x roster where a plan is in force)",
    ),
)


def metrics_text(board: Board) -> bytes:
    """The snapshot in the Prometheus text format (a fresh registry: no global state)."""
    registry = CollectorRegistry()
    gauges = {
        name: Gauge(f"stormdesk_{name}", text, ["region"], registry=registry)
        for name, text in GAUGES
    }
    agents = Gauge("stormdesk_agents", "Agents by state", ["region", "state"], registry=registry)
    rows: list[RegionBoard] = [*board.regions, board.total]
    for row in rows:
        for name in gauges:
            value = getattr(row, name)
            if value is not None:
                gauges[name].labels(region=row.region).set(float(value))
        for state, n in row.agents.items():
            agents.labels(region=row.region, state=state).set(n)
    return generate_latest(registry)


@router.get("/metrics", response_class=Response)
def metrics(session: SessionDep, settings: SettingsDep, now: NowDep) -> Response:
    """Prometheus metrics: the wallboard's figures per region (counts only, no personal data)."""
    board = wallboard(session=session, now=now, settings=settings)
    return Response(metrics_text(board), media_type=CONTENT_TYPE_LATEST)
