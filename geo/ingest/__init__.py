"""Import GIS layers of the territory: regions, feeders, devices and premises.

Utilities keep their network in a GIS and export it as GeoJSON, GeoPackage or Shapefile;
this module is the one door those exports come in by. A file is imported whole or not at
all: it is read, reprojected to EPSG:4326 and checked row by row against its schema and
against the database first, every problem found is reported in one message (exports usually
have several at once), and only a clean file is written, inside a savepoint so a database
error midway leaves nothing behind. Rows are upserted by code (account for premises), so
importing a corrected file again is the way to fix data. The schemas are documented for
users in ``docs/import.md``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pyogrio
import shapely
from geoalchemy2 import Geometry
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj.exceptions import CRSError, ProjError
from scipy.spatial import cKDTree
from sqlalchemy import String, Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo.exceptions import ImportFailed
from geo.locator import NOT_FOUND, BulkLocator
from geo.models import (
    CRITICAL_KINDS,
    DEVICE_KINDS,
    REGION_CLASSES,
    SRID,
    Device,
    Feeder,
    Premise,
    Region,
)
from geo.normalize import normalize_address

ImportKind = Literal["regions", "feeders", "devices", "premises"]
KINDS: tuple[ImportKind, ...] = get_args(ImportKind)
FieldType = Literal["text", "number", "flag"]

# One screenful: enough to show the pattern of what is wrong with an export.
MAX_REPORTED_ERRORS = 20
# Rows per upsert statement: large enough that round trips do not matter, small enough
# that one statement's arrays stay a few megabytes.
UPSERT_BATCH_ROWS = 20_000
# dBASE (Shapefile) field names are cut to 10 characters by GDAL and most GIS exports.
SHAPEFILE_NAME_CHARS = 10
GEOJSON_DRIVERS = frozenset({"GeoJSON", "GeoJSONSeq"})
GEOMETRY_COLUMN = "geometry"
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})
_POINT_TYPES = frozenset({shapely.GeometryType.POINT})
_POLYGON_TYPES = frozenset({shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON})


@dataclass(frozen=True)
class Field:
    """One column of an import schema.

    ``references`` names the table whose ``code`` the value points at; the database column
    filled is then the name with ``_code`` replaced by ``_id`` (``feeder_code`` ->
    ``feeder_id``). ``default`` applies to empty values and to new rows when the column is
    absent; an absent optional column leaves existing rows' values alone on update.
    """

    name: str
    type: FieldType = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | float | bool | None = None
    max_chars: int | None = None
    references: str | None = None

    @property
    def db_column(self) -> str:
        return self.name.removesuffix("_code") + "_id" if self.references else self.name

    @property
    def shapefile_name(self) -> str:
        return self.name[:SHAPEFILE_NAME_CHARS]


@dataclass(frozen=True)
class LayerSchema:
    """What one kind of layer must hold and where it goes.

    ``parent`` is the column naming another row of the same table (a region's parent, a
    device's upstream device): those links must form a tree and are written after the rows.
    ``derived`` are database columns the importer computes, always written on update.
    """

    kind: ImportKind
    table: Table
    key: str
    geometry: Literal["point", "polygon"]
    fields: tuple[Field, ...]
    parent: str | None = None
    derived: tuple[str, ...] = ()

    @property
    def geometry_types(self) -> frozenset[shapely.GeometryType]:
        return _POINT_TYPES if self.geometry == "point" else _POLYGON_TYPES

    @property
    def geometry_label(self) -> str:
        return "Point" if self.geometry == "point" else "Polygon or MultiPolygon"


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


SCHEMAS: dict[ImportKind, LayerSchema] = {
    "regions": LayerSchema(
        kind="regions",
        table=_table(Region),
        key="code",
        geometry="polygon",
        fields=(
            Field("code", required=True, max_chars=64),
            Field("name", required=True),
            Field("region_class", choices=REGION_CLASSES, default="urban"),
            Field("parent_code", references="region"),
        ),
        parent="parent_code",
    ),
    "feeders": LayerSchema(
        kind="feeders",
        table=_table(Feeder),
        key="code",
        geometry="polygon",
        fields=(
            Field("code", required=True, max_chars=64),
            Field("name", required=True),
            Field("substation_code", references="substation"),
            Field("region_code", references="region"),
            Field("voltage_kv", type="number", default=10.0),
        ),
    ),
    "devices": LayerSchema(
        kind="devices",
        table=_table(Device),
        key="code",
        geometry="point",
        fields=(
            Field("code", required=True, max_chars=64),
            Field("kind", required=True, choices=DEVICE_KINDS),
            Field("feeder_code", required=True, references="feeder"),
            Field("upstream_code", references="device"),
            Field("normally_open", type="flag", default=False),
            Field("rated_kva", type="number"),
        ),
        parent="upstream_code",
    ),
    "premises": LayerSchema(
        kind="premises",
        table=_table(Premise),
        key="account",
        geometry="point",
        fields=(
            Field("account", required=True, max_chars=32),
            Field("address", required=True),
            Field("feeder_code", references="feeder"),
            Field("transformer_code", references="device"),
            Field("region_code", references="region"),
            Field("critical", choices=CRITICAL_KINDS),
            Field("postcode", max_chars=16),
            Field("city"),
            Field("customer_name"),
            Field("phone", max_chars=32),
        ),
        derived=(
            "address_norm",
            "street_norm",
            "house_norm",
            "feeder_id",
            "transformer_id",
            "region_id",
        ),
    ),
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did: rows inserted and updated, the CRS it read, how long it took."""

    kind: ImportKind
    path: Path
    layer: str | None
    crs: str
    inserted: int
    updated: int
    duration_s: float

    @property
    def rows(self) -> int:
        return self.inserted + self.updated


@dataclass(frozen=True)
class RowError:
    """One problem in one row: ``row`` is the 0-based feature index."""

    row: int
    column: str
    message: str


@dataclass
class Layer:
    """A file read, reprojected to EPSG:4326 and checked row by row, not yet written.

    ``values`` holds the coerced value of every schema field per row (the field's default,
    often ``None``, when empty or when the column is absent); ``present`` names the fields
    the file has.
    """

    schema: LayerSchema
    path: Path
    crs: str
    present: frozenset[str]
    values: dict[str, list[Any]]
    geoms: npt.NDArray[np.object_]
    geom_ok: npt.NDArray[np.bool_]
    errors: list[RowError] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.geoms)

    def fail(self, row: int, column: str, message: str) -> None:
        self.errors.append(RowError(row, column, message))

    def label(self, row: int) -> str:
        """``row 7 (code "F-07")``: the 1-based feature number GIS tools show, and the key."""
        key = self.values[self.schema.key][row]
        return f"row {row + 1}" + (f' ({self.schema.key} "{key}")' if key is not None else "")

    def raise_if_errors(self) -> None:
        """Refuse the whole file with every problem found (the first twenty of them)."""
        if not self.errors:
            return
        errors = sorted(self.errors, key=lambda e: e.row)
        lines = [f"  {self.label(e.row)}: column {e.column}: {e.message}" for e in errors]
        if len(lines) > MAX_REPORTED_ERRORS:
            lines = [
                *lines[:MAX_REPORTED_ERRORS],
                f"  ... and {len(lines) - MAX_REPORTED_ERRORS} more",
            ]
        problems = "problem" if len(errors) == 1 else "problems"
        msg = (
            f"{self.path.name}: {len(errors)} {problems} found, nothing was imported:\n"
            + "\n".join(lines)
            + "\nFix them in the file and import it again (see docs/import.md)."
        )
        raise ImportFailed(msg)


