"""CAP 1.2 alerts (OASIS Common Alerting Protocol) for planned work and major outages.

Which outages get an alert: planned work announced for the next ``planned_notice_days``
(the 95598 rule: customers are told 7 days ahead), a planned outage cancelled before its
window ended (a ``Cancel`` that references the alert it withdraws), and an unplanned
outage with at least ``cap_major_customers`` customers out. Areas are the generalized
cells of ``outages.feeds.areas`` as one convex polygon: never a premise. Every alert is
validated against the official OASIS schema ``data/schemas/CAP-v1.2.xsd`` in the tests.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.builder import ElementMaker
from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from outages.feeds.areas import (
    ACTIVE,
    OUTAGE_CHANGED_AT,
    OUTAGE_MEMBERS,
    PLANNED_CHANGED_AT,
    PLANNED_UPDATES,
    with_areas,
)
from outages.settings import OutageSettings

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
# How long an unplanned alert stands past its ETR (or from now without one).
UNPLANNED_EXPIRY = dt.timedelta(hours=2)
UNPLANNED_NO_ETR = dt.timedelta(hours=6)
# Planned members for alerts: announced work not over, cancelled ones included (Cancel).
_PLANNED_ALERT_MEMBERS = """
members AS (
    SELECT pp.planned_outage_id AS item_id, pp.premise_id
    FROM planned_outage_premise pp JOIN planned_outage po ON po.id = pp.planned_outage_id
    WHERE po.status IN ('scheduled', 'cancelled') AND po.ends_at > :now
        AND po.starts_at <= :until
)"""
_PLANNED = f"""{with_areas(_PLANNED_ALERT_MEMBERS)}
SELECT po.id, po.status, po.reason, po.starts_at, po.ends_at, po.customers_affected,
    po.created_at, {PLANNED_UPDATES} AS updates, {PLANNED_CHANGED_AT} AS changed_at,
    ST_AsGeoJSON(ST_ConvexHull(a.area), 5) AS hull
FROM planned_outage po JOIN areas a ON a.item_id = po.id ORDER BY po.id
"""
_UNPLANNED = f"""{with_areas(OUTAGE_MEMBERS)}
SELECT o.id, o.status, o.cause, o.started_at, o.etr_at, o.customers_affected,
    {OUTAGE_CHANGED_AT} AS changed_at, r.code AS region, r.name AS region_name,
    ST_AsGeoJSON(ST_ConvexHull(a.area), 5) AS hull
FROM outage o JOIN areas a ON a.item_id = o.id LEFT JOIN region r ON r.id = o.region_id
WHERE o.status IN ({ACTIVE}) AND o.customers_affected >= :major ORDER BY o.id
"""


@dataclass(frozen=True)
class CapAlert:
    """One alert, ready to write as CAP XML; ``key`` names it in URLs (``planned-3``)."""

    key: str
    identifier: str
    sent: dt.datetime
    msg_type: str  # Alert, Update or Cancel
    references: str | None
    event: str
    urgency: str
    severity: str
    certainty: str
    onset: dt.datetime
    expires: dt.datetime
    headline: str
    description: str
    instruction: str
    area_desc: str
    polygon: str  # CAP "lat,lon lat,lon ..." with the first point repeated last
    region: str | None


def cap_time(moment: dt.datetime, zone: ZoneInfo) -> str:
    """CAP's date-time form: local offset, whole seconds, never ``Z`` (the schema's pattern)."""
    return moment.astimezone(zone).replace(microsecond=0).isoformat()


def cap_polygon(geojson: str) -> str:
    """A GeoJSON polygon (or the point or line a hull of one or two cells never is) as
    CAP's closed ``lat,lon`` ring."""
    geometry = json.loads(geojson)
    if geometry["type"] != "Polygon":
        msg = f"a CAP area needs a polygon, got a {geometry['type']}"
        raise ValueError(msg)
    ring = geometry["coordinates"][0]
    return " ".join(f"{lat},{lon}" for lon, lat in ring)


def _planned_alert(row: Row[Any], settings: OutageSettings, now: dt.datetime) -> CapAlert:
    zone = ZoneInfo(settings.timezone)
    key = f"planned-{row.id}"
    updated = row.updates > 0
    cancelled = row.status == "cancelled"
    first = f"stormdesk-{key}-0"
    window = f"{cap_time(row.starts_at, zone)} to {cap_time(row.ends_at, zone)}"
    soon = row.starts_at - now <= dt.timedelta(hours=1)
    return CapAlert(
        key=key,
        identifier=f"stormdesk-{key}-{row.updates}",
        sent=row.changed_at,
        msg_type="Cancel" if cancelled else ("Update" if updated else "Alert"),
        references=(
            f"{settings.cap_sender},{first},{cap_time(row.created_at, zone)}"
            if updated or cancelled
            else None
        ),
        event="Planned power outage",
        urgency="Expected" if soon else "Future",
        severity="Minor",
        certainty="Likely",
        onset=row.starts_at,
        expires=row.ends_at,
        headline=(
            f"Planned power outage cancelled ({window})"
            if cancelled
            else f"Planned power outage {window}"
        ),
        description=(
            f"Planned work: {row.reason}. About {row.customers_affected} customers "
            f"will be without power from {window}."
        ),
        instruction=(
            "The planned outage will not take place."
            if cancelled
            else "Prepare for the break: charge phones, keep the fridge closed; "
            "critical equipment needs its own backup."
        ),
        area_desc="Planned work area",
        polygon=cap_polygon(row.hull),
        region=None,
    )


