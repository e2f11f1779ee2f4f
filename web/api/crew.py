"""The crew page's extras: a crew asks the dispatcher for help on one of its jobs."""

from __future__ import annotations

from fastapi import APIRouter

from dispatch import crews
from dispatch.schemas import HelpRead, HelpRequest
from web.api.dispatch import DispatcherOrCrew
from web.deps import NowDep, OrderDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["dispatch"])


@router.post("/work-orders/{work_order_id}/help", response_model=HelpRead, status_code=202)
def need_help(
    user: DispatcherOrCrew,
    data: HelpRequest,
    order: OrderDep,
    session: SessionDep,
    now: NowDep,
) -> HelpRead:
    """A crew needs help on its job: recorded in the audit log for the dispatcher."""
    crews.check_own_order(user=user, order=order)
    recorded = crews.request_help(
        session=session,
        order=order,
        note=data.note,
        request_id=data.request_id,
        actor=user.username,
        now=now,
    )
    return HelpRead(
        work_order_id=order.id,
        crew_id=order.crew_id,
        note=data.note,
        request_id=data.request_id,
        recorded=recorded,
    )
