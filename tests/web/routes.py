"""The app's API routes as (method, path, route), for the tests that walk every route."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """Every method and path of every API route (included routers flattened), sorted."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.route
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                found.append((method, context.path, route))
    yield from sorted(found, key=lambda item: (item[1], item[0]))
