"""Caller recognition: from the calling number or an account to the caller card.

The card is what the agent sees before the first word: the caller's premises (several may
share one phone; none means a new caller), name, contact, region, feeder and critical flag,
the last 90 days of calls, reports and tickets, and what is true right now at each premise
(a known outage with its ETR and crew, planned work now or in the next 7 days, open
tickets) with the answer script. Staff only: it is full of personal data.

Every lookup is an index scan (digit-only phone expression indexes from migration 0013,
premise and time indexes on calls, reports and tickets); ``bench/caller_card.py`` measures
it at a million premises.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, false, or_, select, text
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Feeder, Premise, Region
from hotline.call_schemas import (
    CallBrief,
    CallerCard,
    OutageNow,
    PlannedRead,
    PremiseCard,
    ReportBrief,
    Script,
    TicketBrief,
)
from hotline.calls import premises_of_phone
from hotline.models import OPEN_STATUSES, Call, Ticket
from hotline.phones import digits_sql, normalize_phone
from hotline.scripts import crew_state, outage_script, planned_script
from hotline.settings import HotlineSettings
from hotline.visibility import Viewer, visible_filter
from outages.models import PlannedOutage, PlannedOutagePremise, Report
from outages.planned import planned_covering
from outages.service import active_outage_of

HISTORY_DAYS = 90
UPCOMING_DAYS = 7
HISTORY_LIMIT = 50


def ticket_brief(ticket: Ticket) -> TicketBrief:
    return TicketBrief(
        id=ticket.id,
        number=f"TK{ticket.id:06d}",
        ticket_type=ticket.ticket_type,
        status=ticket.status,
        subject=ticket.subject,
        filed_at=ticket.filed_at,
    )


def _planned_read(planned: PlannedOutage) -> PlannedRead:
    return PlannedRead(
        id=planned.id, reason=planned.reason, starts_at=planned.starts_at, ends_at=planned.ends_at
    )


def upcoming_planned(*, session: Session, premise_id: int, now: dt.datetime) -> list[PlannedOutage]:
    """Scheduled planned outages of the premise starting within the next 7 days."""
    return list(
        session.scalars(
            select(PlannedOutage)
            .join(PlannedOutagePremise, PlannedOutagePremise.planned_outage_id == PlannedOutage.id)
            .where(
                PlannedOutagePremise.premise_id == premise_id,
                PlannedOutage.status == "scheduled",
                PlannedOutage.starts_at > now,
                PlannedOutage.starts_at <= now + dt.timedelta(days=UPCOMING_DAYS),
            )
            .order_by(PlannedOutage.starts_at)
        )
    )


def _restored_at(
    session: Session, premise_id: int, now: dt.datetime, settings: HotlineSettings
) -> dt.datetime | None:
    since = now - dt.timedelta(hours=settings.restored_recently_h)
    value: dt.datetime | None = session.execute(
        text(
            "SELECT max(restored_at) FROM outage_premise "
            "WHERE premise_id = :p AND restored_at >= :since"
        ),
        {"p": premise_id, "since": since},
    ).scalar()
    return value


def premise_card(
    *,
    session: Session,
    premise: Premise,
    viewer: Viewer,
    now: dt.datetime,
    settings: HotlineSettings,
) -> PremiseCard:
    """One premise of the caller and what is true there now, with the script to read."""
    region = session.get(Region, premise.region_id) if premise.region_id else None
    feeder = session.get(Feeder, premise.feeder_id) if premise.feeder_id else None
    planned = planned_covering(session=session, premise_id=premise.id, now=now)
    outage = active_outage_of(session=session, premise_id=premise.id)
    upcoming = upcoming_planned(session=session, premise_id=premise.id, now=now)
    outage_now, script = None, None
    if outage is not None:
        crew = crew_state(session=session, outage_id=outage.id)
        outage_now = OutageNow(
            id=outage.id,
            status=outage.status,
            etr_at=outage.etr_at,
            cause=outage.cause,
            customers_affected=outage.customers_affected,
            crew=crew,
        )
        script = outage_script(
            outage=outage, crew=crew, now=now, timezone=settings.timezone, address=premise.address
        )
    if planned is not None:
        script = planned_script(planned=planned, now=now, timezone=settings.timezone)
    elif script is None and upcoming:
        script = planned_script(
            planned=upcoming[0], now=now, timezone=settings.timezone, upcoming=True
        )
    state = "planned" if planned else "outage" if outage else "normal"
    restored_at = _restored_at(session, premise.id, now, settings) if state == "normal" else None
    tickets = session.scalars(
        select(Ticket)
        .where(
            Ticket.premise_id == premise.id,
            Ticket.status.in_(OPEN_STATUSES),
            visible_filter(viewer),
        )
        .order_by(Ticket.filed_at)
    )
    return PremiseCard(
        premise_id=premise.id,
        account=premise.account,
        address=premise.address,
        customer_name=premise.customer_name,
        phone=premise.phone,
        region=region.code if region else None,
        region_name=region.name if region else None,
        feeder=feeder.code if feeder else None,
        critical=premise.critical,
        state="restored" if restored_at else state,
        outage=outage_now,
        planned_now=_planned_read(planned) if planned else None,
        planned_next_7_days=[_planned_read(p) for p in upcoming],
        restored_at=restored_at,
        open_tickets=[ticket_brief(t) for t in tickets],
        script=script,
    )


def _history(
    session: Session,
    viewer: Viewer,
    digits: str | None,
    premise_ids: list[int],
    since: dt.datetime,
) -> tuple[list[CallBrief], list[ReportBrief], list[TicketBrief]]:
    """Calls, reports and tickets of the number or the premises since ``since``, newest first."""

    def either(*terms: ColumnElement[bool]) -> ColumnElement[bool]:
        return or_(*terms) if terms else false()

    by_premise = bool(premise_ids)
    call_terms: list[ColumnElement[bool]] = [Call.premise_id.in_(premise_ids)] if by_premise else []
    report_terms: list[ColumnElement[bool]] = (
        [Report.premise_id.in_(premise_ids)] if by_premise else []
    )
    ticket_terms: list[ColumnElement[bool]] = (
        [Ticket.premise_id.in_(premise_ids)] if by_premise else []
    )
    if digits:
        call_terms.append(Call.caller_number == digits)
        report_terms.append(digits_sql(Report.caller_phone) == digits)
        ticket_terms.append(digits_sql(Ticket.caller_phone) == digits)

    calls = session.scalars(
        select(Call)
        .where(either(*call_terms), Call.started_at >= since)
        .order_by(Call.started_at.desc())
        .limit(HISTORY_LIMIT)
    )
    reports = session.scalars(
        select(Report)
        .where(either(*report_terms), Report.received_at >= since)
        .order_by(Report.received_at.desc())
        .limit(HISTORY_LIMIT)
    )
    tickets = session.scalars(
        select(Ticket)
        .where(
            either(*ticket_terms),
            Ticket.filed_at >= since,
            visible_filter(viewer),
        )
        .order_by(Ticket.filed_at.desc())
        .limit(HISTORY_LIMIT)
    )
    return (
        [
            CallBrief(
                id=c.id,
                channel=c.channel,
                status=c.status,
                started_at=c.started_at,
                disposition=c.disposition,
                report_id=c.report_id,
                ticket_id=c.ticket_id,
            )
            for c in calls
        ],
        [
            ReportBrief(
                id=r.id,
                received_at=r.received_at,
                channel=r.channel,
                category=r.category,
                classification=r.classification,
                status=r.status,
                outage_id=r.outage_id,
            )
            for r in reports
        ],
        [ticket_brief(t) for t in tickets],
    )


def caller_card(
    *,
    session: Session,
    viewer: Viewer,
    now: dt.datetime,
    settings: HotlineSettings,
    phone: str | None = None,
    account: str | None = None,
) -> CallerCard:
    """The caller card for a calling number or an account (one of them).

    An unknown number is a new caller: no premises, but the number's own history (a caller
    who rang before without being matched to a premise) is still shown.
    """
    if (phone is None) == (account is None):
        msg = "give phone (the calling number) or account, not both and not neither"
        raise InvalidInput(msg)
    digits = normalize_phone(phone) if phone is not None else None
    if digits is not None:
        premises = premises_of_phone(session=session, digits=digits)
    else:
        found = session.scalar(select(Premise).where(Premise.account == account))
        premises = [found] if found else []
    cards = [
        premise_card(session=session, premise=p, viewer=viewer, now=now, settings=settings)
        for p in premises
    ]
    since = now - dt.timedelta(days=HISTORY_DAYS)
    calls, reports, tickets = _history(session, viewer, digits, [p.id for p in premises], since)
    script: Script | None = next((c.script for c in cards if c.script is not None), None)
    return CallerCard(
        phone=digits,
        account=account,
        known=bool(premises),
        premises=cards,
        script=script,
        calls=calls,
        reports=reports,
        tickets=tickets,
        history_days=HISTORY_DAYS,
    )
