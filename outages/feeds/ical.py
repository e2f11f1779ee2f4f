"""Planned work as an iCalendar (RFC 5545) feed, for one premise, feeder or region.

A customer subscribes once (the status page gives the link for their address) and their
calendar shows each planned outage; a change raises the event's SEQUENCE and a cancelled
one stays as ``STATUS:CANCELLED`` so calendars strike it out rather than keep a stale
entry. Events carry the window, the reason and a customer count, never who is affected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from icalendar import Calendar, Event
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput, NotFound
from outages.feeds.areas import PLANNED_CHANGED_AT, PLANNED_UPDATES
from outages.intake.locate import locate_report
from outages.schemas import Where
from outages.settings import OutageSettings

PRODID = "-//stormdesk//planned work//EN"
# Work that ended more than this long ago drops out of the calendar.
KEEP_PAST = dt.timedelta(days=7)
_SELECT = f"""
SELECT po.id, po.status, po.reason, po.starts_at, po.ends_at, po.customers_affected,
    po.created_at, {PLANNED_UPDATES} AS updates, {PLANNED_CHANGED_AT} AS changed_at
FROM planned_outage po
WHERE po.status IN ('scheduled', 'cancelled', 'completed') AND po.ends_at > :since
    AND EXISTS (SELECT 1 FROM planned_outage_premise pp JOIN premise p ON p.id = pp.premise_id
        WHERE pp.planned_outage_id = po.id AND {{scope}})
ORDER BY po.starts_at, po.id
"""
_SCOPES = {
    "premise": "p.id = :value",
    "feeder": "p.feeder_id = (SELECT id FROM feeder WHERE code = :value)",
    "region": "p.region_id = (SELECT id FROM region WHERE code = :value)",
}
_EXISTS = {
    "premise": "SELECT 1 FROM premise WHERE id = :value",
    "feeder": "SELECT 1 FROM feeder WHERE code = :value",
    "region": "SELECT 1 FROM region WHERE code = :value",
}
_STATUS = {"scheduled": "CONFIRMED", "cancelled": "CANCELLED", "completed": "CONFIRMED"}


@dataclass(frozen=True)
class Scope:
    """Whose planned work: ``kind`` is premise (an id), feeder or region (a code)."""

    kind: str
    value: int | str
    label: str


def planned_calendar(
    *, session: Session, scope: Scope, now: dt.datetime, host: str = "stormdesk"
) -> bytes:
    """The calendar of planned work touching ``scope``; unknown feeders or regions are 404."""
    if scope.kind not in _SCOPES:
        msg = f"a planned-work calendar is per premise, feeder or region, not {scope.kind!r}"
        raise InvalidInput(msg)
    if session.execute(text(_EXISTS[scope.kind]), {"value": scope.value}).first() is None:
        msg = f"no {scope.kind} {scope.value!r}: check the code (or look the address up again)"
        raise NotFound(msg)
    rows = session.execute(
        text(_SELECT.format(scope=_SCOPES[scope.kind])),
        {"value": scope.value, "since": now - KEEP_PAST},
    ).all()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Planned power outages: {scope.label}")
    for row in rows:
        event = Event()
        event.add("uid", f"planned-{row.id}@{host}")
        # No METHOD: DTSTAMP is then the last revision (RFC 5545 3.8.7.2), so an unchanged
        # calendar is byte for byte the same and its ETag holds.
        event.add("dtstamp", row.changed_at.astimezone(dt.UTC))
        event.add("dtstart", row.starts_at.astimezone(dt.UTC))
        event.add("dtend", row.ends_at.astimezone(dt.UTC))
        event.add("created", row.created_at.astimezone(dt.UTC))
        event.add("last-modified", row.changed_at.astimezone(dt.UTC))
        event.add("sequence", int(row.updates))
        event.add("status", _STATUS[row.status])
        event.add("transp", "TRANSPARENT")  # a power cut does not make anyone busy
        event.add("categories", ["Planned power outage"])
        event.add("summary", f"Planned power outage: {row.reason}")
        event.add(
            "description",
            f"Planned work ({row.reason}). About {row.customers_affected} customers are "
            "without power in this window.",
        )
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def calendar_scope(
    *,
    session: Session,
    settings: OutageSettings,
    premise: int | None = None,
    address: str | None = None,
    lonlat: tuple[float | None, float | None] = (None, None),
    feeder: str | None = None,
    region: str | None = None,
) -> Scope:
    """The one scope a calendar request names; an address or point is located like a
    status lookup (the nearest premise), so a customer needs no account to subscribe."""
    lon, lat = lonlat
    given = [
        name
        for name, value in (
            ("premise", premise),
            ("address", address),
            ("lon/lat", lon if lon is not None or lat is None else lat),
            ("feeder", feeder),
            ("region", region),
        )
        if value is not None
    ]
    if len(given) != 1 or (lon is None) != (lat is None):
        msg = (
            "give exactly one of premise, address, lon and lat, feeder or region; "
            f"got {', '.join(given) or 'none'}"
        )
        raise InvalidInput(msg)
    if premise is not None:
        return Scope("premise", premise, f"service point {premise}")
    if feeder is not None:
        return Scope("feeder", feeder, f"feeder {feeder}")
    if region is not None:
        return Scope("region", region, f"region {region}")
    where = Where(address=address, lon=lon, lat=lat)
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    assert located.proxy_premise_id is not None  # may_file_unlocated=False guarantees it
    label = address if address is not None else f"{lat:.4f}, {lon:.4f}"
    return Scope("premise", located.proxy_premise_id, label)
