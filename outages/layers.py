"""Live intake layers for the console, as GeoJSON built whole in PostGIS (see ``geo.layers``).

Each layer is one query, assembled by ``geo.layers.get_layer`` from the specs below; the
web layer serves them from the same ``/api/v1/layers/{name}`` endpoint as the territory
layers (``geo`` cannot import ``outages``, so the registry is merged in ``web``).

Every layer here but ``planned`` is staff-only (``staff_only``): reports are callers'
points, affected premises carry critical flags, and the outages count critical customers.
Even so nothing here names a customer: no caller phone, account, name, free-text
description or typed address.

``unlocated`` is a FeatureCollection too, with ``"geometry": null`` on every feature (RFC
7946 section 3.2 allows it): the queue has no position by definition, and one shape for
every layer keeps the client simple. A ``bbox`` filter therefore returns none of them.
"""

from __future__ import annotations

from geo.layers import LayerSpec
from outages.models import ACTIVE_OUTAGE_STATUSES

# The console shows the last day of reports; older ones are history, not the storm.
RECENT_REPORTS_H = 24
# Planned areas are drawn as the premises' hull grown by this much (metres).
PLANNED_BUFFER_M = 30
_ACTIVE = ", ".join(f"'{s}'" for s in ACTIVE_OUTAGE_STATUSES)

LAYERS: dict[str, LayerSpec] = {
    "outages": LayerSpec(
        staff_only=True,
        description=(
            "Active outages (suspected, confirmed): affected area, device, customers, ETR, "
            "report count and the rule that placed them."
        ),
        source="""outage t JOIN device d ON d.id = t.device_id
            JOIN feeder f ON f.id = t.feeder_id""",
        where=f"t.status IN ({_ACTIVE})",
        properties="""'id', t.id, 'status', t.status, 'device', d.code, 'device_kind', d.kind,
            'feeder', f.code, 'cause', t.cause, 'customers_affected', t.customers_affected,
            'critical_affected', t.critical_affected, 'etr', t.etr_at,
            'etr_dispatcher', (SELECT e.etr_at FROM etr_change e WHERE e.outage_id = t.id
                AND e.source = 'dispatcher' ORDER BY e.id DESC LIMIT 1),
            'device_lon', ST_X(d.geom), 'device_lat', ST_Y(d.geom),
            'started_at', t.started_at, 'confirmed_at', t.confirmed_at, 'hazard', t.hazard,
            'report_count', (SELECT count(*) FROM report r WHERE r.outage_id = t.id),
            'rule', t.explanation ->> 'rule',
            'explanation', t.explanation - 'reports'""",
    ),
    "outage_premises": LayerSpec(
        staff_only=True,
        description="Premises without power in an active outage (points; no customer data).",
        source=f"""(SELECT DISTINCT ON (p.id) p.id, p.geom, p.critical IS NOT NULL AS critical,
                op.outage_id
            FROM outage_premise op
            JOIN outage o ON o.id = op.outage_id AND o.status IN ({_ACTIVE})
            JOIN premise p ON p.id = op.premise_id
            WHERE op.restored_at IS NULL
            ORDER BY p.id, op.outage_id) t""",
        properties="'id', t.id, 'outage_id', t.outage_id, 'critical', t.critical",
    ),
    "reports": LayerSpec(
        staff_only=True,
        description=(
            f"Reports of the last {RECENT_REPORTS_H} h with a position: classification, "
            "category, hazard, outage (no caller data)."
        ),
        source="report t",
        where=(
            f"t.geom IS NOT NULL AND t.received_at > now() - interval '{RECENT_REPORTS_H} hours'"
        ),
        properties="""'id', t.id, 'classification', t.classification, 'category', t.category,
            'hazard', t.hazard, 'channel', t.channel, 'located_by', t.located_by,
            'received_at', t.received_at, 'status', t.status, 'outage_id', t.outage_id,
            'planned_outage_id', t.planned_outage_id, 'duplicate_of', t.duplicate_of_id""",
    ),
    "planned": LayerSpec(
        description=(
            "Scheduled planned outages not yet over: the hull of the premises they cover, "
            "window, reason and customers."
        ),
        source=f"""planned_outage t LEFT JOIN LATERAL (
                SELECT ST_Buffer(ST_ConvexHull(ST_Collect(p.geom))::geography,
                    {PLANNED_BUFFER_M})::geometry AS hull
                FROM planned_outage_premise pp JOIN premise p ON p.id = pp.premise_id
                WHERE pp.planned_outage_id = t.id) a ON true""",
        geom="COALESCE(a.hull, t.geom)",
        where="t.status = 'scheduled' AND t.ends_at > now()",
        properties="""'id', t.id, 'status', t.status, 'reason', t.reason,
            'starts_at', t.starts_at, 'ends_at', t.ends_at,
            'active_now', t.starts_at <= now(), 'customers_affected', t.customers_affected""",
    ),
    "unlocated": LayerSpec(
        staff_only=True,
        description=(
            "The unlocated queue: open reports no premise was found for (null geometry; "
            "no typed address or caller data: a dispatcher reads those when locating)."
        ),
        source="report t",
        where="t.located_by = 'unlocated' AND t.status = 'open'",
        properties="""'id', t.id, 'received_at', t.received_at, 'channel', t.channel,
            'category', t.category, 'hazard', t.hazard""",
    ),
}
