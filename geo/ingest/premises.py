"""What a premise row derives: normalized addresses, and its feeder, region and transformer.

Electrical connection outranks geography: a named transformer fixes the feeder; only what
the file leaves empty comes from the location.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from sqlalchemy import String, text
from sqlalchemy.orm import Session

from geo.ingest.layer import Layer, Resolved
from geo.ingest.schemas import table_of
from geo.locator import NOT_FOUND, BulkLocator
from geo.models import (
    Premise,
)
from geo.normalize import normalize_address


def normalized_addresses(parsed: Layer) -> Resolved:
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
    return int(cast(String, table_of(model).c[column].type).length or 0)


def check_transformers(session: Session, parsed: Layer, resolved: Resolved) -> None:
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


def derive_from_location(session: Session, parsed: Layer, resolved: Resolved) -> None:
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
