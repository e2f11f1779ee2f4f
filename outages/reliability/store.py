"""The interruption table read from the database: the live system's outages (premise by
premise, partial restorations included) and the restoration steps of outages known only
by sections (the generated history, imports), one table for ``reliability_report``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Executable, func, select
from sqlalchemy.orm import Session

from geo.models import Feeder, Premise, Region
from outages.models import Outage, OutagePremise, OutageStep
from outages.reliability.from_outages import interruptions_from_outages
from outages.reliability.records import COLUMNS, InvalidInterruptions
from outages.reliability.report import ReliabilityReport, reliability_report

# A merged outage's premises moved to the one it merged into.
COUNTED_STATUSES = ("suspected", "confirmed", "restored", "closed")


def _frame(session: Session, query: Executable) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _planned() -> object:
    return func.coalesce(Outage.explanation["planned"].as_boolean(), False)


def served_customers(*, session: Session) -> pd.DataFrame:
    """Customers (premises) served per feeder, with its region: the indices' denominators."""
    query = (
        select(
            Feeder.code.label("feeder"),
            func.coalesce(Region.code, "unknown").label("region"),
            func.count(Premise.id).label("customers"),
        )
        .join(Premise, Premise.feeder_id == Feeder.id)
        .outerjoin(Region, Region.id == Feeder.region_id)
        .group_by(Feeder.code, Region.code)
    )
    return _frame(session, query)


def interruptions(
    *, session: Session, start: dt.datetime, end: dt.datetime, as_of: dt.datetime
) -> pd.DataFrame:
    """Every interruption that began in ``start <= t < end`` (an outage still on counts up
    to ``as_of``)."""
    header = (
        select(
            Outage.id.label("outage_id"),
            Feeder.code.label("feeder"),
            func.coalesce(Region.code, "unknown").label("region"),
            func.coalesce(Outage.cause, "unknown").label("cause"),
            Outage.started_at,
            Outage.restored_at,
            _planned().label("planned"),  # type: ignore[attr-defined]
        )
        .join(Feeder, Feeder.id == Outage.feeder_id)
        .outerjoin(Region, Region.id == Feeder.region_id)
        .where(
            Outage.started_at >= start,
            Outage.started_at < end,
            Outage.status.in_(COUNTED_STATUSES),
        )
    )
    outages = _frame(session, header)
    steps = _frame(
        session,
        select(
            OutageStep.outage_id.label("event_id"),
            OutageStep.section,
            OutageStep.customers,
            OutageStep.kva,
            OutageStep.started_at,
            OutageStep.restored_at,
        )
        .join(Outage, Outage.id == OutageStep.outage_id)
        .where(Outage.started_at >= start, Outage.started_at < end),
    )
    affected = _frame(
        session,
        select(
            OutagePremise.outage_id,
            OutagePremise.premise_id,
            OutagePremise.restored_at,
            Premise.transformer_id.label("section"),
        )
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .join(Premise, Premise.id == OutagePremise.premise_id)
        .where(Outage.started_at >= start, Outage.started_at < end),
    )
    parts = []
    if not steps.empty:
        meta = outages.drop(columns=["started_at", "restored_at"]).rename(
            columns={"outage_id": "event_id"}
        )
        parts.append(steps.merge(meta, on="event_id", how="inner"))
    live = outages[~outages["outage_id"].isin(steps["event_id"] if not steps.empty else [])]
    if not affected.empty and not live.empty:
        affected = affected[affected["outage_id"].isin(live["outage_id"])]
        affected["section"] = affected["section"].map(
            lambda s: None if pd.isna(s) else f"T{int(s)}"
        )
        parts.append(interruptions_from_outages(live, affected, as_of=as_of))
    if not parts:
        return pd.DataFrame(columns=[*COLUMNS, "planned"])
    rows = pd.concat(parts, ignore_index=True)
    rows["section"] = rows["section"].astype(str)
    return rows[[*COLUMNS, "planned"]]


def report_from_db(
    *,
    session: Session,
    first: dt.date,
    last: dt.date,
    tz: str,
    as_of: dt.datetime,
    lookback_years: int = 5,
) -> ReliabilityReport:
    """The reliability report of local days ``first`` .. ``last``, with the major-event
    thresholds learnt from up to ``lookback_years`` before ``first``."""
    zone = ZoneInfo(tz)
    history_from = dt.date(first.year - lookback_years, 1, 1)
    start = dt.datetime.combine(history_from, dt.time(), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    rows = interruptions(session=session, start=start, end=end, as_of=as_of)
    served = served_customers(session=session)
    if served.empty:
        msg = "the database serves no customers yet: load a territory first"
        raise InvalidInterruptions(msg)
    return reliability_report(rows, served, start=first, end=last + dt.timedelta(days=1), tz=tz)
