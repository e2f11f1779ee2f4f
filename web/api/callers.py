"""Caller recognition for the desk, and the IVR's self-service lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from geo.models import User
from geo.types import Text
from hotline import caller_card, selfservice, tickets
from hotline.call_schemas import CallerCard, SelfServiceAnswer, SelfServiceLookup
from web.deps import NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1", tags=["calls"])
Staff = Annotated[User, Depends(require_role("agent", "supervisor"))]
CallTaker = Annotated[User, Depends(require_role("cti", "agent", "supervisor"))]


@router.get("/callers", response_model=CallerCard)
def get_caller(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Staff,
    phone: Annotated[Text | None, Query(min_length=1, max_length=40)] = None,
    account: Annotated[Text | None, Query(min_length=1, max_length=32)] = None,
) -> CallerCard:
    """The caller card: premises, contact, history and what is true there now (staff only)."""
    viewer = tickets.viewer_for(session=session, user=user)
    return caller_card.caller_card(
        session=session, viewer=viewer, now=now, settings=settings, phone=phone, account=account
    )


@router.post("/selfservice/lookup", response_model=SelfServiceAnswer)
def selfservice_lookup(
    data: SelfServiceLookup,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: CallTaker,
) -> SelfServiceAnswer:
    """The IVR: announce a known or planned outage before an agent (no names, no addresses)."""
    return selfservice.lookup(
        session=session, data=data, actor=user.username, now=now, settings=settings
    )
