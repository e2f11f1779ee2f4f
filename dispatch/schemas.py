"""Pydantic shapes of work orders, their closing loop and crews (GeoJSON for the map)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

OrderStatus = Literal[
    "new", "planned", "dispatched", "en_route", "on_site", "restored", "closed", "cancelled"
]


class UrgencyRead(BaseModel):
    score: float
    priority: int = Field(description="Routing priority: 1 most urgent ... 4 low.")
    breakdown: list[dict[str, Any]] = Field(description="Each term's value and points.")


class CompletionRead(BaseModel):
    cause_found: str
    action: str
    device_code: str | None
    materials: list[dict[str, Any]]
    filed_by: str
    filed_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_ok: bool | None
    review_note: str | None
    return_call_at: dt.datetime | None
    customer_reached: bool | None
    satisfied: bool | None
    return_call_note: str | None


class WorkOrderRead(BaseModel):
    id: int
    kind: str
    status: str
    allowed_transitions: list[str]
    outage_id: int | None
    report_id: int | None
    urgency: UrgencyRead
    region: str | None
    feeder: str | None
    lon: float
    lat: float
    required_skills: list[str]
    repair_s: int
    first_report_at: dt.datetime
    onsite_due_at: dt.datetime
    restore_due_at: dt.datetime
    onsite_countdown_s: int | None = Field(
        description="Seconds to the on-site deadline (negative when past); None once on site."
    )
    restore_countdown_s: int | None = Field(
        description="Seconds to the restore deadline; None once restored."
    )
    at_risk: bool
    overdue: bool
    escalation_level: int
    escalated_at: dt.datetime | None
    crew_id: int | None
    crew: str | None
    locked: bool
    route_seq: int | None
    eta_at: dt.datetime | None
    on_site_at: dt.datetime | None
    restored_at: dt.datetime | None
    closed_at: dt.datetime | None
    cancel_reason: str | None
    appointment_start_at: dt.datetime | None
    appointment_end_at: dt.datetime | None
    completion: CompletionRead | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class TransitionRequest(BaseModel):
    to: OrderStatus
    note: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(
        default=None, description="The version the client saw; a stale one is a 409."
    )


class AssignRequest(BaseModel):
    crew_id: int | None = Field(description="The crew to send; null unassigns.")
    lock: bool = Field(default=False, description="Locked orders stay with the crew on re-plan.")
    version: int | None = None


class Material(BaseModel):
    item: str = Field(min_length=1, max_length=200)
    quantity: float = Field(gt=0)
    unit: str | None = Field(default=None, max_length=20)


class CompletionCreate(BaseModel):
    cause_found: str = Field(min_length=1, max_length=2000)
    action: str = Field(min_length=1, max_length=2000)
    device_code: str | None = Field(default=None, max_length=64)
    materials: list[Material] = Field(default_factory=list, max_length=100)


class ReviewCreate(BaseModel):
    ok: bool
    note: str | None = Field(default=None, max_length=2000)


class ReturnCallCreate(BaseModel):
    customer_reached: bool
    satisfied: bool | None = Field(default=None, description="Null when not reached.")
    note: str | None = Field(default=None, max_length=2000)


class AppointmentCreate(BaseModel):
    start_at: AwareDatetime
    end_at: AwareDatetime


class PositionCreate(BaseModel):
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)


class SyncResult(BaseModel):
    created: list[int] = Field(default_factory=list)
    moved: list[int] = Field(default_factory=list)
    cancelled: list[int] = Field(default_factory=list)
    refreshed: int = 0


class EscalationRead(BaseModel):
    work_order_id: int
    level: int
    reason: str
    recipient: str


class CrewProperties(BaseModel):
    id: int
    code: str
    name: str
    skills: list[str]
    status: str
    region: str | None
    shift_start: dt.time
    shift_end: dt.time
    on_shift: bool
    position_source: Literal["live", "depot"]
    position_at: dt.datetime | None
    current_order_id: int | None
    open_orders: int


class CrewFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: int
    geometry: dict[str, Any]
    properties: CrewProperties


class CrewCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[CrewFeature]
