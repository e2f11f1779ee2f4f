"""The caller card as it was read before it became one statement: a fixed handful of queries
(premises, planned work, active outages, each outage's crew, restorations, calls, reports,
tickets). Kept only here, as the reference ``hotline.caller_card`` must answer exactly like
(``tests/hotline/test_caller_card.py``); the phone rule is the current one (``geo.phones``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Feeder, Premise, Region
from geo.phones import normalize_phone, phone_matches
from hotline.call_schemas import (
    CallBrief,
    CallerCard,
    CrewState,
    OutageNow,
    PlannedRead,
    PremiseCard,
    ReportBrief,
    Script,
)
from hotline.caller_card import HISTORY_DAYS, HISTORY_LIMIT, UPCOMING_DAYS, ticket_brief
from hotline.calls import number_matches
from hotline.models import OPEN_STATUSES, Call, Ticket
from hotline.scripts import crew_state, outage_script, planned_script
from hotline.settings import HotlineSettings
from hotline.visibility import Viewer, visible_filter
from outages.models import (
    ACTIVE_OUTAGE_STATUSES,
    Outage,
    OutagePremise,
    PlannedOutage,
    PlannedOutagePremise,
    Report,
)


def _planned_read(planned: PlannedOutage) -> PlannedRead:
    return PlannedRead(
        id=planned.id, reason=planned.reason, starts_at=planned.starts_at, ends_at=planned.ends_at
    )


@dataclass
class _Found:
    """A premise with its region's code and name and its feeder's code."""

    premise: Premise
    region: str | None
    region_name: str | None
    feeder: str | None


@dataclass
class _Now:
    """What is true at the card's premises now, by premise id."""

    planned_now: dict[int, PlannedOutage] = field(default_factory=dict)
    upcoming: dict[int, list[PlannedOutage]] = field(default_factory=dict)
    outage: dict[int, Outage] = field(default_factory=dict)
    crews: dict[int, CrewState | None] = field(default_factory=dict)
    restored: dict[int, dt.datetime] = field(default_factory=dict)


def _find(session: Session, e164: str | None, account: str | None, region: str) -> list[_Found]:
    stmt = (
        select(Premise, Region.code, Region.name, Feeder.code)
        .outerjoin(Region, Region.id == Premise.region_id)
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
    )
    if e164 is not None:
        stmt = stmt.where(phone_matches(Premise.phone, e164, region=region))
    else:
        stmt = stmt.where(Premise.account == account)
    rows = session.execute(stmt.order_by(Premise.id).limit(20)).all()
    return [_Found(p, region, name, feeder) for p, region, name, feeder in rows]


