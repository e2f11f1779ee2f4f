"""Caller recognition: from the calling number or an account to the caller card.

The card is what the agent sees before the first word: the caller's premises (several may
share one phone; none means a new caller), name, contact, region, feeder and critical flag,
the last 90 days of calls, reports and tickets, and what is true right now at each premise
(a known outage with its ETR and crew, planned work now or in the next 7 days, open
tickets) with the answer script. Staff only: it is full of personal data.

The card is one SQL statement, one round trip: on a loaded server each round trip costs
milliseconds of scheduling whatever the query, and the set-wise card's eight of them were
most of its p99 (``bench/RESULTS.md``). CTEs find the premises (the digit-phone index of
migration 0013, or the account) and what holds at them; the history queries take the
premise ids as an array (``= ANY(ARRAY(...))``, an init plan), so the planner can still OR
the premise and phone indexes; ``json_build_object`` / ``json_agg`` shape the answer. The
answer scripts are worded in Python (``hotline.scripts``) from what the statement returns.
The rules are those of the status page (``outages.status``): planned work covering now is
the scheduled one ending last; an active outage holds a premise while its row there is not
restored; the most advanced live work order speaks for the outage's crew.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by, distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import CTE, FromClause

from dispatch.models import LIVE_STATUSES, Crew, WorkOrder
from geo.exceptions import InvalidInput
from geo.models import Feeder, Premise, Region
from geo.phones import digits_sql, normalize_phone, phone_keys
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
from hotline.calls import number_forms
from hotline.models import OPEN_STATUSES, Call, Ticket
from hotline.scripts import crew_rank, outage_script, planned_script
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

HISTORY_DAYS = 90
UPCOMING_DAYS = 7
HISTORY_LIMIT = 50
MAX_PREMISES = 20
# Tickets read before the per-premise open ones and the 90 days' are taken from them.
TICKETS_READ = 4 * HISTORY_LIMIT

# What ``card_params`` binds: the number's digit keys and stored call forms, or the account;
# the moments the card's windows start and end.
_KEYS: BindParameter[list[str]] = bindparam("keys", expanding=True)
_NUMBERS: BindParameter[list[str]] = bindparam("numbers", expanding=True)
_ACCOUNT = bindparam("account", type_=String)
_NOW = bindparam("now", type_=DateTime(timezone=True))
_HORIZON = bindparam("horizon", type_=DateTime(timezone=True))
_SINCE = bindparam("since", type_=DateTime(timezone=True))
_RESTORED_SINCE = bindparam("restored_since", type_=DateTime(timezone=True))


def ticket_brief(ticket: Ticket) -> TicketBrief:
    return TicketBrief(
        id=ticket.id,
        number=f"TK{ticket.id:06d}",
        ticket_type=ticket.ticket_type,
        status=ticket.status,
        subject=ticket.subject,
        filed_at=ticket.filed_at,
    )


def _object(**fields: Any) -> ColumnElement[Any]:
    """``json_build_object('k1', v1, ...)`` from keyword arguments."""
    args: list[Any] = []
    for key, value in fields.items():
        args += [literal_column(f"'{key}'"), value]
    return func.json_build_object(*args)


def _agg(value: ColumnElement[Any], *order: ColumnElement[Any]) -> ColumnElement[Any]:
    """``coalesce(json_agg(value ORDER BY ...), '[]')``: an empty list rather than NULL."""
    return func.coalesce(
        func.json_agg(aggregate_order_by(value, *order)), literal_column("'[]'::json")
    )


def _found(by_phone: bool) -> CTE:
    match = digits_sql(Premise.phone).in_(_KEYS) if by_phone else Premise.account == _ACCOUNT
    return (
        select(
            Premise.id,
            Premise.account,
            Premise.address,
            Premise.customer_name,
            Premise.phone,
            Premise.critical,
            Region.code.label("region"),
            Region.name.label("region_name"),
            Feeder.code.label("feeder"),
        )
        .outerjoin(Region, Region.id == Premise.region_id)
        .outerjoin(Feeder, Feeder.id == Premise.feeder_id)
        .where(match)
        .order_by(Premise.id)
        .limit(MAX_PREMISES)
        .cte("found")
    )


def _now_ctes(found: CTE) -> tuple[CTE, CTE, CTE, CTE]:
    """Planned work (now and in the coming days), the first active outage per premise, the
    outages' crews and recent restorations, at the found premises."""
    ids = select(found.c.id)
    planned = (
        select(
            PlannedOutagePremise.premise_id,
            PlannedOutage.id,
            PlannedOutage.reason,
            PlannedOutage.starts_at,
            PlannedOutage.ends_at,
        )
        .join(PlannedOutage, PlannedOutage.id == PlannedOutagePremise.planned_outage_id)
        .where(
            PlannedOutagePremise.premise_id.in_(ids),
            PlannedOutage.status == "scheduled",
            PlannedOutage.ends_at > _NOW,
            PlannedOutage.starts_at <= _HORIZON,
        )
        .cte("planned")
    )
    outage = (
        select(
            OutagePremise.premise_id,
            Outage.id,
            Outage.status,
            Outage.etr_at,
            Outage.cause,
            Outage.customers_affected,
        )
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .where(
            OutagePremise.premise_id.in_(ids),
            OutagePremise.restored_at.is_(None),
            Outage.status.in_(ACTIVE_OUTAGE_STATUSES),
        )
        .ext(distinct_on(OutagePremise.premise_id))
        .order_by(OutagePremise.premise_id, Outage.id)
        .cte("outage_here")
    )
    crew = (
        select(
            WorkOrder.outage_id,
            Crew.code,
            WorkOrder.status,
            WorkOrder.eta_at,
            WorkOrder.on_site_at,
        )
        .outerjoin(Crew, Crew.id == WorkOrder.crew_id)
        .where(
            WorkOrder.outage_id.in_(select(outage.c.id)),
            WorkOrder.status.in_(LIVE_STATUSES),
        )
        .ext(distinct_on(WorkOrder.outage_id))
        .order_by(WorkOrder.outage_id, crew_rank().desc(), WorkOrder.id)
        .cte("crew")
    )
    restored = (
        select(OutagePremise.premise_id, func.max(OutagePremise.restored_at).label("at"))
        .where(OutagePremise.premise_id.in_(ids), OutagePremise.restored_at >= _RESTORED_SINCE)
        .group_by(OutagePremise.premise_id)
        .cte("restored")
    )
    return planned, outage, crew, restored