def import_file(
    *, session: Session, kind: ImportKind, path: Path, layer: str | None = None
) -> ImportReport:
    """Import one layer file of ``kind`` into the territory, all or nothing.

    Parameters
    ----------
    session
        The caller owns the transaction; the writes happen in a savepoint inside it, so a
        refused file leaves the caller's transaction usable and unchanged.
    kind
        Which table the file feeds (see ``SCHEMAS`` and docs/import.md).
    path
        A GeoJSON, GeoPackage or Shapefile.
    layer
        The layer to read from a multi-layer file such as a GeoPackage.

    Raises
    ------
    ImportFailed
        The file is unreadable, has no usable CRS, lacks a required column, or has rows
        that are invalid or point at objects that do not exist; the message names the rows
        and columns. Nothing is written then.
    """
    started = time.perf_counter()
    parsed = read_layer(kind=kind, path=path, layer=layer)
    resolved = _RESOLVERS[kind](session, parsed)
    parsed.raise_if_errors()
    inserted, updated = _write(session, parsed, resolved)
    return ImportReport(
        kind=kind,
        path=path,
        layer=layer,
        crs=parsed.crs,
        inserted=inserted,
        updated=updated,
        duration_s=time.perf_counter() - started,
    )


def read_layer(*, kind: ImportKind, path: Path, layer: str | None = None) -> Layer:
    """Read a file into a checked ``Layer`` without touching the database.

    File-level problems (unreadable, no CRS, missing column) raise ``ImportFailed`` at once;
    row-level problems are collected in ``Layer.errors`` so they can be reported together
    with the ones only the database can reveal.
    """
    schema = SCHEMAS[kind]
    frame, driver = _read_frame(path, layer)
    frame, crs = _to_wgs84(frame, path, driver)
    columns = _match_columns(frame, schema, path)
    geoms = shapely.force_2d(np.asarray(frame.geometry.to_numpy(), dtype=object))
    parsed = Layer(
        schema=schema,
        path=path,
        crs=crs,
        present=frozenset(columns),
        values={},
        geoms=geoms,
        geom_ok=np.ones(len(geoms), dtype=bool),
    )
    for fld in schema.fields:
        if fld.name in columns:
            raw = frame[columns[fld.name]].tolist()
            parsed.values[fld.name] = _coerce_column(parsed, fld, raw)
        else:
            parsed.values[fld.name] = [fld.default] * len(geoms)
    _check_duplicates(parsed)
    _check_geometries(parsed)
    return parsed


