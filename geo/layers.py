"""Map layers as GeoJSON FeatureCollections (RFC 7946, lon/lat), built whole in PostGIS.

The database assembles each collection with ``json_build_object`` / ``json_agg`` and hands
back one text value, so a layer costs one query and no Python per feature. A premise's
customer name, phone and account never go into the properties; the layers that show
premises, reports, crews or critical flags are ``staff_only`` (the web layer refuses them
without a staff login).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound

# Qualitative palette (Tableau 10 with its grey swapped out: grey is the colour of roads).
FEEDER_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#499894",
)
# Roads drawn heavier on the base map; everything else is rank 3.
MAJOR_HIGHWAYS = ("motorway", "trunk", "primary", "secondary")
MEDIUM_HIGHWAYS = ("tertiary",)
COORDINATE_DIGITS = 6  # about 0.1 m at these latitudes: plenty for a map, and small


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _feeder_color(feeder_id_sql: str) -> str:
    """SQL for a feeder's colour: picked by id, so it stays the same across requests."""
    palette = ", ".join(f"'{c}'" for c in FEEDER_PALETTE)
    return f"(ARRAY[{palette}])[1 + ({feeder_id_sql}) % {len(FEEDER_PALETTE)}]"


_LINK_HIGHWAYS = tuple(f"{h}_link" for h in MAJOR_HIGHWAYS)
_ROAD_RANK = (
    f"CASE WHEN t.highway IN ({_quoted(MAJOR_HIGHWAYS + _LINK_HIGHWAYS)}) THEN 1 "
    f"WHEN t.highway IN ({_quoted(MEDIUM_HIGHWAYS)}) THEN 2 ELSE 3 END"
)


@dataclass(frozen=True)
class LayerSpec:
    """How one layer is read: its FROM clause, geometry and properties (SQL fragments)."""

    description: str
    source: str
    properties: str
    geom: str = "t.geom"
    where: str | None = None  # an SQL condition on ``t``, e.g. only active rows
    # Staff only: where customers are (and which are critical: a life-support flag is health
    # data), who called from where, where the crews are.
    staff_only: bool = False


LAYERS: dict[str, LayerSpec] = {
    "roads": LayerSpec(
        description="Road edges from OpenStreetMap; rank 1 major, 2 medium, 3 minor.",
        source="road_edge t",
        properties=f"""'id', t.id, 'name', t.name, 'highway', t.highway,
            'oneway', t.oneway, 'rank', {_ROAD_RANK}""",
    ),
    "feeders": LayerSpec(
        description="Feeder service areas with a stable display colour and customer count.",
        source="feeder t LEFT JOIN region r ON r.id = t.region_id",
        properties=f"""'id', t.id, 'code', t.code, 'name', t.name,
            'color', {_feeder_color("t.id")}, 'region', r.code, 'voltage_kv', t.voltage_kv,
            'customers', (SELECT count(*) FROM premise p WHERE p.feeder_id = t.id)""",
    ),
    "devices": LayerSpec(
        description="Breakers, reclosers, fuses, switches and transformers.",
        source="device t JOIN feeder f ON f.id = t.feeder_id",
        properties=f"""'id', t.id, 'code', t.code, 'kind', t.kind, 'feeder', f.code,
            'color', {_feeder_color("f.id")}, 'upstream_id', t.upstream_id,
            'normally_open', t.normally_open""",
    ),
    "segments": LayerSpec(
        description="Line sections between devices, coloured by feeder.",
        source="segment t JOIN feeder f ON f.id = t.feeder_id",
        properties=f"""'id', t.id, 'feeder', f.code, 'color', {_feeder_color("f.id")},
            'from_device_id', t.from_device_id, 'to_device_id', t.to_device_id,
            'length_m', round(t.length_m::numeric, 1)""",
    ),
    "premises": LayerSpec(
        description="Service points: address, feeder, critical flag (staff only).",
        source="premise t LEFT JOIN feeder f ON f.id = t.feeder_id",
        properties="""'id', t.id, 'address', t.address, 'feeder', f.code,
            'critical', t.critical""",
        staff_only=True,
    ),
    "substations": LayerSpec(
        description="Substations.",
        source="substation t",
        properties="'id', t.id, 'code', t.code, 'name', t.name",
    ),
    "regions": LayerSpec(
        description="Supply regions.",
        source="region t",
        properties="""'id', t.id, 'code', t.code, 'name', t.name,
            'region_class', t.region_class, 'parent_id', t.parent_id""",
    ),
    "crews": LayerSpec(
        description="Field crews at their last known position, else at their depot (staff).",
        source="crew t",
        geom="COALESCE(t.geom, t.depot_geom)",
        properties=f"""'id', t.id, 'code', t.code, 'name', t.name, 'skills', t.skills,
            'status', t.status, 'position_at', t.position_at,
            'depot', ST_AsGeoJSON(t.depot_geom, {COORDINATE_DIGITS})::json -> 'coordinates'""",
        staff_only=True,
    ),
}

