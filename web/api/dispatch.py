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
from geo.exceptions import Forbidden
from geo.models import User
from geo.types import INT32_MAX
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
    user: Staff,
    session: SessionDep,
    now: NowDep,
    status: Annotated[OrderStatus | None, Query()] = None,
    live: Annotated[bool, Query(description="Only orders a crew still has to serve.")] = False,
    crew: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="Crew id.")] = None,
    escalated: Annotated[bool | None, Query()] = None,
) -> list[WorkOrderRead]:
    """Work orders, most urgent first, with urgency breakdown, deadlines and countdowns.

    A crew sees its own orders only (``crew`` is then its own id or absent)."""
    if user.role == "crew":
        if crew is not None and crew != user.crew_id:
            msg = "a crew reads its own work orders only: leave out crew or give your own"
            raise Forbidden(msg)
        crew = user.crew_id
    return views.list_work_orders(
        session=session,
        now=now,
        status="live" if live and status is None else status,
        crew_id=crew,
        escalated=escalated,
    )


@router.post("/work-orders/sync", response_model=SyncResult)
def sync(user: Dispatcher, session: SessionDep, settings: SettingsDep, now: NowDep) -> SyncResult:
    """Create and refresh work orders from active outages and open reports."""
    return orders.sync_work_orders(session=session, now=now, settings=settings, actor=user.username)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderRead)
def get_work_order(user: Staff, order: OrderDep, session: SessionDep, now: NowDep) -> WorkOrderRead:
    """One work order (a crew: one of its own)."""
    crew_service.check_own_order(user=user, order=order)
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/transition", response_model=WorkOrderRead)
def transition(
    user: DispatcherOrCrew,
    data: TransitionRequest,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
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
    user: DispatcherOrCrew,
    task_id: Annotated[int, Path(ge=1, le=INT32_MAX)],
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
) -> WorkOrderRead:
    """The crew made one hazard place safe (one make-safe task of the order)."""
    crew_service.check_own_order(user=user, order=order)
    tasks.mark_task(session=session, order=order, task_id=task_id, actor=user.username, now=now)
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/assign", response_model=WorkOrderRead)
def assign(
    user: Dispatcher,
    data: AssignRequest,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
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
    user: DispatcherOrCrew,
    data: CompletionCreate,
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
) -> WorkOrderRead:
    """The crew's completion report: cause found, action, device, materials."""
    crew_service.check_own_order(user=user, order=order)
    closing.file_completion(session=session, order=order, data=data, actor=user.username, now=now)
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/review", response_model=WorkOrderRead)
def review(
    user: Dispatcher,
    data: ReviewCreate,
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
) -> WorkOrderRead:
    """A supervisor accepts or rejects the completion report."""
    closing.review_completion(
        session=session, order=order, ok=data.ok, note=data.note, actor=user.username, now=now
    )
    return views.read_work_order(session=session, order=order, now=now)


@router.post("/work-orders/{work_order_id}/return-call", response_model=WorkOrderRead)
def return_call(
    user: DispatcherOrAgent,
    data: ReturnCallCreate,
    order: LockedOrderDep,
    session: SessionDep,
    now: NowDep,
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
    user: DispatcherOrAgent,
    data: AppointmentCreate,
    order: LockedOrderDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
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
    user: Dispatcher,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
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
def crews(user: Staff, session: SessionDep, settings: SettingsDep, now: NowDep) -> CrewCollection:
    """Crews as GeoJSON: live position (else depot), shift, skills, status, current order.

    A crew sees its own crew only (where the other crews are is for dispatchers)."""
    collection = crew_service.crew_collection(session=session, now=now, settings=settings)
    if user.role == "crew":
        collection.features = [f for f in collection.features if f.id == user.crew_id]
    return collection


@router.post("/crews/{crew_id}/position", status_code=204)
def post_position(
    user: DispatcherOrCrew,
    data: PositionCreate,
    crew: CrewDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> None:
    """The crew page posts the crew's live position (the crew itself or a dispatcher)."""
    crew_service.check_own_crew(user=user, crew=crew)
    crew_service.post_position(
        session=session, crew=crew, lon=data.lon, lat=data.lat, now=now, settings=settings
    )
