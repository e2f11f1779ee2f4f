"""The field types every request model uses, so no input reaches PostgreSQL that it refuses.

PostgreSQL text cannot hold NUL, UTF-8 cannot encode a lone UTF-16 surrogate (JSON's
``"\\ud800"`` decodes to one), an ``integer`` column overflows past 2**31 - 1, and
``datetime`` arithmetic overflows near years 1 and 9999. Each type here refuses its bad
values with a message that names what is wrong, so the API answers 422 instead of 500.

``Text`` is the one string type: every text field of every request model is a ``Text``
(``tests/web/test_input_types.py`` walks the app's routes and checks it). Give lengths with
``Field(max_length=...)`` as usual.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from geo.exceptions import InvalidInput

# A lone surrogate (U+D800-U+DFFF): a valid pair has already been combined by the JSON decoder.
_SURROGATE = re.compile("[\ud800-\udfff]")
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)


def text_problem(value: str) -> str | None:
    """What makes ``value`` unstorable as text (None when it is fine)."""
    if "\x00" in value:
        return "must not contain NUL characters (\\u0000)"
    if _SURROGATE.search(value):
        return "must not contain unpaired UTF-16 surrogates (not valid Unicode text)"
    return None


def _check_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def check_text_field(value: str, field: str) -> str:
    """``value`` when it is storable text, else ``InvalidInput`` naming ``field`` (for form
    fields and other inputs that no pydantic model reads)."""
    problem = text_problem(value)
    if problem is not None:
        msg = f"{field} {problem}"
        raise InvalidInput(msg)
    return value


def _check_moment(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        msg = "must carry a UTC offset, e.g. 2026-12-01T09:00:00+02:00"
        raise ValueError(msg)
    try:
        utc = value.astimezone(dt.UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc < LATEST:
        msg = f"must lie between {EARLIEST.year} and {LATEST.year - 1}"
        raise ValueError(msg)
    return value


def _check_finite(value: float) -> float:
    if not math.isfinite(value):
        msg = "must be a finite number"
        raise ValueError(msg)
    return value


Text = Annotated[str, AfterValidator(_check_text)]
"""Storable text: no NUL, no lone surrogates. The one string type of request models."""

_KEY = re.compile("[ -~]+")


def _check_key(value: str) -> str:
    if not _KEY.fullmatch(value):
        msg = "must be printable ASCII (letters, digits, punctuation, spaces), e.g. a UUID"
        raise ValueError(msg)
    return value


IdempotencyKeyText = Annotated[Text, AfterValidator(_check_key)]
"""An idempotency key as the Idempotency-Key header carries it (a structured-field string:
printable ASCII): a header's bytes outside it were read as Latin-1 and stored as other
characters than the client sent, so a retry from another client library missed them."""

Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""An id of an ``integer`` primary key (regions, crews, work orders, outages, users...)."""

BigId = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""An id of a ``bigint`` primary key (reports, events, notifications)."""

Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A non-negative integer that fits an ``integer`` column."""

Moment = Annotated[dt.datetime, AfterValidator(_check_moment)]
"""A datetime with its UTC offset, between 1900 and 2999 (so windows and notices can be
computed around it)."""

Finite = Annotated[float, AfterValidator(_check_finite)]
"""A finite float (JSON decoders accept NaN and Infinity)."""

Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]

MAX_RING_POSITIONS = 100_000
MAX_POLYGON_RINGS = 1_000


def _check_position(position: Any, where: str) -> None:
    if not isinstance(position, list) or len(position) not in (2, 3):
        msg = f"{where} must be a [lon, lat] position"
        raise ValueError(msg)
    if not all(isinstance(c, int | float) and not isinstance(c, bool) for c in position):
        msg = f"{where} must hold numbers"
        raise ValueError(msg)
    lon, lat = position[0], position[1]
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"{where} [{lon}, {lat}] is not a WGS84 lon/lat position"
        raise ValueError(msg)


def _check_polygon(rings: Any, where: str) -> None:
    if not isinstance(rings, list) or not rings or len(rings) > MAX_POLYGON_RINGS:
        msg = f"{where} must be a list of 1 to {MAX_POLYGON_RINGS} linear rings"
        raise ValueError(msg)
    for r, ring in enumerate(rings):
        here = f"{where}[{r}]"
        if not isinstance(ring, list) or not 4 <= len(ring) <= MAX_RING_POSITIONS:
            msg = f"{here} must be a closed ring of 4 to {MAX_RING_POSITIONS} positions"
            raise ValueError(msg)
        for p, position in enumerate(ring):
            _check_position(position, f"{here}[{p}]")
        if ring[0][:2] != ring[-1][:2]:
            msg = f"{here} is not closed: its first and last positions differ"
            raise ValueError(msg)


def _check_area(value: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Polygon or MultiPolygon whose coordinates have the right nesting, before
    PostGIS sees it (``ST_GeomFromGeoJSON`` fails with a server error on the wrong shape)."""
    kind, coordinates = value.get("type"), value.get("coordinates")
    if kind == "Polygon":
        _check_polygon(coordinates, "coordinates")
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            msg = "coordinates of a MultiPolygon must be a non-empty list of polygons"
            raise ValueError(msg)
        for i, polygon in enumerate(coordinates):
            _check_polygon(polygon, f"coordinates[{i}]")
    else:
        msg = "must be a GeoJSON Polygon or MultiPolygon in lon/lat"
        raise ValueError(msg)
    return value


GeoJSONArea = Annotated[dict[str, Any], AfterValidator(_check_area)]
"""A GeoJSON Polygon or MultiPolygon (RFC 7946, lon/lat), shape-checked."""
