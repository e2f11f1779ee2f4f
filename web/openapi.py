"""The OpenAPI document, told the whole truth: every status a route can answer, with the
error body it really sends.

FastAPI documents the success answer and the request-validation 422. The rest comes from
``web/errors.py`` and ``web/admission.py`` and is the same for every route of a kind, so it
is added here once: domain errors (``{"detail", "error", ...}``), 401/403 where a token is
read, 408/413 where a body is sent, 429 for logins, 503 with ``Retry-After`` everywhere.
Open311 routes answer errors in the spec's list of ``{code, description}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_BODY: dict[str, Any] = {
    "title": "ErrorBody",
    "type": "object",
    "required": ["detail"],  # FastAPI's own 400 for a body that does not parse has no "error"
    "properties": {
        "detail": {"type": "string", "description": "What was wrong and what to do."},
        "error": {"type": "string", "description": "The error's name, e.g. InvalidTransition."},
        "allowed": {"type": "array", "items": {"type": "string"}},
        "suggestions": {"type": "array", "items": {"type": "object"}},
        "missing": {"type": "array", "items": {"type": "string"}},
        "open_tasks": {"type": "array", "items": {"type": "integer"}},
        "current_version": {"type": "integer"},
    },
}
OPEN311_ERRORS: dict[str, Any] = {
    "title": "Open311Errors",
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
HEALTH_DOWN: dict[str, Any] = {
    "title": "HealthDown",
    "type": "object",
    "required": ["status", "database"],
    "properties": {"status": {"type": "string"}, "database": {"type": "string"}},
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
DESCRIPTIONS = {
    "400": "Malformed request: a body or URL that does not parse (Open311: any bad input)",
    "401": "Not logged in, or the token is expired, revoked or of a disabled user",
    "403": "Logged in, but the role (or the crew) may not do this",
    "404": "Not found (or outside the territory)",
    "408": "The request body did not arrive in time",
    "409": "Not allowed in the current state; the body lists the allowed steps",
    "413": "The request body is too large",
    "422": "Invalid input: the request's validation errors, or a domain error",
    "429": "Too many failed logins: wait Retry-After seconds",
    "503": "The database is unavailable: retry after Retry-After seconds",
}
WRITE_METHODS = ("post", "put", "patch", "delete")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(code: str, schema: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": DESCRIPTIONS[code],
        "content": {"application/json": {"schema": schema}},
    }
    if code in ("429", "503"):
        out["headers"] = RETRY_AFTER
    if code == "400":  # the server's own answer to a request line or headers it cannot parse
        out["content"]["text/plain"] = {"schema": {"type": "string"}}
    return out


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "404", "422", "503"]
    if operation.get("security"):
        codes += ["401", "403"]
    if method in WRITE_METHODS:
        codes += ["408", "409", "413"]
    if path == "/api/v1/auth/token":
        codes += ["401", "429"]
    return codes


def _document(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if path == "/healthz":
        responses["503"] = _response("503", _ref("HealthDown"))
        return
    if path.startswith("/open311/"):
        # Answers in JSON or XML, as the path's .json / .xml asks.
        ok: dict[str, Any] = next(iter(responses.values()), {"description": "OK"})
        ok["content"] = {"application/json": {"schema": {}}, "text/xml": {"schema": {}}}
        codes = ["400", "401", "403", "404", "409", "503"]
        if method == "post":  # a body refused before the route: 422s are answered as 400
            codes += ["408", "413"]
        for code in codes:
            responses[code] = _response(code, _ref("Open311Errors"))
            responses[code]["content"]["text/xml"] = {"schema": {}}
        return
    if not path.startswith("/api/"):
        responses["503"] = _response("503", _ref("ErrorBody"))
        return
    for code in _codes(path, method, operation):
        if code == "422":
            schema = {"anyOf": [_ref("HTTPValidationError"), _ref("ErrorBody")]}
            responses["422"] = _response("422", schema)
        else:
            responses[code] = _response(code, _ref("ErrorBody"))


def build(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the error answers of ``_document`` added to every route."""
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(ErrorBody=ERROR_BODY, Open311Errors=OPEN311_ERRORS, HealthDown=HEALTH_DOWN)
    if "HTTPValidationError" not in components:
        components["HTTPValidationError"] = {
            "title": "HTTPValidationError",
            "type": "object",
            "properties": {"detail": {"type": "array", "items": {"type": "object"}}},
        }
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                _document(path, method, operation)
    return schema


def install(app: FastAPI) -> None:
    """Serve ``build``'s document (made once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
