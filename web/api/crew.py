"""The crew page's extras: a crew asks the dispatcher for help on one of its jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from geo.audit import record
from geo.models import Event
from web.api.dispatch import DispatcherOrCrew, OrderDep, _own_order
from web.deps import NowDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
HELP_ACTION = "work_order.help_requested"


class HelpRequest(BaseModel):
    note: str | None = Field(default=None, max_length=2000)
    request_id: Annotated[
        str | None,
        Field(
            default=None,
            min_length=1,
            max_length=64,
            description="Chosen by the client; a retry with the same id records one request.",
        ),
    ] = None


class HelpRead(BaseModel):
    work_order_id: int
    crew_id: int | None
    note: str | None
    request_id: str | None
    recorded: bool = Field(description="False when this request id was already recorded.")


@router.post("/work-orders/{work_order_id}/help", response_model=HelpRead, status_code=202)
def need_help(
    data: HelpRequest, order: OrderDep, session: SessionDep, now: NowDep, user: DispatcherOrCrew
) -> HelpRead:
    """A crew needs help on its job: recorded in the audit log for the dispatcher."""
    _own_order(user, order)
    seen = data.request_id is not None and (
        session.scalar(
            select(Event.id)
            .where(
                Event.action == HELP_ACTION,
                Event.object_type == "work_order",
                Event.object_id == str(order.id),
                Event.detail["request_id"].astext == data.request_id,
            )
            .limit(1)
        )
        is not None
    )
    if not seen:
        detail: dict[str, Any] = {
            "note": data.note,
            "request_id": data.request_id,
            "crew_id": order.crew_id,
            "status": order.status,
        }
        record(
            session=session,
            actor=user.username,
            action=HELP_ACTION,
            object_type="work_order",
            object_id=order.id,
            detail=detail,
            at=now,
        )
    return HelpRead(
        work_order_id=order.id,
        crew_id=order.crew_id,
        note=data.note,
        request_id=data.request_id,
        recorded=not seen,
    )
