"""Calls: one record per contact, opened and closed by the telephony system (CTI) or an agent.

A call moves through a small state machine; a step that does not fit the call's status is
refused with 409 and the steps it does allow (``CallStateConflict``), so a CTI that sends
"answer" after "hang up" learns what it got wrong instead of corrupting the statistics:

    ringing --answer--> answered --hang_up--> ended --wrap_up--> wrapped
    ringing --abandon--> abandoned            answered --wrap_up--> wrapped (ends it too)

Times come from the CTI (``at``) when it sends them, else the server's clock; a step may not
be dated before the one before it. Queue wait is answer (or abandon) minus ring.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from geo.audit import record
from geo.exceptions import InvalidInput
from geo.models import Premise, Region, User
from geo.phones import normalize_phone, phone_matches
from hotline.call_schemas import CallCreate, CallRead, CallUpdate
from hotline.exceptions import CallNotFound, CallStateConflict
from hotline.models import Call, Ticket
from outages.models import Outage, PlannedOutage, Report

# Which action each status allows (the 409 answer lists them).
ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    "ringing": ("answer", "abandon"),
    "answered": ("hang_up", "wrap_up"),
    "ended": ("wrap_up",),
    "wrapped": (),
    "abandoned": (),
}
AGENT_ROLES = ("agent", "supervisor", "admin")
# How far ahead of the server's clock a CTI's timestamp may be (clocks drift a little).
MAX_CLOCK_SKEW = dt.timedelta(minutes=2)


def premises_of_phone(*, session: Session, e164: str, phone_region: str) -> list[Premise]:
    """Premises registered with this number, however their record spells it, in id order."""
    stmt = select(Premise).where(phone_matches(Premise.phone, e164, region=phone_region))
    return list(session.scalars(stmt.order_by(Premise.id).limit(20)))


def number_forms(e164: str) -> list[str]:
    """How calls from this number are stored: E.164; rows written before phones were parsed
    hold its bare digits (``358401234567``), and no migration rewrote them."""
    return [e164, e164.lstrip("+")]


def number_matches(e164: str) -> ColumnElement[bool]:
    """Calls from this number (``number_forms``; the caller-and-time index serves it)."""
    return Call.caller_number.in_(number_forms(e164))


def _region_id(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    region_id = session.scalar(select(Region.id).where(Region.code == code))
    if region_id is None:
        msg = f"no region {code!r}: leave region_code out to take the caller's premise's"
        raise InvalidInput(msg)
    return region_id


def _when(
    at: dt.datetime | None, now: dt.datetime, after: dt.datetime | None, what: str
) -> dt.datetime:
    moment = at or now
    if moment > now + MAX_CLOCK_SKEW:
        msg = f"{what} at {moment.isoformat()} is in the future (server time {now.isoformat()})"
        raise InvalidInput(msg)
    if after is not None and moment < after:
        msg = (
            f"{what} at {moment.isoformat()} is before the call's previous step "
            f"({after.isoformat()})"
        )
        raise InvalidInput(msg)
    return moment


def ring(
    *, session: Session, data: CallCreate, actor: str, now: dt.datetime, phone_region: str
) -> tuple[Call, bool]:
    """Open a call; (call, created). A repeated ``external_id`` returns the stored call.

    The number is stored in E.164 (parsed in ``phone_region``). The caller's premise and
    region are filled in when the number or account names one premise (several premises:
    the agent picks; the caller card lists them).
    """
    if data.external_id is not None:
        known = session.scalar(select(Call).where(Call.external_id == data.external_id))
        if known is not None:
            return known, False
    e164 = (
        normalize_phone(data.caller_number, region=phone_region, field="caller_number")
        if data.caller_number
        else None
    )
    started_at = _when(data.at, now, None, "ring")
    region_id = _region_id(session, data.region_code)
    premise: Premise | None = None
    if data.caller_account:
        premise = session.scalar(select(Premise).where(Premise.account == data.caller_account))
    elif e164:
        found = premises_of_phone(session=session, e164=e164, phone_region=phone_region)
        premise = found[0] if len(found) == 1 else None
        if region_id is None and found and len({p.region_id for p in found}) == 1:
            region_id = found[0].region_id
    if premise is not None and region_id is None:
        region_id = premise.region_id
    call = Call(
        external_id=data.external_id,
        channel=data.channel,
        status="ringing",
        caller_number=e164,
        caller_account=data.caller_account,
        premise_id=premise.id if premise else None,
        region_id=region_id,
        started_at=started_at,
        created_by=actor,
    )
    session.add(call)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="call.ring",
        object_type="call",
        object_id=call.id,
        detail={"channel": call.channel},
        at=started_at,
    )
    return call, True


def get_call(*, session: Session, call_id: int, for_update: bool = False) -> Call:
    stmt = select(Call).where(Call.id == call_id)
    if for_update:
        stmt = stmt.with_for_update()
    call = session.scalar(stmt)
    if call is None:
        msg = f"no call #{call_id}: open it first with POST /api/v1/calls"
        raise CallNotFound(msg)
    return call


def _agent_for(session: Session, data: CallUpdate, user: User) -> User:
    """Who answered: the named agent (the CTI says), else the user taking the step."""
    if data.agent is None:
        if user.role not in AGENT_ROLES:
            msg = "say which agent answered: give agent (a username)"
            raise InvalidInput(msg)
        return user
    agent = session.scalar(select(User).where(User.username == data.agent.strip().casefold()))
    if agent is None or agent.role not in AGENT_ROLES or not agent.active:
        msg = f"no active agent or supervisor {data.agent!r}: agent must name one who can answer"
        raise InvalidInput(msg)
    return agent


def _check_links(session: Session, call: Call, data: CallUpdate) -> None:
    """Links must name stored objects, and a disposition must have what it says it used."""
    for model, value, name in (
        (Report, data.report_id, "report_id"),
        (Ticket, data.ticket_id, "ticket_id"),
        (Outage, data.outage_id, "outage_id"),
        (PlannedOutage, data.planned_outage_id, "planned_outage_id"),
        (Premise, data.premise_id, "premise_id"),
    ):
        if value is not None and session.get(model, value) is None:
            msg = f"{name} {value} names nothing: no {model.__tablename__} #{value}"
            raise InvalidInput(msg)
    need = {"fault_report": ("report_id", data.report_id), "ticket": ("ticket_id", data.ticket_id)}
    if data.disposition in need:
        field, value = need[data.disposition]
        if value is None and getattr(call, field) is None:
            msg = f"disposition {data.disposition} needs {field}: link what the call filed"
            raise InvalidInput(msg)
    if data.disposition == "abandoned":
        msg = "an answered call cannot be wrapped up as abandoned: use outage_answered, ..."
        raise InvalidInput(msg)


def step(*, session: Session, call: Call, data: CallUpdate, user: User, now: dt.datetime) -> Call:
    """Take one step of the call's state machine (see the module docstring)."""
    allowed = ACTIONS_BY_STATUS[call.status]
    if data.action not in allowed:
        can = ", ".join(allowed) if allowed else "nothing: it is finished"
        verb = data.action.replace("_", " ")
        msg = f"call #{call.id} is {call.status}: it cannot {verb}; it allows {can}"
        raise CallStateConflict(msg, allowed=list(allowed))
    last = call.ended_at or call.answered_at or call.started_at
    at = _when(data.at, now, last, data.action.replace("_", " "))
    detail: dict[str, object] = {}
    if data.action == "answer":
        agent = _agent_for(session, data, user)
        call.status, call.answered_at, call.answered_by = "answered", at, "agent"
        call.agent_id = agent.id
        call.queue_wait_s = round((at - call.started_at).total_seconds())
        detail = {"agent": agent.username, "queue_wait_s": call.queue_wait_s}
    elif data.action == "abandon":
        call.status, call.ended_at, call.disposition = "abandoned", at, "abandoned"
        call.queue_wait_s = round((at - call.started_at).total_seconds())
        detail = {"queue_wait_s": call.queue_wait_s}
    elif data.action == "hang_up":
        call.status, call.ended_at = "ended", at
    else:
        if data.disposition is None:
            msg = "wrap_up needs disposition: fault_report, outage_answered, ticket or kb_answered"
            raise InvalidInput(msg)
        _check_links(session, call, data)
        call.ended_at = call.ended_at or at
        call.status, call.wrapped_at, call.disposition = "wrapped", at, data.disposition
        for field in ("report_id", "ticket_id", "outage_id", "planned_outage_id", "premise_id"):
            value = getattr(data, field)
            if value is not None:
                setattr(call, field, value)
        if data.premise_id is not None and call.region_id is None:
            premise = session.get(Premise, data.premise_id)
            call.region_id = premise.region_id if premise else None
        call.notes = data.notes if data.notes is not None else call.notes
        detail = {"disposition": data.disposition}
    session.flush()
    record(
        session=session,
        actor=user.username,
        action=f"call.{data.action}",
        object_type="call",
        object_id=call.id,
        detail=detail,
        at=at,
    )
    return call


