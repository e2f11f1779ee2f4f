"""Where a report is: account, address, point or phone -> premise, region, feeder."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, OutsideTerritory
from geo.geocoder import geocode
from geo.locator import check_coordinates, locate
from geo.models import Premise
from geo.normalize import normalize_address
from geo.phones import normalize_phone, phone_matches
from outages.exceptions import AddressNotFound
from outages.schemas import Where
from outages.settings import OutageSettings

SUGGESTIONS = 5
# A fuzzy top match is taken only if the runner-up (another address) trails it clearly.
CONFIDENCE_MARGIN = 0.1


@dataclass(frozen=True)
class Located:
    """The outcome of locating: a premise when one was found, else at least a feeder.

    ``proxy_premise_id`` is the nearest premise of a bare point: it stands in for the grid
    position when classifying, but the report is not attributed to that customer.
    """

    located_by: str
    premise_id: int | None
    proxy_premise_id: int | None
    region_id: int | None
    feeder_id: int | None
    lon: float | None
    lat: float | None
    address: str | None


# The premise with its coordinates in one statement: a round trip saved on every report.
_WITH_LONLAT = (Premise, func.ST_X(Premise.geom), func.ST_Y(Premise.geom))


def _from_premise(premise: Premise, located_by: str, lon: float, lat: float) -> Located:
    return Located(
        located_by=located_by,
        premise_id=premise.id,
        proxy_premise_id=premise.id,
        region_id=premise.region_id,
        feeder_id=premise.feeder_id,
        lon=float(lon),
        lat=float(lat),
        address=premise.address,
    )


def locate_report(
    *, session: Session, data: Where, settings: OutageSettings, may_file_unlocated: bool
) -> Located:
    """Find the premise of a report: account first, then address, then point, then phone."""
    if data.account:
        row = session.execute(select(*_WITH_LONLAT).where(Premise.account == data.account)).first()
        if row is None:
            msg = f"account {data.account!r} is not known: check the number on your bill"
            raise InvalidInput(msg)
        return _from_premise(row[0], "account", row[1], row[2])
    if data.address:
        return _by_address(session, data, settings, may_file_unlocated)
    if data.lon is not None and data.lat is not None:
        return _by_point(session, data.lon, data.lat, settings)
    assert data.phone is not None  # the schema guarantees one way to locate
    e164 = normalize_phone(data.phone, region=settings.phone_region)
    matches = session.execute(
        select(*_WITH_LONLAT)
        .where(phone_matches(Premise.phone, e164, region=settings.phone_region))
        .limit(2)
    ).all()
    if len(matches) != 1:
        msg = (
            "no premise is registered with this phone number"
            if not matches
            else "several premises share this phone number: give the address or account"
        )
        raise InvalidInput(msg)
    return _from_premise(matches[0][0], "phone", matches[0][1], matches[0][2])


def _by_address(
    session: Session, data: Where, settings: OutageSettings, may_file_unlocated: bool
) -> Located:
    assert data.address is not None
    # One candidate per address: the rival check below compares addresses, not premises,
    # and the suggestions a customer sees should name each address once.
    result = geocode(
        session=session,
        query=data.address,
        limit=SUGGESTIONS,
        min_score=settings.geocode_min_fuzzy_score,
        distinct=True,
    )
    matches = result.matches
    if matches:
        top = matches[0]
        top_address = normalize_address(top.address).full
        rivals = [m for m in matches[1:] if normalize_address(m.address).full != top_address]
        clear = not rivals or rivals[0].score <= top.score - CONFIDENCE_MARGIN
        if top.method == "exact" or (top.score >= settings.geocode_confident_score and clear):
            premise = session.get(Premise, top.premise_id)
            assert premise is not None
            return _from_premise(premise, "address", top.lon, top.lat)
    if may_file_unlocated:
        return Located("unlocated", None, None, None, None, None, None, data.address)
    msg = f"no premise matches the address {data.address!r} confidently"
    if matches:
        msg += ": did you mean one of the suggestions?"
    raise AddressNotFound(msg, [m.model_dump() for m in matches[:SUGGESTIONS]])


def _by_point(session: Session, lon: float, lat: float, settings: OutageSettings) -> Located:
    check_coordinates(lon, lat)
    try:
        where = locate(session=session, lon=lon, lat=lat)
    except OutsideTerritory as exc:
        raise InvalidInput(str(exc)) from exc
    nearest = where.nearest_premise
    if nearest and nearest.distance_m <= settings.locate_max_premise_distance_m:
        premise = session.get(Premise, nearest.premise_id)
        assert premise is not None
        return _from_premise(premise, "point", lon, lat)
    proxy = session.execute(
        text(
            "SELECT id FROM premise WHERE feeder_id = :f "
            "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 1"
        ),
        {"f": where.feeder.id, "lon": lon, "lat": lat},
    ).scalar()
    return Located(
        located_by="point",
        premise_id=None,
        proxy_premise_id=proxy,
        region_id=where.region.id,
        feeder_id=where.feeder.id,
        lon=lon,
        lat=lat,
        address=None,
    )