def _history_ctes(found: CTE, by_phone: bool, viewer: Viewer) -> tuple[CTE, CTE, CTE]:
    """Calls, reports and tickets of the number or the premises since ``since``, newest
    first; tickets also include the premises' open ones, however old."""
    ids = any_(func.array(select(found.c.id).scalar_subquery()))
    call_number: ColumnElement[bool] = false()
    report_phone: ColumnElement[bool] = false()
    ticket_phone: ColumnElement[bool] = false()
    if by_phone:
        call_number = Call.caller_number.in_(_NUMBERS)
        report_phone = digits_sql(Report.caller_phone).in_(_KEYS)
        ticket_phone = digits_sql(Ticket.caller_phone).in_(_KEYS)
    calls = (
        select(Call)
        .where(
            or_(Call.premise_id == ids, call_number),
            Call.started_at >= _SINCE,
        )
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(HISTORY_LIMIT)
        .cte("calls")
    )
    reports = (
        select(Report)
        .where(
            or_(Report.premise_id == ids, report_phone),
            Report.received_at >= _SINCE,
        )
        .order_by(Report.received_at.desc(), Report.id.desc())
        .limit(HISTORY_LIMIT)
        .cte("reports")
    )
    tickets = (
        select(Ticket)
        .where(
            or_(Ticket.premise_id == ids, ticket_phone),
            or_(
                Ticket.filed_at >= _SINCE,
                and_(Ticket.premise_id == ids, Ticket.status.in_(OPEN_STATUSES)),
            ),
            visible_filter(viewer),
        )
        .order_by(Ticket.filed_at.desc(), Ticket.id.desc())
        .limit(TICKETS_READ)
        .cte("tickets")
    )
    return calls, reports, tickets