def list_calls(
    *,
    session: Session,
    status: str | None = None,
    since: dt.datetime | None = None,
    caller_number: str | None = None,
    phone_region: str,
    limit: int = 100,
) -> list[Call]:
    """Calls, newest first (the desk's queue reads ``status=ringing``)."""
    stmt = select(Call)
    if status is not None:
        stmt = stmt.where(Call.status == status)
    if since is not None:
        stmt = stmt.where(Call.started_at >= since)
    if caller_number is not None:
        e164 = normalize_phone(caller_number, region=phone_region)
        stmt = stmt.where(number_matches(e164))
    return list(session.scalars(stmt.order_by(Call.started_at.desc(), Call.id.desc()).limit(limit)))


def read_call(*, session: Session, call: Call) -> CallRead:
    region = session.get(Region, call.region_id) if call.region_id else None
    agent = session.get(User, call.agent_id) if call.agent_id else None
    talk_s = None
    if call.answered_at and call.ended_at:
        talk_s = round((call.ended_at - call.answered_at).total_seconds())
    return CallRead(
        id=call.id,
        external_id=call.external_id,
        channel=call.channel,
        status=call.status,
        caller_number=call.caller_number,
        caller_account=call.caller_account,
        premise_id=call.premise_id,
        region=region.code if region else None,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        wrapped_at=call.wrapped_at,
        queue_wait_s=call.queue_wait_s,
        talk_s=talk_s,
        answered_by=call.answered_by,
        agent=agent.username if agent else None,
        disposition=call.disposition,
        report_id=call.report_id,
        ticket_id=call.ticket_id,
        outage_id=call.outage_id,
        planned_outage_id=call.planned_outage_id,
        notes=call.notes,
        allowed_actions=list(ACTIONS_BY_STATUS[call.status]),
    )
