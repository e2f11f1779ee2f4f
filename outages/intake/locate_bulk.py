"""Locating many reports at once, with the answers ``outages.intake.locate.locate_report`` gives.

Accounts and phones take one ``= ANY(array)`` query each; points take the in-memory
``BulkLocator`` (the same GEOS predicates and lowest-id rule as PostGIS, see
``geo.locator``) for region and feeder and one nearest-premise query over all points.
Addresses written as the register writes them (a gateway's stored address, a caller's
exact words) take one ``address_norm = ANY(array)`` query together; only those it does
not match exactly go through the geocoder one by one (a few ms each: its fuzzy search).
The exact answer is the geocoder's: of the premises at that normalized address, the
first by address text, then id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.locator import NOT_FOUND, BulkLocator, check_coordinates
from geo.normalize import normalize_address
from geo.phones import normalize_phone, phone_keys
from outages.intake.locate import Located, locate_report
from outages.intake.pg_text import float_array, int_array
from outages.schemas import ReportCreate
from outages.settings import OutageSettings

# Feeder and region polygons change only with a territory import; see ``bulk_locator``.
LOCATOR_TTL_S = 300.0

_PREMISE_COLUMNS = "id, region_id, feeder_id, address, ST_X(geom), ST_Y(geom)"
# The expression of migration 0013's digit index, spelled exactly so the planner uses it.
_DIGITS = "regexp_replace(phone, '[^0-9]', '', 'g')"
_NEAREST = """
SELECT q.i, n.id, ST_Distance(n.geom::geography, q.pt::geography)
FROM (SELECT i, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS pt
      FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS u(lon, lat, i)) q
