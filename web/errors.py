"""One table from domain errors to HTTP status codes; handlers registered in ``create_app``.

Also where failures that are nobody's domain become answers: the database driver's
connection errors are ``DatabaseUnavailable`` (503 with ``Retry-After``), and validation
errors are cut to the first ``MAX_ERRORS``, with every echoed input bounded and made
JSON-safe, and built in a worker thread (a body with 100,000 unknown keys must not stall
the event loop building a 10 MB answer).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

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
    geo_errors.TooManyAttempts: 429,
    geo_errors.ClusterError: 503,
    geo_errors.DatabaseUnavailable: 503,
    InvalidTransition: 409,
    StaleVersion: 409,
    TicketStateConflict: 409,
    CalendarFileError: 503,
}
RETRY_AFTER_S = 5
"""What a 503 tells clients to wait before retrying (a restart or failover takes seconds)."""


def status_for(error: geo_errors.StormdeskError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


def headers_for(error: geo_errors.StormdeskError, status: int) -> dict[str, str] | None:
    """``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503."""
    if status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, geo_errors.TooManyAttempts):
        return {"Retry-After": str(error.retry_after_s)}
    if status == 503:
        return {"Retry-After": str(RETRY_AFTER_S)}
    return None


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, geo_errors.StormdeskError)
    status = status_for(error)
    body: dict[str, object] = {"detail": _safe_text(str(error)), "error": type(error).__name__}
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
    return JSONResponse(body, status_code=status, headers=headers_for(error, status))


def unavailable(error: BaseException) -> geo_errors.DatabaseUnavailable | None:
    """The driver's error as ``DatabaseUnavailable`` when it means "retry": the server is
    down, restarting, refusing connections or cancelled the statement, the connection broke,
    or the pool had none free in time. None for errors that are bugs or bad data."""
    if isinstance(error, PoolTimeout | OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        kind = type(getattr(error, "orig", None) or error).__name__
        msg = f"the database is unavailable right now ({kind}): retry in {RETRY_AFTER_S} s"
        return geo_errors.DatabaseUnavailable(msg)
    return None


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    mapped = unavailable(error)
    if mapped is None:
        raise error
    return await _domain_error(request, mapped)


MAX_ECHOED_CHARS = 120
MAX_ECHOED_ITEMS = 10
MAX_ERRORS = 20
"""Validation errors listed in a 422; ``errors_total`` says how many there were."""


def _safe_text(value: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate becomes its ``\\udXXX`` escape."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _echo_safe(value: Any, depth: int = 0) -> Any:
    """What of a rejected input we echo back: JSON-safe (NaN is not JSON, lone surrogates
    are not UTF-8), short (a 1 MB description is not sent back) and shallow."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        if len(value) > MAX_ECHOED_CHARS:
            value = value[:MAX_ECHOED_CHARS] + f"... ({len(value)} characters)"
        return _safe_text(value)
    if isinstance(value, dict | list | tuple) and depth >= 4:
        return f"({type(value).__name__} nested too deep to show)"
    if isinstance(value, dict):
        items = list(value.items())
        shown = {_echo_safe(str(k)): _echo_safe(v, depth + 1) for k, v in items[:MAX_ECHOED_ITEMS]}
        if len(items) > MAX_ECHOED_ITEMS:
            shown["..."] = f"({len(items)} keys)"
        return shown
    if isinstance(value, list | tuple):
        out = [_echo_safe(v, depth + 1) for v in value[:MAX_ECHOED_ITEMS]]
        if len(value) > MAX_ECHOED_ITEMS:
            out.append(f"... ({len(value)} items)")
        return out
    return value


def validation_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The first ``MAX_ERRORS`` errors, each one's input and context echoed safely."""
    shown = [_echo_safe(dict(e), depth=-2) for e in errors[:MAX_ERRORS]]
    return {"detail": jsonable_encoder(shown), "errors_total": len(errors)}


async def _request_validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    body = await run_in_threadpool(validation_body, error.errors())
    return JSONResponse(body, status_code=422)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Models built inside handlers (not only request bodies) fail as 422, never 500."""
    assert isinstance(error, ValidationError)
    errors = error.errors(include_url=False, include_context=False)
    body = await run_in_threadpool(validation_body, errors)
    return JSONResponse(body, status_code=422)


def install(app: FastAPI) -> None:
    app.add_exception_handler(geo_errors.StormdeskError, _domain_error)
    app.add_exception_handler(ValidationError, _validation_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _database_error)
