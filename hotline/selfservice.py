"""IVR self-service: the calling number (or an account keyed in) answered with the known or
planned outage at the caller's premise before an agent picks up.

What the IVR says is public-safe: it speaks to whoever dials the number, so it never says a
name, an address or a critical flag; "a known outage in your area, power back by 22:40" is
all. A call it answers is recorded as wrapped, ``answered_by = 'ivr'`` and disposition
``outage_answered``, so the share of calls answered without an agent can be counted
(``hotline.call_stats``). A caller it cannot help stays in the queue for an agent.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.audit import record
from geo.models import Premise
from geo.phones import normalize_phone
from hotline.call_schemas import CallCreate, SelfServiceAnswer, SelfServiceLookup
from hotline.calls import get_call, premises_of_phone, ring
from hotline.exceptions import CallStateConflict
from hotline.models import Call
from hotline.scripts import crew_state, outage_script, planned_script
from hotline.settings import HotlineSettings
from hotline.storm_mode import is_on
from outages.planned import planned_covering
from outages.service import active_outage_of

HOLD_EN = "Please hold: an agent will take your call."
HOLD_ZH = "请稍候，客服人员将为您服务。"
UNKNOWN_EN = "We could not find your number. Please hold for an agent, or key in your account."
UNKNOWN_ZH = "未查到您的号码。请稍候转人工服务，或输入您的户号。"


def _premises(
    session: Session, data: SelfServiceLookup, region: str
) -> tuple[list[Premise], str | None]:
    e164 = normalize_phone(data.phone, region=region) if data.phone else None
    if data.account:
        found = session.scalar(select(Premise).where(Premise.account == data.account))
        return ([found] if found else []), e164
    assert e164 is not None  # the schema wants phone or account
    return premises_of_phone(session=session, e164=e164, phone_region=region), e164


def _the_call(
    session: Session,
    data: SelfServiceLookup,
    e164: str | None,
    actor: str,
    now: dt.datetime,
    region: str,
) -> Call:
    """The CTI's open call (still ringing), or a new phone call record."""
    if data.call_id is not None:
        call = get_call(session=session, call_id=data.call_id, for_update=True)
        if call.status != "ringing":
            msg = (
                f"call #{call.id} is {call.status}: the IVR answers only a call still in the queue"
            )
            raise CallStateConflict(msg, allowed=["ringing"])
        return call
    call, _ = ring(
        session=session,
        data=CallCreate(channel="phone", caller_number=e164, caller_account=data.account),
        actor=actor,
        now=now,
        phone_region=region,
    )
    return call


def lookup(
    *,
    session: Session,
    data: SelfServiceLookup,
    actor: str,
    now: dt.datetime,
    settings: HotlineSettings,
) -> SelfServiceAnswer:
    """Answer the caller from the outage system, or say an agent will take the call."""
    premises, e164 = _premises(session, data, settings.phone_region)
    storm = is_on(session=session)
    call = _the_call(session, data, e164, actor, now, settings.phone_region)
    if not premises:
        return SelfServiceAnswer(
            answered=False,
            state="unknown_caller",
            etr_at=None,
            message_en=UNKNOWN_EN,
            message_zh=UNKNOWN_ZH,
            call_id=call.id,
            storm_mode=storm,
        )
    for premise in premises:
        planned = planned_covering(session=session, premise_id=premise.id, now=now)
        outage = None if planned else active_outage_of(session=session, premise_id=premise.id)
        if planned is None and outage is None:
            continue
        etr: dt.datetime | None
        state: Literal["outage", "planned"]
        if planned is not None:
            script = planned_script(planned=planned, now=now, timezone=settings.timezone)
            etr, state = planned.ends_at, "planned"
        else:
            assert outage is not None
            crew = crew_state(session=session, outage_id=outage.id)
            script = outage_script(outage=outage, crew=crew, now=now, timezone=settings.timezone)
            etr, state = outage.etr_at, "outage"
        call.status, call.answered_by, call.disposition = "wrapped", "ivr", "outage_answered"
        call.answered_at = call.ended_at = call.wrapped_at = now
        call.queue_wait_s = round((now - call.started_at).total_seconds())
        call.premise_id, call.region_id = premise.id, premise.region_id
        call.outage_id = outage.id if outage else None
        call.planned_outage_id = planned.id if planned else None
        session.flush()
        record(
            session=session,
            actor=actor,
            action="call.ivr_answered",
            object_type="call",
            object_id=call.id,
            detail={"state": state},
            at=now,
        )
        return SelfServiceAnswer(
            answered=True,
            state=state,
            etr_at=etr,
            message_en=script.en,
            message_zh=script.zh,
            call_id=call.id,
            storm_mode=storm,
        )
    return SelfServiceAnswer(
        answered=False,
        state="none",
        etr_at=None,
        message_en=HOLD_EN,
        message_zh=HOLD_ZH,
        call_id=call.id,
        storm_mode=storm,
    )
