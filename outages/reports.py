"""Reading reports: one by number, lists by filter, and how a tracker follows each.

The JSON API and Open311 read reports through the same ``find_reports`` filter and the
same tracking view (``read_report``); Open311 adds what its spec's records carry
(``track_reports``). No personal data leaves here: no phone, account or free text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.models import Feeder, Premise, Region
from outages.etr_history import last_etr_change_at
from outages.exceptions import ReportNotFound
from outages.models import Outage, PlannedOutage, Report
from outages.schemas import ReportRead
from outages.settings import OutageSettings
from outages.wording import local_time


@dataclass(frozen=True)
class ReportQuery:
    """Which reports, newest first (ties: the higher id first), at most ``limit``.

    ``ids`` alone, or any of the other filters; ``is_open`` None means open or closed.
    """

    ids: Sequence[int] | None = None
    located_by: str | None = None
    classification: str | None = None
    categories: Sequence[str] = ()
    received_from: dt.datetime | None = None
    received_to: dt.datetime | None = None
    is_open: bool | None = None
    limit: int = 200


@dataclass(frozen=True)
class Tracking:
    """A report as a tracker follows it: the tracking view, and what Open311 adds to it."""

    read: ReportRead
    notice: str | None  # the answer the filer was given
    agency: str | None  # the supply region's name
    lon: float | None
    lat: float | None
    expected_at: dt.datetime | None  # the outage's ETR, or the planned work's end
    updated_at: dt.datetime  # the last change a tracker would see


def get_report(*, session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        msg = f"no report #{report_id}"
        raise ReportNotFound(msg)
    return report


def find_reports(*, session: Session, query: ReportQuery) -> list[Report]:
    """The reports ``query`` selects, newest first."""
    statement = select(Report).order_by(Report.received_at.desc(), Report.id.desc())
    if query.ids is not None:
        statement = statement.where(Report.id.in_(list(query.ids)))
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
    return list(session.scalars(statement.limit(query.limit)))


def list_reports(
    *, session: Session, query: ReportQuery, settings: OutageSettings
) -> list[ReportRead]:
    """The reports ``query`` selects, as their filers track them."""
    return [
        read_report(session=session, report=r, settings=settings)
        for r in find_reports(session=session, query=query)
    ]


def track_reports(
    *, session: Session, query: ReportQuery, settings: OutageSettings
) -> list[Tracking]:
    """The reports ``query`` selects, with what a tracker (Open311) shows of each."""
    return [
        track_report(session=session, report=r, settings=settings)
        for r in find_reports(session=session, query=query)
    ]


def track_report(*, session: Session, report: Report, settings: OutageSettings) -> Tracking:
    read = read_report(session=session, report=report, settings=settings)
    outage = session.get(Outage, read.outage_id) if read.outage_id is not None else None
    expected = read.etr
    if expected is None and report.planned_outage_id is not None:
        planned = session.get(PlannedOutage, report.planned_outage_id)
        expected = planned.ends_at if planned is not None else None
    region = session.get(Region, report.region_id) if report.region_id is not None else None
    point = to_shape(report.geom) if report.geom is not None else None
    return Tracking(
        read=read,
        notice=report.answer.get("message"),
        agency=region.name if region is not None else None,
        lon=point.x if point is not None else None,
        lat=point.y if point is not None else None,
        expected_at=expected,
        updated_at=_updated_at(session, report, outage),
    )


def _updated_at(session: Session, report: Report, outage: Outage | None) -> dt.datetime:
    """The last change a tracker would see: filing, then the outage's steps and ETR moves."""
    moments: list[dt.datetime | None] = [report.received_at]
    if outage is not None:
        last_etr = last_etr_change_at(session=session, outage_id=outage.id)
        moments += [outage.confirmed_at, outage.restored_at, outage.closed_at, last_etr]
    return max(m for m in moments if m is not None)


def read_report(*, session: Session, report: Report, settings: OutageSettings) -> ReportRead:
    """A report as its filer tracks it: state, outage and ETR, no personal data."""
    outage = session.get(Outage, report.outage_id) if report.outage_id else None
    while outage is not None and outage.merged_into_id is not None:
        outage = session.get(Outage, outage.merged_into_id)
    address = session.scalar(select(Premise.address).where(Premise.id == report.premise_id))
    region = session.scalar(select(Region.code).where(Region.id == report.region_id))
    feeder = session.scalar(select(Feeder.code).where(Feeder.id == report.feeder_id))
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
