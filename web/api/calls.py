"""Calls: the CTI integration (ring, answer, hang up, abandon, wrap up) and the call records."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from geo.models import User
from geo.types import Moment, Text
from hotline import call_offer, call_stats, calls, storm_mode
from hotline.call_schemas import (
    CallCreate,
    CallOffer,
    CallRead,
    CallStats,
    CallStatus,
    CallUpdate,
)
from hotline.models import Call
from web.deps import BigIdPath, NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])
# The telephony system (service account ``cti``) and the people who take calls.
CallTaker = Annotated[User, Depends(require_role("cti", "agent", "supervisor"))]
Staff = Annotated[User, Depends(require_role("agent", "supervisor"))]


def locked_call_id(_user: CallTaker, call_id: BigIdPath, session: SessionDep) -> Call:
    """The call, its row locked so two CTI events for one call run one after the other."""
    return calls.get_call(session=session, call_id=call_id, for_update=True)


@router.post("", response_model=CallRead, status_code=201)
def ring(
    data: CallCreate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: CallTaker,
    response: Response,
) -> CallRead:
    """A call rings (CTI) or an agent records a contact; a repeated external_id answers 200."""
    call, created = calls.ring(
        session=session,
        data=data,
        actor=user.username,
        now=now,
        phone_region=settings.phone_region,
    )
    if created:
        storm_mode.check_auto_trigger(session=session, now=now, settings=settings)
    else:
        response.status_code = 200
    return calls.read_call(session=session, call=call)


@router.get("", response_model=list[CallRead])
def list_calls(
    session: SessionDep,
    settings: SettingsDep,
    _user: Staff,
    status: Annotated[CallStatus | None, Query()] = None,
    since: Annotated[Moment | None, Query()] = None,
    phone: Annotated[Text | None, Query(min_length=1, max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CallRead]:
    """Calls, newest first (status=ringing is the queue)."""
    rows = calls.list_calls(
        session=session,
        status=status,
        since=since,
        caller_number=phone,
        phone_region=settings.phone_region,
        limit=limit,
    )
    return [calls.read_call(session=session, call=c) for c in rows]


@router.get("/stats", response_model=CallStats)
def stats(
    session: SessionDep,
    now: NowDep,
    _user: Staff,
    since: Annotated[Moment | None, Query(description="Default: 24 hours ago.")] = None,
    until: Annotated[Moment | None, Query(description="Default: now.")] = None,
    region: Annotated[Text | None, Query(min_length=1, max_length=64)] = None,
) -> CallStats:
    """Calls in a period and the share answered without an agent (IVR self-service)."""
    return call_stats.call_stats(
        session=session, now=now, since=since, until=until, region_code=region
    )


@router.get("/offer", response_model=CallOffer)
def offer(session: SessionDep, now: NowDep, user: Staff) -> CallOffer:
    """The ringing call to answer next: by region shares, so no region waits behind a storm."""
    return call_offer.offer_call(session=session, user=user, now=now)


@router.get("/{call_id}", response_model=CallRead)
def get_call(_user: CallTaker, call_id: BigIdPath, session: SessionDep) -> CallRead:
    """One call."""
    return calls.read_call(session=session, call=calls.get_call(session=session, call_id=call_id))


@router.patch("/{call_id}", response_model=CallRead)
def patch_call(
    data: CallUpdate,
    call: Annotated[Call, Depends(locked_call_id)],
    session: SessionDep,
    now: NowDep,
    user: CallTaker,
) -> CallRead:
    """A step of the call: answer, hang_up, abandon, or wrap_up with disposition and links."""
    calls.step(session=session, call=call, data=data, user=user, now=now)
    return calls.read_call(session=session, call=call)
