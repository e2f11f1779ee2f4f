"""The rows a report counts, read once per report as frames (set-based SQL, no ORM objects).

Each reader takes the period's UTC bounds and returns one row per record with the codes a
report groups by (region and feeder codes, not ids), so the computations in ``daily`` are
pure pandas and the same for the live system's records and the generated history.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Executable, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from dispatch.models import CompletionReport, WorkOrder
from geo.models import Feeder, Region
from hotline.models import Ticket
from hotline.settings import HotlineSettings
from hotline.trail import clock_of, trails
from outages.models import Outage, Report


def _frame(session: Session, query: Executable) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def reports(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Customer contacts (calls, web, app, SMS, Open311) received in the period."""
    query = (
        select(
            Report.id,
            Report.received_at,
            Report.channel,
            Report.category,
            Report.classification,
            func.coalesce(Region.code, "unknown").label("region"),
        )
        .outerjoin(Region, Region.id == Report.region_id)
        .where(Report.received_at >= start, Report.received_at < end)
    )
    return _frame(session, query)


def work_orders(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Work orders first reported in the period, with their clocks and what closed them."""
    cause = case(
        (WorkOrder.kind == "outage", func.coalesce(Outage.cause, "unknown")),
        else_=func.coalesce(Report.category, "unknown"),
    )
    query = (
        select(
            WorkOrder.id,
            WorkOrder.kind,
            WorkOrder.status,
            func.coalesce(Region.code, "unknown").label("region"),
            func.coalesce(Feeder.code, "unknown").label("feeder"),
            cause.label("cause"),
            WorkOrder.first_report_at,
            WorkOrder.onsite_due_at,
            WorkOrder.restore_due_at,
            WorkOrder.on_site_at,
            WorkOrder.restored_at,
        )
        .outerjoin(Region, Region.id == WorkOrder.region_id)
        .outerjoin(Feeder, Feeder.id == WorkOrder.feeder_id)
        .outerjoin(Outage, Outage.id == WorkOrder.outage_id)
        .outerjoin(Report, Report.id == WorkOrder.report_id)
        .where(
            WorkOrder.first_report_at >= start,
            WorkOrder.first_report_at < end,
            WorkOrder.status != "cancelled",
        )
    )
    return _frame(session, query)


def return_calls(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Return calls after repairs (the 95598 closing loop) made in the period."""
    query = (
        select(
            CompletionReport.work_order_id,
            CompletionReport.customer_reached,
            CompletionReport.satisfied,
            func.coalesce(Region.code, "unknown").label("region"),
        )
        .join(WorkOrder, WorkOrder.id == CompletionReport.work_order_id)
        .outerjoin(Region, Region.id == WorkOrder.region_id)
        .where(CompletionReport.return_call_at >= start, CompletionReport.return_call_at < end)
    )
    return _frame(session, query)


def tickets(
    *,
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    settings: HotlineSettings,
) -> pd.DataFrame:
    """Tickets filed in the period with their clocks replayed as of ``min(now, end)``.

    A clock read at the period's end says whether the commitment was kept *by then*; read
    later it would count an answer given next week as on time for today's report.
    """
    region = aliased(Region)
    query = (
        select(Ticket, func.coalesce(region.code, "unknown").label("region"))
        .outerjoin(region, region.id == Ticket.region_id)
        .where(Ticket.filed_at >= start, Ticket.filed_at < end)
        .order_by(Ticket.id)
    )
    found = session.execute(query).all()
    as_of = min(now, end)
    steps = trails(session=session, ticket_ids=[t.id for t, _ in found])
    rows = []
    for ticket, region_code in found:
        clock = clock_of(ticket=ticket, trail=steps[ticket.id], now=as_of, settings=settings)
        rows.append(
            {
                "id": ticket.id,
                "ticket_type": ticket.ticket_type,
                "ticket_class": ticket.ticket_class or "-",
                "region": region_code,
                "contacted_on_time": clock.contacted_at is not None and not clock.contact_overdue,
                "contact_overdue": clock.contact_overdue,
                "answered": clock.answered_at is not None,
                "answered_on_time": clock.answered_at is not None and not clock.answered_late,
                "overdue": clock.overdue,
            }
        )
    columns = [
        "id",
        "ticket_type",
        "ticket_class",
        "region",
        "contacted_on_time",
        "contact_overdue",
        "answered",
        "answered_on_time",
        "overdue",
    ]
    return pd.DataFrame(rows, columns=columns)


def ticket_satisfaction(*, session: Session, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Satisfaction recorded on tickets closed in the period (the return visit's answer)."""
    query = select(Ticket.id, Ticket.ticket_type, Ticket.satisfaction).where(
        and_(Ticket.closed_at >= start, Ticket.closed_at < end, Ticket.satisfaction.is_not(None))
    )
    return _frame(session, query)