def _read_frame(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, str]:
    """The layer as a GeoDataFrame and the GDAL driver that read it."""
    if not path.is_file():
        msg = f"{path}: no such file"
        raise ImportFailed(msg)
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except DataSourceError as err:
        msg = f"{path}: not a readable GeoJSON, GeoPackage or Shapefile ({err})"
        raise ImportFailed(msg) from err
    if layer is not None and layer not in names:
        msg = f"{path}: no layer {layer!r}; the file holds {', '.join(names) or 'no layers'}"
        raise ImportFailed(msg)
    if layer is None and len(names) > 1:
        msg = f"{path} holds {len(names)} layers ({', '.join(names)}): choose one with --layer"
        raise ImportFailed(msg)
    try:
        driver = str(pyogrio.read_info(path, layer=layer)["driver"])
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (DataSourceError, DataLayerError, FieldError, GeometryError) as err:
        msg = f"{path}: could not be read ({err})"
        raise ImportFailed(msg) from err
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        msg = f"{path}: has no geometry column; is it a GIS layer (GeoJSON, GPKG, Shapefile)?"
        raise ImportFailed(msg)
    if frame.empty:
        msg = f"{path}: the layer has no features; is it the right file or --layer?"
        raise ImportFailed(msg)
    return frame, driver


def _to_wgs84(frame: gpd.GeoDataFrame, path: Path, driver: str) -> tuple[gpd.GeoDataFrame, str]:
    """The frame in EPSG:4326 and a short name of the CRS it came in."""
    if frame.crs is None:
        if driver in GEOJSON_DRIVERS:
            # RFC 7946: GeoJSON coordinates are WGS 84 lon/lat, CRS member or not.
            return frame.set_crs(SRID), f"EPSG:{SRID} (GeoJSON default)"
        prj = path.with_suffix(".prj")
        hint = f" ({prj.name} exists but its CRS was not understood)" if prj.exists() else ""
        msg = f"{path.name}: file has no CRS{hint}: set one (e.g. EPSG:4326) and retry"
        raise ImportFailed(msg)
    crs_name = _crs_name(frame.crs)
    try:
        return frame.to_crs(SRID), crs_name
    except (CRSError, ProjError) as err:
        msg = (
            f"{path.name}: CRS {crs_name} cannot be transformed to EPSG:4326 ({err}): "
            "re-export the layer in a standard CRS such as EPSG:4326"
        )
        raise ImportFailed(msg) from err


