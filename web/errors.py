"""One table from domain errors to HTTP status codes; handlers registered in ``create_app``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from geo import exceptions as geo_errors
from outages.exceptions import AddressNotFound, InvalidTransition

STATUS_BY_ERROR: dict[type[geo_errors.StormdeskError], int] = {
    geo_errors.NotFound: 404,
    geo_errors.OutsideTerritory: 404,
    geo_errors.InvalidInput: 422,
    geo_errors.ImportFailed: 422,
    geo_errors.AuthError: 401,
    geo_errors.Forbidden: 403,
    geo_errors.ClusterError: 503,
    InvalidTransition: 409,
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
    if isinstance(error, InvalidTransition):
        body["allowed"] = error.allowed
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Models built inside handlers (not only request bodies) fail as 422, never 500."""
    assert isinstance(error, ValidationError)
    return JSONResponse(
        {"detail": jsonable_encoder(error.errors(include_url=False, include_context=False))},
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(geo_errors.StormdeskError, _domain_error)
    app.add_exception_handler(ValidationError, _validation_error)
