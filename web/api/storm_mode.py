"""Storm mode: the supervisor's switch and what the desk leads with while it is on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from geo.models import User
from hotline import storm_mode
from hotline.call_schemas import StormModeRead, StormModeSet
from web.deps import NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1/storm-mode", tags=["calls"])
Staff = Annotated[User, Depends(require_role("agent", "supervisor"))]
Supervisor = Annotated[User, Depends(require_role("supervisor"))]


@router.get("", response_model=StormModeRead)
def get_storm_mode(
    session: SessionDep, settings: SettingsDep, now: NowDep, _user: Staff
) -> StormModeRead:
    """Storm mode's state, its recent switches and the top outage scripts."""
    return storm_mode.storm_mode_read(session=session, now=now, settings=settings)


@router.put("", response_model=StormModeRead)
def put_storm_mode(
    data: StormModeSet, session: SessionDep, settings: SettingsDep, now: NowDep, user: Supervisor
) -> StormModeRead:
    """Turn storm mode on or off (a supervisor; audited)."""
    storm_mode.set_storm_mode(
        session=session, on=data.on, reason=data.reason, actor=user.username, now=now
    )
    return storm_mode.storm_mode_read(session=session, now=now, settings=settings)