def _now_at(session: Session, ids: list[int], now: dt.datetime, settings: HotlineSettings) -> _Now:
    """Planned work, active outages (with their crews) and recent restorations at ``ids``.

    The same rules as the status page (``outages.status``): planned work covering now is
    the scheduled one ending last; an active outage holds the premise while its row there
    is not restored.
    """
    state = _Now()
    if not ids:
        return state
    planned = session.execute(
        select(PlannedOutagePremise.premise_id, PlannedOutage)
        .join(PlannedOutage, PlannedOutage.id == PlannedOutagePremise.planned_outage_id)
        .where(
            PlannedOutagePremise.premise_id.in_(ids),
            PlannedOutage.status == "scheduled",
            PlannedOutage.ends_at > now,
            PlannedOutage.starts_at <= now + dt.timedelta(days=UPCOMING_DAYS),
        )
        .order_by(PlannedOutage.starts_at, PlannedOutage.id)
    ).all()
    for premise_id, work in planned:
        if work.starts_at > now:
            state.upcoming.setdefault(premise_id, []).append(work)
            continue
        best = state.planned_now.get(premise_id)
        if best is None or (work.ends_at, -work.id) > (best.ends_at, -best.id):
            state.planned_now[premise_id] = work
    outages = session.execute(
        select(OutagePremise.premise_id, Outage)
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .where(
            OutagePremise.premise_id.in_(ids),
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .order_by(Outage.id)
    ).all()
    for premise_id, outage in outages:
        state.outage.setdefault(premise_id, outage)
    for outage in {o.id: o for o in state.outage.values()}.values():
        state.crews[outage.id] = crew_state(session=session, outage_id=outage.id)
    since = now - dt.timedelta(hours=settings.restored_recently_h)
    restored = session.execute(
        select(OutagePremise.premise_id, func.max(OutagePremise.restored_at))
        .where(OutagePremise.premise_id.in_(ids), OutagePremise.restored_at >= since)
        .group_by(OutagePremise.premise_id)
    ).all()
    state.restored = {int(row[0]): row[1] for row in restored if row[1] is not None}
    return state


def _script(
    found: _Found, state: _Now, now: dt.datetime, settings: HotlineSettings
) -> Script | None:
    """Planned work now, else the known outage, else planned work in the coming days."""
    pid, tz = found.premise.id, settings.timezone
    if pid in state.planned_now:
        return planned_script(planned=state.planned_now[pid], now=now, timezone=tz)
    if pid in state.outage:
        outage = state.outage[pid]
        crew = state.crews.get(outage.id)
        return outage_script(
            outage=outage, crew=crew, now=now, timezone=tz, address=found.premise.address
        )
    if state.upcoming.get(pid):
        return planned_script(planned=state.upcoming[pid][0], now=now, timezone=tz, upcoming=True)
    return None


def _premise_card(
    found: _Found, state: _Now, tickets: list[Ticket], now: dt.datetime, settings: HotlineSettings
) -> PremiseCard:
    premise, pid = found.premise, found.premise.id
    planned, outage = state.planned_now.get(pid), state.outage.get(pid)
    outage_now = None
    if outage is not None:
        outage_now = OutageNow(
            id=outage.id,
            status=outage.status,
            etr_at=outage.etr_at,
            cause=outage.cause,
            customers_affected=outage.customers_affected,
            crew=state.crews.get(outage.id),
        )
    restored_at = None if planned or outage else state.restored.get(pid)
    status = "planned" if planned else "outage" if outage else "normal"
    return PremiseCard(
        premise_id=pid,
        account=premise.account,
        address=premise.address,
        customer_name=premise.customer_name,
        phone=premise.phone,
        region=found.region,
        region_name=found.region_name,
        feeder=found.feeder,
        critical=premise.critical,
        state="restored" if restored_at else status,
        outage=outage_now,
        planned_now=_planned_read(planned) if planned else None,
        planned_next_7_days=[_planned_read(p) for p in state.upcoming.get(pid, [])],
        restored_at=restored_at,
        open_tickets=[
            ticket_brief(t)
            for t in sorted(tickets, key=lambda t: t.filed_at)
            if t.premise_id == pid and t.status in OPEN_STATUSES
        ],
        script=_script(found, state, now, settings),
    )


def _either(terms: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    return or_(*terms) if terms else false()


def _history(
    session: Session,
    viewer: Viewer,
    e164: str | None,
    ids: list[int],
    since: dt.datetime,
    region: str,
) -> tuple[list[Call], list[Report], list[Ticket]]:
    """Calls, reports and tickets of the number or the premises since ``since``, newest
    first; tickets also include the premises' open ones, however old."""
    calls: list[ColumnElement[bool]] = [Call.premise_id.in_(ids)] if ids else []
    reports: list[ColumnElement[bool]] = [Report.premise_id.in_(ids)] if ids else []
    tickets: list[ColumnElement[bool]] = [Ticket.premise_id.in_(ids)] if ids else []
    if e164:
        calls.append(number_matches(e164))
        reports.append(phone_matches(Report.caller_phone, e164, region=region))
        tickets.append(phone_matches(Ticket.caller_phone, e164, region=region))
    open_here = (
        and_(Ticket.premise_id.in_(ids), Ticket.status.in_(OPEN_STATUSES)) if ids else false()
    )
    return (
        list(
            session.scalars(
                select(Call)
                .where(_either(calls), Call.started_at >= since)
                .order_by(Call.started_at.desc(), Call.id.desc())
                .limit(HISTORY_LIMIT)
            )
        ),
        list(
            session.scalars(
                select(Report)
                .where(_either(reports), Report.received_at >= since)
                .order_by(Report.received_at.desc(), Report.id.desc())
                .limit(HISTORY_LIMIT)
            )
        ),
        list(
            session.scalars(
                select(Ticket)
                .where(
                    _either(tickets),
                    or_(Ticket.filed_at >= since, open_here),
                    visible_filter(viewer),
                )
                .order_by(Ticket.filed_at.desc(), Ticket.id.desc())
                .limit(4 * HISTORY_LIMIT)
            )
        ),
    )


def reference_card(
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
    region = settings.phone_region
    e164 = normalize_phone(phone, region=region) if phone is not None else None
    found = _find(session, e164, account, region)
    ids = [f.premise.id for f in found]
    state = _now_at(session, ids, now, settings)
    since = now - dt.timedelta(days=HISTORY_DAYS)
    calls, reports, tickets = _history(session, viewer, e164, ids, since, region)
    cards = [_premise_card(f, state, tickets, now, settings) for f in found]
    return CallerCard(
        phone=e164,
        account=account,
        known=bool(found),
        premises=cards,
        script=next((c.script for c in cards if c.script is not None), None),
        calls=[
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
        reports=[
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
        tickets=[ticket_brief(t) for t in tickets if t.filed_at >= since][:HISTORY_LIMIT],
        history_days=HISTORY_DAYS,
    )
