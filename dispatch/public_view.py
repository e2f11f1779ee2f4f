"""The public faces' read models: the outage map with the crew's stage and the ETR as a
range (a customer's status, which tells the same, is ``dispatch.public_status``).

They live here, not in ``outages``, because the crew's stage is a work order's status and
``outages`` cannot see work orders. The stage is all a customer learns of the crew: which
crew, where it is and what else it serves stay with staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import WorkOrder
from outages.etr_range import etr_range
from outages.planned_reasons import reason_texts
from outages.public_map import (
    CELL_M,
    current_outage_areas,
    planned_soon,
    region_summaries,
    territory_grid,
)
from outages.public_schemas import (
    CrewStage,
    PublicOutageFeature,
    PublicOutageMap,
    PublicOutageProps,
    PublicPlannedFeature,
    PublicPlannedProps,
    PublicRegion,
    PublicTotals,
)
from outages.settings import OutageSettings

REFRESH_S = 60
_STAGE_BY_STATUS: dict[str, CrewStage] = {
    "planned": "assigned",
    "dispatched": "assigned",
    "en_route": "en_route",
    "on_site": "on_site",
    "restored": "on_site",
    "closed": "on_site",
}


def stage_of(order_status: str | None, crew_id: int | None) -> CrewStage:
    """The crew's stage told to customers from the outage order's status (``waiting``
    while there is no order or no crew on it)."""
    if order_status is None or crew_id is None:
        return "waiting"
    return _STAGE_BY_STATUS.get(order_status, "waiting")


def crew_stages(
    *, session: Session, outage_ids: Iterable[int]
) -> dict[int, tuple[CrewStage, dt.datetime | None]]:
    """Each outage's crew stage and when its order last changed (no order: ``waiting``)."""
    ids = list(set(outage_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(WorkOrder.outage_id, WorkOrder.status, WorkOrder.crew_id, WorkOrder.updated_at)
        .where(WorkOrder.kind == "outage", WorkOrder.status != "cancelled")
        .where(WorkOrder.outage_id.in_(ids))
    ).all()
    stages: dict[int, tuple[CrewStage, dt.datetime | None]] = dict.fromkeys(ids, ("waiting", None))
    for outage_id, status, crew_id, updated_at in rows:
        assert outage_id is not None  # an outage order always has one (work_order_source)
        stages[outage_id] = (stage_of(status, crew_id), updated_at)
    return stages


def _percent(out: int, served: int) -> float:
    return round(100.0 * out / served, 1) if served else 0.0


def public_outage_map(
    *, session: Session, settings: OutageSettings, now: dt.datetime
) -> PublicOutageMap:
    """Current outages (generalized areas), the region table and the coming week's work."""
    grid = territory_grid(session=session)
    areas = current_outage_areas(session=session, grid=grid)
    stages = crew_stages(session=session, outage_ids=[a.outage_id for a in areas])
    outages = []
    for area in areas:
        stage, order_changed_at = stages[area.outage_id]
        span = etr_range(etr_at=area.etr_at, stage=stage, now=now)
        changed = max(m for m in (area.changed_at, order_changed_at) if m is not None)
        props = PublicOutageProps(
            outage_id=area.outage_id,
            status="confirmed" if area.status == "confirmed" else "investigating",
            region=area.region_code,
            region_name=area.region_name,
            customers_out=area.customers_out,
            cause=area.cause,
            started_at=area.started_at,
            crew_stage=stage,
            etr_earliest=span.earliest_at if span else None,
            etr_latest=span.latest_at if span else None,
            etr_overdue=span.overdue if span else False,
            updated_at=changed,
        )
        outages.append(PublicOutageFeature(geometry=area.area, properties=props))
    recent = dt.timedelta(hours=settings.restored_recently_h)
    regions = [
        PublicRegion(
            code=r.code,
            name=r.name,
            customers_served=r.customers_served,
            customers_out=r.customers_out,
            percent_out=_percent(r.customers_out, r.customers_served),
            outages=r.outages,
            updated_at=r.changed_at,
        )
        for r in region_summaries(session=session, now=now, recent=recent)
    ]
    served = sum(r.customers_served for r in regions)
    out = sum(r.customers_out for r in regions)
    planned = [
        PublicPlannedFeature(
            geometry=p.area,
            properties=PublicPlannedProps(
                planned_outage_id=p.planned_outage_id,
                reason=p.reason,
                reason_texts=reason_texts(p.reason),
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                active_now=p.starts_at <= now,
                customers_affected=p.customers_affected,
            ),
        )
        for p in planned_soon(session=session, grid=grid, now=now)
    ]
    return PublicOutageMap(
        generated_at=now,
        time_zone=settings.timezone,
        refresh_s=REFRESH_S,
        cell_m=CELL_M,
        bbox=grid.bbox,
        totals=PublicTotals(
            customers_served=served,
            customers_out=out,
            percent_out=_percent(out, served),
            outages=len(outages),
        ),
        regions=regions,
        outages=outages,
        planned=planned,
    )
