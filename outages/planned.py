"""Planned outages: the announced window, reason and area, and the premises they cover."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.audit import record
from geo.exceptions import InvalidInput, NotFound
from geo.models import Device, Feeder, Premise
from outages.intake.session_store import SessionStore
from outages.models import PlannedOutage, PlannedOutagePremise
from outages.notify import queue_planned_message
from outages.schemas import (
    CriticalCustomer,
    PlannedOutageCreate,
    PlannedOutageRead,
    PlannedOutageUpdate,
)
from outages.settings import OutageSettings
from outages.topology import load_feeder_tree
from outages.wording import local_time


def _codes_to_ids(
    session: Session, model: type[Feeder] | type[Device], codes: list[str]
) -> list[int]:
    rows = dict(session.execute(select(model.code, model.id).where(model.code.in_(codes))).all())
    missing = [c for c in codes if c not in rows]
    if missing:
        msg = f"unknown {model.__tablename__} code(s): {', '.join(missing)}"
        raise InvalidInput(msg)
    return [rows[c] for c in codes]


def _area_ewkt(session: Session, area: dict[str, Any] | None) -> str | None:
    """Validate a GeoJSON polygon with PostGIS and return it as a MultiPolygon EWKT."""
    if area is None:
        return None
    if area.get("type") not in ("Polygon", "MultiPolygon"):
        msg = "area must be a GeoJSON Polygon or MultiPolygon in lon/lat"
        raise InvalidInput(msg)
    row = session.execute(
        text(
            "WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:gj), 4326) AS geom) "
            "SELECT ST_IsValid(geom) AS ok, ST_IsValidReason(geom) AS why, "
            "ST_AsEWKT(ST_Multi(geom)) AS ewkt FROM g"
        ),
        {"gj": json.dumps(area)},
    ).one()
    if not row.ok:
        msg = f"area is not a valid polygon: {row.why}"
        raise InvalidInput(msg)
    return str(row.ewkt)


def _affected_premises(session: Session, planned: PlannedOutage) -> None:
    """Recompute the premises covered: feeders, devices and everything below them, polygon."""
    session.execute(
        text("DELETE FROM planned_outage_premise WHERE planned_outage_id = :p"), {"p": planned.id}
    )
    devices: set[int] = set()
    for device_id in planned.device_ids:
        feeder_id = session.execute(
            select(Device.feeder_id).where(Device.id == device_id)
        ).scalar_one()
        devices |= load_feeder_tree(session=session, feeder_id=feeder_id).below(device_id)
    session.execute(
        text(
            "INSERT INTO planned_outage_premise (planned_outage_id, premise_id) "
            "SELECT po.id, pr.id FROM premise pr JOIN planned_outage po ON po.id = :p "
            "WHERE pr.feeder_id = ANY(:feeders) OR pr.transformer_id = ANY(:devices) "
            "OR (po.geom IS NOT NULL AND ST_Covers(po.geom, pr.geom)) "
            "ON CONFLICT DO NOTHING"
        ),
        {"p": planned.id, "feeders": list(planned.feeder_ids), "devices": sorted(devices)},
    )
    planned.customers_affected = int(
        session.execute(
            text("SELECT count(*) FROM planned_outage_premise WHERE planned_outage_id = :p"),
            {"p": planned.id},
        ).scalar_one()
    )


def _notice(planned: PlannedOutage, settings: OutageSettings) -> str:
    return (
        f"Planned power cut: {local_time(planned.starts_at, settings)} to "
        f"{local_time(planned.ends_at, settings)} for {planned.reason}."
    )


def create_planned(
    *,
    session: Session,
    data: PlannedOutageCreate,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> PlannedOutageRead:
    """Announce a planned outage; short notice is allowed but answered with a warning."""
    if data.ends_at <= now:
        msg = "the planned window has already ended: ends_at must be in the future"
        raise InvalidInput(msg)
    _check_window_length(data.starts_at, data.ends_at, settings)
    planned = PlannedOutage(
        reason=data.reason,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        feeder_ids=_codes_to_ids(session, Feeder, data.feeders),
        device_ids=_codes_to_ids(session, Device, data.devices),
        created_by=actor,
        created_at=now,
        geom=_area_ewkt(session, data.area),
    )
    session.add(planned)
    session.flush()
    _affected_premises(session, planned)
    if planned.customers_affected == 0:
        msg = "the planned outage's area covers no premise: check the feeders, devices or polygon"
        raise InvalidInput(msg)
    queue_planned_message(
        session=session,
        planned_id=planned.id,
        kind="planned_announced",
        event_key=f"planned:{planned.id}:announced",
        message=_notice(planned, settings),
    )
    record(
        session=session,
        actor=actor,
        action="planned.created",
        object_type="planned_outage",
        object_id=planned.id,
        at=now,
    )
    session.flush()
    return read_planned(session=session, planned=planned, settings=settings, now=now)


def _check_window_length(starts: dt.datetime, ends: dt.datetime, settings: OutageSettings) -> None:
    """Refuse a window longer than ``planned_max_window_h``: inside it faults are answered
    as planned work, so an end typed a year late must not pass as a long job."""
    hours = (ends - starts).total_seconds() / 3600
    if hours > settings.planned_max_window_h:
        msg = (
            f"the planned window is {hours:,.1f} h long (starts_at {starts.isoformat()}, "
            f"ends_at {ends.isoformat()}): at most {settings.planned_max_window_h:g} h; "
            "split longer work into several planned outages"
        )
        raise InvalidInput(msg)


def update_planned(
    *,
    session: Session,
    planned: PlannedOutage,
    data: PlannedOutageUpdate,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> PlannedOutageRead:
    """Change the window or reason, or cancel/complete; affected customers hear of changes."""
    if planned.status != "scheduled":
        msg = f"planned outage #{planned.id} is {planned.status} and can no longer change"
        raise InvalidInput(msg)
    starts = data.starts_at or planned.starts_at
    ends = data.ends_at or planned.ends_at
    for name, value in (("starts_at", data.starts_at), ("ends_at", data.ends_at)):
        if value is not None and value.tzinfo is None:
            msg = f"{name} must carry a UTC offset"
            raise InvalidInput(msg)
    if ends <= starts:
        msg = "ends_at must be after starts_at"
        raise InvalidInput(msg)
    _check_window_length(starts, ends, settings)
    planned.starts_at, planned.ends_at = starts, ends
    if data.reason:
        planned.reason = data.reason
    planned.updated_at = now
    if data.status == "cancelled":
        planned.status = "cancelled"
        kind, message = (
            "planned_cancelled",
            f"The planned power cut on {local_time(starts, settings)} is cancelled.",
        )
    elif data.status == "completed":
        planned.status = "completed"
        kind, message = "", ""
    else:
        kind, message = "planned_changed", "Changed: " + _notice(planned, settings)
    if kind:
        queue_planned_message(
            session=session,
            planned_id=planned.id,
            kind=kind,
            event_key=f"planned:{planned.id}:{kind}:{now.isoformat()}",
            message=message,
        )
    record(
        session=session,
        actor=actor,
        action="planned.updated",
        object_type="planned_outage",
        object_id=planned.id,
        detail=data.model_dump(mode="json", exclude_none=True),
        at=now,
    )
    session.flush()
    return read_planned(session=session, planned=planned, settings=settings, now=now)


def get_planned(*, session: Session, planned_id: int) -> PlannedOutage:
    planned = session.get(PlannedOutage, planned_id)
    if planned is None:
        msg = f"no planned outage #{planned_id}"
        raise NotFound(msg)
    return planned


def planned_covering(
    *, session: Session, premise_id: int, now: dt.datetime
) -> PlannedOutage | None:
    """The scheduled planned outage whose window covers ``now`` and whose area has the premise."""
    return SessionStore(session).planned_covering(premise_id, now)


def list_planned(
    *, session: Session, settings: OutageSettings, now: dt.datetime, include_past: bool = False
) -> list[PlannedOutageRead]:
    query = select(PlannedOutage).order_by(PlannedOutage.starts_at)
    if not include_past:
        query = query.where(PlannedOutage.ends_at > now, PlannedOutage.status == "scheduled")
    return [
        read_planned(session=session, planned=p, settings=settings, now=now)
        for p in session.scalars(query)
    ]


def read_planned(
    *, session: Session, planned: PlannedOutage, settings: OutageSettings, now: dt.datetime
) -> PlannedOutageRead:
    critical = session.execute(
        select(Premise.id, Premise.address, Premise.critical)
        .join(PlannedOutagePremise, PlannedOutagePremise.premise_id == Premise.id)
        .where(PlannedOutagePremise.planned_outage_id == planned.id, Premise.critical.is_not(None))
        .order_by(Premise.id)
    ).all()
    feeders = session.scalars(select(Feeder.code).where(Feeder.id.in_(planned.feeder_ids))).all()
    devices = session.scalars(select(Device.code).where(Device.id.in_(planned.device_ids))).all()
    warnings = []
    notice = (
        planned.starts_at - planned.created_at if planned.created_at else planned.starts_at - now
    )
    if planned.status == "scheduled" and notice < dt.timedelta(days=settings.planned_notice_days):
        warnings.append(
            f"less than {settings.planned_notice_days} days' notice: 95598 practice is to "
            "announce planned outages 7 days ahead"
        )
    if critical:
        warnings.append(f"{len(critical)} critical customer(s) affected: arrange backup supply")
    return PlannedOutageRead(
        id=planned.id,
        status=planned.status,
        reason=planned.reason,
        starts_at=planned.starts_at,
        ends_at=planned.ends_at,
        feeders=list(feeders),
        devices=list(devices),
        customers_affected=planned.customers_affected,
        critical_customers=[
            CriticalCustomer(premise_id=r.id, address=r.address, critical=r.critical)
            for r in critical
        ],
        warnings=warnings,
    )
