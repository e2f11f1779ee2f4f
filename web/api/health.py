"""Liveness with a real database round trip."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from geo.database import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Ok when the database answers with PostGIS; 503 otherwise."""
    try:
        postgis = ping(request.app.state.engine)
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "error", "database": str(exc.__class__.__name__)}, 503)
    return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis})
