"""Outages: list, open by hand, lifecycle steps and ETR changes, ETR history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from dispatch import flows, tasks
from geo.exceptions import InvalidInput
from geo.models import User
from outages import operations, service
from outages.models import EtrChange
from outages.schemas import EtrChangeRead, OutageCreate, OutageRead, OutageUpdate
from web.deps import NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1/outages", tags=["outages"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]


@router.get("", response_model=list[OutageRead])
def list_outages(
    session: SessionDep,
    status: Annotated[str, Query(pattern="^(active|all)$")] = "active",
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
    result = service.read_outage(session=session, outage=outage)
    return result


@router.get("/{outage_id}", response_model=OutageRead)
def get_outage(outage_id: int, session: SessionDep) -> OutageRead:
    """One outage with its explanation."""
    return service.read_outage(
        session=session, outage=service.get_outage(session=session, outage_id=outage_id)
    )


@router.get("/{outage_id}/etr-history", response_model=list[EtrChangeRead])
def etr_history(outage_id: int, session: SessionDep) -> list[EtrChangeRead]:
    """Every ETR the outage has had, oldest first."""
    service.get_outage(session=session, outage_id=outage_id)
    rows = session.scalars(
        select(EtrChange).where(EtrChange.outage_id == outage_id).order_by(EtrChange.id)
    )
    return [
        EtrChangeRead(
            changed_at=r.changed_at,
            previous_etr=r.previous_etr_at,
            etr=r.etr_at,
            source=r.source,
            reason=r.reason,
            actor=r.actor,
        )
        for r in rows
    ]


@router.patch("/{outage_id}", response_model=OutageRead)
def update_outage(
    outage_id: int,
    data: OutageUpdate,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Dispatcher,
) -> OutageRead:
    """A lifecycle step (confirm, restore, close), an ETR or a cause."""
    outage = service.get_outage(session=session, outage_id=outage_id)
    actor = user.username
    if data.action == "confirm":
        service.confirm_outage(
            session=session, outage=outage, settings=settings, now=now, actor=actor
        )
    elif data.action == "restore":
        if data.device is None:
            tasks.check_outage_restorable(
                session=session,
                outage=outage,
                made_safe=data.made_safe,
                override_reason=data.override_reason,
                actor=actor,
                now=now,
            )
        service.restore_outage(
            session=session,
            outage=outage,
            device_code=data.device,
            settings=settings,
            now=now,
            actor=actor,
        )
    elif data.action == "close":
        service.close_outage(session=session, outage=outage, now=now, actor=actor)
    elif data.action == "set_etr":
        if data.etr is None:
            msg = "set_etr needs etr (ISO 8601 with offset)"
            raise InvalidInput(msg)
        flows.set_dispatcher_etr(
            session=session,
            outage=outage,
            etr_at=data.etr,
            reason=data.reason,
            settings=settings,
            now=now,
            actor=actor,
        )
    else:
        if not data.cause:
            msg = "set_cause needs cause"
            raise InvalidInput(msg)
        service.set_cause(session=session, outage=outage, cause=data.cause, now=now, actor=actor)
    return service.read_outage(session=session, outage=outage)