def _ticket_json(tickets: FromClause) -> ColumnElement[Any]:
    c = tickets.c
    return _object(
        id=c.id,
        ticket_type=c.ticket_type,
        status=c.status,
        subject=c.subject,
        filed_at=c.filed_at,
    )


def _planned_json(planned: CTE) -> ColumnElement[Any]:
    c = planned.c
    return _object(id=c.id, reason=c.reason, starts_at=c.starts_at, ends_at=c.ends_at)


@functools.lru_cache(maxsize=256)
def card_statement(*, by_phone: bool, viewer: Viewer) -> Select[Any]:
    """The whole card as one row: ``premises``, ``calls``, ``reports``, ``tickets`` (JSON).

    Built once per lookup kind and viewer, values bound at execution (``card_params``):
    building it is a few thousand SQLAlchemy objects, about 10 ms of Python per card,
    more than the database takes to run it.
    """
    found = _found(by_phone)
    planned, outage, crew, restored = _now_ctes(found)
    calls, reports, tickets = _history_ctes(found, by_phone, viewer)
    pid = found.c.id
    crew_json = (
        select(
            _object(
                crew=crew.c.code,
                status=crew.c.status,
                eta_at=crew.c.eta_at,
                on_site_at=crew.c.on_site_at,
            )
        )
        .where(crew.c.outage_id == outage.c.id)
        .scalar_subquery()
    )
    outage_json = (
        select(
            _object(
                id=outage.c.id,
                status=outage.c.status,
                etr_at=outage.c.etr_at,
                cause=outage.c.cause,
                customers_affected=outage.c.customers_affected,
                crew=crew_json,
            )
        )
        .where(outage.c.premise_id == pid)
        .scalar_subquery()
    )
    planned_now = (
        select(_planned_json(planned))
        .where(planned.c.premise_id == pid, planned.c.starts_at <= _NOW)
        .order_by(planned.c.ends_at.desc(), planned.c.id)
        .limit(1)
        .scalar_subquery()
    )
    upcoming = (
        select(_agg(_planned_json(planned), planned.c.starts_at, planned.c.id))
        .where(planned.c.premise_id == pid, planned.c.starts_at > _NOW)
        .scalar_subquery()
    )
    # Ascending by filing time; equal times keep the newest-first order they were read in.
    open_tickets = (
        select(_agg(_ticket_json(tickets), tickets.c.filed_at, tickets.c.id.desc()))
        .where(tickets.c.premise_id == pid, tickets.c.status.in_(OPEN_STATUSES))
        .scalar_subquery()
    )
    premise_json = _object(
        premise_id=pid,
        account=found.c.account,
        address=found.c.address,
        customer_name=found.c.customer_name,
        phone=found.c.phone,
        region=found.c.region,
        region_name=found.c.region_name,
        feeder=found.c.feeder,
        critical=found.c.critical,
        outage=outage_json,
        planned_now=planned_now,
        planned_next_7_days=upcoming,
        restored_at=select(restored.c.at).where(restored.c.premise_id == pid).scalar_subquery(),
        open_tickets=open_tickets,
    )
    c, r = calls.c, reports.c
    call_json = _object(
        id=c.id,
        channel=c.channel,
        status=c.status,
        started_at=c.started_at,
        disposition=c.disposition,
        report_id=c.report_id,
        ticket_id=c.ticket_id,
    )
    report_json = _object(
        id=r.id,
        received_at=r.received_at,
        channel=r.channel,
        category=r.category,
        classification=r.classification,
        status=r.status,
        outage_id=r.outage_id,
    )
    recent = (
        select(tickets)
        .where(tickets.c.filed_at >= _SINCE)
        .order_by(tickets.c.filed_at.desc(), tickets.c.id.desc())
        .limit(HISTORY_LIMIT)
        .subquery("recent")
    )
    return select(
        select(_agg(premise_json, pid)).scalar_subquery().label("premises"),
        select(_agg(call_json, c.started_at.desc(), c.id.desc())).scalar_subquery().label("calls"),
        select(_agg(report_json, r.received_at.desc(), r.id.desc()))
        .scalar_subquery()
        .label("reports"),
        select(_agg(_ticket_json(recent), recent.c.filed_at.desc(), recent.c.id.desc()))
        .scalar_subquery()
        .label("tickets"),
    )


