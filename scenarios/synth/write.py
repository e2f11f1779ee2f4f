"""Bulk-loading a territory (and its grid) into PostGIS by COPY, in one transaction."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from sqlalchemy.engine import make_url

from geo.normalize import fold
from scenarios.synth.grid import SynthGrid
from scenarios.synth.territory import SynthTerritory

SRID = 4326


def _libpq_conninfo(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq URI for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _as_multipolygons(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Polygons as one-part MultiPolygons: the ``geom`` columns are typed MULTIPOLYGON."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    return shapely.multipolygons(parts, indices=index)


def _ewkb_hex(geoms: npt.NDArray[np.object_]) -> list[str]:
    """Hex EWKB with SRID: bit-exact coordinates, so PostGIS sees the same geometry."""
    with_srid = shapely.set_srid(geoms, SRID)
    return shapely.to_wkb(with_srid, hex=True, include_srid=True).tolist()


def _copy(
    cur: psycopg.Cursor[tuple[object, ...]], table: str, columns: str, lines: Iterator[str]
) -> None:
    """COPY rows given as tab-separated text lines, in ~8 MB blocks.

    Writing pre-formatted text blocks is several times faster than ``write_row`` per row;
    our values never hold tabs, newlines or backslashes (checked by the caller).
    """
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        buf = io.StringIO()
        for line in lines:
            buf.write(line)
            buf.write("\n")
            if buf.tell() > 8_000_000:
                copy.write(buf.getvalue())
                buf = io.StringIO()
        copy.write(buf.getvalue())


@contextmanager
def _secondary_indexes_dropped(
    cur: psycopg.Cursor[tuple[object, ...]], table: str
) -> Iterator[None]:
    """Drop a table's indexes that back no constraint, and rebuild them afterwards.

    Building an index once over a million rows is much faster than maintaining it row by
    row during COPY. Definitions are read from the catalog, so the migrated schema stays
    the only source of truth.
    """
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (table,),
    )
    # Both columns are text: the index's name and its CREATE INDEX statement.
    definitions = [(str(name), str(sql)) for name, sql in cur.fetchall()]
    for name, _ in definitions:
        cur.execute(f"DROP INDEX {name}")
    yield
    for _, definition in definitions:
        cur.execute(definition)


def _copy_devices(cur: psycopg.Cursor[tuple[object, ...]], grid: SynthGrid) -> None:
    """COPY a grid's devices; breakers come first, so upstream rows exist before children."""
    geom = _ewkb_hex(shapely.points(grid.device_lon, grid.device_lat))
    upstream = [str(u + 1) if u >= 0 else "\\N" for u in grid.device_upstream.tolist()]
    kva = ["\\N" if math.isnan(k) else repr(k) for k in grid.device_kva.tolist()]
    kinds, feeders = grid.device_kind.tolist(), (grid.device_feeder + 1).tolist()
    _copy(
        cur,
        "device",
        "id, code, kind, feeder_id, upstream_id, normally_open, rated_kva, geom",
        (
            f"{i + 1}\t{grid.device_code[i]}\t{kinds[i]}\t{feeders[i]}\t{upstream[i]}\tf"
            f"\t{kva[i]}\t{geom[i]}"
            for i in range(grid.n_devices)
        ),
    )


def write_territory(*, url: str, territory: SynthTerritory, grid: SynthGrid | None = None) -> None:
    """Bulk-load a territory into a migrated, empty PostGIS database, in one transaction.

    Regions, feeders, streets (with premise counts) and premises go in by COPY with
    normalized addresses computed as ``geo.normalize`` would; ids are indices + 1 and the
    id sequences are moved past them. Tables are analyzed afterwards so the planner sees
    a million premises, not an empty table. With a ``grid``, its devices go in too (before
    the premises, which then carry their ``transformer_id``).
    """
    t = territory
    street_norm, house_norm, address_norm = t.normalized()
    for text_values in (t.street_names, t.town_names, t.region_names):
        if any(ch in s for s in text_values for ch in "\t\n\\"):
            msg = "synthetic names must not contain tabs, newlines or backslashes (COPY text)"
            raise ValueError(msg)
    premise_points = shapely.points(t.premise_lon, t.premise_lat)
    premise_geom = _ewkb_hex(premise_points)
    region_geom = _ewkb_hex(_as_multipolygons(t.regions))
    feeder_geom = _ewkb_hex(_as_multipolygons(t.feeders))
    street_count = np.bincount(t.premise_street, minlength=len(t.street_names))
    town = t.premise_town.tolist()
    region = (t.premise_region + 1).tolist()
    feeder = (t.premise_feeder + 1).tolist()

    with psycopg.connect(_libpq_conninfo(url)) as conn, conn.cursor() as cur:
        _copy(
            cur,
            "region",
            "id, code, name, region_class, geom",
            (
                f"{i + 1}\tR{i + 1:03d}\t{t.region_names[i]}\turban\t{region_geom[i]}"
                for i in range(len(region_geom))
            ),
        )
        _copy(
            cur,
            "feeder",
            "id, code, name, region_id, voltage_kv, geom",
            (
                f"{i + 1}\tF{i + 1:05d}\tFeeder {i + 1}\t{t.feeder_region[i] + 1}\t20\t{g}"
                for i, g in enumerate(feeder_geom)
            ),
        )
        _copy(
            cur,
            "street",
            "id, name_norm, premise_count",
            (f"{i + 1}\t{fold(name)}\t{street_count[i]}" for i, name in enumerate(t.street_names)),
        )
        names, postcodes = t.town_names, t.town_postcodes
        addresses = t.addresses()
        if grid is not None:
            _copy_devices(cur, grid)
        transformer = (
            ["\\N"] * t.n_premises
            if grid is None
            else [str(d + 1) if d >= 0 else "\\N" for d in grid.premise_transformer.tolist()]
        )
        with _secondary_indexes_dropped(cur, "premise"):
            _copy(
                cur,
                "premise",
                "id, account, address, address_norm, street_norm, house_norm, postcode, city, "
                "feeder_id, region_id, transformer_id, geom",
                (
                    f"{i + 1}\tA{i + 1:09d}\t{addresses[i]}\t{address_norm[i]}\t{street_norm[i]}"
                    f"\t{house_norm[i]}\t{postcodes[town[i]]}\t{names[town[i]]}\t{feeder[i]}"
                    f"\t{region[i]}\t{transformer[i]}\t{premise_geom[i]}"
                    for i in range(t.n_premises)
                ),
            )
        for table in ("region", "feeder", "street", "device", "premise"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    with psycopg.connect(_libpq_conninfo(url), autocommit=True) as conn:
        conn.execute("ANALYZE region, feeder, street, device, premise")
