"""A simulated call for the desk's demo: the telephony system rings the desk with a caller.

The storm simulator's calls are history (answered and wrapped, or abandoned); to show the
desk a call has to be ringing now. ``ring_demo_call`` opens one through the same
``hotline.calls.ring`` the CTI endpoint uses, from the phone of a premise inside an active
outage (the storm's, when one runs), so the desk shows the caller and the outage script.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.exceptions import InvalidInput
from geo.models import Premise
from hotline.call_schemas import CallCreate
from hotline.calls import ring
from hotline.models import Call
from outages.models import Outage, OutagePremise

ACTOR = "cti (desk demo)"


def caller_in_outage(*, session: Session) -> Premise:
    """A premise with a phone, still without power in the largest active outage."""
    premise = session.scalar(
        select(Premise)
        .join(OutagePremise, OutagePremise.premise_id == Premise.id)
        .join(Outage, Outage.id == OutagePremise.outage_id)
        .where(
            Outage.status.in_(("suspected", "confirmed")),
            Outage.merged_into_id.is_(None),
            OutagePremise.restored_at.is_(None),
            Premise.phone.is_not(None),
        )
        .order_by(Outage.customers_affected.desc(), Premise.id)
        .limit(1)
    )
    if premise is None:
        msg = "no active outage with a reachable customer: run `stormdesk storm` first"
        raise InvalidInput(msg)
    return premise


def ring_demo_call(
    *, session: Session, now: dt.datetime, phone_region: str, phone: str | None = None
) -> Call:
    """Ring the desk from ``phone``, or from a caller inside the largest active outage."""
    number = phone or caller_in_outage(session=session).phone
    call, _created = ring(
        session=session,
        data=CallCreate(channel="phone", caller_number=number),
        actor=ACTOR,
        now=now,
        phone_region=phone_region,
    )
    return call