def _unplanned_alert(row: Row[Any], settings: OutageSettings, now: dt.datetime) -> CapAlert:
    zone = ZoneInfo(settings.timezone)
    key = f"outage-{row.id}"
    customers = row.customers_affected
    etr = row.etr_at
    expires = etr + UNPLANNED_EXPIRY if etr is not None and etr > now else now + UNPLANNED_NO_ETR
    etr_text = f" Estimated restoration: {cap_time(etr, zone)}." if etr is not None else ""
    cause = row.cause or "unknown"
    return CapAlert(
        key=key,
        identifier=f"stormdesk-{key}-{int(row.changed_at.timestamp())}",
        sent=row.changed_at,
        msg_type="Alert",
        references=None,
        event="Power outage",
        urgency="Immediate",
        severity="Severe" if customers >= 10 * settings.cap_major_customers else "Moderate",
        certainty="Observed" if row.status == "confirmed" else "Likely",
        onset=row.started_at,
        expires=expires,
        headline=f"Power outage: {customers} customers without power",
        description=(
            f"An unplanned power outage (cause: {cause}) leaves about {customers} customers "
            f"without power since {cap_time(row.started_at, zone)}.{etr_text}"
        ),
        instruction=(
            "Keep away from fallen lines and report them. No need to report the outage "
            "itself: crews are on it."
        ),
        area_desc=row.region_name or "Outage area",
        polygon=cap_polygon(row.hull),
        region=row.region,
    )


def cap_alerts(*, session: Session, now: dt.datetime, settings: OutageSettings) -> list[CapAlert]:
    """Every alert standing now: planned work in the notice window, then major outages."""
    params = {
        "cell_m": settings.feed_cell_m,
        "now": now,
        "until": now + dt.timedelta(days=settings.planned_notice_days),
        "major": settings.cap_major_customers,
    }
    planned = [
        _planned_alert(row, settings, now) for row in session.execute(text(_PLANNED), params).all()
    ]
    unplanned = [
        _unplanned_alert(row, settings, now)
        for row in session.execute(text(_UNPLANNED), params).all()
    ]
    return planned + unplanned


def alert_xml(alert: CapAlert, *, settings: OutageSettings, web_url: str) -> bytes:
    """One alert as a CAP 1.2 document (UTF-8, with the XML declaration)."""
    zone = ZoneInfo(settings.timezone)
    cap = ElementMaker(namespace=CAP_NS, nsmap={None: CAP_NS})
    header = [
        cap.identifier(alert.identifier),
        cap.sender(settings.cap_sender),
        cap.sent(cap_time(alert.sent, zone)),
        cap.status("Actual"),
        cap.msgType(alert.msg_type),
        cap.scope("Public"),
    ]
    if alert.references is not None:
        header.append(cap.references(alert.references))
    area = [cap.areaDesc(alert.area_desc), cap.polygon(alert.polygon)]
    if alert.region is not None:
        area.append(cap.geocode(cap.valueName("stormdesk:region"), cap.value(alert.region)))
    info = cap.info(
        cap.language("en-US"),
        cap.category("Infra"),
        cap.event(alert.event),
        cap.urgency(alert.urgency),
        cap.severity(alert.severity),
        cap.certainty(alert.certainty),
        cap.effective(cap_time(alert.sent, zone)),
        cap.onset(cap_time(alert.onset, zone)),
        cap.expires(cap_time(alert.expires, zone)),
        cap.senderName(settings.cap_sender_name),
        cap.headline(alert.headline),
        cap.description(alert.description),
        cap.instruction(alert.instruction),
        cap.web(web_url),
        cap.area(*area),
    )
    root = cap.alert(*header, info)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def atom_index(
    alerts: list[CapAlert], *, settings: OutageSettings, now: dt.datetime, base_url: str
) -> bytes:
    """The index of standing alerts as an Atom feed (RFC 4287), one entry per alert linking
    its CAP document, as the OASIS CAP feed practice has it."""
    zone = ZoneInfo(settings.timezone)
    atom = ElementMaker(namespace=ATOM_NS, nsmap={None: ATOM_NS})
    entries = [
        atom.entry(
            atom.id(f"urn:stormdesk:cap:{alert.identifier}"),
            atom.title(alert.headline),
            atom.updated(cap_time(alert.sent, zone)),
            atom.summary(alert.description),
            atom.link(
                rel="alternate",
                type="application/cap+xml",
                href=f"{base_url}/feeds/cap/{alert.key}.xml",
            ),
        )
        for alert in alerts
    ]
    feed = atom.feed(
        atom.id(f"{base_url}/feeds/cap.xml"),
        atom.title(f"{settings.cap_sender_name}: power outage alerts"),
        atom.updated(cap_time(now, zone)),
        atom.author(atom.name(settings.cap_sender_name)),
        atom.link(rel="self", href=f"{base_url}/feeds/cap.xml"),
        *entries,
    )
    return bytes(etree.tostring(feed, xml_declaration=True, encoding="UTF-8", pretty_print=True))