def _crs_name(crs: Any) -> str:
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else str(crs.name)


def _match_columns(frame: gpd.GeoDataFrame, schema: LayerSchema, path: Path) -> dict[str, str]:
    """Schema field -> file column, matched case-insensitively, Shapefile-truncated or not."""
    found = [str(c) for c in frame.columns if c != frame.geometry.name]
    by_lower: dict[str, str] = {}
    for column in found:
        by_lower.setdefault(column.lower(), column)
    columns = {
        fld.name: by_lower.get(fld.name, by_lower.get(fld.shapefile_name, ""))
        for fld in schema.fields
    }
    columns = {name: column for name, column in columns.items() if column}
    missing = [fld.name for fld in schema.fields if fld.required and fld.name not in columns]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        msg = (
            f"{path.name}: missing required column{plural} {', '.join(missing)} for "
            f"{schema.kind}; columns found: {', '.join(found) or 'none'} "
            "(see docs/import.md for the schema)"
        )
        raise ImportFailed(msg)
    return columns


def _coerce_column(parsed: Layer, fld: Field, raw: Sequence[Any]) -> list[Any]:
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


def _check_duplicates(parsed: Layer) -> None:
    key = parsed.schema.key
    first_row: dict[str, int] = {}
    for row, value in enumerate(parsed.values[key]):
        if value is None:
            continue
        if value in first_row:
            parsed.fail(row, key, f"duplicate: row {first_row[value] + 1} has the same {key}")
        else:
            first_row[value] = row


def _check_geometries(parsed: Layer) -> None:
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


# --- Resolution against the database -------------------------------------------------------

Resolved = dict[str, list[Any]]


def _resolve_regions(session: Session, parsed: Layer) -> Resolved:
    resolved = _resolve_references(session, parsed)
    _check_tree(session, parsed)
    return resolved


def _resolve_feeders(session: Session, parsed: Layer) -> Resolved:
    return _resolve_references(session, parsed)


def _resolve_devices(session: Session, parsed: Layer) -> Resolved:
    resolved = _resolve_references(session, parsed)
    if "upstream_code" in parsed.present:
        _check_upstream_feeders(session, parsed, resolved["feeder_id"])
    _check_tree(session, parsed)
    return resolved


def _resolve_premises(session: Session, parsed: Layer) -> Resolved:
    """References, then normalized addresses, then feeder/region/transformer where missing."""
    resolved = _resolve_references(session, parsed)
    resolved.update(_normalized_addresses(parsed))
    _check_transformers(session, parsed, resolved)
    _derive_from_location(session, parsed, resolved)
    return resolved


_RESOLVERS: dict[ImportKind, Callable[[Session, Layer], Resolved]] = {
    "regions": _resolve_regions,
    "feeders": _resolve_feeders,
    "devices": _resolve_devices,
    "premises": _resolve_premises,
}


def _codes_to_ids(session: Session, table: str, codes: Iterable[str]) -> dict[str, int]:
    rows = session.execute(
        text(f"SELECT code, id FROM {table} WHERE code = ANY(:codes)"),
        {"codes": sorted(set(codes))},
    )
    return {code: int(row_id) for code, row_id in rows}


