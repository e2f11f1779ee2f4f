"""Liveness with a real database round trip."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from geo.database import ping
from geo.exceptions import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
@router.head("/healthz", include_in_schema=False)
def healthz(request: Request) -> JSONResponse:
    """Ok when the database answers with PostGIS; 503 otherwise.

    HEAD too: load balancers and uptime probes often check with it (it answered 405).
    """
    try:
        postgis = ping(request.app.state.engine)
    except DatabaseUnavailable as exc:
        name = exc.__cause__.__class__.__name__ if exc.__cause__ else "unavailable"
        return JSONResponse(
            {"status": "error", "database": name}, 503, headers={"Retry-After": "5"}
        )
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis})
