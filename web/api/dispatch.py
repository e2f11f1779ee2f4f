"""Dispatch: work orders (lifecycle, assignment, the 95598 closing loop), clocks and crews."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from dispatch import clocks, closing, lifecycle, orders, tasks, views
from dispatch import crews as crew_service
from dispatch.schemas import (
    AppointmentCreate,
    AssignRequest,
    CompletionCreate,
    CrewCollection,
    EscalationRead,
    OrderStatus,
    PositionCreate,
    ReturnCallCreate,
    ReviewCreate,
    SyncResult,
    TransitionRequest,
    WorkOrderRead,
)
from geo.models import User
from web.deps import (
    CrewDep,
    LockedOrderDep,
    NowDep,
    OrderDep,
    SessionDep,
    SettingsDep,
    require_role,
)

router = APIRouter(prefix="/api/v1", tags=["dispatch"])
Dispatcher = Annotated[User, Depends(require_role("dispatcher"))]
DispatcherOrCrew = Annotated[User, Depends(require_role("dispatcher", "crew"))]
DispatcherOrAgent = Annotated[User, Depends(require_role("dispatcher", "agent"))]
Staff = Annotated[User, Depends(require_role("dispatcher", "agent", "crew"))]


@router.get("/work-orders", response_model=list[WorkOrderRead])
def list_work_orders(
    session: SessionDep,
    now: NowDep,
    user: Staff,
    status: Annotated[OrderStatus | None, Query()] = None,
    live: Annotated[bool, Query(description="Only orders a crew still has to serve.")] = False,
    crew: Annotated[int | None, Query(description="Crew id.")] = None,
    escalated: Annotated[bool | None, Query()] = None,
) -> list[WorkOrderRead]:
    """Work orders, most urgent first, with urgency breakdown, deadlines and countdowns."""
    return views.list_work_orders(
        session=session,
        now=now,
        status="live" if live and status is None else status,
        crew_id=crew,
        escalated=escalated,
    )


@router.post("/work-orders/sync", response_model=SyncResult)
def sync(session: SessionDep, settings: SettingsDep, now: NowDep, user: Dispatcher) -> SyncResult:
    """Create and refresh work orders from active outages and open reports."""
    return orders.sync_work_orders(session=session, now=now, settings=settings, actor=user.username)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderRead)
def get_work_order(order: OrderDep, session: SessionDep, now: NowDep, user: Staff) -> WorkOrderRead:
    """One work order."""
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/transition", response_model=WorkOrderRead)
def transition(
    data: TransitionRequest,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: DispatcherOrCrew,
) -> WorkOrderRead:
    """Move an order along its lifecycle; a repeat of the current state changes nothing."""
    lifecycle.request_transition(
        session=session,
        order=order,
        to=data.to,
        user=user,
        now=now,
        settings=settings,
        note=data.note,
        expected_version=data.version,
        made_safe=data.made_safe,
        override_reason=data.override_reason,
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/tasks/{task_id}/made-safe", response_model=WorkOrderRead)
def task_made_safe(
    task_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
    user: DispatcherOrCrew,
) -> WorkOrderRead:
    """The crew made one hazard place safe (one make-safe task of the order)."""
    crew_service.check_own_order(user=user, order=order)
    tasks.mark_task(session=session, order=order, task_id=task_id, actor=user.username, now=now)
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderRead)
def assign(
    data: AssignRequest,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: Dispatcher,
) -> WorkOrderRead:
    """Assign, reassign or unassign a crew, and lock or unlock the assignment."""
    crew = (
        None
        if data.crew_id is None
        else crew_service.get_crew(session=session, crew_id=data.crew_id)
    )
    lifecycle.assign(
        session=session,
        order=order,
        crew=crew,
        lock=data.lock,
        position=data.position,
        actor=user.username,
        now=now,
        settings=settings,
        expected_version=data.version,
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/completion", response_model=WorkOrderRead)
def file_completion(
    data: CompletionCreate,
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
    user: DispatcherOrCrew,
) -> WorkOrderRead:
    """The crew's completion report: cause found, action, device, materials."""
    crew_service.check_own_order(user=user, order=order)
    closing.file_completion(session=session, order=order, data=data, actor=user.username, now=now)
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/review", response_model=WorkOrderRead)
def review(
    data: ReviewCreate, order: LockedOrderDep, session: SessionDep, now: NowDep, user: Dispatcher
) -> WorkOrderRead:
    """A supervisor accepts or rejects the completion report."""
    closing.review_completion(
        session=session, order=order, ok=data.ok, note=data.note, actor=user.username, now=now
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/return-call", response_model=WorkOrderRead)
def return_call(
    data: ReturnCallCreate,
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
    user: DispatcherOrAgent,
) -> WorkOrderRead:
    """Record the return call to the customer (reached or not, satisfied or not)."""
    closing.record_return_call(
        session=session,
        order=order,
        customer_reached=data.customer_reached,
        satisfied=data.satisfied,
        note=data.note,
        actor=user.username,
        now=now,
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/appointment", response_model=WorkOrderRead)
def appointment(
    data: AppointmentCreate,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: DispatcherOrAgent,
) -> WorkOrderRead:
    """Book the customer's repair slot for a non-urgent fault."""
    closing.book_appointment(
        session=session,
        order=order,
        start_at=data.start_at,
        end_at=data.end_at,
        actor=user.username,
        now=now,
        settings=settings,
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/dispatch/escalate", response_model=list[EscalationRead])
def escalate(
    session: SessionDep, settings: SettingsDep, now: NowDep, user: Dispatcher
) -> list[EscalationRead]:
    """Run the 95598 clocks now: escalate orders at risk or overdue (催办)."""
    raised = clocks.escalate_due(session=session, now=now, settings=settings)
    return [
        EscalationRead(
            work_order_id=e.work_order_id, level=e.level, reason=e.reason, recipient=e.recipient
        )
        for e in raised
    ]


@router.get("/crews", response_model=CrewCollection)
def crews(session: SessionDep, settings: SettingsDep, now: NowDep, user: Staff) -> CrewCollection:
    """Crews as GeoJSON: live position (else depot), shift, skills, status, current order."""
    return crew_service.crew_collection(session=session, now=now, settings=settings)


@router.post("/crews/{crew_id}/position", status_code=204)
def post_position(
    data: PositionCreate,
    crew: CrewDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    user: DispatcherOrCrew,
) -> None:
    """The crew page posts the crew's live position (the crew itself or a dispatcher)."""
    crew_service.check_own_crew(user=user, crew=crew)
    crew_service.post_position(
        session=session, crew=crew, lon=data.lon, lat=data.lat, now=now, settings=settings
    )