def _resolve_references(session: Session, parsed: Layer) -> Resolved:
    """Database ids for every ``*_code`` column; a code found nowhere is a row error.

    A parent code may also name a row of the file itself: its id exists only after the
    write, so it is looked up then.
    """
    resolved: Resolved = {}
    keys_in_file = set(parsed.values[parsed.schema.key])
    for fld in parsed.schema.fields:
        if fld.references is None:
            continue
        codes = parsed.values[fld.name]
        ids = _codes_to_ids(session, fld.references, (c for c in codes if c is not None))
        in_file = fld.name == parsed.schema.parent
        for row, code in enumerate(codes):
            if code is not None and code not in ids and not (in_file and code in keys_in_file):
                where = " in the database or in this file" if in_file else ""
                parsed.fail(
                    row,
                    fld.name,
                    f'{fld.references} "{code}" does not exist{where}: import it first or fix '
                    "the code",
                )
        resolved[fld.db_column] = [ids.get(code) for code in codes]
    return resolved


def _check_tree(session: Session, parsed: Layer) -> None:
    """Refuse parent links that would close a loop, with the rows of the file in it.

    The file's links replace the stored ones of the same codes, so a loop may run through
    rows of the database that the file does not mention.
    """
    parent = parsed.schema.parent
    if parent is None or parent not in parsed.present:
        return
    table = parsed.schema.table.name
    parent_id = parent.removesuffix("_code") + "_id"
    stored = session.execute(
        text(f"SELECT c.code, p.code FROM {table} c LEFT JOIN {table} p ON p.id = c.{parent_id}")
    )
    parents: dict[str, str | None] = dict(stored.all())
    row_of: dict[str, int] = {}
    for row, (code, up) in enumerate(
        zip(parsed.values["code"], parsed.values[parent], strict=True)
    ):
        if code is not None:
            parents[code] = up
            row_of.setdefault(code, row)
    for loop in _loops(parents, row_of):
        chain = " -> ".join(f'"{code}"' for code in [*loop, loop[0]])
        for code in loop:
            if code in row_of:
                parsed.fail(row_of[code], parent, f"closes a loop {chain}: links must form a tree")


def _loops(parents: Mapping[str, str | None], starts: Iterable[str]) -> list[list[str]]:
    """Every loop reached by following ``parents`` up from ``starts``, each reported once."""
    done: set[str] = set()
    loops: list[list[str]] = []
    for start in starts:
        path: list[str] = []
        position: dict[str, int] = {}
        node: str | None = start
        while node is not None and node not in done and node not in position:
            position[node] = len(path)
            path.append(node)
            node = parents.get(node)
        if node is not None and node in position:
            loops.append(path[position[node] :])
        done.update(path)
    return loops


def _check_upstream_feeders(session: Session, parsed: Layer, feeder_ids: list[Any]) -> None:
    """A device hangs below a device of its own feeder: each feeder's tree stands alone."""
    feeder_codes = parsed.values["feeder_code"]
    feeder_of = dict(
        session.execute(
            text(
                "SELECT d.code, f.code FROM device d JOIN feeder f ON f.id = d.feeder_id "
                "WHERE d.code = ANY(:codes)"
            ),
            {"codes": sorted({c for c in parsed.values["upstream_code"] if c is not None})},
        ).all()
    )
    for row, code in enumerate(parsed.values["code"]):
        if code is not None and feeder_ids[row] is not None:
            feeder_of[code] = feeder_codes[row]
    for row, upstream in enumerate(parsed.values["upstream_code"]):
        if upstream is None:
            continue
        own, theirs = feeder_codes[row], feeder_of.get(upstream)
        if own is not None and theirs is not None and own != theirs:
            parsed.fail(
                row,
                "upstream_code",
                f'device "{upstream}" is on feeder "{theirs}", not "{own}": a device hangs '
                "below a device of its own feeder",
            )


