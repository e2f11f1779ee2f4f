"""Writing a clean layer: batched upserts by key in one savepoint, then parent links."""

from __future__ import annotations

from typing import Any

import shapely
from geoalchemy2 import Geometry
from sqlalchemy import Table, TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo.exceptions import ImportFailed
from geo.ingest.layer import Layer, Resolved
from geo.ingest.schemas import Field, LayerSchema
from geo.models import (
    SRID,
)

# Rows per upsert statement: large enough that round trips do not matter, small enough
# that one statement's arrays stay a few megabytes.
UPSERT_BATCH_ROWS = 20_000


def write_layer(session: Session, parsed: Layer, resolved: Resolved) -> tuple[int, int]:
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