def card_params(
    *, e164: str | None, account: str | None, now: dt.datetime, settings: HotlineSettings
) -> dict[str, Any]:
    """The values ``card_statement`` binds, for a number in E.164 or an account."""
    params: dict[str, Any] = {
        "now": now,
        "horizon": now + dt.timedelta(days=UPCOMING_DAYS),
        "since": now - dt.timedelta(days=HISTORY_DAYS),
        "restored_since": now - dt.timedelta(hours=settings.restored_recently_h),
    }
    if e164 is None:
        return params | {"account": account}
    keys = phone_keys(e164, region=settings.phone_region)
    return params | {"keys": keys, "numbers": number_forms(e164)}


def _brief(row: dict[str, Any]) -> TicketBrief:
    return TicketBrief(number=f"TK{row['id']:06d}", **row)


def _script(premise: PremiseCard, now: dt.datetime, settings: HotlineSettings) -> Script | None:
    """Planned work now, else the known outage, else planned work in the coming days."""
    tz = settings.timezone
    if premise.planned_now is not None:
        return planned_script(planned=premise.planned_now, now=now, timezone=tz)
    if premise.outage is not None:
        return outage_script(
            outage=premise.outage,
            crew=premise.outage.crew,
            now=now,
            timezone=tz,
            address=premise.address,
        )
    if premise.planned_next_7_days:
        return planned_script(
            planned=premise.planned_next_7_days[0], now=now, timezone=tz, upcoming=True
        )
    return None


def _premise_card(row: dict[str, Any], now: dt.datetime, settings: HotlineSettings) -> PremiseCard:
    planned = PlannedRead(**row["planned_now"]) if row["planned_now"] else None
    outage = OutageNow.model_validate(row["outage"]) if row["outage"] else None
    restored_at = None if planned or outage else row["restored_at"]
    status = "planned" if planned else "outage" if outage else "normal"
    card = PremiseCard.model_validate(
        {
            **row,
            "state": "restored" if restored_at else status,
            "outage": outage,
            "planned_now": planned,
            "restored_at": restored_at,
            "open_tickets": [_brief(t) for t in row["open_tickets"]],
            "script": None,
        }
    )
    card.script = _script(card, now, settings)
    return card


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
    e164 = normalize_phone(phone, region=settings.phone_region) if phone is not None else None
    stmt = card_statement(by_phone=e164 is not None, viewer=viewer)
    params = card_params(e164=e164, account=account, now=now, settings=settings)
    row = session.execute(stmt, params).one()
    cards = [_premise_card(p, now, settings) for p in row.premises]
    return CallerCard(
        phone=e164,
        account=account,
        known=bool(cards),
        premises=cards,
        script=next((c.script for c in cards if c.script is not None), None),
        calls=[CallBrief.model_validate(c) for c in row.calls],
        reports=[ReportBrief.model_validate(r) for r in row.reports],
        tickets=[_brief(t) for t in row.tickets],
        history_days=HISTORY_DAYS,
    )
