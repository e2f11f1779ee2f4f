"""Planned outages: announce, list, edit, cancel (dispatchers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from geo.models import User
from outages import planned
from outages.schemas import PlannedOutageCreate, PlannedOutageRead, PlannedOutageUpdate
from web.deps import NowDep, SessionDep, SettingsDep, ValidPlanned, require_role

router = APIRouter(prefix="/api/v1/planned-outages", tags=["planned outages"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]
Staff = Annotated[User, Depends(require_role("dispatcher", "agent"))]


@router.get("", response_model=list[PlannedOutageRead])
def list_planned(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    _user: Staff,
    include_past: Annotated[bool, Query()] = False,
) -> list[PlannedOutageRead]:
    """Scheduled planned outages (with past and cancelled ones on request)."""
    return planned.list_planned(
        session=session, settings=settings, now=now, include_past=include_past
    )


@router.post("", response_model=PlannedOutageRead, status_code=201)
def create_planned(
    data: PlannedOutageCreate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Dispatcher,
) -> PlannedOutageRead:
    """Announce a planned outage; warns on short notice and lists critical customers."""
    return planned.create_planned(
        session=session, data=data, settings=settings, now=now, actor=user.username
    )


@router.get("/{planned_id}", response_model=PlannedOutageRead)
def get_planned(
    session: SessionDep, settings: SettingsDep, now: NowDep, _user: Staff, item: ValidPlanned
) -> PlannedOutageRead:
    """One planned outage."""
    return planned.read_planned(session=session, planned=item, settings=settings, now=now)


@router.patch("/{planned_id}", response_model=PlannedOutageRead)
def update_planned(
    user: Dispatcher,
    data: PlannedOutageUpdate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    item: ValidPlanned,
) -> PlannedOutageRead:
    """Change the window or reason, or cancel."""
    return planned.update_planned(
        session=session, planned=item, data=data, settings=settings, now=now, actor=user.username
    )
