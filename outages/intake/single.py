"""Single-report intake: file one report, or place one from the unlocated queue.

Everything a report changes happens in the caller's transaction, so a report that was
answered is a report that was stored, together with any outage it created or moved.
Admission (rights, idempotency, locks) is ``outages.intake.admit``, the decisions are
``outages.intake.rules`` over a ``SessionStore``: both shared with the batch path.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import point
from outages.intake import rules
from outages.intake.admit import admit_report, lock_feeders
from outages.intake.locate import Located, locate_report
from outages.intake.session_store import SessionStore
from outages.models import Report
from outages.schemas import ReportAnswer, ReportCreate, Where
from outages.settings import OutageSettings


def file_report(
    *,
    session: Session,
    data: ReportCreate,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    is_agent: bool,
    idempotency_key: str | None = None,
) -> ReportAnswer:
    """Store a report, classify it and answer the caller.

    Classification order: inside a planned outage now -> ``planned``; inside an active
    outage -> ``known``; the same premise or caller reported recently -> ``duplicate``;
    else ``new`` (a suspected outage on the premise's transformer, then the roll-up).
    Hazards are never absorbed as duplicates and always carry their flag. The rules are
    ``outages.intake.rules``, shared with the batch path (``outages.intake.batch``).
    """
    replayed = admit_report(
        session=session, data=data, is_agent=is_agent, idempotency_key=idempotency_key
    )
    if replayed is not None:
        return replayed
    located = locate_report(
        session=session,
        data=data,
        settings=settings,
        may_file_unlocated=is_agent and data.allow_unlocated,
    )
    _lock_feeder(session, located)
    report = Report(
        **rules.report_fields(
            data=data,
            located_by=located.located_by,
            premise_id=located.premise_id,
            region_id=located.region_id,
            feeder_id=located.feeder_id,
            now=now,
            actor=actor,
            idempotency_key=idempotency_key,
        ),
        geom=None
        if located.lon is None or located.lat is None
        else point(located.lon, located.lat),
    )
    session.add(report)
    session.flush()
    return _file_located(session, report, located, settings=settings, now=now, actor=actor)


def locate_unlocated(
    *,
    session: Session,
    report: Report,
    where: Where,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
) -> ReportAnswer:
    """A dispatcher places a report from the unlocated queue; it is then classified as usual."""
    if report.located_by != "unlocated":
        msg = f"report #{report.id} is already located"
        raise InvalidInput(msg)
    located = locate_report(
        session=session, data=where, settings=settings, may_file_unlocated=False
    )
    _lock_feeder(session, located)
    report.located_by = located.located_by
    report.premise_id = located.premise_id
    report.region_id = located.region_id
    report.feeder_id = located.feeder_id
    if located.lon is not None and located.lat is not None:
        report.geom = point(located.lon, located.lat)
    session.flush()
    return _file_located(
        session,
        report,
        located,
        settings=settings,
        now=now,
        actor=actor,
        action="report.located",
    )


def _lock_feeder(session: Session, located: Located) -> None:
    if located.feeder_id is not None:
        lock_feeders(session=session, feeder_ids=[located.feeder_id])


def _file_located(
    session: Session,
    report: Report,
    located: Located,
    *,
    settings: OutageSettings,
    now: dt.datetime,
    actor: str,
    action: str = "report.filed",
) -> ReportAnswer:
    answer = rules.file_located(
        SessionStore(session),
        report,
        rules.Where(proxy_premise_id=located.proxy_premise_id, address=located.address),
        settings=settings,
        now=now,
        actor=actor,
        action=action,
    )
    session.flush()
    return answer