def _normalized_addresses(parsed: Layer) -> Resolved:
    """The normalized forms the geocoder matches against (see ``geo.normalize``)."""
    house_chars = _column_chars(Premise, "house_norm")
    columns: Resolved = {"address_norm": [], "street_norm": [], "house_norm": []}
    for row, address in enumerate(parsed.values["address"]):
        norm = normalize_address(address or "")
        if address is not None and not norm.full:
            parsed.fail(row, "address", f'"{address}" has no street name or house number')
        elif len(norm.house) > house_chars:
            parsed.fail(row, "address", f'house number "{norm.house}" is too long')
        columns["address_norm"].append(norm.full)
        columns["street_norm"].append(norm.street)
        columns["house_norm"].append(norm.house)
    return columns


def _column_chars(model: type[Any], column: str) -> int:
    return int(cast(String, _table(model).c[column].type).length or 0)


def _check_transformers(session: Session, parsed: Layer, resolved: Resolved) -> None:
    """A premise's transformer is a transformer, and it fixes the premise's feeder.

    Electrical connection outranks geography: a premise near a feeder boundary belongs to
    the feeder of the transformer that serves it, not to the service area it falls in.
    """
    codes = parsed.values["transformer_code"]
    stored = {
        code: (kind, feeder_id, feeder_code)
        for code, kind, feeder_id, feeder_code in session.execute(
            text(
                "SELECT d.code, d.kind, d.feeder_id, f.code FROM device d "
                "JOIN feeder f ON f.id = d.feeder_id WHERE d.code = ANY(:codes)"
            ),
            {"codes": sorted({c for c in codes if c is not None})},
        )
    }
    for row, code in enumerate(codes):
        if code not in stored:
            continue
        kind, feeder_id, feeder_code = stored[code]
        own_code = parsed.values["feeder_code"][row]
        if kind != "transformer":
            parsed.fail(row, "transformer_code", f'device "{code}" is a {kind}, not a transformer')
        elif own_code is None:
            resolved["feeder_id"][row] = feeder_id
        elif own_code != feeder_code:
            parsed.fail(
                row,
                "transformer_code",
                f'transformer "{code}" is on feeder "{feeder_code}", not "{own_code}"',
            )


def _derive_from_location(session: Session, parsed: Layer, resolved: Resolved) -> None:
    """Fill the feeder, region and transformer a premise's file row leaves empty.

    Feeder and region come from the service areas covering the point, decided by
    ``geo.locator.BulkLocator`` so an imported premise lands where a report at the same
    point would; a region failing that comes from the feeder, and the transformer is the
    nearest one on the premise's feeder.
    """
    values, feeder_ids, region_ids = parsed.values, resolved["feeder_id"], resolved["region_id"]
    lons, lats = shapely.get_x(parsed.geoms), shapely.get_y(parsed.geoms)
    no_feeder = [
        parsed.geom_ok[row] and feeder_ids[row] is None and values["feeder_code"][row] is None
        for row in range(parsed.row_count)
    ]
    no_region = [
        parsed.geom_ok[row] and region_ids[row] is None and values["region_code"][row] is None
        for row in range(parsed.row_count)
    ]
    wanted = np.flatnonzero(np.logical_or(no_feeder, no_region))
    if len(wanted):
        found_regions, found_feeders = BulkLocator.from_session(session).locate_many(
            lons[wanted], lats[wanted]
        )
        for row, region_id, feeder_id in zip(
            wanted.tolist(), found_regions.tolist(), found_feeders.tolist(), strict=True
        ):
            if no_feeder[row]:
                feeder_ids[row] = None if feeder_id == NOT_FOUND else feeder_id
            if no_region[row]:
                region_ids[row] = None if region_id == NOT_FOUND else region_id
    for row in np.flatnonzero(no_feeder).tolist():
        if feeder_ids[row] is None:
            parsed.fail(
                row,
                "feeder_code",
                f"is empty and the point ({lons[row]:.6f}, {lats[row]:.6f}) lies outside "
                "every feeder's service area: give a feeder_code or check the geometry",
            )
    _regions_from_feeders(session, parsed, feeder_ids, region_ids)
    _nearest_transformers(session, parsed, resolved, lons, lats)


