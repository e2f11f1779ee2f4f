"""Write the demo city into PostGIS in one go: bulk inserts with the ids the builder assigned.

The caller owns the transaction: this module flushes, and a failure leaves nothing behind
once the caller rolls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import exists, insert, select, text
from sqlalchemy.orm import Session

from dispatch.models import Crew
from geo.auth import hash_password
from geo.exceptions import InvalidInput
from geo.models import (
    SRID,
    Base,
    Device,
    Feeder,
    Premise,
    Region,
    RoadEdge,
    RoadNode,
    Segment,
    Street,
    Substation,
    User,
)
from scenarios.demo_city.city import DemoCity
from scenarios.demo_city.crews import shifts_from

Progress = Callable[[str, int, int], None]


def load_demo_city(
    *, session: Session, city: DemoCity, progress: Progress | None = None
) -> dict[str, int]:
    """Insert every table of the demo city and return the rows written per table.

    Parameters
    ----------
    session
        The session to write in; it is flushed, not committed.
    city
        The city from ``scenarios.demo_city.build_demo_city``.
    progress
        Called after each table with its name, the tables done and the tables in all,
        so the CLI can draw a progress bar.

    Raises
    ------
    InvalidInput
        If the territory already holds data: ids would collide, so load into an empty
        database instead.
    """
    _refuse_non_empty(session)
    counts: dict[str, int] = {}
    for done, (model, rows_of) in enumerate(_TABLES, start=1):
        rows = rows_of(city)
        if rows:
            session.execute(insert(model), rows)
        _reset_sequence(session, model)
        counts[model.__tablename__] = len(rows)
        if progress is not None:
            progress(model.__tablename__, done, len(_TABLES))
    session.flush()
    return counts


def _refuse_non_empty(session: Session) -> None:
    filled = [
        model.__tablename__
        for model, _ in _TABLES
        if session.scalar(select(exists().select_from(model)))
    ]
    if filled:
        msg = (
            f"the territory is not empty (rows in {', '.join(filled)}): run "
            "`stormdesk db reset` first, then load the demo city"
        )
        raise InvalidInput(msg)


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values, geometries as EWKT at full precision.

    Full precision keeps the feeder areas tiling exactly and the segment ends on their
    devices; missing values become None so the driver writes NULL.
    """
    plain = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    plain = plain.where(plain.notna(), None)
    ewkt = shapely.to_wkt(frame.geometry.to_numpy(), rounding_precision=-1)
    plain[frame.geometry.name] = [f"SRID={SRID};{wkt}" for wkt in ewkt]
    return plain.to_dict(orient="records")


def _street_rows(premises: pd.DataFrame) -> list[dict[str, Any]]:
    """Distinct normalized street names with their premise counts, for the fuzzy geocoder."""
    counts = premises.loc[premises["street_norm"] != "", "street_norm"].value_counts()
    ordered = counts.sort_index()
    return [
        {"id": i, "name_norm": str(name), "premise_count": int(count)}
        for i, (name, count) in enumerate(ordered.items(), start=1)
    ]


def _user_rows(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": user["id"],
            "username": user["username"],
            "role": user["role"],
            "password_hash": hash_password(user["password"]),
            "crew_id": user["crew_id"],
        }
        for user in users
    ]


def _reset_sequence(session: Session, model: type[Base]) -> None:
    """Move the id sequence past the explicit ids, so later inserts do not collide."""
    table = model.__tablename__
    session.execute(
        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
    )


Rows = Callable[[DemoCity], list[dict[str, Any]]]
# Parents before children, so every foreign key points at a row already written.
_TABLES: tuple[tuple[type[Base], Rows], ...] = (
    (Region, lambda city: _records(city.regions)),
    (Substation, lambda city: _records(city.substations)),
    (Feeder, lambda city: _records(city.feeders)),
    (Device, lambda city: _records(city.devices)),
    (Segment, lambda city: _records(city.segments)),
    (Premise, lambda city: _records(city.premises)),
    (Street, lambda city: _street_rows(city.premises)),
    (RoadNode, lambda city: _records(city.road_nodes)),
    (RoadEdge, lambda city: _records(city.road_edges)),
    (Crew, lambda city: _records(city.crews)),
    (User, lambda city: _user_rows(city.users)),
)


def turn_demo_roster(*, session: Session, start: dt.time) -> int:
    """Give the demo crews the roster turned to ``start`` (see ``crews.shifts_from``);
    returns the crews updated. Crews that are not the demo's keep their shifts."""
    updated = 0
    for code, (begin, end) in shifts_from(start).items():
        crew = session.scalar(select(Crew).where(Crew.code == code))
        if crew is not None and (crew.shift_start, crew.shift_end) != (begin, end):
            crew.shift_start, crew.shift_end = begin, end
            updated += 1
    session.flush()
    return updated
