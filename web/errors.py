"""One table from domain errors to HTTP status codes; handlers registered in ``create_app``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from dispatch.exceptions import CloseRefused, OpenMakeSafeTasks, StaleVersion
from geo import exceptions as geo_errors
from hotline.exceptions import CalendarFileError, TicketStateConflict
from outages.exceptions import AddressNotFound, InvalidTransition

STATUS_BY_ERROR: dict[type[geo_errors.StormdeskError], int] = {
    geo_errors.NotFound: 404,
    geo_errors.OutsideTerritory: 404,
    geo_errors.InvalidInput: 422,
    geo_errors.ImportFailed: 422,
    geo_errors.AuthError: 401,
    geo_errors.Forbidden: 403,
    geo_errors.ClusterError: 503,
    geo_errors.DatabaseUnavailable: 503,
    InvalidTransition: 409,
    StaleVersion: 409,
    TicketStateConflict: 409,
    CalendarFileError: 503,
}


def status_for(error: geo_errors.StormdeskError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, geo_errors.StormdeskError)
    status = status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body: dict[str, object] = {"detail": str(error), "error": type(error).__name__}
    if isinstance(error, AddressNotFound):
        body["suggestions"] = error.suggestions
    if isinstance(error, InvalidTransition | TicketStateConflict):
        body["allowed"] = error.allowed
    if isinstance(error, CloseRefused):
        body["missing"] = error.missing
    if isinstance(error, OpenMakeSafeTasks):
        body["open_tasks"] = error.open_task_ids
    if isinstance(error, StaleVersion):
        body["current_version"] = error.current_version
    return JSONResponse(body, status_code=status, headers=headers)


MAX_ECHOED_CHARS = 120
MAX_ECHOED_ITEMS = 10


def _echo_safe(value: Any) -> Any:
    """What of a rejected input we echo back: JSON-safe (NaN is not JSON) and short
    (a 1 MB description or a 10,001-report batch is not sent back to its sender)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str) and len(value) > MAX_ECHOED_CHARS:
        return value[:MAX_ECHOED_CHARS] + f"... ({len(value)} characters)"
    if isinstance(value, dict):
        return {k: _echo_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        shown = [_echo_safe(v) for v in value[:MAX_ECHOED_ITEMS]]
        if len(value) > MAX_ECHOED_ITEMS:
            shown.append(f"... ({len(value)} items)")
        return shown
    return value


def _validation_body(errors: Sequence[Any]) -> dict[str, Any]:
    # Every error is listed (a batch names each bad item); only echoed inputs are cut.
    return {"detail": jsonable_encoder([_echo_safe(e) for e in errors])}


async def _request_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return JSONResponse(_validation_body(error.errors()), status_code=422)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Models built inside handlers (not only request bodies) fail as 422, never 500."""
    assert isinstance(error, ValidationError)
    return JSONResponse(
        _validation_body(error.errors(include_url=False, include_context=False)), status_code=422
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(geo_errors.StormdeskError, _domain_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