def _regions_from_feeders(
    session: Session, parsed: Layer, feeder_ids: list[Any], region_ids: list[Any]
) -> None:
    region_of_feeder: dict[int, int | None] = dict(
        session.execute(
            text("SELECT id, region_id FROM feeder WHERE id = ANY(:ids)"),
            {"ids": sorted({f for f in feeder_ids if f is not None})},
        ).all()
    )
    for row, feeder_id in enumerate(feeder_ids):
        if region_ids[row] is None and parsed.values["region_code"][row] is None:
            region_ids[row] = region_of_feeder.get(feeder_id)


def _nearest_transformers(
    session: Session,
    parsed: Layer,
    resolved: Resolved,
    lons: npt.NDArray[np.float64],
    lats: npt.NDArray[np.float64],
) -> None:
    """The nearest transformer on the premise's feeder, for rows that name none.

    Distances are equirectangular around each feeder's mean latitude: over a feeder's few
    kilometres that ranks like metres on the ground, which plain degrees do not (a degree
    of longitude is half a degree of latitude at 60 N).
    """
    feeder_ids, transformer_ids = resolved["feeder_id"], resolved["transformer_id"]
    rows_of_feeder: dict[int, list[int]] = {}
    for row in range(parsed.row_count):
        if (
            parsed.geom_ok[row]
            and feeder_ids[row] is not None
            and parsed.values["transformer_code"][row] is None
        ):
            rows_of_feeder.setdefault(feeder_ids[row], []).append(row)
    transformers = session.execute(
        text(
            "SELECT feeder_id, id, ST_X(geom), ST_Y(geom) FROM device "
            "WHERE kind = 'transformer' AND feeder_id = ANY(:feeders) ORDER BY feeder_id, id"
        ),
        {"feeders": sorted(rows_of_feeder)},
    ).all()
    for feeder_id, group in itertools.groupby(transformers, key=lambda t: t[0]):
        _, ids, xs, ys = (np.asarray(column) for column in zip(*group, strict=True))
        rows = np.asarray(rows_of_feeder[feeder_id])
        x_scale = math.cos(math.radians(float(np.mean(ys))))
        tree = cKDTree(np.column_stack([xs * x_scale, ys]))
        _, nearest = tree.query(np.column_stack([lons[rows] * x_scale, lats[rows]]))
        for row, transformer_id in zip(rows.tolist(), ids[nearest].tolist(), strict=True):
            transformer_ids[row] = transformer_id


# --- Writing ---------------------------------------------------------------------------------


def _write(session: Session, parsed: Layer, resolved: Resolved) -> tuple[int, int]:
    """Upsert every row in one savepoint; return how many were inserted and updated."""
    schema = parsed.schema
    keys = parsed.values[schema.key]
    existing = set(
        session.scalars(
            text(f"SELECT {schema.key} FROM {schema.table.name} WHERE {schema.key} = ANY(:keys)"),
            {"keys": keys},
        )
    )
    columns = _db_columns(parsed, resolved)
    try:
        with session.begin_nested():
            streets = _streets_of(session, keys) if schema.kind == "premises" else set()
            for start in range(0, len(keys), UPSERT_BATCH_ROWS):
                batch = {c: v[start : start + UPSERT_BATCH_ROWS] for c, v in columns.items()}
                session.execute(_upsert_statement(parsed, list(columns)), batch)
            if schema.parent is not None and schema.parent in parsed.present:
                _link_parents(session, parsed)
            if schema.kind == "premises":
                _refresh_streets(session, streets | set(resolved["street_norm"]))
    except DBAPIError as err:
        msg = f"{parsed.path.name}: the database refused the file, nothing was imported: {err.orig}"
        raise ImportFailed(msg) from err
    inserted = sum(key not in existing for key in keys)
    return inserted, len(keys) - inserted


def _plain_fields(schema: LayerSchema) -> list[Field]:
    """The fields written by the upsert itself: all but the parent link, written after."""
    return [fld for fld in schema.fields if fld.name != schema.parent]


