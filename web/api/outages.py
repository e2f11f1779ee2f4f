"""Outages: list, open by hand, lifecycle steps and ETR changes, ETR history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from dispatch import outage_steps
from geo.models import User
from outages import operations, service
from outages.etr_history import list_etr_changes
from outages.schemas import EtrChangeRead, OutageCreate, OutageRead, OutageUpdate
from web.deps import NowDep, SessionDep, SettingsDep, ValidOutage, require_role

router = APIRouter(prefix="/api/v1/outages", tags=["outages"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]


@router.get("", response_model=list[OutageRead])
def list_outages(
    session: SessionDep,
    status: Annotated[Literal["active", "all"], Query()] = "active",
) -> list[OutageRead]:
    """Outages, newest first: active ones (suspected, confirmed) or all."""
    return service.list_outages(session=session, active_only=status == "active")


@router.post("", response_model=OutageRead, status_code=201)
def open_outage(
    data: OutageCreate, session: SessionDep, settings: SettingsDep, now: NowDep, user: Dispatcher
) -> OutageRead:
    """Open an outage on a device by hand (e.g. a breaker trip seen in SCADA)."""
    outage = operations.open_on_device(
        session=session,
        device_code=data.device,
        cause=data.cause,
        confirmed=data.confirmed,
        settings=settings,
        now=now,
        actor=user.username,
    )
    return service.read_outage(session=session, outage=outage)


@router.get("/{outage_id}", response_model=OutageRead)
def get_outage(outage: ValidOutage, session: SessionDep) -> OutageRead:
    """One outage with its explanation."""
    return service.read_outage(session=session, outage=outage)


@router.get("/{outage_id}/etr-history", response_model=list[EtrChangeRead])
def etr_history(outage: ValidOutage, session: SessionDep) -> list[EtrChangeRead]:
    """Every ETR the outage has had, oldest first."""
    return list_etr_changes(session=session, outage=outage)


@router.patch("/{outage_id}", response_model=OutageRead)
def update_outage(
    user: Dispatcher,
    data: OutageUpdate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    outage: ValidOutage,
) -> OutageRead:
    """A lifecycle step (confirm, restore, close), an ETR or a cause."""
    outage_steps.update_outage(
        session=session, outage=outage, data=data, settings=settings, now=now, actor=user.username
    )
    return service.read_outage(session=session, outage=outage)
