"""Liveness with a real database round trip."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from geo.database import ping
from geo.exceptions import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Ok when the database answers with PostGIS; 503 otherwise."""
    try:
        postgis = ping(request.app.state.engine)
    except DatabaseUnavailable as exc:
        name = exc.__cause__.__class__.__name__ if exc.__cause__ else "unavailable"
        return JSONResponse(
            {"status": "error", "database": name}, 503, headers={"Retry-After": "5"}
        )
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis})