def _db_columns(parsed: Layer, resolved: Resolved) -> dict[str, list[Any]]:
    """The values to write, column by column, as the upsert binds them (one array each)."""
    schema = parsed.schema
    columns = {
        fld.db_column: resolved.get(fld.db_column, parsed.values[fld.name])
        for fld in _plain_fields(schema)
    }
    columns.update({column: resolved[column] for column in schema.derived})
    # Hex EWKB is exact, and PostGIS parses it as geometry input text.
    columns["geom"] = shapely.to_wkb(
        shapely.set_srid(parsed.geoms, SRID), hex=True, include_srid=True
    ).tolist()
    return columns


def _array(table: Table, column: str) -> str:
    """The bound list ``:column`` as an array of the column's type.

    Geometries go through text[]: PostGIS arrays of geometry use ':' as their element
    delimiter, so the driver's comma-separated array literal would not split.
    """
    sql_type = table.c[column].type.compile(dialect=postgresql.dialect())
    if isinstance(table.c[column].type, Geometry):
        return f"CAST(CAST(:{column} AS TEXT[]) AS {sql_type}[])"
    return f"CAST(:{column} AS {sql_type}[])"


def _upsert_statement(parsed: Layer, columns: list[str]) -> TextClause:
    """``INSERT ... SELECT FROM unnest(arrays) ON CONFLICT (key) DO UPDATE``.

    One array per column makes a whole batch one round trip with a handful of parameters,
    where executemany would send a statement per row (minutes at 100k premises).
    """
    table = parsed.schema.table
    arrays = ", ".join(_array(table, name) for name in columns)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in _update_columns(parsed))
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
        f"ON CONFLICT ({parsed.schema.key}) DO UPDATE SET {updates}"
    )


def _update_columns(parsed: Layer) -> list[str]:
    """Columns an upsert overwrites: those the file has, what is derived, the geometry.

    An optional column missing from the file keeps existing rows' values, so a file with
    fewer columns does not wipe data imported before.
    """
    schema = parsed.schema
    given = [
        fld.db_column
        for fld in _plain_fields(schema)
        if fld.name in parsed.present and fld.name != schema.key
    ]
    return [*dict.fromkeys([*given, *schema.derived, "geom"])]


def _link_parents(session: Session, parsed: Layer) -> None:
    """Set parent ids by code once every row of the file exists, in one statement."""
    schema = parsed.schema
    assert schema.parent is not None
    table, parent_id = schema.table.name, schema.parent.removesuffix("_code") + "_id"
    session.execute(
        text(
            f"UPDATE {table} AS c SET {parent_id} = p.id "
            "FROM unnest(CAST(:codes AS text[]), CAST(:parents AS text[])) AS v(code, parent) "
            f"LEFT JOIN {table} AS p ON p.code = v.parent WHERE c.code = v.code"
        ),
        {"codes": parsed.values[schema.key], "parents": parsed.values[schema.parent]},
    )


def _streets_of(session: Session, accounts: list[Any]) -> set[str]:
    """Streets of premises about to be updated: a moved premise may empty its old street."""
    return set(
        session.scalars(
            text("SELECT DISTINCT street_norm FROM premise WHERE account = ANY(:accounts)"),
            {"accounts": accounts},
        )
    )


def _refresh_streets(session: Session, names: set[str]) -> None:
    """Recount the touched streets of the geocoder's street table; drop emptied ones."""
    params = {"names": sorted(name for name in names if name)}
    session.execute(
        text(
            "INSERT INTO street (name_norm, premise_count) "
            "SELECT street_norm, count(*) FROM premise WHERE street_norm = ANY(:names) "
            "GROUP BY street_norm "
            "ON CONFLICT (name_norm) DO UPDATE SET premise_count = EXCLUDED.premise_count"
        ),
        params,
    )
    session.execute(
        text(
            "DELETE FROM street s WHERE s.name_norm = ANY(:names) "
            "AND NOT EXISTS (SELECT 1 FROM premise p WHERE p.street_norm = s.name_norm)"
        ),
        params,
    )