CROSS JOIN LATERAL (
  SELECT id, geom FROM premise ORDER BY geom <-> q.pt LIMIT 1
) n
"""
_NEAREST_ON_FEEDER = """
SELECT q.i, (
  SELECT id FROM premise WHERE feeder_id = q.f
  ORDER BY geom <-> ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326) LIMIT 1
)
FROM unnest(%s::float8[], %s::float8[], %s::int[]) WITH ORDINALITY AS q(lon, lat, f, i)
"""


@dataclass(frozen=True)
class _Cached:
    locator: BulkLocator
    loaded_at: float


_locators: dict[str, _Cached] = {}
_locators_lock = threading.Lock()


def bulk_locator(session: Session) -> BulkLocator:
    """The region and feeder STRtrees of this database, rebuilt every ``LOCATOR_TTL_S``.

    Building them reads every region and feeder polygon, which costs more than a batch;
    a territory re-import is picked up by the batch path within the TTL (the single
    path sees it at once).
    """
    key = str(session.get_bind().engine.url)
    cached = _locators.get(key)
    if cached is None or time.monotonic() - cached.loaded_at > LOCATOR_TTL_S:
        with _locators_lock:
            cached = _locators.get(key)
            if cached is None or time.monotonic() - cached.loaded_at > LOCATOR_TTL_S:
                cached = _Cached(BulkLocator.from_session(session), time.monotonic())
                _locators[key] = cached
    return cached.locator


def locate_many(
    *,
    session: Session,
    items: Sequence[ReportCreate],
    settings: OutageSettings,
    is_agent: bool,
) -> list[Located | InvalidInput]:
    """Locate each item as ``locate_report`` would: a ``Located``, or the error it raises."""
    out: list[Located | InvalidInput | None] = [None] * len(items)
    by_account: dict[str, list[int]] = {}
    by_phone: dict[str, list[int]] = {}
    by_address: dict[str, list[int]] = {}
    points: list[int] = []
    for i, item in enumerate(items):
        if item.account:
            by_account.setdefault(item.account, []).append(i)
        elif item.address:
            norm = normalize_address(item.address)
            # Without a house number the geocoder has no exact match to offer.
            by_address.setdefault(norm.full if norm.house else "", []).append(i)
        elif item.lon is not None and item.lat is not None:
            points.append(i)
        else:
            assert item.phone is not None  # the schema guarantees one way to locate
            try:
                e164 = normalize_phone(item.phone, region=settings.phone_region)
            except InvalidInput as exc:
                out[i] = exc
                continue
            by_phone.setdefault(e164, []).append(i)
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    cursor = connection.cursor()
    if by_account:
        cursor.execute(
            f"SELECT account, {_PREMISE_COLUMNS} FROM premise WHERE account = ANY(%s)",
            [list(by_account)],
        )
        for account, *row in cursor.fetchall():
            located = _from_row(row, "account")
            for i in by_account.pop(account):
                out[i] = located
        for account, indexes in by_account.items():
            msg = f"account {account!r} is not known: check the number on your bill"
            for i in indexes:
                out[i] = InvalidInput(msg)
    if by_address:
        _locate_addresses(session, cursor, items, by_address, out, settings, is_agent)
    if by_phone:
        _locate_phones(cursor, by_phone, out, settings.phone_region)
    if points:
        _locate_points(session, cursor, items, points, out, settings)
    assert all(o is not None for o in out)
    return out  # type: ignore[return-value]


def _locate_addresses(
    session: Session,
    cursor: psycopg.Cursor[Any],
    items: Sequence[ReportCreate],
    by_address: dict[str, list[int]],
    out: list[Located | InvalidInput | None],
    settings: OutageSettings,
    is_agent: bool,
) -> None:
    """Exact normalized addresses in one query; the geocoder for the rest, one by one."""
    best: dict[str, Located] = {}
    candidates = [full for full in by_address if full]
    if candidates:  # not a round trip for a group whose addresses have no house number
        cursor.execute(
            f"SELECT address_norm, {_PREMISE_COLUMNS} FROM premise WHERE address_norm = ANY(%s)",
            [candidates],
        )
        for full, *row in sorted(cursor.fetchall(), key=lambda r: (r[4], r[1])):
            if full not in best:  # rows come by (address text, id): the geocoder's first
                best[full] = _from_row(row, "address")
    for full, indexes in by_address.items():
        exact = best.get(full)
        for i in indexes:
            if exact is not None:
                out[i] = exact
                continue
            item = items[i]
            try:
                out[i] = locate_report(
                    session=session,
                    data=item,
                    settings=settings,
                    may_file_unlocated=is_agent and item.allow_unlocated,
                )
            except InvalidInput as exc:
                out[i] = exc


def _locate_phones(
    cursor: psycopg.Cursor[Any],
    by_phone: dict[str, list[int]],
    out: list[Located | InvalidInput | None],
    region: str,
) -> None:
    """One digit-index query for all numbers (E.164 keys), however premises spell them."""
    owner: dict[str, str] = {}
    for e164 in by_phone:
        owner.update(dict.fromkeys(phone_keys(e164, region=region), e164))
    cursor.execute(
        f"SELECT {_DIGITS}, {_PREMISE_COLUMNS} FROM premise WHERE {_DIGITS} = ANY(%s) ORDER BY id",
        [list(owner)],
    )
    matches: dict[str, list[Located]] = {}
    for digits, *row in cursor.fetchall():
        matches.setdefault(owner[digits], []).append(_from_row(row, "phone"))
    for e164, indexes in by_phone.items():
        found = matches.get(e164, [])
        result: Located | InvalidInput
        if len(found) == 1:
            result = found[0]
        else:
            result = InvalidInput(
                "no premise is registered with this phone number"
                if not found
                else "several premises share this phone number: give the address or account"
            )
        for i in indexes:
            out[i] = result


def _from_row(row: Sequence[object], located_by: str) -> Located:
    premise_id, region_id, feeder_id, address, lon, lat = row
    return Located(
        located_by=located_by,
        premise_id=premise_id,  # type: ignore[arg-type]
        proxy_premise_id=premise_id,  # type: ignore[arg-type]
        region_id=region_id,  # type: ignore[arg-type]
        feeder_id=feeder_id,  # type: ignore[arg-type]
        lon=float(lon),  # type: ignore[arg-type]
        lat=float(lat),  # type: ignore[arg-type]
        address=address,  # type: ignore[arg-type]
    )


def _locate_points(
    session: Session,
    cur: psycopg.Cursor[Any],
    items: Sequence[ReportCreate],
    points: list[int],
    out: list[Located | InvalidInput | None],
    settings: OutageSettings,
) -> None:
    valid: list[int] = []
    for i in points:
        lon, lat = items[i].lon, items[i].lat
        assert lon is not None and lat is not None
        try:
            check_coordinates(lon, lat)
        except InvalidInput as exc:
            out[i] = exc
            continue
        valid.append(i)
    if not valid:
        return
    lons = [float(items[i].lon) for i in valid]  # type: ignore[arg-type]
    lats = [float(items[i].lat) for i in valid]  # type: ignore[arg-type]
    regions, feeders = bulk_locator(session).locate_many(np.asarray(lons), np.asarray(lats))
    inside = []
    for k, i in enumerate(valid):
        if regions[k] == NOT_FOUND or feeders[k] == NOT_FOUND:
            msg = f"point ({lons[k]}, {lats[k]}) is outside the utility's service territory"
            out[i] = InvalidInput(msg)
        else:
            inside.append(k)
    if not inside:
        return
    cur.execute(
        _NEAREST, [float_array(lons[k] for k in inside), float_array(lats[k] for k in inside)]
    )
    nearest = {int(n) - 1: (pid, d) for n, pid, d in cur.fetchall()}
    near: dict[int, int] = {}
    far: list[int] = []
    for j, k in enumerate(inside):
        hit = nearest.get(j)
        # The single path compares the distance rounded to 0.1 m (geo.schemas.NearestPremise).
        if hit is not None and round(hit[1], 1) <= settings.locate_max_premise_distance_m:
            near[k] = hit[0]
        else:
            far.append(k)
    if near:
        cur.execute(
            f"SELECT {_PREMISE_COLUMNS} FROM premise WHERE id = ANY(%s)",
            [int_array(set(near.values()))],
        )
        premises = {row[0]: row for row in cur.fetchall()}
        for k, premise_id in near.items():
            located = _from_row(premises[premise_id], "point")
            out[valid[k]] = Located(**{**located.__dict__, "lon": lons[k], "lat": lats[k]})
    if far:
        cur.execute(
            _NEAREST_ON_FEEDER,
            [
                float_array(lons[k] for k in far),
                float_array(lats[k] for k in far),
                int_array(int(feeders[k]) for k in far),
            ],
        )
        proxies = {int(n) - 1: pid for n, pid in cur.fetchall()}
        for j, k in enumerate(far):
            out[valid[k]] = Located(
                located_by="point",
                premise_id=None,
                proxy_premise_id=proxies.get(j),
                region_id=int(regions[k]),
                feeder_id=int(feeders[k]),
                lon=lons[k],
                lat=lats[k],
                address=None,
            )
