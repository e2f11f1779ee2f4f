"""The public outage feed (``/feeds/outages.geojson``), built whole in PostGIS.

Current unplanned outages and planned work under way, each as a generalized area (see
``outages.feeds.areas``) with counts and times: no device, feeder tree, report, caller or
critical flag. The schema is documented in ``docs/feeds.md``; change it there too.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import text
from sqlalchemy.orm import Session

from outages.feeds.areas import (
    ACTIVE,
    AREA_DIGITS,
    OUTAGE_CHANGED_AT,
    OUTAGE_MEMBERS,
    PLANNED_CHANGED_AT,
    PLANNED_MEMBERS,
    with_areas,
)
from outages.settings import OutageSettings

FEED_VERSION = 1

_UNPLANNED = f"""{with_areas(OUTAGE_MEMBERS)}
SELECT 'outage-' || o.id AS fid, json_build_object(
    'type', 'Feature',
    'id', 'outage-' || o.id,
    'geometry', ST_AsGeoJSON(a.area, {AREA_DIGITS})::json,
    'properties', json_build_object(
        'kind', 'unplanned', 'outage_id', o.id, 'status', o.status, 'cause', o.cause,
        'customers_out', o.customers_affected, 'region', r.code, 'region_name', r.name,
        'started_at', o.started_at, 'etr', o.etr_at, 'ends_at', NULL, 'reason', NULL,
        'updated_at', {OUTAGE_CHANGED_AT})) AS feature
FROM outage o JOIN areas a ON a.item_id = o.id LEFT JOIN region r ON r.id = o.region_id
WHERE o.status IN ({ACTIVE})
"""
_PLANNED = f"""{with_areas(PLANNED_MEMBERS)}
SELECT 'planned-' || po.id AS fid, json_build_object(
    'type', 'Feature',
    'id', 'planned-' || po.id,
    'geometry', ST_AsGeoJSON(a.area, {AREA_DIGITS})::json,
    'properties', json_build_object(
        'kind', 'planned', 'outage_id', po.id, 'status', 'under_way', 'cause', 'planned work',
        'customers_out', po.customers_affected, 'region', NULL, 'region_name', NULL,
        'started_at', po.starts_at, 'etr', po.ends_at, 'ends_at', po.ends_at,
        'reason', po.reason, 'updated_at', {PLANNED_CHANGED_AT})) AS feature
FROM planned_outage po JOIN areas a ON a.item_id = po.id
"""


def outage_features(*, session: Session, now: dt.datetime, cell_m: float) -> list[tuple[str, str]]:
    """``(feature id, feature JSON text)`` of every current outage, unplanned then planned.

    Text, not parsed: the feed and the change log (``outages.feeds.changes``) both use
    it, and the digest of a feature's text is what says it changed.
    """
    params = {"cell_m": cell_m, "now": now, "until": now}
    return [
        (str(fid), str(feature))
        for sql in (_UNPLANNED, _PLANNED)
        for fid, feature in session.execute(
            text(f"SELECT fid, feature::text FROM ({sql}) f ORDER BY fid"), params
        ).all()
    ]


def outage_feed(*, session: Session, now: dt.datetime, settings: OutageSettings) -> str:
    """The feed as GeoJSON text: a FeatureCollection with ``generated_at`` and totals."""
    features = outage_features(session=session, now=now, cell_m=settings.feed_cell_m)
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "feed_version": FEED_VERSION,
            "generated_at": now.isoformat(),
            "max_age_s": settings.feed_cache_s + settings.feed_max_age_s,
            "outages": len(features),
        }
    )
    body = ",".join(feature for _, feature in features)
    return f'{head[:-1]}, "features": [{body}]}}'
