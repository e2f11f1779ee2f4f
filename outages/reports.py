"""Reading reports: one by number (staff) or token (anyone), lists, and how a tracker follows
each.

The JSON API and Open311 read reports through the same ``find_reports`` filter and the
same tracking view (``read_report``); Open311 adds what its spec's records carry
(``track_reports``). No personal data leaves here: no phone, account or free text; the
public view (``public_view``, Open311's records) has no address either, and its point is
the outage's (its suspected device, or the planned work's area), never the caller's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Device, Feeder, Premise, Region
from outages.exceptions import ReportNotFound
from outages.models import EtrChange, Outage, PlannedOutage, Report
from outages.schemas import ReportRead
from outages.settings import OutageSettings
from outages.wording import local_time


@dataclass(frozen=True)
class ReportQuery:
    """Which reports, newest first (ties: the higher id first), at most ``limit``.

    ``ids`` alone, or any of the other filters; ``is_open`` None means open or closed.
    """

    ids: Sequence[int] | None = None
    tokens: Sequence[str] | None = None
    located_by: str | None = None
    classification: str | None = None
    categories: Sequence[str] = ()
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    is_open: bool | None = None
    limit: int = 200
    offset: int = 0


@dataclass(frozen=True)
class Tracking:
    """A report as a tracker follows it: the tracking view, and what Open311 adds to it."""

    read: ReportRead
    notice: str | None  # the answer the filer was given
    agency: str | None  # the supply region's name
    lon: float | None  # the outage's point (its device, or the planned area), not the caller's
    lat: float | None
    expected_at: dt.datetime | None  # the outage's ETR, or the planned work's end
    updated_at: dt.datetime  # the last change a tracker would see


def get_report(*, session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        msg = f"no report #{report_id}"
        raise ReportNotFound(msg)
    return report


def get_report_by_token(*, session: Session, token: str) -> Report:
    report = session.scalar(select(Report).where(Report.token == token))
    if report is None:
        msg = "no report has this tracking code: check it against the answer you were given"
        raise ReportNotFound(msg)
    return report


def public_view(read: ReportRead) -> ReportRead:
    """The tracking view as anyone holding the token sees it: no address (tokens are listed
    by Open311, so a token proves nothing about who holds it)."""
    return read.model_copy(update={"address": None})


def find_reports(*, session: Session, query: ReportQuery) -> list[Report]:
    """The reports ``query`` selects, newest first."""
    statement = select(Report).order_by(Report.received_at.desc(), Report.id.desc())
    if query.ids is not None:
        statement = statement.where(Report.id.in_(list(query.ids)))
    if query.tokens is not None:
        statement = statement.where(Report.token.in_(list(query.tokens)))
    if query.located_by:
        statement = statement.where(Report.located_by == query.located_by)
    if query.classification:
        statement = statement.where(Report.classification == query.classification)
    if query.categories:
        statement = statement.where(Report.category.in_(list(query.categories)))
    if query.received_from is not None:
        statement = statement.where(Report.received_at >= query.received_from)
    if query.received_to is not None:
        statement = statement.where(Report.received_at <= query.received_to)
    if query.is_open is not None:
        is_open = Report.status == "open"
        statement = statement.where(is_open if query.is_open else ~is_open)
    return list(session.scalars(statement.offset(query.offset).limit(query.limit)))


def list_reports(
    *, session: Session, query: ReportQuery, settings: OutageSettings
) -> list[ReportRead]:
    """The reports ``query`` selects, as their filers track them."""
    return [t.read for t in track_reports(session=session, query=query, settings=settings)]


def track_reports(
    *, session: Session, query: ReportQuery, settings: OutageSettings
) -> list[Tracking]:
    """The reports ``query`` selects, with what a tracker (Open311) shows of each.

    A fixed handful of queries for the whole page, whatever its length (a page of 1,000
    took 8,000 queries and 4 s when each report looked up its own outage, premise, region,
    feeder, planned work and ETR history).
    """
    found = find_reports(session=session, query=query)
    if not found:
        return []
    outages = _outages_followed(session, {r.outage_id for r in found if r.outage_id})
    survivors = {oid: _survivor(outages, oid) for oid in outages}
    addresses = _names(session, Premise.id, Premise.address, {r.premise_id for r in found})
    region_ids = {r.region_id for r in found}
    regions = _names(session, Region.id, Region.code, region_ids)
    agencies = _names(session, Region.id, Region.name, region_ids)
    feeders = _names(session, Feeder.id, Feeder.code, {r.feeder_id for r in found})
    planned_ends = _names(
        session, PlannedOutage.id, PlannedOutage.ends_at, {r.planned_outage_id for r in found}
    )
    last_etrs = _last_etr_changes(session, {o.id for o in survivors.values()})
    points = _outage_points(session, survivors.values(), {r.planned_outage_id for r in found})
    out = []
    for report in found:
        outage = survivors.get(report.outage_id) if report.outage_id else None
        read = _read(
            report,
            outage,
            address=addresses.get(report.premise_id),
            region=regions.get(report.region_id),
            feeder=feeders.get(report.feeder_id),
            settings=settings,
        )
        expected = read.etr
        if expected is None and report.planned_outage_id is not None:
            expected = planned_ends.get(report.planned_outage_id)
        if outage is not None:
            point = points.get(("outage", outage.id))
        elif report.planned_outage_id is not None:
            point = points.get(("planned", report.planned_outage_id))
        else:
            point = None
        moments: list[dt.datetime | None] = [report.received_at]
        if outage is not None:
            moments += [outage.confirmed_at, outage.restored_at, outage.closed_at]
            moments.append(last_etrs.get(outage.id))
        out.append(
            Tracking(
                read=read,
                notice=report.answer.get("message"),
                agency=agencies.get(report.region_id),
                lon=point[0] if point is not None else None,
                lat=point[1] if point is not None else None,
                expected_at=expected,
                updated_at=max(m for m in moments if m is not None),
            )
        )
    return out


def _names(session: Session, key: Any, value: Any, ids: set[Any]) -> dict[Any, Any]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(key, value).where(key.in_(wanted))).all())


def _outage_points(
    session: Session, outages: Iterable[Outage], planned_ids: set[int | None]
) -> dict[tuple[str, int], tuple[float, float]]:
    """Where a public tracker puts a report: its outage's suspected device (public on the
    devices layer), or a point inside its planned work's area; never the caller's point."""
    points: dict[tuple[str, int], tuple[float, float]] = {}
    device_of = {o.id: o.device_id for o in outages}
    if device_of:
        rows = session.execute(
            select(Device.id, func.ST_X(Device.geom), func.ST_Y(Device.geom)).where(
                Device.id.in_(set(device_of.values()))
            )
        )
        at = {row[0]: (float(row[1]), float(row[2])) for row in rows}
        points.update({("outage", oid): at[did] for oid, did in device_of.items() if did in at})
    wanted = [i for i in planned_ids if i is not None]
    if wanted:
        surface = func.ST_PointOnSurface(PlannedOutage.geom)
        rows = session.execute(
            select(PlannedOutage.id, func.ST_X(surface), func.ST_Y(surface)).where(
                PlannedOutage.id.in_(wanted), PlannedOutage.geom.is_not(None)
            )
        )
        points.update({("planned", row[0]): (float(row[1]), float(row[2])) for row in rows})
    return points


def _outages_followed(session: Session, ids: set[int]) -> dict[int, Outage]:
    """The outages by id, with every outage their merges lead to."""
    loaded: dict[int, Outage] = {}
    wanted = set(ids)
    while wanted:
        for outage in session.scalars(select(Outage).where(Outage.id.in_(wanted))):
            loaded[outage.id] = outage
        wanted = {
            o.merged_into_id
            for o in loaded.values()
            if o.merged_into_id is not None and o.merged_into_id not in loaded
        }
    return loaded


def _survivor(outages: dict[int, Outage], outage_id: int) -> Outage:
    outage = outages[outage_id]
    seen = {outage.id}
    while outage.merged_into_id is not None and outage.merged_into_id not in seen:
        outage = outages[outage.merged_into_id]
        seen.add(outage.id)
    return outage


def _last_etr_changes(session: Session, outage_ids: set[int]) -> dict[int, dt.datetime]:
    if not outage_ids:
        return {}
    rows = session.execute(
        select(EtrChange.outage_id, func.max(EtrChange.changed_at))
        .where(EtrChange.outage_id.in_(outage_ids))
        .group_by(EtrChange.outage_id)
    )
    return {row[0]: row[1] for row in rows}


def read_report(*, session: Session, report: Report, settings: OutageSettings) -> ReportRead:
    """A report as its filer tracks it: state, outage and ETR, no personal data."""
    outage = session.get(Outage, report.outage_id) if report.outage_id else None
    while outage is not None and outage.merged_into_id is not None:
        outage = session.get(Outage, outage.merged_into_id)
    address = session.scalar(select(Premise.address).where(Premise.id == report.premise_id))
    region = session.scalar(select(Region.code).where(Region.id == report.region_id))
    feeder = session.scalar(select(Feeder.code).where(Feeder.id == report.feeder_id))
    return _read(report, outage, address=address, region=region, feeder=feeder, settings=settings)


def _read(
    report: Report,
    outage: Outage | None,
    *,
    address: str | None,
    region: str | None,
    feeder: str | None,
    settings: OutageSettings,
) -> ReportRead:
    """The tracking view from the report and what it points at (``outage``: the survivor)."""
    if outage is not None and outage.status in ("restored", "closed"):
        message = "Power has been restored. If you still have no power, please report again."
    elif outage is not None and outage.etr_at is not None:
        message = (
            f"Crews are working on it; expected back by {local_time(outage.etr_at, settings)}."
        )
    else:
        message = str(report.answer.get("message", "Your report is registered."))
    return ReportRead(
        id=report.id,
        token=report.token,
        received_at=report.received_at,
        channel=report.channel,
        category=report.category,
        status=report.status,
        classification=report.classification,
        hazard=report.hazard,
        located_by=report.located_by,
        address=address,
        region=region,
        feeder=feeder,
        outage_id=outage.id if outage else None,
        outage_status=outage.status if outage else None,
        etr=outage.etr_at if outage else None,
        message=message,
    )
