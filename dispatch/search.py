"""The console's one search box: outage, device, crew, address, and a caller's phone or account.

A dispatcher types what the caller or the crew said ("#12", "R-3", "CREW-2",
"Mannerheimintie 5", "+358 40 ...") and wants the thing on the map, not a form per kind.
Each kind is a cheap indexed lookup (ids, unique codes, the geocoder's street-name search,
the phone index), so the box can ask on every pause in typing. It lives in ``dispatch``
because crews are dispatch's and every other kind lies below it. Phone and account hits
point at a customer's premise: the route serving this is staff-only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatch.models import Crew
from dispatch.schemas import SearchHit, SearchKind
from geo.exceptions import InvalidInput
from geo.geocoder import geocode
from geo.models import Device, Feeder, Premise
from geo.phones import normalize_phone, phone_matches
from geo.settings import DEFAULT_PHONE_REGION
from outages.models import ACTIVE_OUTAGE_STATUSES, Outage, OutagePremise

MAX_HITS = 12
# A query this short matches too much to be useful as a code prefix or an address.
MIN_QUERY_CHARS = 2
_OUTAGE_ID = re.compile(r"^(?:outage\s*)?#?\s*(\d{1,9})$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"[\s\-().]")
_PHONE = re.compile(r"^\+?\d{6,15}$")


def search_console(
    *,
    session: Session,
    query: str,
    limit: int = MAX_HITS,
    min_score: float = 0.35,
    phone_region: str = DEFAULT_PHONE_REGION,
) -> list[SearchHit]:
    """What ``query`` names, best kinds first: outage id, device and crew codes, phone,
    account, then addresses.

    Parameters
    ----------
    session
        Database session.
    query
        What the dispatcher typed; surrounding blanks are ignored.
    limit
        The most hits to return.
    min_score
        The geocoder's threshold for fuzzy address candidates.
    phone_region
        Region a national phone number is read in (``GeoSettings.phone_region``).
    """
    q = query.strip()
    if len(q) < MIN_QUERY_CHARS and not q.isdigit():
        return []
    hits: list[SearchHit] = []
    hits += _outages(session, q)
    hits += _devices(session, q)
    hits += _crews(session, q)
    hits += _premises_by_phone(session, q, phone_region)
    hits += _premises_by_account(session, q)
    if len(hits) < limit:
        hits += _addresses(session, q, limit - len(hits), min_score)
    return hits[:limit]


def _lonlat(geom: Any) -> tuple[ColumnElement[float], ColumnElement[float]]:
    return func.ST_X(geom), func.ST_Y(geom)


def _outages(session: Session, q: str) -> list[SearchHit]:
    match = _OUTAGE_ID.match(q)
    if match is None:
        return []
    row = session.execute(
        select(Outage, Device.code, Device.kind, Feeder.code, *_lonlat(Device.geom))
        .join(Device, Device.id == Outage.device_id)
        .join(Feeder, Feeder.id == Outage.feeder_id)
        .where(Outage.id == int(match.group(1)))
    ).first()
    if row is None:
        return []
    outage, device, kind, feeder, lon, lat = row
    return [
        SearchHit(
            kind="outage",
            id=outage.id,
            label=f"Outage #{outage.id} on {device}",
            detail=f"{outage.status} · {kind} on {feeder} · {outage.customers_affected} customers",
            lon=lon,
            lat=lat,
            outage_id=outage.id if outage.status in ACTIVE_OUTAGE_STATUSES else None,
        )
    ]


def _devices(session: Session, q: str) -> list[SearchHit]:
    rows = session.execute(
        select(Device.id, Device.code, Device.kind, Feeder.code, *_lonlat(Device.geom))
        .join(Feeder, Feeder.id == Device.feeder_id)
        .where(func.upper(Device.code).startswith(q.upper(), autoescape=True))
        .order_by(func.length(Device.code), Device.code)
        .limit(5)
    ).all()
    active = _active_outage_on_devices(session, [r[0] for r in rows])
    return [
        SearchHit(
            kind="device",
            id=device_id,
            label=code,
            detail=f"{kind} on {feeder}",
            lon=lon,
            lat=lat,
            outage_id=active.get(device_id),
        )
        for device_id, code, kind, feeder, lon, lat in rows
    ]


def _active_outage_on_devices(session: Session, device_ids: list[int]) -> dict[int, int]:
    if not device_ids:
        return {}
    rows = session.execute(
        select(Outage.device_id, func.min(Outage.id))
        .where(Outage.device_id.in_(device_ids), Outage.status.in_(ACTIVE_OUTAGE_STATUSES))
        .group_by(Outage.device_id)
    ).all()
    return {int(device_id): int(outage_id) for device_id, outage_id in rows}


def _crews(session: Session, q: str) -> list[SearchHit]:
    pattern = f"%{q.lower()}%"
    geom = func.coalesce(Crew.geom, Crew.depot_geom)
    rows = session.execute(
        select(Crew.id, Crew.code, Crew.name, Crew.status, *_lonlat(geom))
        .where(func.lower(Crew.code).like(pattern) | func.lower(Crew.name).like(pattern))
        .order_by(Crew.code)
        .limit(5)
    ).all()
    return [
        SearchHit(
            kind="crew",
            id=crew_id,
            label=f"{code} {name}",
            detail=status.replace("_", " "),
            lon=lon,
            lat=lat,
        )
        for crew_id, code, name, status, lon, lat in rows
    ]


def _premise_hits(
    session: Session, kind: SearchKind, where: ColumnElement[bool], detail: str
) -> list[SearchHit]:
    rows = session.execute(
        select(Premise.id, Premise.address, *_lonlat(Premise.geom))
        .where(where)
        .order_by(Premise.id)
        .limit(5)
    ).all()
    outages = _active_outage_of_premises(session, [r[0] for r in rows])
    return [
        SearchHit(
            kind=kind,
            id=premise_id,
            label=address,
            detail=detail,
            lon=lon,
            lat=lat,
            outage_id=outages.get(premise_id),
        )
        for premise_id, address, lon, lat in rows
    ]


def _premises_by_phone(session: Session, q: str, region: str) -> list[SearchHit]:
    """Premises registered with the number however it is spelled, typed or stored
    (``geo.phones``: the digit index); a query that is no phone number finds none."""
    if not _PHONE.match(_PHONE_CHARS.sub("", q)):
        return []
    try:
        e164 = normalize_phone(q, region=region)
    except InvalidInput:
        return []
    return _premise_hits(
        session, "phone", phone_matches(Premise.phone, e164, region=region), f"caller phone {q}"
    )


def _premises_by_account(session: Session, q: str) -> list[SearchHit]:
    if " " in q:
        return []
    return _premise_hits(
        session, "account", func.upper(Premise.account) == q.upper(), f"account {q.upper()}"
    )


def _addresses(session: Session, q: str, limit: int, min_score: float) -> list[SearchHit]:
    if not any(c.isalpha() for c in q):
        return []
    result = geocode(session=session, query=q, limit=limit, min_score=min_score)
    outages = _active_outage_of_premises(session, [m.premise_id for m in result.matches])
    return [
        SearchHit(
            kind="address",
            id=m.premise_id,
            label=m.address,
            detail="address" if m.method == "exact" else f"address, {round(m.score * 100)}% match",
            lon=m.lon,
            lat=m.lat,
            outage_id=outages.get(m.premise_id),
        )
        for m in result.matches
    ]


def _active_outage_of_premises(session: Session, premise_ids: list[int]) -> dict[int, int]:
    """The active outage each premise is without power in (restored premises are not)."""
    if not premise_ids:
        return {}
    rows = session.execute(
        select(OutagePremise.premise_id, func.min(Outage.id))
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .where(
            OutagePremise.premise_id.in_(premise_ids),
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .group_by(OutagePremise.premise_id)
    ).all()
    return {int(premise_id): int(outage_id) for premise_id, outage_id in rows}
