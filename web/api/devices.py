"""Device operations from SCADA or an AMI head-end (integration) and from dispatchers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from geo.models import User
from geo.types import Moment, Text
from outages import operations
from web.deps import NowDep, SessionDep, SettingsDep, require_role

router = APIRouter(prefix="/api/v1/devices", tags=["outages"])
Operator = Annotated[User, Depends(require_role("dispatcher"))]


class OperationCreate(BaseModel):
    """A device seen open (tripped, blown, opened) or closed again."""

    operation: Literal["opened", "closed"]
    at: Moment | None = Field(default=None, description="When it operated; now if unset.")
    source: Text = Field(
        default="scada", min_length=1, max_length=64, description="e.g. scada, ami"
    )


class OperationRead(BaseModel):
    device: str
    operation: str
    action: str = Field(
        description="opened, confirmed, absorbed, inside (an outage above covers it), "
        "restored, partially_restored or recorded"
    )
    outage_id: int | None
    absorbed: list[int] = Field(description="Outages below the device merged into its outage.")


@router.post("/{code}/operations", response_model=OperationRead)
def post_operation(
    data: OperationCreate,
    code: Annotated[Text, Path(min_length=1, max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Operator,
) -> OperationRead:
    """A device operation: opened places a confirmed outage on it, closed restores it."""
    at: dt.datetime = data.at or now
    result = operations.device_operation(
        session=session,
        device_code=code,
        operation=data.operation,
        at=min(at, now),
        source=data.source,
        settings=settings,
        actor=user.username,
    )
    return OperationRead(
        device=result.device,
        operation=result.operation,
        action=result.action,
        outage_id=result.outage_id,
        absorbed=result.absorbed,
    )
