"""Reading a GIS file: one layer, reprojected to EPSG:4326, columns matched to the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from pyproj.exceptions import CRSError, ProjError

from geo.exceptions import ImportFailed
from geo.ingest.layer import Layer
from geo.ingest.schemas import SCHEMAS, ImportKind, LayerSchema
from geo.ingest.validate import check_duplicates, check_geometries, coerce_column
from geo.models import (
    SRID,
)

GEOJSON_DRIVERS = frozenset({"GeoJSON", "GeoJSONSeq"})


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
            parsed.values[fld.name] = coerce_column(parsed, fld, raw)
        else:
            parsed.values[fld.name] = [fld.default] * len(geoms)
    check_duplicates(parsed)
    check_geometries(parsed)
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