_COLLECTION = """
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(json_agg(feature ORDER BY fid), '[]'::json)
)::text
FROM (
    SELECT t.id AS fid, json_build_object(
        'type', 'Feature',
        'id', t.id,
        'geometry', ST_AsGeoJSON({geom}, {digits})::json,
        'properties', json_build_object({properties})
    ) AS feature
    FROM {source}
    {where}
) AS features
"""
_IN_BBOX = "ST_Intersects({geom}, ST_MakeEnvelope(:minlon, :minlat, :maxlon, :maxlat, 4326))"


class BBox(NamedTuple):
    """A lon/lat box, west-south-east-north as in RFC 7946 and the ``bbox`` parameter."""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    @classmethod
    def parse(cls, value: str) -> BBox:
        """Read ``minlon,minlat,maxlon,maxlat``, refusing anything that is not such a box."""
        parts = value.split(",")
        hint = "bbox must be minlon,minlat,maxlon,maxlat in degrees, e.g. 24.93,60.16,24.96,60.18"
        if len(parts) != 4:
            msg = f"{hint}; got {len(parts)} value(s) in {value!r}"
            raise InvalidInput(msg)
        try:
            numbers = [float(p) for p in parts]
        except ValueError as exc:
            msg = f"{hint}; {value!r} has a value that is not a number"
            raise InvalidInput(msg) from exc
        box = cls(*numbers)
        if not all(math.isfinite(n) for n in box):
            msg = f"{hint}; {value!r} is not finite"
            raise InvalidInput(msg)
        if not (-180 <= box.minlon < box.maxlon <= 180 and -90 <= box.minlat < box.maxlat <= 90):
            msg = f"{hint}; {value!r} is out of range or has min >= max"
            raise InvalidInput(msg)
        return box


def layer_spec(name: str, layers: Mapping[str, LayerSpec] = LAYERS) -> LayerSpec:
    """The spec of layer ``name``; unknown names are a NotFound listing the known ones."""
    spec = layers.get(name)
    if spec is None:
        msg = f"unknown layer {name!r}; known layers: {', '.join(layers)}"
        raise NotFound(msg)
    return spec


def get_layer(
    *,
    session: Session,
    name: str,
    bbox: BBox | None = None,
    layers: Mapping[str, LayerSpec] = LAYERS,
) -> str:
    """One layer as GeoJSON text, optionally only the features meeting ``bbox``.

    Returned as text rather than parsed: the web layer passes it through untouched.
    ``layers`` lets packages above ``geo`` (which ``geo`` must not import) add their own
    layer specs, e.g. ``outages.layers.LAYERS``. Who may read a ``staff_only`` layer is
    the caller's check (``layer_spec`` first).
    """
    spec = layer_spec(name, layers)
    conditions = [spec.where] if spec.where else []
    if bbox is not None:
        conditions.append(_IN_BBOX.format(geom=spec.geom))
    where = f"WHERE {' AND '.join(f'({c})' for c in conditions)}" if conditions else ""
    sql = _COLLECTION.format(
        geom=spec.geom,
        digits=COORDINATE_DIGITS,
        properties=spec.properties,
        source=spec.source,
        where=where,
    )
    params = bbox._asdict() if bbox is not None else {}
    return str(session.execute(text(sql), params).scalar_one())


def territory_bounds(*, session: Session) -> BBox | None:
    """The box around every feeder area (or road, before the grid is loaded); None if empty."""
    row = session.execute(
        text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ("
            " SELECT COALESCE((SELECT ST_Extent(geom) FROM feeder),"
            " (SELECT ST_Extent(geom) FROM road_edge)) AS e) AS x"
        )
    ).one()
    if row[0] is None:
        return None
    return BBox(*(float(v) for v in row))
