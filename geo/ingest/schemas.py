"""The import schemas: which columns each kind of layer holds and where they go.

Documented for users in ``docs/import.md``; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import shapely
from sqlalchemy import Table

from geo.models import (
    CRITICAL_KINDS,
    DEVICE_KINDS,
    REGION_CLASSES,
    Device,
    Feeder,
    Premise,
    Region,
)

ImportKind = Literal["regions", "feeders", "devices", "premises"]
KINDS: tuple[ImportKind, ...] = get_args(ImportKind)
FieldType = Literal["text", "number", "flag"]
# dBASE (Shapefile) field names are cut to 10 characters by GDAL and most GIS exports.
SHAPEFILE_NAME_CHARS = 10
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


def table_of(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


SCHEMAS: dict[ImportKind, LayerSchema] = {
    "regions": LayerSchema(
        kind="regions",
        table=table_of(Region),
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
        table=table_of(Feeder),
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
        table=table_of(Device),
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
        table=table_of(Premise),
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
