"""Every text input of every route is ``geo.types.Text`` and every integer input is bounded.

Walks the app's routes (path, query, header, form and body parameters, and the request
models' fields, recursively): a new route or model with a bare ``str`` or ``int`` fails
here, and the message names the route, the parameter and the type to use.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Annotated, Any, Literal, get_args, get_origin

from annotated_types import Ge, Le
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from geo.types import Text
from tests.web.routes import api_routes
from web.main import create_app
from web.settings import Settings

TEXT_CHECK = get_args(Text)[1]


def _bounded(metadata: list[Any]) -> bool:
    has_ge = any(isinstance(m, Ge) for m in metadata)
    has_le = any(isinstance(m, Le) for m in metadata)
    return has_ge and has_le


def _problems(annotation: Any, metadata: list[Any], where: str, seen: set[type]) -> Iterator[str]:
    """Bare ``str`` / unbounded ``int`` found anywhere inside ``annotation``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        for item in extra:  # Field(ge=...) inside Annotated carries its constraints
            metadata = [*metadata, item, *(item.metadata if isinstance(item, FieldInfo) else ())]
        yield from _problems(inner, metadata, where, seen)
        return
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        for arg in get_args(annotation):
            if arg is not type(None) and arg is not Ellipsis:
                yield from _problems(arg, metadata if origin is not list else [], where, seen)
        return
    if origin is dict:
        # free-form objects (a GeoJSON area) are shape-checked by their own validator
        return
    if origin is Literal or annotation in (bool, float, type(None)):
        return
    if annotation is str:
        if TEXT_CHECK not in metadata:
            yield f"{where}: a bare str; use geo.types.Text"
        return
    if annotation is int:
        if not _bounded(metadata):
            yield f"{where}: an unbounded int; use geo.types.Id / BigId / Count or ge= and le="
        return
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            yield from _field_problems(field, f"{where}.{name}", seen)


def _field_problems(field: FieldInfo, where: str, seen: set[type]) -> Iterator[str]:
    yield from _problems(field.annotation, list(field.metadata), where, seen)


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def route_problems() -> list[str]:
    app = create_app(Settings(DATABASE_URL="postgresql://unused/unused"))
    problems: list[str] = []
    seen: set[type] = set()
    for method, path, route in api_routes(app):
        name = f"{method} {path}"
        for dependant in _dependants(route.dependant):
            params = (
                dependant.path_params
                + dependant.query_params
                + dependant.header_params
                + dependant.cookie_params
                + dependant.body_params
            )
            for param in params:
                where = f"{name} {param.name}"
                problems += _field_problems(param.field_info, where, seen)
    return sorted(set(problems))


def test_every_text_input_is_text_and_every_int_is_bounded() -> None:
    problems = route_problems()
    assert not problems, "inputs that can reach PostgreSQL unchecked:\n" + "\n".join(problems)
