"""Row checks that need no database: values against their fields, keys, geometries.

Every problem is recorded on the layer rather than raised, so one message can name them all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geo.ingest.layer import Layer
from geo.ingest.schemas import Field, FieldType

GEOMETRY_COLUMN = "geometry"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def coerce_column(parsed: Layer, fld: Field, raw: Sequence[Any]) -> list[Any]:
    coerce = _COERCERS[fld.type]
    out: list[Any] = []
    for row, value in enumerate(raw):
        try:
            coerced = None if _is_missing(value) else coerce(value)
            out.append(_check_value(fld, coerced))
        except ValueError as err:
            parsed.fail(row, fld.name, str(err))
            out.append(None)
    return out


def _is_missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    # NaT is unequal to itself like NaN; pandas.NA has no truth value at all.
    try:
        return bool(value != value)
    except TypeError:
        return True


def _check_value(fld: Field, value: Any) -> Any:
    """Apply the default, then the required / choices / length rules of ``fld``."""
    if value is None:
        if fld.required:
            msg = "is empty: a value is required"
            raise ValueError(msg)
        return fld.default
    if fld.choices:
        value = str(value).lower()
        if value not in fld.choices:
            msg = f'"{value}" is not one of {", ".join(fld.choices)}'
            raise ValueError(msg)
    if fld.max_chars is not None and len(value) > fld.max_chars:
        msg = f'"{value}" is longer than {fld.max_chars} characters'
        raise ValueError(msg)
    return value


def _as_text(value: Any) -> str | None:
    # Integer codes come back as floats from columns with empty cells: 101.0 means "101".
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _as_number(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        msg = f"{value!r} is not a number"
        raise ValueError(msg)
    # A decimal comma is what spreadsheets in most of Europe write.
    candidate = value.strip().replace(",", ".") if isinstance(value, str) else value
    try:
        number = float(candidate)
    except (TypeError, ValueError):
        msg = f'"{value}" is not a number'
        raise ValueError(msg) from None
    if not math.isfinite(number):
        msg = f'"{value}" is not a finite number'
        raise ValueError(msg)
    return number


def _as_flag(value: Any) -> bool:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    msg = f'"{value}" is not a yes/no value (true/false, yes/no, 1/0)'
    raise ValueError(msg)


_COERCERS: dict[FieldType, Callable[[Any], Any]] = {
    "text": _as_text,
    "number": _as_number,
    "flag": _as_flag,
}


def check_duplicates(parsed: Layer) -> None:
    key = parsed.schema.key
    first_row: dict[str, int] = {}
    for row, value in enumerate(parsed.values[key]):
        if value is None:
            continue
        if value in first_row:
            parsed.fail(row, key, f"duplicate: row {first_row[value] + 1} has the same {key}")
        else:
            first_row[value] = row


def check_geometries(parsed: Layer) -> None:
    """Empty, wrongly typed, off-the-globe or invalid geometries, each named by row.

    Single-point MultiPoints become Points (some exporters write every point layer as
    MultiPoint) and Polygons become MultiPolygons, the types the tables hold.
    """
    schema, geoms = parsed.schema, parsed.geoms
    single = shapely.get_type_id(geoms) == shapely.GeometryType.MULTIPOINT
    single &= shapely.get_num_geometries(geoms) == 1
    geoms[single] = shapely.get_geometry(geoms[single], 0)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    types = shapely.get_type_id(geoms)
    wrong_type = ~missing & ~np.isin(types, [t.value for t in schema.geometry_types])
    bounds = shapely.bounds(geoms)
    off_globe = ~missing & ~wrong_type & ~_on_globe(bounds)
    valid = shapely.is_valid(geoms)
    for row in np.flatnonzero(missing | wrong_type | off_globe | ~valid):
        if missing[row]:
            problem = f"geometry is empty: every feature needs a {schema.geometry_label}"
        elif wrong_type[row]:
            problem = f"a {geoms[row].geom_type} where a {schema.geometry_label} is expected"
        elif off_globe[row]:
            problem = (
                f"coordinates {_xy(bounds[row])} are not lon/lat after reprojection from "
                f"{parsed.crs}: is the layer's CRS right?"
            )
        else:
            problem = (
                f"invalid geometry ({shapely.is_valid_reason(geoms[row])}): repair it in the "
                "GIS (e.g. QGIS Fix Geometries or PostGIS ST_MakeValid) and retry"
            )
        parsed.fail(int(row), GEOMETRY_COLUMN, problem)
        parsed.geom_ok[row] = False
    polygons = parsed.geom_ok & (types == shapely.GeometryType.POLYGON)
    geoms[polygons] = shapely.multipolygons(geoms[polygons, np.newaxis])


def _on_globe(bounds: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(bounds).all(axis=1)
            & (bounds[:, 0] >= -180)
            & (bounds[:, 2] <= 180)
            & (bounds[:, 1] >= -90)
            & (bounds[:, 3] <= 90)
        )


def _xy(bounds: npt.NDArray[np.float64]) -> str:
    return f"({bounds[0]:.6g}, {bounds[1]:.6g})"
