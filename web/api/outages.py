"""Outages: list, open by hand, lifecycle steps and ETR changes, ETR history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from dispatch import outage_steps
from geo.models import User
from outages import operations, service
from outages.etr_history import list_etr_changes
from outages.schemas import EtrChangeRead, OutageCreate, OutageRead, OutageUpdate
from web.deps import NowDep, SessionDep, SettingsDep, ValidOutage, lenient_user, require_role

router = APIRouter(prefix="/api/v1/outages", tags=["outages"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]


Reader = Annotated[User | None, Depends(lenient_user)]


def _shown(read: OutageRead, user: User | None) -> OutageRead:
    """Staff (any login) see everything; the public sees ``service.public_outage``."""
    return read if user is not None else service.public_outage(read)


@router.get("", response_model=list[OutageRead])
def list_outages(
    session: SessionDep,
    user: Reader,
    status: Annotated[Literal["active", "all"], Query()] = "active",
) -> list[OutageRead]:
    """Outages, newest first: active ones (suspected, confirmed) or all."""
    found = service.list_outages(session=session, active_only=status == "active")
    return [_shown(read, user) for read in found]


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
def get_outage(outage: ValidOutage, session: SessionDep, user: Reader) -> OutageRead:
    """One outage with its explanation (staff; the public sees no critical count)."""
    return _shown(service.read_outage(session=session, outage=outage), user)


@router.get("/{outage_id}/etr-history", response_model=list[EtrChangeRead])
def etr_history(outage: ValidOutage, session: SessionDep, user: Reader) -> list[EtrChangeRead]:
    """Every ETR the outage has had, oldest first (who and why: staff only)."""
    changes = list_etr_changes(session=session, outage=outage)
    if user is None:
        return [c.model_copy(update={"reason": None, "actor": None}) for c in changes]
    return changes


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
